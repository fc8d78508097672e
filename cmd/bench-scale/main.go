// Command bench-scale measures a whole nightly run without crawl at
// growing sizes (issue 8): for each size it generates N clicks (+ orders
// and the reference datasets at the generator's ratios) as Parquet, then, in
// child processes so each has its own peak RSS, (a) a bare DuckDB scan that
// reads every column of every file and (b) `affwatch run --no-crawl` of the
// same files into a fresh database under a memory limit. It prints the run's
// time per stage (from run.json), its peak RSS, how much DuckDB spilled to
// its temp directory, and the ratio run/scan measured side by side; the
// machine is shared and noisy, so ratios, not seconds, are the figure.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"affwatch/cmd/internal/benchutil"
	"affwatch/fixtures"
	"affwatch/loaders"
	"affwatch/store"
)

// minFreeDisk is the free space below which a measured run is stopped.
const minFreeDisk = 3 << 30

// diskFull records that a run was stopped for lack of disk.
var diskFull atomic.Bool

// Targets of issue 8 at the largest size.
const (
	targetRSSMiB = 5 * 1024
	targetRatio  = 3.0
)

func main() {
	sizes := flag.String("sizes", "1000000,10000000,100000000", "click counts to measure, comma-separated")
	dir := flag.String("dir", ".cache/bench-scale", "work directory; generated inputs are kept here and reused")
	affwatch := flag.String("affwatch", "bin/affwatch", "the affwatch binary to run")
	memLimit := flag.String("memory-limit", "4GB", "DuckDB memory_limit of the scan and the run")
	threads := flag.Int("threads", runtime.NumCPU(), "DuckDB threads of the scan and the run")
	appendTo := flag.String("append", "", "append the results to this Markdown file")
	phase := flag.String("phase", "", "internal: generate|scan")
	in := flag.String("in", "", "internal: input directory of a phase")
	clicks := flag.Int("clicks", 0, "internal: clicks of the generate phase")
	replicateAbove := flag.Int("replicate-above", 10_000_000, "sizes above this are built as copies of the generated set of this size (the generator makes ~20k clicks/s here: 100 M would take over an hour)")
	from := flag.String("from", "", "internal: source directory of the replicate phase")
	copies := flag.Int("copies", 0, "internal: copies of the replicate phase")
	partitions := flag.Int("partitions", 0, "also measure the last night split into this many partitions (baselines pass, partitions one after another, merge) against the same night as one run; 0: only the whole run")
	wholeRun := flag.Bool("whole", true, "measure the whole backfill run (false: only the partitioned night, with --partitions)")
	scratch := flag.String("scratch", "memory", "the databases of the partitioned night's baselines pass and partitions: memory (their default), file (a --db each, as before 2026-12-08), or both, side by side in one run")
	flag.Parse()
	ctx := context.Background()
	var err error
	switch *phase {
	case "generate":
		err = generate(ctx, *in, *clicks)
	case "scan":
		err = scan(ctx, *in, *memLimit, *threads)
	case "replicate":
		err = replicate(ctx, *from, *in, *copies)
	case "":
		if scratchKinds[*scratch] == nil {
			err = fmt.Errorf("--scratch %q: want memory, file or both", *scratch)
			break
		}
		err = run(*sizes, *dir, *affwatch, *memLimit, *threads, *appendTo, *replicateAbove, *partitions, *wholeRun, *scratch)
	default:
		err = fmt.Errorf("unknown phase %q", *phase)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-scale:", err)
		os.Exit(1)
	}
}

func generate(ctx context.Context, in string, clicks int) error {
	tmp := in + ".partial"
	os.RemoveAll(tmp)
	if _, err := fixtures.Generate(ctx, fixtures.Config{Seed: 1, Clicks: clicks, Out: tmp, Format: "parquet"}); err != nil {
		return err
	}
	return os.Rename(tmp, in)
}

// scan reads every column of every input file once: the floor of any run.
func scan(ctx context.Context, in, memLimit string, threads int) error {
	files, err := loaders.Discover(in)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, store.InMemory, store.Options{MemoryLimit: memLimit, Threads: threads})
	if err != nil {
		return err
	}
	defer st.Close()
	t0 := time.Now()
	for _, f := range files {
		var n int64
		var h any
		if err := st.DB.QueryRowContext(ctx, "SELECT count(*), sum(hash(t)) FROM read_parquet(?) t", f.Path).Scan(&n, &h); err != nil {
			return fmt.Errorf("scan %s: %w", f.Rel, err)
		}
	}
	fmt.Printf("%.4f\n", time.Since(t0).Seconds())
	return nil
}

