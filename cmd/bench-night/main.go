// Command bench-night measures what one night costs as the database grows
// (issue 16): a generated program with DAYS days of traffic at each size;
// the last night run on a database that already holds the earlier days
// (loaded, and the nights before run, so the state a night keeps is in
// place), beside the same night run on an empty database and a bare load
// of the night's files alone, side by side in one run.
//
//	go run -tags duckdb_arrow ./cmd/bench-night --affwatch bin/affwatch --clicks-per-night 150000,1500000
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"affwatch/cmd/internal/benchutil"
)

func main() {
	var (
		affwatch = flag.String("affwatch", "bin/affwatch", "the affwatch binary measured")
		sizes    = flag.String("clicks-per-night", "150000,1500000", "comma-separated clicks per night; one program per size")
		days     = flag.Int("days", 28, "days of traffic; the last is the night measured")
		end      = flag.String("end", "2026-11-28", "the night measured (the last day), YYYY-MM-DD")
		dir      = flag.String("dir", ".cache/bench-night", "where the generated programs and databases live (inputs are reused)")
		appendTo = flag.String("append", "", "append the results as Markdown to this file")
		before   = flag.Int("nights-before", 6, "nights run one by one on the loaded history before the measured night: the first compacts what the bulk load left, the others do not, so the compacting night measured merges what the nights of a week between compactions leave (--compact-every 7)")
	)
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "Usage: bench-night [flags]\n\nMeasures one night's run on a database with history against the same night on an empty database and a load of the night's files alone.\n\nFlags:")
		flag.PrintDefaults()
	}
	flag.Parse()
	night, err := time.Parse(time.DateOnly, *end)
	if err != nil || *before < 1 || *days < *before+2 {
		fmt.Fprintln(os.Stderr, "bench-night: want --end YYYY-MM-DD, --nights-before ≥ 1 and --days ≥ nights before + 2")
		os.Exit(2)
	}
	bin, err := filepath.Abs(*affwatch)
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	load0 := benchutil.LoadAvg()
	var rs []result
	for _, s := range strings.Split(*sizes, ",") {
		perNight, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || perNight < 1000 {
			fail(fmt.Errorf("--clicks-per-night %q: want numbers ≥ 1000", s))
		}
		r, err := measure(ctx, bin, filepath.Join(*dir, strconv.Itoa(perNight)), perNight, *days, *before, night)
		if err != nil {
			fail(err)
		}
		rs = append(rs, r)
		fmt.Print(renderOne(r))
	}
	md := render(rs, *days, *before, load0, benchutil.LoadAvg(), strings.Join(os.Args[1:], " "))
	fmt.Print(md)
	if *appendTo != "" {
		if err := benchutil.AppendMarkdown(*appendTo, md); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-night:", err)
	os.Exit(1)
}

// run is one measured command: wall seconds, peak RSS, and (for runs) the
// stage and detector times it logged.
type run struct {
	Seconds   float64
	PeakMiB   float64
	Stages    map[string]float64
	Detectors map[string]float64
	Findings  int
}

type result struct {
	PerNight, Days int
	OnHistory      run // the night on a database holding the earlier days
	OnEmpty        run // the same night on an empty database
	// Compacting: the night on another copy of the history, as the run
	// that compacts the database's storage when it closes (one in
	// --compact-every, 7 by default) does
	Compacting run
	LoadAlone  run // affwatch load of the night's files into an empty database
}

