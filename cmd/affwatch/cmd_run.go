package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/all"
	"affwatch/loaders"
	"affwatch/loaders/reflists"
	"affwatch/reports"
	"affwatch/rules"
	"affwatch/rules/penalty"
	"affwatch/store"
)

const runHelp = `
Processes one night (--date) or, without --date, every day present in the
input (a backfill): loads the datasets of --in (docs/INPUTS.md) into the
database, runs the detectors, recommends penalties and writes into --out:

  findings.ndjson              one finding per line, with its evidence and case_id
  findings.parquet             the same, for analysts
  recommendations.json         one recommended action per flagged publisher (F.11),
                               with the ladder step of each finding (basis), the
                               money new tonight and what the ledger holds in all
  recommendations.csv          the same, one row each (formulas neutralized)
  recommendations.parquet      the same, for analysts
  disqualified_orders.csv      the itemized Disqualified Purchases Report (7.8) of
                               tonight's dispositions: each order new once across
                               nights, later amended or released
  disqualified_orders.parquet  the same, typed (ids as text)
  report.html                  the reviewers' report: tonight's review queue first
  run.json                     the manifest: inputs, hashes, quarantine, timings

Keep one --db across nights: it holds the ledger of dispositions and the
cases (publisher × detector, open while findings keep coming). The pack's
penalty ladder decides each action (affwatch rules default shows it);
findings of rules not yet stable lead to a warning at most; routine
commission corrections go to the 7.8 report without review; allow-list
entries and cleared appeals (affwatch appeal) suppress findings, and the
report lists every suppression. affwatch explain PUBLISHER prints one
publisher's cases and history on the terminal.

A --date without clicks or orders in the database fails the run (exit 1)
unless --allow-empty-night. run.json is written last: a run that fails or
is interrupted leaves none. Input files already loaded (same content hash)
are skipped; re-running a night replaces that night's rows instead of
duplicating them.`

// dbOptions are the DuckDB engine flags shared by commands that open a database.
type dbOptions struct {
	path        string
	memoryLimit string
	threads     int
	tempDir     string
}

func (o *dbOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.path, "db", "", "database file (default: affwatch.duckdb in --out)")
	fs.StringVar(&o.memoryLimit, "memory-limit", "", "DuckDB memory limit, e.g. 4GB (default: DuckDB's, 80% of RAM)")
	fs.IntVar(&o.threads, "threads", 0, "DuckDB worker threads (default: one per core)")
	fs.StringVar(&o.tempDir, "temp-dir", "", "where DuckDB spills when over the memory limit (default: beside the database)")
}

func (o *dbOptions) open(ctx context.Context, outDir string) (*store.Store, error) {
	path := o.path
	if path == "" {
		path = filepath.Join(outDir, "affwatch.duckdb")
	}
	st, err := store.Open(ctx, path, store.Options{MemoryLimit: o.memoryLimit, Threads: o.threads, TempDirectory: o.tempDir})
	if err != nil {
		return nil, err
	}
	return st, nil
}

type runOptions struct {
	in, out, rulesPath, date string
	noCrawl, allowPrivate    bool
	dnsServer                string
	crawl                    crawlOptions // tuning beyond the three contract flags
	strict                   bool
	allowEmptyNight          bool
	setAsideBroken           bool
	metricsFile              string
	stage                    string // "" (everything) or "baselines"
	partition                string // i/N
	baselines                string // folder of a baselines pass
	botList                  string // overrides reference_lists.bot_user_agents.path
	db                       dbOptions
	logging
}