type result struct {
	copies         int // > 0: the input is that many disjoint copies of a generated set
	clicks         int
	rows           int64
	inputMiB       float64
	scanS, scanRSS float64
	runS, runRSS   float64
	spillMiB       float64
	stages         map[string]float64
	findings, recs int
	profile        []stageStat
	err            string
}

// replicate writes copies of every dataset of from into in, one file per
// copy in a folder per dataset: copy k > 0 appends "~k" to every id and
// hash column (…_id, …_hash), so the copies are disjoint programs of the
// same shape (more publishers, buyers and orders, not denser ones). IPs,
// user agents and URLs are kept.
func replicate(ctx context.Context, from, in string, copies int) error {
	files, err := loaders.Discover(from)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	tmp := in + ".partial"
	os.RemoveAll(tmp)
	for _, f := range files {
		rows, err := st.DB.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))", f.Path)
		if err != nil {
			return err
		}
		var cols []string
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				rows.Close()
				return err
			}
			if typ == "VARCHAR" && (strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_hash")) {
				cols = append(cols, name)
			}
		}
		rows.Close()
		dsDir := filepath.Join(tmp, f.Dataset)
		if err := os.MkdirAll(dsDir, 0o755); err != nil {
			return err
		}
		for k := 0; k < copies; k++ {
			sel := "*"
			if k > 0 && len(cols) > 0 {
				var rep []string
				for _, c := range cols {
					q := `"` + c + `"`
					rep = append(rep, fmt.Sprintf("%s || '~%d' AS %s", q, k, q))
				}
				sel = "* REPLACE (" + strings.Join(rep, ", ") + ")"
			}
			// Paths are ours (the bench's work directory): quoted as literals.
			out := filepath.Join(dsDir, fmt.Sprintf("part-%03d.parquet", k))
			q := fmt.Sprintf("COPY (SELECT %s FROM read_parquet('%s')) TO '%s' (FORMAT parquet, COMPRESSION zstd)",
				sel, strings.ReplaceAll(f.Path, "'", "''"), strings.ReplaceAll(out, "'", "''"))
			if _, err := st.DB.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("replicate %s copy %d: %w", f.Rel, k, err)
			}
		}
	}
	return os.Rename(tmp, in)
}

