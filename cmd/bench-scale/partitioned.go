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
	scratch   string // the baselines pass's and partitions' databases: "memory" (their default) or "file" (a --db each)
	split     step
	whole     step   // the same night as one run, over the split input
	baselines step   // the first pass
	parts     []step // each partition, one after the other
	merge     step
	findings  int
	same      bool // findings, recommendations and 7.8 report byte-equal (run ids masked in the dispositions)
	err       string
}

// scratchKinds are the values of --scratch: how the baselines pass and the
// partitions keep their databases, which nothing reads after them.
var scratchKinds = map[string][]string{"memory": {"memory"}, "file": {"file"}, "both": {"file", "memory"}}

// measurePartitioned splits in into n partitions and measures, one process
// after another, a whole run of the last night and the same night as a
// baselines pass, n partitions and a merge (issue 8, docs/SCALING.md),
// once per scratch kind (their default in memory, or a database file each,
// as before 2026-12-08), against the one whole run.
func measurePartitioned(affwatch, in, work, memLimit string, threads, n, clicks int, scratch []string) []partitioned {
	fail := func(err error) []partitioned {
		return []partitioned{{clicks: clicks, n: n, err: err.Error()}}
	}
	os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fail(err)
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
	splitStep, err := do("split", "partition", "--in", in, "--out", split, "--partitions", fmt.Sprint(n), "--db", filepath.Join(work, "split.duckdb"))
	if err != nil {
		return fail(err)
	}
	os.Remove(filepath.Join(work, "split.duckdb"))
	night, err := lastNight(split)
	if err != nil {
		return fail(err)
	}
	whole := filepath.Join(work, "whole")
	wholeStep, err := do("whole night", "run", "--in", split, "--out", whole, "--date", night, "--no-crawl", "--db", filepath.Join(work, "whole.duckdb"))
	if err != nil {
		return fail(err)
	}
	os.Remove(filepath.Join(work, "whole.duckdb"))
	var ps []partitioned
	for _, kind := range scratch {
		p := partitioned{clicks: clicks, n: n, night: night, scratch: kind, split: splitStep, whole: wholeStep}
		p.measureSplitNight(do, work, split, whole, kind)
		ps = append(ps, p)
	}
	return ps
}

// measureSplitNight runs the baselines pass, the partitions and the merge
// of p's night, and compares the merge's outputs with the whole run's.
func (p *partitioned) measureSplitNight(do func(string, ...string) (step, error), work, split, whole, kind string) {
	scratchDB := func(name string) []string {
		if kind == "memory" {
			return nil
		}
		return []string{"--db", filepath.Join(work, name+".duckdb")}
	}
	var err error
	base := filepath.Join(work, "base-"+kind)
	if p.baselines, err = do("baselines ("+kind+")", append([]string{"run", "--stage", "baselines", "--in", split, "--out", base, "--date", p.night}, scratchDB("base")...)...); err != nil {
		p.err = err.Error()
		return
	}
	os.Remove(filepath.Join(work, "base.duckdb"))
	var dirs []string
	for i := 0; i < p.n; i++ {
		dir := filepath.Join(work, fmt.Sprintf("p%d-%s", i, kind))
		s, err := do(fmt.Sprintf("partition %d/%d (%s)", i, p.n, kind), append([]string{"run", "--partition", fmt.Sprintf("%d/%d", i, p.n), "--baselines", base,
			"--in", split, "--out", dir, "--date", p.night, "--no-crawl"}, scratchDB(fmt.Sprintf("p%d", i))...)...)
		p.parts = append(p.parts, s)
		if err != nil {
			p.err = err.Error()
			return
		}
		os.Remove(filepath.Join(work, fmt.Sprintf("p%d.duckdb", i)))
		dirs = append(dirs, dir)
	}
	merged := filepath.Join(work, "merged-"+kind)
	if p.merge, err = do("merge ("+kind+")", append([]string{"merge", "--out", merged, "--db", filepath.Join(work, "merged-"+kind+".duckdb")}, dirs...)...); err != nil {
		p.err = err.Error()
		return
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

func renderPartitioned(ps []partitioned, sizes, memLimit string, threads int, scratch string) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "\n## One night split into partitions (no crawl) — %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Command: `go run -tags duckdb_arrow ./cmd/bench-scale --sizes %s --partitions %d --scratch %s --memory-limit %s --threads %d`  \n", sizes, ps[0].n, scratch, memLimit, threads)
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s/%s; every step a process of its own, one after the other (on a cluster the partitions run side by side); *scratch db*: the baselines pass's and the partitions' databases, in memory (their default) or a file each (`--db`, as before 2026-12-08); the whole night and the merge keep a file  \n\n", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	b.WriteString("| clicks | night | scratch db | split s (upstream) | whole night s | whole peak RSS MiB | baselines s | baselines RSS MiB | partition s (max / sum) | partition RSS MiB (max) | merge s | merge RSS MiB | **wall if parallel** (baselines + max partition + merge) | findings | equal to whole |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range ps {
		if p.err != "" {
			fmt.Fprintf(&b, "| %d | %s | %s | **failed**: %s ||||||||||||\n", p.clicks, p.night, p.scratch, strings.ReplaceAll(p.err, "|", "/"))
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
		fmt.Fprintf(&b, "| %d | %s | %s | %.1f | %.1f | %.0f | %.1f | %.0f | %.1f / %.1f | %.0f | %.1f | %.0f | **%.1f** (%.2f× the whole night) | %d | %s |\n",
			p.clicks, p.night, p.scratch, p.split.seconds, p.whole.seconds, p.whole.rssMiB, p.baselines.seconds, p.baselines.rssMiB, maxS, sumS, maxRSS,
			p.merge.seconds, p.merge.rssMiB, p.baselines.seconds+maxS+p.merge.seconds, (p.baselines.seconds+maxS+p.merge.seconds)/p.whole.seconds, p.findings, same)
	}
	return b.String()
}