func measure(ctx context.Context, bin, dir string, perNight, days, nightsBefore int, night time.Time) (result, error) {
	r := result{PerNight: perNight, Days: days}
	all := filepath.Join(dir, "program")
	if _, err := os.Stat(filepath.Join(all, "labels.csv")); err != nil {
		fmt.Fprintf(os.Stderr, "bench-night: generating %d days × %d clicks in %s\n", days, perNight, all)
		os.RemoveAll(all)
		if err := sh(ctx, bin, "fixtures", "generate", "--seed", "1", "--clicks", strconv.Itoa(perNight*days), "--days", strconv.Itoa(days),
			"--end", night.Format(time.DateOnly), "--format", "parquet", "--partition-by-date", "--out", all); err != nil {
			return r, err
		}
	}
	// Inputs: the history before the nights before, each night before,
	// and the night; each with the program's reference datasets.
	firstBefore := night.AddDate(0, 0, -nightsBefore)
	hist := filepath.Join(dir, "in-history-to-"+firstBefore.AddDate(0, 0, -1).Format(time.DateOnly))
	tonight := filepath.Join(dir, "in-night")
	type input struct {
		dir      string
		from, to time.Time
	}
	inputs := []input{{hist, night.AddDate(0, 0, -days+1), firstBefore.AddDate(0, 0, -1)}, {tonight, night, night}}
	var befores []time.Time
	for d := firstBefore; d.Before(night); d = d.AddDate(0, 0, 1) {
		befores = append(befores, d)
		inputs = append(inputs, input{beforeDir(dir, d), d, d})
	}
	for _, in := range inputs {
		if err := linkInput(all, in.dir, in.from, in.to); err != nil {
			return r, err
		}
	}
	work := filepath.Join(dir, "work")
	os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return r, err
	}
	defer os.RemoveAll(work)
	// The history is the measured binary's own: another binary (another
	// rule pack, other state tables) would find it stale and relabel or
	// recompute it inside the measured night.
	binSum, err := fileSum(bin)
	if err != nil {
		return r, err
	}
	histDB := filepath.Join(dir, fmt.Sprintf("history-%s-%d.duckdb", binSum[:12], nightsBefore))
	if _, err := os.Stat(histDB); err != nil {
		fmt.Fprintf(os.Stderr, "bench-night: building the history database (load of %d days, then the nights %s … %s run one by one)\n",
			days-1-nightsBefore, firstBefore.Format(time.DateOnly), night.AddDate(0, 0, -1).Format(time.DateOnly))
		tmp := histDB + ".tmp"
		os.Remove(tmp)
		if err := sh(ctx, bin, "load", "--in", hist, "--out", filepath.Join(work, "hist-load"), "--db", tmp, "--log-level", "warn"); err != nil {
			return r, err
		}
		for i, d := range befores {
			// The first night compacts what the bulk load left (a
			// backfill's one-off); the others are nights between
			// compactions, as in a week.
			every := "0"
			if i == 0 {
				every = "1"
			}
			if err := sh(ctx, bin, "run", "--in", beforeDir(dir, d), "--out", filepath.Join(work, "before"), "--db", tmp, "--date", d.Format(time.DateOnly), "--no-crawl", "--log-level", "warn", "--compact-every", every); err != nil {
				return r, err
			}
		}
		if err := os.Rename(tmp, histDB); err != nil {
			return r, err
		}
	}
	db := filepath.Join(work, "night.duckdb")
	if err := copyFile(histDB, db); err != nil {
		return r, err
	}
	date := night.Format(time.DateOnly)
	fmt.Fprintf(os.Stderr, "bench-night: %d clicks/night: the night on the history database\n", perNight)
	// A night between two compacting ones (whichever the history's run
	// count would make it), and below the same night as a compacting one.
	if r.OnHistory, err = timedRun(ctx, bin, filepath.Join(work, "out-history"), "run", "--in", tonight, "--out", filepath.Join(work, "out-history"), "--db", db, "--date", date, "--no-crawl", "--compact-every", "0"); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "bench-night: %d clicks/night: the night on the history database, compacting it\n", perNight)
	if err := copyFile(histDB, db); err != nil {
		return r, err
	}
	if r.Compacting, err = timedRun(ctx, bin, filepath.Join(work, "out-compacting"), "run", "--in", tonight, "--out", filepath.Join(work, "out-compacting"), "--db", db, "--date", date, "--no-crawl", "--compact-every", "1"); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "bench-night: %d clicks/night: the night on an empty database\n", perNight)
	if r.OnEmpty, err = timedRun(ctx, bin, filepath.Join(work, "out-empty"), "run", "--in", tonight, "--out", filepath.Join(work, "out-empty"), "--db", filepath.Join(work, "empty.duckdb"), "--date", date, "--no-crawl"); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "bench-night: %d clicks/night: a load of the night's files alone\n", perNight)
	if r.LoadAlone, err = timedRun(ctx, bin, "", "load", "--in", tonight, "--out", filepath.Join(work, "out-load"), "--db", filepath.Join(work, "load.duckdb"), "--log-level", "warn"); err != nil {
		return r, err
	}
	return r, nil
}

// beforeDir is the input folder of one night before the measured one.
func beforeDir(dir string, night time.Time) string {
	return filepath.Join(dir, "in-before-"+night.Format(time.DateOnly))
}

// linkInput hard-links the reference datasets and the dated folders of
// clicks and orders from..to (inclusive) of the program into dir.
func linkInput(program, dir string, from, to time.Time) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(program)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".parquet") {
			if err := os.Link(filepath.Join(program, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
				return err
			}
		}
	}
	for _, ds := range []string{"clicks", "orders"} {
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			part := "date=" + d.Format(time.DateOnly)
			src := filepath.Join(program, ds, part)
			files, err := os.ReadDir(src)
			if err != nil {
				return err
			}
			dst := filepath.Join(tmp, ds, part)
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			for _, f := range files {
				if err := os.Link(filepath.Join(src, f.Name()), filepath.Join(dst, f.Name())); err != nil {
					return err
				}
			}
		}
	}
	return os.Rename(tmp, dir)
}

func sh(ctx context.Context, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, tail(stderr.String()))
	}
	return nil
}

var detectorDone = regexp.MustCompile(`detector done.* detector=([a-z_]+) seconds=([0-9.]+)`)