func run(sizes, dir, affwatch, memLimit string, threads int, appendTo string, replicateAbove, partitions int, wholeRun bool, scratch string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if _, err := os.Stat(affwatch); err != nil {
		return fmt.Errorf("%s: %w (run make build first)", affwatch, err)
	}
	var results []result
	var splits []partitioned
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("--sizes: %q", s)
		}
		r := result{clicks: n}
		in := filepath.Join(dir, fmt.Sprintf("in-%d-v%s", n, fixtures.Version))
		if n > replicateAbove && n%replicateAbove == 0 {
			in = filepath.Join(dir, fmt.Sprintf("in-%d-as-%dx%d-v%s", n, n/replicateAbove, replicateAbove, fixtures.Version))
			r.copies = n / replicateAbove
		}
		if _, err := os.Stat(in); err != nil {
			t0 := time.Now()
			if r.copies > 0 {
				src := filepath.Join(dir, fmt.Sprintf("in-%d-v%s", replicateAbove, fixtures.Version))
				if _, err := os.Stat(src); err != nil {
					if _, _, err := measured(exec.Command(exe, "--phase", "generate", "--in", src, "--clicks", fmt.Sprint(replicateAbove)), ""); err != nil {
						return fmt.Errorf("generate %d: %w", replicateAbove, err)
					}
				}
				fmt.Fprintf(os.Stderr, "building %d clicks as %d copies of %s …\n", n, r.copies, src)
				if _, _, err := measured(exec.Command(exe, "--phase", "replicate", "--from", src, "--in", in, "--copies", fmt.Sprint(r.copies)), ""); err != nil {
					return fmt.Errorf("replicate %d: %w", n, err)
				}
			} else {
				fmt.Fprintf(os.Stderr, "generating %d clicks into %s …\n", n, in)
				if _, _, err := measured(exec.Command(exe, "--phase", "generate", "--in", in, "--clicks", fmt.Sprint(n)), ""); err != nil {
					return fmt.Errorf("generate %d: %w", n, err)
				}
			}
			fmt.Fprintf(os.Stderr, "input ready in %.0fs\n", time.Since(t0).Seconds())
		}
		r.inputMiB, r.rows = inputSize(in)
		if partitions > 1 {
			for _, p := range measurePartitioned(affwatch, in, filepath.Join(dir, fmt.Sprintf("split-%d", n)), memLimit, threads, partitions, n, scratchKinds[scratch]) {
				fmt.Fprintf(os.Stderr, "%d clicks split in %d (scratch %s): equal to the whole night: %v %s\n", n, partitions, p.scratch, p.same, p.err)
				splits = append(splits, p)
			}
			os.RemoveAll(filepath.Join(dir, fmt.Sprintf("split-%d", n)))
		}
		if !wholeRun {
			continue
		}
		out, _, err := measured(exec.Command(exe, "--phase", "scan", "--in", in, "--memory-limit", memLimit, "--threads", fmt.Sprint(threads)), "")
		if err != nil {
			return fmt.Errorf("scan %d: %w", n, err)
		}
		r.scanRSS = out.rss
		r.scanS, _ = strconv.ParseFloat(strings.TrimSpace(out.stdout), 64)
		fmt.Fprintf(os.Stderr, "%d clicks: bare scan %.1fs, peak RSS %.0f MiB\n", n, r.scanS, r.scanRSS)

		work := filepath.Join(dir, fmt.Sprintf("run-%d", n))
		os.RemoveAll(work)
		spill := filepath.Join(work, "spill")
		if err := os.MkdirAll(spill, 0o755); err != nil {
			return err
		}
		outDir := filepath.Join(work, "out")
		cmd := exec.Command(affwatch, "run", "--in", in, "--out", outDir, "--db", filepath.Join(work, "affwatch.duckdb"),
			"--no-crawl", "--memory-limit", memLimit, "--threads", fmt.Sprint(threads), "--temp-dir", spill, "--log-format", "json")
		var logBuf bytes.Buffer
		cmd.Stderr = &logBuf
		t0 := time.Now()
		rout, spillPeak, samples, err := measuredProfile(cmd, spill)
		r.profile = stageProfile(logBuf.Bytes(), samples, time.Now())
		if err != nil {
			fmt.Fprintln(os.Stderr, lastLine(logBuf.String()))
		}
		r.runS = time.Since(t0).Seconds()
		r.runRSS, r.spillMiB = rout.rss, spillPeak
		if diskFull.Swap(false) {
			r.err = fmt.Sprintf("stopped: under %d GiB of disk left (database + spill)", minFreeDisk>>30)
		} else if err != nil {
			r.err = err.Error()
		} else if err := readManifest(outDir, &r); err != nil {
			r.err = err.Error()
		}
		fmt.Fprintf(os.Stderr, "%d clicks: run %.1fs (%.2f× scan), peak RSS %.0f MiB, spilled %.0f MiB %s\n", n, r.runS, r.runS/r.scanS, r.runRSS, r.spillMiB, r.err)
		results = append(results, r)
		os.RemoveAll(work)
	}
	var report string
	if len(results) > 0 {
		report = render(results, sizes, memLimit, threads)
	}
	if len(splits) > 0 {
		report += renderPartitioned(splits, sizes, memLimit, threads, scratch)
	}
	fmt.Print(report)
	if appendTo != "" {
		if err := benchutil.AppendMarkdown(appendTo, report); err != nil {
			return err
		}
	}
	for _, r := range results {
		if r.err != "" {
			return fmt.Errorf("the run of %d clicks failed: %s", r.clicks, r.err)
		}
	}
	for _, p := range splits {
		if p.err != "" || !p.same {
			return fmt.Errorf("the partitioned night of %d clicks failed or differs from the whole run: %s", p.clicks, p.err)
		}
	}
	return nil
}

// other is the run's time outside load, detect and penalties: process
// start, opening the database, discovery, writing the reports (run.json is
// written before its own stage ends, so it cannot time the report itself).
func (r result) other() float64 {
	return r.runS - r.stages["load"] - r.stages["detect"] - r.stages["penalties"] - r.stages["crawl"]
}

type childOut struct {
	stdout string
	rss    float64 // MiB
}

// measured runs cmd and returns its stdout and peak RSS, and the peak size
// of spillDir (sampled every 500 ms) when one is given.
func measured(cmd *exec.Cmd, spillDir string) (childOut, float64, error) {
	out, peak, _, err := measuredProfile(cmd, spillDir)
	return out, peak, err
}

// sample is the child's resident memory and the spill directory's size at
// one moment.
type sample struct {
	at       time.Time
	rssBytes int64
	spill    int64
}

