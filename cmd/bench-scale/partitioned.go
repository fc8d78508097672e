package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"affwatch/store"
)

// step is one measured process of the partitioned night.
type step struct {
	name        string
	seconds     float64
	rssMiB      float64
	spillMiB    float64
	description string
}

// partitioned is the measurement of one size split into n partitions.
type partitioned struct {
	clicks, n int
	night     string
	split     step
	whole     step   // the same night as one run, over the split input
	baselines step   // the first pass
	parts     []step // each partition, one after the other
	merge     step
	findings  int
	same      bool // findings, recommendations and 7.8 report byte-equal (run ids masked in the dispositions)
	err       string
}

// measurePartitioned splits in into n partitions and measures, one process
// after another, a whole run of the last night and the same night as a
// baselines pass, n partitions and a merge (issue 8, docs/SCALING.md).
func measurePartitioned(affwatch, in, work, memLimit string, threads, n, clicks int) partitioned {
	p := partitioned{clicks: clicks, n: n}
	os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		p.err = err.Error()
		return p
	}
	engine := []string{"--memory-limit", memLimit, "--threads", fmt.Sprint(threads), "--log-level", "warn"}
	do := func(name string, args ...string) (step, error) {
		spill := filepath.Join(work, "spill-"+strings.ReplaceAll(name, "/", "-"))
		os.MkdirAll(spill, 0o755)
		args = append(append(args, engine...), "--temp-dir", spill)
		cmd := exec.Command(affwatch, args...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		t0 := time.Now()
		out, spillPeak, err := measured(cmd, spill)
		s := step{name: name, seconds: time.Since(t0).Seconds(), rssMiB: out.rss, spillMiB: spillPeak}
		os.RemoveAll(spill)
		fmt.Fprintf(os.Stderr, "%d clicks, %s: %.1fs, peak RSS %.0f MiB, spilled %.0f MiB\n", clicks, name, s.seconds, s.rssMiB, s.spillMiB)
		if err != nil {
			return s, fmt.Errorf("%s: %w: %s", name, err, lastLine(errb.String()))
		}
		return s, nil
	}
	split := filepath.Join(work, "split")
	var err error
	if p.split, err = do("split", "partition", "--in", in, "--out", split, "--partitions", fmt.Sprint(n), "--db", filepath.Join(work, "split.duckdb")); err != nil {
		p.err = err.Error()
		return p
	}
	os.Remove(filepath.Join(work, "split.duckdb"))
	if p.night, err = lastNight(split); err != nil {
		p.err = err.Error()
		return p
	}
	whole := filepath.Join(work, "whole")
	if p.whole, err = do("whole night", "run", "--in", split, "--out", whole, "--date", p.night, "--no-crawl", "--db", filepath.Join(work, "whole.duckdb")); err != nil {
		p.err = err.Error()
		return p
	}
	os.Remove(filepath.Join(work, "whole.duckdb"))
	base := filepath.Join(work, "base")
	if p.baselines, err = do("baselines", "run", "--stage", "baselines", "--in", split, "--out", base, "--date", p.night, "--db", filepath.Join(work, "base.duckdb")); err != nil {
		p.err = err.Error()
		return p
	}
	os.Remove(filepath.Join(work, "base.duckdb"))
	var dirs []string
	for i := 0; i < n; i++ {
		dir := filepath.Join(work, fmt.Sprintf("p%d", i))
		s, err := do(fmt.Sprintf("partition %d/%d", i, n), "run", "--partition", fmt.Sprintf("%d/%d", i, n), "--baselines", base,
			"--in", split, "--out", dir, "--date", p.night, "--no-crawl", "--db", filepath.Join(work, fmt.Sprintf("p%d.duckdb", i)))
		p.parts = append(p.parts, s)
		if err != nil {
			p.err = err.Error()
			return p
		}
		os.Remove(filepath.Join(work, fmt.Sprintf("p%d.duckdb", i)))
		dirs = append(dirs, dir)
	}
	merged := filepath.Join(work, "merged")
	if p.merge, err = do("merge", append([]string{"merge", "--out", merged, "--db", filepath.Join(work, "merged.duckdb")}, dirs...)...); err != nil {
		p.err = err.Error()
		return p
	}
	p.same = true
	for _, name := range []string{"findings.ndjson", "recommendations.json", "disqualified_orders.csv"} {
		a, err1 := os.ReadFile(filepath.Join(whole, name))
		b, err2 := os.ReadFile(filepath.Join(merged, name))
		if name == "disqualified_orders.csv" {
			// Each disposition names the run that made it.
			a = bytes.ReplaceAll(a, []byte(runIDOf(whole)), []byte("RUN_ID"))
			b = bytes.ReplaceAll(b, []byte(runIDOf(merged)), []byte("RUN_ID"))
		}
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			p.same = false
		}
		if name == "findings.ndjson" {
			p.findings = bytes.Count(a, []byte("\n"))
		}
	}
	return p
}