func (o *runOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.in, "in", "", "input directory with the datasets of docs/INPUTS.md (required)")
	fs.StringVar(&o.out, "out", "", "output directory (required; created if missing)")
	fs.StringVar(&o.rulesPath, "rules", "", "rule pack YAML (default: the embedded pack; a pack may say 'extends: default')")
	fs.StringVar(&o.date, "date", "", "night to process, YYYY-MM-DD (UTC); default: every day in the input")
	fs.BoolVar(&o.noCrawl, "no-crawl", false, "do not visit publisher sites")
	fs.StringVar(&o.dnsServer, "dns-server", "", "send every crawler DNS lookup to HOST:PORT")
	fs.BoolVar(&o.allowPrivate, "allow-private-networks", false, "let the crawler reach private, loopback and link-local addresses")
	fs.BoolVar(&o.strict, "strict", false, "fail the run if any input row is quarantined (or any file set aside)")
	fs.BoolVar(&o.setAsideBroken, "set-aside-broken-files", false, "a .gz/.zst file whose stream does not end properly (truncated, corrupt, trailing bytes) is set aside and the run goes on without it, listed in run.json; without this flag such a file stops the run before any work (exit 2)")
	fs.BoolVar(&o.allowEmptyNight, "allow-empty-night", false, "accept a --date with no clicks or no orders in the database (otherwise the run fails, exit 1, naming the days the database holds)")
	fs.StringVar(&o.metricsFile, "metrics-file", "", "write Prometheus text-format metrics here at the end of the run (node_exporter textfile collector)")
	fs.StringVar(&o.stage, "stage", "", "'baselines': only the first pass of a partitioned night: the program-wide state every partition needs, as Parquet in --out (needs --date)")
	fs.StringVar(&o.partition, "partition", "", "i/N: judge only the publishers of partition i of N (clicks/ and orders/ split in part=K folders), hand the results to affwatch merge (needs --date and --baselines)")
	fs.StringVar(&o.baselines, "baselines", "", "the --out folder of the night's baselines pass (with --partition)")
	fs.StringVar(&o.botList, "bot-list", "", "known-bot user-agent list (crawler-user-agents JSON) instead of the pack's reference_lists.bot_user_agents.path")
	o.crawl.registerTuning(fs)
	o.db.register(fs)
	o.logging.register(fs)
}

// check validates the combinations of the partition flags.
func (o *runOptions) check() (detectors.Partition, error) {
	var part detectors.Partition
	switch o.stage {
	case "", "all":
		o.stage = ""
	case "baselines":
		if o.date == "" {
			return part, usagef("--stage baselines needs --date: the baselines are one night's")
		}
		if o.partition != "" {
			return part, usagef("--stage baselines reads the whole input; it takes no --partition")
		}
	default:
		return part, usagef("--stage %q: want baselines (or nothing, for a whole run)", o.stage)
	}
	if o.partition == "" {
		if o.baselines != "" {
			return part, usagef("--baselines is for a partition run (--partition i/N)")
		}
		return part, nil
	}
	part, err := detectors.ParsePartition(o.partition)
	if err != nil {
		return part, usagef("--partition: %v", err)
	}
	if o.date == "" || o.baselines == "" {
		return part, usagef("--partition needs --date and --baselines (the --out of affwatch run --stage baselines for that night); backfills run whole")
	}
	return part, nil
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o runOptions
	fs := newFlagSet("run", "affwatch run --in DIR --out DIR [--date YYYY-MM-DD] [flags]", runHelp, stderr)
	o.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.in == "" || o.out == "" {
		return usagef("run: --in and --out are required (see affwatch run --help)")
	}
	if _, err := o.check(); err != nil {
		return err
	}
	log, err := o.logger(stderr)
	if err != nil {
		return err
	}
	res, err := runBatch(ctx, o, log, stderr)
	if err != nil {
		return err
	}
	switch {
	case o.stage == "baselines":
		fmt.Fprintf(stdout, "baselines of %s in %s (%d table(s)); run the partitions with --baselines %s\n", o.date, o.out, res.written.Findings, o.out)
		return nil
	case o.partition != "":
		fmt.Fprintf(stdout, "partition %s: %d finding(s), %d quarantined row(s); hand %s to affwatch merge\n", o.partition, res.written.Findings, res.written.QuarantinedRows, o.out)
		return nil
	}
	fmt.Fprintf(stdout, "%d finding(s), %d recommendation(s), %d quarantined row(s); report: %s\n",
		res.written.Findings, res.written.Recommendations, res.written.QuarantinedRows, filepath.Join(o.out, "report.html"))
	return nil
}

type batchResult struct {
	runID   string
	written reports.Written
}