// measuredProfile is measured, also returning the samples it took every
// 500 ms (for the time, memory and spill of each stage).
func measuredProfile(cmd *exec.Cmd, spillDir string) (childOut, float64, []sample, error) {
	var samples []sample
	var mu sync.Mutex
	var peak atomic.Int64
	done := make(chan struct{})
	if spillDir != "" {
		go func() {
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					s := dirBytes(spillDir)
					if s > peak.Load() {
						peak.Store(s)
					}
					if cmd.Process != nil {
						mu.Lock()
						samples = append(samples, sample{at: time.Now(), rssBytes: procRSS(cmd.Process.Pid), spill: s})
						mu.Unlock()
					}
					// A run that fills the disk takes the machine with it:
					// stop it while there is room left, and say why.
					var fs syscall.Statfs_t
					if syscall.Statfs(spillDir, &fs) == nil && int64(fs.Bavail)*fs.Bsize < minFreeDisk && cmd.Process != nil {
						fmt.Fprintf(os.Stderr, "bench-scale: less than %d GiB free beside %s: stopping the run\n", minFreeDisk>>30, spillDir)
						diskFull.Store(true)
						cmd.Process.Kill()
					}
				}
			}
		}()
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	b, err := cmd.Output()
	close(done)
	out := childOut{stdout: string(b)}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			out.rss = float64(ru.Maxrss) / 1024
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return out, float64(peak.Load()) / (1 << 20), samples, err
}

// procRSS is a process's resident set size now, from /proc (0 if gone).
func procRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func dirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func inputSize(in string) (mib float64, rows int64) {
	n := dirBytes(in)
	var sum struct {
		Rows map[string]int64 `json:"rows"`
	}
	if b, err := os.ReadFile(filepath.Join(in, "summary.json")); err == nil {
		json.Unmarshal(b, &sum)
	}
	for _, r := range sum.Rows {
		rows += r
	}
	return float64(n) / (1 << 20), rows
}

func readManifest(outDir string, r *result) error {
	run, err := benchutil.ReadRun(outDir)
	if err != nil {
		return err
	}
	r.stages, r.findings, r.recs = run.Stages, run.Findings, run.Recommendations
	if r.rows == 0 {
		r.rows = run.RowsRead
	}
	return nil
}

func render(rs []result, sizes, memLimit string, threads int) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "\n## Whole run at scale (no crawl) — %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Command: `make bench-scale` (`go run -tags duckdb_arrow ./cmd/bench-scale --sizes %s --memory-limit %s --threads %d`)  \n", sizes, memLimit, threads)
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s/%s; memory_limit=%s, threads=%d, spilling to a temp directory on the same disk  \n\n", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, memLimit, threads)
	b.WriteString("| clicks | rows (all datasets) | input MiB | bare scan s | run s | **run/scan** | load s | detect s | penalties s | other s | run peak RSS MiB | spilled MiB | findings | targets (RSS ≤ 5 GiB, ratio ≤ 3) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		verdict := "met"
		switch {
		case r.err != "":
			verdict = "**failed**: " + strings.ReplaceAll(r.err, "|", "/")
		case r.runRSS > targetRSSMiB && r.runS/r.scanS > targetRatio:
			verdict = "**both missed**"
		case r.runRSS > targetRSSMiB:
			verdict = "**RSS missed**"
		case r.runS/r.scanS > targetRatio:
			verdict = "**ratio missed**"
		}
		label := fmt.Sprint(r.clicks)
		if r.copies > 0 {
			label += fmt.Sprintf(" (%d disjoint copies of %d)", r.copies, r.clicks/r.copies)
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.1f | %.1f | **%.2f** | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f | %d | %s |\n",
			label, r.rows, r.inputMiB, r.scanS, r.runS, r.runS/r.scanS, r.stages["load"], r.stages["detect"], r.stages["penalties"], r.other(),
			r.runRSS, r.spillMiB, r.findings, verdict)
	}
	if len(rs) > 1 {
		first, last := rs[0], rs[len(rs)-1]
		f := float64(last.clicks) / float64(first.clicks)
		fmt.Fprintf(&b, "\nGrowth from %d to %d clicks (×%.0f): run time ×%.1f, bare scan ×%.1f, detect ×%.1f, peak RSS ×%.1f.\n",
			first.clicks, last.clicks, f, last.runS/first.runS, last.scanS/first.scanS, last.stages["detect"]/first.stages["detect"], last.runRSS/first.runRSS)
	}
	for _, r := range rs {
		b.WriteString(renderProfile(r.clicks, r.profile))
	}
	return b.String()
}