// timedRun runs one affwatch command and reads its wall time, peak RSS,
// and, when out is a run's output folder, its stage timings (run.json) and
// detector times (log).
func timedRun(ctx context.Context, bin, out string, args ...string) (run, error) {
	var r run
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	t0 := time.Now()
	err := cmd.Run()
	r.Seconds = time.Since(t0).Seconds()
	if err != nil {
		return r, fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, tail(stderr.String()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakMiB = float64(ru.Maxrss) / 1024
	}
	if out == "" {
		return r, nil
	}
	r.Detectors = map[string]float64{}
	for _, m := range detectorDone.FindAllStringSubmatch(stderr.String(), -1) {
		s, _ := strconv.ParseFloat(m[2], 64)
		r.Detectors[m[1]] += s
	}
	run, err := benchutil.ReadRun(out)
	if err != nil {
		return r, err
	}
	r.Stages, r.Findings = run.Stages, run.Findings
	return r, nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func renderOne(r result) string {
	return fmt.Sprintf("%d clicks/night, %d days: night on history %.1f s, on empty %.1f s (ratio %.2f); load alone %.1f s (night on history / load %.2f); compacting night %.1f s (/ load %.2f)\n",
		r.PerNight, r.Days, r.OnHistory.Seconds, r.OnEmpty.Seconds, r.OnHistory.Seconds/r.OnEmpty.Seconds, r.LoadAlone.Seconds, r.OnHistory.Seconds/r.LoadAlone.Seconds,
		r.Compacting.Seconds, r.Compacting.Seconds/r.LoadAlone.Seconds)
}

func stages(r run) string {
	order := []string{"discover", "load", "reflists", "detect", "penalties", "report"}
	var parts []string
	for _, s := range order {
		if v, ok := r.Stages[s]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f", s, v))
		}
	}
	return strings.Join(parts, ", ")
}

func detectorsLine(r run) string {
	type kv struct {
		k string
		v float64
	}
	var xs []kv
	for k, v := range r.Detectors {
		if v >= 0.5 {
			xs = append(xs, kv{k, v})
		}
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i].v > xs[j].v })
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%s %.1f", x.k, x.v))
	}
	return strings.Join(parts, ", ")
}

func render(rs []result, days, nightsBefore int, loadBefore, loadAfter, args string) string {
	host, _ := os.Hostname()
	var b strings.Builder
	fmt.Fprintf(&b, "\n## One night as the database grows (issue 16) — %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Command: `go run -tags duckdb_arrow ./cmd/bench-night %s` (`make bench-night`). Machine: %s, %s/%s, %d CPUs, load average before %s, after %s (shared machine: the ratios, measured side by side, are the figures).\n\n",
		args, host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), loadBefore, loadAfter)
	fmt.Fprintf(&b, "A generated program of %d days (Parquet, one folder per day, `--no-crawl`). *History*: a database holding the first %d days: %d loaded, then the last %d run night by night (so the state nights keep is in place); *empty*: a new database. Target: history ÷ empty ≤ 1.3, and the night ≤ 3× a load of its files alone. The night on history runs as a night between compactions (`--compact-every 0`); *compacting*: the same night on another copy of the history, run as the one night in `--compact-every` (7 by default) whose close also merges the partly filled row groups the nights since the last compaction left (`--compact-every 1`; of the history's nights run one by one only the first compacted, absorbing the bulk load's partly filled row groups); *weekly mean*: (6 × night + compacting night) ÷ 7.\n\n", days, days-1, days-1-nightsBefore, nightsBefore)
	b.WriteString("| clicks/night | night on history s | night on empty s | **history ÷ empty** | load of the night alone s | **night ÷ load** | compacting night s (÷ load) | weekly mean ÷ load | peak RSS MiB (history / empty) | findings (history / empty / compacting) |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		weekly := (6*r.OnHistory.Seconds + r.Compacting.Seconds) / 7
		fmt.Fprintf(&b, "| %d | %.1f | %.1f | **%.2f** %s | %.1f | **%.2f** %s | %.1f (%.2f) | %.2f | %.0f / %.0f | %d / %d / %d |\n", r.PerNight, r.OnHistory.Seconds, r.OnEmpty.Seconds,
			r.OnHistory.Seconds/r.OnEmpty.Seconds, verdict(r.OnHistory.Seconds/r.OnEmpty.Seconds <= 1.3), r.LoadAlone.Seconds,
			r.OnHistory.Seconds/r.LoadAlone.Seconds, verdict(r.OnHistory.Seconds/r.LoadAlone.Seconds <= 3),
			r.Compacting.Seconds, r.Compacting.Seconds/r.LoadAlone.Seconds, weekly/r.LoadAlone.Seconds,
			r.OnHistory.PeakMiB, r.OnEmpty.PeakMiB, r.OnHistory.Findings, r.OnEmpty.Findings, r.Compacting.Findings)
	}
	b.WriteString("\nWhere the time goes (seconds, from run.json and the run's log):\n\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "- %d clicks/night, on history: %s; detectors: %s\n", r.PerNight, stages(r.OnHistory), detectorsLine(r.OnHistory))
		fmt.Fprintf(&b, "- %d clicks/night, on history, compacting: %s; detectors: %s\n", r.PerNight, stages(r.Compacting), detectorsLine(r.Compacting))
		fmt.Fprintf(&b, "- %d clicks/night, on empty: %s; detectors: %s\n", r.PerNight, stages(r.OnEmpty), detectorsLine(r.OnEmpty))
	}
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "(met)"
	}
	return "(MISSED)"
}

// fileSum is the hex SHA-256 of a file.
func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
