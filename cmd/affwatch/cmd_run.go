package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"affwatch/detectors"
	"affwatch/pipeline"
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
	// compactEvery is --compact-every of the commands that run a night
	compactEvery int
}

func (o *dbOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.path, "db", "", "database file (default: affwatch.duckdb in --out; for run --stage baselines and run --partition, which nothing reads after, an in-memory database spilling into --temp-dir or OUT/.spill); :memory: for none")
	fs.StringVar(&o.memoryLimit, "memory-limit", "", "DuckDB memory limit, e.g. 4GB (default: DuckDB's, 80% of RAM)")
	fs.IntVar(&o.threads, "threads", 0, "DuckDB worker threads (default: one per core)")
	fs.StringVar(&o.tempDir, "temp-dir", "", "where DuckDB spills when over the memory limit (default: beside the database)")
}

// registerCompaction adds --compact-every: run and merge, the commands that
// run a night, defer the storage's compaction to every Nth run.
func (o *dbOptions) registerCompaction(fs *flag.FlagSet) {
	fs.IntVar(&o.compactEvery, "compact-every", pipeline.DefaultCompactEvery, "compact the database's storage (merge partly filled row groups, reclaim deleted rows) when every Nth run closes, counted in the database; the runs between write only their own rows (1: every run; 0: never, e.g. with affwatch compact in a maintenance window)")
}

// checkCompaction refuses a negative --compact-every.
func (o *dbOptions) checkCompaction() error {
	if o.compactEvery < 0 {
		return usagef("--compact-every %d: want a count of runs (1: every run, 0: never)", o.compactEvery)
	}
	return nil
}

func (o *dbOptions) open(ctx context.Context, outDir string) (*store.Store, error) {
	return o.config().Open(ctx, outDir)
}

func (o *dbOptions) config() pipeline.DB {
	every := o.compactEvery
	if every == 0 {
		every = -1 // never; pipeline.DB's zero value is the default
	}
	return pipeline.DB{Path: o.path, MemoryLimit: o.memoryLimit, Threads: o.threads, TempDir: o.tempDir, CompactEvery: every}
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
	retainDays               int
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
	fs.IntVar(&o.retainDays, "retain-days", 0, "after a --date night is committed, drop raw clicks and orders older than this many days before it (0: keep everything); must cover the longest look-back of the pack's detectors, which keep what they need from older days as state")
	o.crawl.registerTuning(fs)
	o.db.register(fs)
	o.db.registerCompaction(fs)
	o.logging.register(fs)
}

// check validates the combinations of the partition flags.
func (o *runOptions) check() (detectors.Partition, error) {
	var part detectors.Partition
	if err := o.db.checkCompaction(); err != nil {
		return part, err
	}
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
	log, err := o.logger(stderr)
	if err != nil {
		return err
	}
	cfg, err := o.config(log, stderr)
	if err != nil {
		return err
	}
	res, err := pipeline.Run(ctx, cfg)
	if err != nil {
		return err
	}
	switch cfg.Mode {
	case pipeline.ModeBaselines:
		fmt.Fprintf(stdout, "baselines of %s in %s (%d table(s)); run the partitions with --baselines %s\n", o.date, o.out, res.Tables, o.out)
		return nil
	case pipeline.ModePartition:
		fmt.Fprintf(stdout, "partition %s: %d finding(s), %d quarantined row(s); hand %s to affwatch merge\n", o.partition, res.Findings, res.QuarantinedRows, o.out)
		return nil
	}
	fmt.Fprintf(stdout, "%d finding(s), %d recommendation(s), %d quarantined row(s); report: %s\n",
		res.Findings, res.Recommendations, res.QuarantinedRows, filepath.Join(o.out, "report.html"))
	return nil
}

// config turns the flags into the pipeline's configuration, parsing
// --date once.
func (o *runOptions) config(log *slog.Logger, stderr io.Writer) (pipeline.Config, error) {
	part, err := o.check()
	if err != nil {
		return pipeline.Config{}, err
	}
	night := detectors.BackfillNight()
	if o.date != "" {
		d, err := time.Parse(time.DateOnly, o.date)
		if err != nil {
			return pipeline.Config{}, usagef("--date %q: want YYYY-MM-DD", o.date)
		}
		night = detectors.NightOf(d)
	}
	mode := pipeline.ModeWhole
	switch {
	case o.stage == "baselines":
		mode = pipeline.ModeBaselines
	case !part.Whole():
		mode = pipeline.ModePartition
	}
	crawl := o.crawl.stage(stderr)
	crawl.DNSServer, crawl.AllowPrivate = o.dnsServer, o.allowPrivate
	return pipeline.Config{
		In: o.in, Out: o.out, RulesPath: o.rulesPath, Night: night, Mode: mode, Part: part, Baselines: o.baselines,
		NoCrawl: o.noCrawl, Crawl: crawl, Strict: o.strict, AllowEmptyNight: o.allowEmptyNight, SetAsideBroken: o.setAsideBroken,
		BotList: o.botList, RetainDays: o.retainDays, MetricsFile: o.metricsFile, DB: o.db.config(), ToolVersion: version, Log: log,
		LoadProgress: newLoadProgress(stderr),
	}, nil
}