// runBatch is the whole nightly pipeline: load → crawl → detect → penalties → reports.
func runBatch(ctx context.Context, o runOptions, log *slog.Logger, stderr io.Writer) (_ *batchResult, err error) {
	started := time.Now().UTC()
	var timings []reports.Timing
	metrics := &metricsWriter{path: o.metricsFile, log: log}
	defer func() { metrics.write(ctx, err == nil, timings) }()
	part, err := o.check()
	if err != nil {
		return nil, err
	}
	command := "run"
	switch {
	case o.stage == "baselines":
		command = "baselines"
	case !part.Whole():
		command = "partition"
	}
	pack, err := rules.Load(o.rulesPath)
	if err != nil {
		return nil, err
	}
	var night time.Time
	if o.date != "" {
		night, err = time.Parse(time.DateOnly, o.date)
		if err != nil {
			return nil, usagef("--date %q: want YYYY-MM-DD", o.date)
		}
	}
	stage := func(name string, t0 time.Time) {
		timings = append(timings, reports.Timing{Stage: name, Seconds: time.Since(t0).Seconds()})
	}
	if err := checkWritable(o.out); err != nil {
		return nil, err
	}
	t0 := time.Now()
	inputs, err := discover(o.in, log, loaders.DiscoverOptions{SetAsideBroken: o.setAsideBroken})
	if err != nil {
		return nil, err
	}
	files := inputs.Files
	if n := len(inputs.SetAside); n > 0 && o.strict {
		return nil, fmt.Errorf("--strict: %d broken input file(s) would be set aside, nothing was loaded: %s", n, strings.Join(inputs.SetAside, "; "))
	}
	var baselines *baselinesManifest
	if !part.Whole() {
		if files, err = partitionFiles(files, part); err != nil {
			return nil, err
		}
		if baselines, err = readBaselines(o.baselines, o.date, pack, files); err != nil {
			return nil, err
		}
	}
	stage("discover", t0)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	st, err := o.db.open(ctx, o.out)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	runID := newRunID(started)
	log = log.With("run", runID)
	markFailed, err := recordRun(ctx, st, runID, command, night, started, pack)
	if err != nil {
		return nil, err
	}
	metrics.db, metrics.runID = st.DB, runID
	defer func() { metrics.write(ctx, err == nil, timings) }() // before the store closes
	defer func() { markFailed(err) }()
	log.Info("run started", "in", o.in, "out", o.out, "db", st.Path(), "night", o.date, "rules", pack.Source, "files", len(files))

	t0 = beginStage(log, "load")
	loaded, err := loaders.Load(ctx, st, files, loaders.Options{RunID: runID, Night: night, Progress: newLoadProgress(stderr), Logger: log})
	if err != nil {
		return nil, err
	}
	stage("load", t0)
	if !part.Whole() {
		if err := checkPartitionRows(ctx, st, part); err != nil {
			return nil, err
		}
	}
	if q := loaded.Quarantined(); q > 0 {
		log.Warn("input rows quarantined", "rows", q)
		if o.strict {
			return nil, fmt.Errorf("--strict: %d input row(s) quarantined; see the quarantine table in %s (SELECT * FROM quarantine WHERE run_id = '%s')", q, st.Path(), runID)
		}
	}
	if !night.IsZero() && part.Whole() && !o.allowEmptyNight {
		if err := checkNightHasData(ctx, st, night); err != nil {
			return nil, err
		}
	}
	t0 = time.Now()
	signals, err := labelTraffic(ctx, st, pack, runID, o.botList, night, log)
	if err != nil {
		return nil, err
	}
	stage("reflists", t0)
	if o.stage == "baselines" {
		return finishBaselines(ctx, st, o, pack, runID, loaded, timings, log)
	}
	if o.noCrawl {
		log.Info("--no-crawl: publisher sites are not visited; page-code detectors judge the newest stored visits")
	} else {
		t0 = beginStage(log, "crawl")
		co := o.crawl
		co.dnsServer, co.allowPrivate = o.dnsServer, o.allowPrivate
		co.doNotFetch = doNotFetch(pack)
		co.pack = pack // turns the render stage on (issue 17)
		co.part = part
		if _, err := crawlSites(ctx, st, runID, co, log, stderr); err != nil {
			return nil, err
		}
		stage("crawl", t0)
	}

	t0 = beginStage(log, "detect")
	judged := detectors.BackfillNight()
	if !night.IsZero() {
		judged = detectors.NightOf(night)
	}
	if judged, err = detectors.ResolveNight(ctx, st.DB, judged); err != nil {
		return nil, err
	}
	env := detectors.Env{DB: st.DB, RunID: runID, Night: judged, Pack: pack, Signals: signals,
		Part: part, Baselines: o.baselines,
		OnDetector: func(code string, done bool, took time.Duration, n int) {
			if !done {
				log.Info("detector started", "detector", code)
				return
			}
			log.Info("detector done", "detector", code, "seconds", fmt.Sprintf("%.1f", took.Seconds()), "findings", n)
		}}
	findings, err := detectors.Run(ctx, env, all.Detectors())
	if err != nil {
		return nil, err
	}
	stage("detect", t0)
	log.Info("detectors done", "findings", len(findings))
	if !part.Whole() {
		return finishPartition(ctx, st, o, pack, part, baselines, runID, started, loaded, findings, timings, log)
	}

	t0 = beginStage(log, "penalties")
	runDate := night
	if runDate.IsZero() {
		if runDate, err = lastDay(ctx, st); err != nil {
			return nil, err
		}
	}
	decided, err := penalty.Apply(ctx, st.DB, pack, runID, night, runDate, findings)
	if err != nil {
		return nil, err
	}
	if n := len(decided.Suppressed); n > 0 {
		log.Info("findings suppressed by the allow-list or cleared appeals (listed in the report)", "findings", n)
	}
	stage("penalties", t0)

	meta := reports.Meta{
		RunID: runID, Command: "run", ToolVersion: version, Night: night,
		InputDir: o.in, DBPath: st.Path(), RulesSource: pack.Source, RulesVersion: pack.Version, RulesSHA256: pack.SHA256,
		Strict: o.strict, StartedAt: started, Inputs: inputFiles(loaded),
		SkippedInputs: inputs.Skipped, InputWarnings: append(append([]string(nil), inputs.Warnings...), setAsideWarnings(inputs.SetAside)...),
	}
	t0 = beginStage(log, "report")
	meta.Timings = append(timings, reports.Timing{Stage: "report"})
	meta.FinishedAt = time.Now().UTC()
	written, err := reports.Write(ctx, st.DB, o.out, meta)
	if err != nil {
		return nil, err
	}
	stage("report", t0)
	beginStage(log, "commit")
	replaced, err := commitResults(ctx, st, runID, night, written.Manifest)
	if err != nil {
		return nil, err
	}
	if replaced > 0 {
		log.Info("earlier results of this night replaced", "rows", replaced)
	}
	log.Info("run finished", "findings", written.Findings, "recommendations", written.Recommendations, "seconds", fmt.Sprintf("%.1f", time.Since(started).Seconds()))
	return &batchResult{runID: runID, written: written}, nil
}