// lastNight is the last day with clicks in the split input.
func lastNight(split string) (string, error) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		return "", err
	}
	defer st.Close()
	var day string
	glob := filepath.Join(split, "clicks", "*", "*.parquet")
	err = st.DB.QueryRowContext(ctx, "SELECT strftime(max(ts), '%Y-%m-%d') FROM read_parquet("+store.QuoteLiteral(glob)+")").Scan(&day)
	return day, err
}

// runIDOf is the run id in out's run.json; when it cannot be read, a
// string no output holds, so nothing is masked and the comparison fails.
func runIDOf(out string) string {
	body, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		return "\x00no run id"
	}
	var m struct {
		RunID string `json:"run_id"`
	}
	if json.Unmarshal(body, &m) != nil || m.RunID == "" {
		return "\x00no run id"
	}
	return m.RunID
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func renderPartitioned(ps []partitioned, sizes, memLimit string, threads int) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "\n## One night split into partitions (no crawl) — %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Command: `go run -tags duckdb_arrow ./cmd/bench-scale --sizes %s --partitions %d --memory-limit %s --threads %d`  \n", sizes, ps[0].n, memLimit, threads)
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s/%s; every step a process of its own, one after the other (on a cluster the partitions run side by side)  \n\n", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	b.WriteString("| clicks | night | split s (upstream) | whole night s | whole peak RSS MiB | baselines s | baselines RSS MiB | partition s (max / sum) | partition RSS MiB (max) | merge s | merge RSS MiB | **wall if parallel** (baselines + max partition + merge) | findings | equal to whole |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range ps {
		if p.err != "" {
			fmt.Fprintf(&b, "| %d | %s | **failed**: %s |||||||||||\n", p.clicks, p.night, strings.ReplaceAll(p.err, "|", "/"))
			continue
		}
		var maxS, sumS, maxRSS float64
		for _, s := range p.parts {
			sumS += s.seconds
			maxS = max(maxS, s.seconds)
			maxRSS = max(maxRSS, s.rssMiB)
		}
		same := "yes (byte-equal, run ids masked)"
		if !p.same {
			same = "**no**"
		}
		fmt.Fprintf(&b, "| %d | %s | %.1f | %.1f | %.0f | %.1f | %.0f | %.1f / %.1f | %.0f | %.1f | %.0f | **%.1f** (%.2f× the whole night) | %d | %s |\n",
			p.clicks, p.night, p.split.seconds, p.whole.seconds, p.whole.rssMiB, p.baselines.seconds, p.baselines.rssMiB, maxS, sumS, maxRSS,
			p.merge.seconds, p.merge.rssMiB, p.baselines.seconds+maxS+p.merge.seconds, (p.baselines.seconds+maxS+p.merge.seconds)/p.whole.seconds, p.findings, same)
	}
	return b.String()
}