// labelTraffic labels every stored click and order from the pack's
// reference lists (general invalid traffic) and returns the signals the
// detectors go without because a list is not installed.
func labelTraffic(ctx context.Context, st *store.Store, pack *rules.Pack, runID, botList string, night time.Time, log *slog.Logger) (*detectors.Signals, error) {
	beginStage(log, "reflists")
	res, err := reflists.Label(ctx, st.DB, pack, runID, reflists.Options{BotList: botList, Night: night})
	if err != nil {
		return nil, err
	}
	signals := &detectors.Signals{}
	for _, u := range res.Unavailable {
		log.Warn("reference list unavailable", "signal", u.Signal, "reason", u.Reason)
		// The two detectors that read the labels go without it.
		signals.Add(detectors.ClickBurst, u.Signal, u.Reason)
		signals.Add(detectors.CookieStuffing, u.Signal, u.Reason)
	}
	for _, l := range res.Lists {
		log.Info("reference list", "kind", l.Kind, "name", l.Name, "version", l.Version, "entries", l.Entries, "rejected", l.Rejects.Count, "matched", l.Matched)
	}
	log.Info("clicks labeled general invalid traffic (GIVT)", "clicks", res.GIVTClicks)
	return signals, nil
}

// beginStage logs the start of a stage (operators follow a run by these
// lines; the crash test kills the process on them) and returns its start.
func beginStage(log *slog.Logger, stage string) time.Time {
	log.Info("stage started", "stage", stage)
	return time.Now()
}

// lastDay is the latest day with clicks: a backfill's appeal deadlines count
// from the last night it covers, so the outputs do not depend on the clock.
func lastDay(ctx context.Context, st *store.Store) (time.Time, error) {
	var t *time.Time
	if err := st.DB.QueryRowContext(ctx, `SELECT max(ts)::DATE::TIMESTAMP FROM clicks`).Scan(&t); err != nil {
		return time.Time{}, err
	}
	if t == nil {
		return time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	return t.UTC(), nil
}

func newRunID(t time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return t.Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func inputFiles(r *loaders.Result) []reports.InputFile {
	out := make([]reports.InputFile, len(r.Files))
	for i, f := range r.Files {
		out[i] = reports.InputFile{
			Dataset: f.Dataset, Path: f.Rel, SHA256: f.SHA256, Format: f.Format, Compression: f.Compression,
			SizeBytes: f.SizeBytes, FileID: f.FileID, RowsRead: f.RowsRead, RowsLoaded: f.RowsLoaded,
			RowsQuarantined: f.RowsQuarantined, Status: f.Status,
		}
	}
	return out
}
