package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/all"
	"affwatch/loaders"
	"affwatch/reports"
	"affwatch/rules"
	"affwatch/rules/penalty"
	"affwatch/store"
)

// Mode is which of the night's four runs this is.
type Mode int

const (
	// ModeWhole loads, judges, decides and reports a night (or a backfill).
	ModeWhole Mode = iota
	// ModeBaselines computes the program-wide tables every partition reads.
	ModeBaselines
	// ModePartition judges one share of the publishers and hands over to Merge.
	ModePartition
	// ModeMerge gathers the partitions, decides and reports.
	ModeMerge
)

// command is the runs table's name of a mode.
func (m Mode) command() string {
	return [...]string{"run", "baselines", "partition", "merge"}[m]
}

// stage is one step of the night. The same list serves all four modes:
// a mode runs the stages that name it, in this order.
type stage struct {
	name  string
	modes []Mode
	run   func(r *nightRun, ctx context.Context) error
}

// stages is the night, in order. Stages named in the log ("stage started")
// are what operators follow and what the crash test kills on.
var stages = []stage{
	{"discover", []Mode{ModeWhole, ModeBaselines, ModePartition}, (*nightRun).discover},
	{"partitions", []Mode{ModeMerge}, (*nightRun).readPartitions},
	{"open", []Mode{ModeWhole, ModeBaselines, ModePartition, ModeMerge}, (*nightRun).open},
	{"load", []Mode{ModeWhole, ModeBaselines, ModePartition}, (*nightRun).load},
	{"reflists", []Mode{ModeWhole, ModeBaselines, ModePartition}, (*nightRun).labelTraffic},
	{"baselines", []Mode{ModeBaselines}, (*nightRun).finishBaselines},
	{"crawl", []Mode{ModeWhole, ModePartition}, (*nightRun).crawl},
	{"detect", []Mode{ModeWhole, ModePartition}, (*nightRun).detect},
	{"hand-over", []Mode{ModePartition}, (*nightRun).finishPartition},
	{"merge", []Mode{ModeMerge}, (*nightRun).importPartitions},
	{"penalties", []Mode{ModeWhole, ModeMerge}, (*nightRun).penalties},
	{"report", []Mode{ModeWhole, ModeMerge}, (*nightRun).report},
	{"commit", []Mode{ModeWhole, ModeMerge}, (*nightRun).commit},
	{"retain", []Mode{ModeWhole, ModeMerge}, (*nightRun).retain},
}

// nightRun is what the stages hand each other.
type nightRun struct {
	cfg     Config
	merge   MergeConfig
	mode    Mode
	log     *slog.Logger
	started time.Time
	timings []reports.Timing
	metrics *metricsWriter
	// markFailed marks the run's row failed with the error it ends with.
	markFailed func(error)
	// spillDir is the in-memory scratch database's spill folder in --out,
	// removed at close.
	spillDir string

	inputs    *loaders.Inputs
	files     []loaders.File
	baselines *baselinesManifest
	parts     []partitionManifest
	partDirs  []string

	st       *store.Store
	runID    string
	loaded   *loaders.Result
	signals  *detectors.Signals
	night    detectors.Night
	findings []detectors.Finding
	written  reports.Written
	result   Result
}

// timed records a stage's time for run.json.
func (r *nightRun) timed(name string, t0 time.Time) {
	r.timings = append(r.timings, reports.Timing{Stage: name, Seconds: time.Since(t0).Seconds()})
}

// beginStage logs the start of a stage (operators follow a run by these
// lines; the crash test kills the process on them) and returns its start.
func beginStage(log *slog.Logger, stage string) time.Time {
	log.Info("stage started", "stage", stage)
	return time.Now()
}

// Run runs a whole night, a baselines pass or a partition.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Mode == ModeMerge {
		return nil, fmt.Errorf("pipeline.Run: a merge is pipeline.Merge")
	}
	if err := checkRetainDays(cfg.RetainDays); err != nil {
		return nil, err
	}
	if cfg.RetainDays > 0 && (!cfg.Night.IsNight() || cfg.Mode != ModeWhole) {
		return nil, usagef("--retain-days applies to a whole nightly run (--date, no --stage or --partition): the days kept count back from the night")
	}
	if cfg.Mode != ModeWhole && !cfg.Night.IsNight() {
		return nil, usagef("a %s run needs --date: it is one night's", cfg.Mode.command())
	}
	r := &nightRun{cfg: cfg, mode: cfg.Mode, log: cfg.Log, night: cfg.Night}
	return r.execute(ctx, cfg.MetricsFile)
}

// Merge gathers the partitions of a night into the outputs of a whole run.
func Merge(ctx context.Context, cfg MergeConfig) (*Result, error) {
	if len(cfg.Dirs) == 0 {
		return nil, usagef("merge: no partition folder given")
	}
	if err := checkRetainDays(cfg.RetainDays); err != nil {
		return nil, err
	}
	r := &nightRun{merge: cfg, mode: ModeMerge, log: cfg.Log,
		cfg: Config{Out: cfg.Out, Pack: cfg.Pack, RulesPath: cfg.RulesPath, DB: cfg.DB, RetainDays: cfg.RetainDays, ToolVersion: cfg.ToolVersion, Log: cfg.Log}}
	return r.execute(ctx, cfg.MetricsFile)
}

// errDone ends the stages early: the mode's last stage has written its
// outputs (a baselines pass, a partition's hand-over).
var errDone = errors.New("done")

func (r *nightRun) execute(ctx context.Context, metricsFile string) (_ *Result, err error) {
	r.started = time.Now().UTC()
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.metrics = &metricsWriter{path: metricsFile, log: r.log}
	// In the order they run: the run's row says why it failed, the metrics
	// read the database, then it closes.
	defer func() {
		if r.st != nil {
			// Closing writes the night's changes into the database file
			// (DuckDB's checkpoint): a cost of the night the stages' times
			// do not show.
			t0 := time.Now()
			r.st.Close()
			r.log.Debug("database closed", "seconds", fmt.Sprintf("%.2f", time.Since(t0).Seconds()))
			if r.spillDir != "" {
				// DuckDB leaves the folder it spilled into; its files are gone.
				os.RemoveAll(r.spillDir)
			}
		}
	}()
	defer func() { r.metrics.write(ctx, err == nil, r.timings) }()
	defer func() {
		if r.markFailed != nil {
			r.markFailed(err)
		}
	}()
	if r.cfg.Pack == nil {
		if r.cfg.Pack, err = rules.Load(r.cfg.RulesPath); err != nil {
			return nil, err
		}
	}
	if err := r.checkRetention(); err != nil {
		return nil, err
	}
	for _, s := range stages {
		if !slices.Contains(s.modes, r.mode) {
			continue
		}
		if err := s.run(r, ctx); err != nil {
			if errors.Is(err, errDone) {
				break
			}
			return nil, err
		}
	}
	r.result.RunID = r.runID
	return &r.result, nil
}

func (r *nightRun) discover(ctx context.Context) error {
	t0 := time.Now()
	if err := checkWritable(r.cfg.Out); err != nil {
		return err
	}
	inputs, err := Discover(r.cfg.In, r.log, loaders.DiscoverOptions{SetAsideBroken: r.cfg.SetAsideBroken})
	if err != nil {
		return err
	}
	r.inputs, r.files = inputs, inputs.Files
	if n := len(inputs.SetAside); n > 0 && r.cfg.Strict {
		return fmt.Errorf("--strict: %d broken input file(s) would be set aside, nothing was loaded: %s", n, strings.Join(inputs.SetAside, "; "))
	}
	if r.mode == ModePartition {
		if r.files, err = partitionFiles(r.files, r.cfg.Part); err != nil {
			return err
		}
		if r.baselines, err = readBaselines(r.cfg.Baselines, r.dateString(), r.cfg.Pack, r.files); err != nil {
			return err
		}
	}
	r.timed("discover", t0)
	return nil
}

// dateString is the night as YYYY-MM-DD, empty for a backfill.
func (r *nightRun) dateString() string {
	if !r.night.IsNight() {
		return ""
	}
	return r.night.Date.Format(time.DateOnly)
}

func (r *nightRun) readPartitions(ctx context.Context) error {
	parts, dirs, err := readPartitions(r.merge.Dirs, r.merge.Date, r.cfg.Pack)
	if err != nil {
		return err
	}
	night, err := time.Parse(time.DateOnly, parts[0].Night)
	if err != nil {
		return fmt.Errorf("merge: night %q: %w", parts[0].Night, err)
	}
	r.parts, r.partDirs, r.night = parts, dirs, detectors.NightOf(night)
	counts := make([][]reports.DayRows, len(parts))
	for i, p := range parts {
		if p.ClickDays == nil {
			// A hand-over written before partitions counted their
			// clicks: the metric counts what the merge holds.
			return nil
		}
		counts[i] = p.ClickDays
	}
	r.metrics.clickDays = reports.SumDayRows(counts...)
	return nil
}

// open opens the database and records the run, status running; a run that
// fails afterwards is marked failed with its error.
func (r *nightRun) open(ctx context.Context) error {
	if err := os.MkdirAll(r.cfg.Out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	db := r.cfg.DB
	if r.mode == ModeBaselines || r.mode == ModePartition {
		db = db.scratch()
	}
	// Removed at close, with whatever a run killed while spilling left in
	// it (DuckDB opens over such files).
	r.spillDir = db.ownSpillDir(r.cfg.Out)
	st, err := db.Open(ctx, r.cfg.Out)
	if err != nil {
		return err
	}
	r.st = st
	r.runID = NewRunID(r.started)
	r.log = r.log.With("run", r.runID)
	markFailed, err := recordRun(ctx, st, r.runID, r.mode.command(), r.night, r.started, r.cfg.Pack, r.cfg.ToolVersion)
	if err != nil {
		return err
	}
	if err := r.planCompaction(ctx); err != nil {
		return err
	}
	r.metrics.db, r.metrics.runID = st.DB, r.runID
	r.markFailed = markFailed
	if r.mode == ModeMerge {
		r.log.Info("merge started", "partitions", len(r.parts), "night", r.parts[0].Night, "db", st.Path())
	} else {
		r.log.Info("run started", "in", r.cfg.In, "out", r.cfg.Out, "db", st.Path(), "night", r.dateString(), "rules", r.cfg.Pack.Source, "files", len(r.files))
	}
	return nil
}

func (r *nightRun) load(ctx context.Context) error {
	t0 := beginStage(r.log, "load")
	loaded, err := loaders.Load(ctx, r.st, r.files, loaders.Options{RunID: r.runID, Night: r.night.Date, Progress: r.cfg.LoadProgress, Logger: r.log})
	if err != nil {
		return err
	}
	r.loaded = loaded
	r.timed("load", t0)
	if r.mode == ModePartition {
		if err := checkPartitionRows(ctx, r.st, r.cfg.Part); err != nil {
			return err
		}
	}
	if q := loaded.Quarantined(); q > 0 {
		r.log.Warn("input rows quarantined", "rows", q)
		if r.cfg.Strict {
			if r.st.Path() == store.InMemory {
				return fmt.Errorf("--strict: %d input row(s) quarantined: %s (the database was in memory and is gone; give --db FILE to keep the quarantine table)", q, firstQuarantined(ctx, r.st, r.runID))
			}
			return fmt.Errorf("--strict: %d input row(s) quarantined; see the quarantine table in %s (SELECT * FROM quarantine WHERE run_id = '%s')", q, r.st.Path(), r.runID)
		}
	}
	// The baselines pass reads the whole input, like a whole run: a night
	// without traffic there is a wrong date, and its partitions would
	// otherwise report a clean night. A partition's share may be empty.
	if r.night.IsNight() && (r.mode == ModeWhole || r.mode == ModeBaselines) && !r.cfg.AllowEmptyNight {
		if err := checkNightHasData(ctx, r.st, r.night.Date); err != nil {
			return err
		}
	}
	return nil
}

func (r *nightRun) crawl(ctx context.Context) error {
	if r.cfg.NoCrawl {
		r.log.Info("--no-crawl: publisher sites are not visited; page-code detectors judge the newest stored visits")
		return nil
	}
	t0 := beginStage(r.log, "crawl")
	if _, err := CrawlSites(ctx, r.st, r.runID, r.cfg.Crawl, r.cfg.Pack, r.cfg.Part, r.cfg.ToolVersion, r.log); err != nil {
		return err
	}
	r.timed("crawl", t0)
	return nil
}

// detect resolves the judged days once and runs every detector over them.
func (r *nightRun) detect(ctx context.Context) error {
	t0 := beginStage(r.log, "detect")
	night, err := detectors.ResolveNight(ctx, r.st.DB, r.night)
	if err != nil {
		return err
	}
	r.night = night
	log := r.log
	env := detectors.Env{DB: r.st.DB, RunID: r.runID, Night: night, Pack: r.cfg.Pack, Signals: r.signals,
		Part: r.cfg.Part, Baselines: r.cfg.Baselines, Log: r.log,
		OnDetector: func(code string, done bool, took time.Duration, n int) {
			if !done {
				log.Info("detector started", "detector", code)
				return
			}
			log.Info("detector done", "detector", code, "seconds", fmt.Sprintf("%.1f", took.Seconds()), "findings", n)
		}}
	findings, err := detectors.Run(detectors.WithRowFingerprints(ctx), env, all.Detectors())
	if err != nil {
		return err
	}
	r.findings = findings
	r.timed("detect", t0)
	r.log.Info("detectors done", "findings", len(findings))
	return nil
}

func (r *nightRun) importPartitions(ctx context.Context) error {
	t0 := beginStage(r.log, "merge")
	tx, err := r.st.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for i, dir := range r.partDirs {
		if err := store.ImportPartition(ctx, tx, r.runID, dir, i == 0); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := store.ImportSignals(ctx, tx, r.runID, r.partDirs); err != nil {
		tx.Rollback()
		return err
	}
	if err := store.ImportReferenceLists(ctx, tx, r.runID, r.partDirs); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if r.findings, err = detectors.ReadFindings(ctx, r.st.DB, r.runID); err != nil {
		return err
	}
	r.timed("merge", t0)
	r.log.Info("partitions merged", "findings", len(r.findings))
	return nil
}

func (r *nightRun) penalties(ctx context.Context) error {
	t0 := beginStage(r.log, "penalties")
	// A backfill's appeal deadlines count from the last night it covers,
	// so the outputs do not depend on the clock.
	runDate := r.night.Date
	if !r.night.IsNight() {
		var err error
		if runDate, err = lastDay(ctx, r.st); err != nil {
			return err
		}
	}
	decided, err := penalty.Apply(ctx, r.st.DB, r.cfg.Pack, r.runID, r.night.Date, runDate, r.findings)
	if err != nil {
		return err
	}
	if n := len(decided.Suppressed); n > 0 {
		r.log.Info("findings suppressed by the allow-list or cleared appeals (listed in the report)", "findings", n)
	}
	r.timed("penalties", t0)
	return nil
}

func (r *nightRun) report(ctx context.Context) error {
	pack := r.cfg.Pack
	meta := reports.Meta{
		RunID: r.runID, Command: r.mode.command(), ToolVersion: r.cfg.ToolVersion, Night: r.night.Date,
		DBPath: r.st.Path(), RulesSource: pack.Source, RulesVersion: pack.Version, RulesSHA256: pack.SHA256,
		StartedAt: r.started,
	}
	if r.mode == ModeMerge {
		inputs, err := mergedInputs(ctx, r.st.DB, r.runID)
		if err != nil {
			return err
		}
		meta.InputDir, meta.Inputs = r.partDirs[0], inputs
	} else {
		meta.InputDir, meta.Strict, meta.Inputs = r.cfg.In, r.cfg.Strict, inputFiles(r.loaded)
		meta.SkippedInputs = r.inputs.Skipped
		meta.InputWarnings = append(append([]string(nil), r.inputs.Warnings...), setAsideWarnings(r.inputs.SetAside)...)
	}
	t0 := beginStage(r.log, "report")
	meta.Timings = append(r.timings, reports.Timing{Stage: "report"})
	meta.FinishedAt = time.Now().UTC()
	written, err := reports.Write(ctx, r.st.DB, r.cfg.Out, meta)
	if err != nil {
		return err
	}
	r.written = written
	r.timed("report", t0)
	return nil
}

func (r *nightRun) commit(ctx context.Context) error {
	beginStage(r.log, "commit")
	replaced, err := commitResults(ctx, r.st, r.runID, r.night.Date, r.written.Manifest)
	if err != nil {
		return err
	}
	if replaced > 0 {
		r.log.Info("earlier results of this night replaced", "rows", replaced)
	}
	w := r.written
	r.result.Findings, r.result.Recommendations, r.result.QuarantinedRows = w.Findings, w.Recommendations, w.QuarantinedRows
	what := "run finished"
	if r.mode == ModeMerge {
		what = "merge finished"
	}
	r.log.Info(what, "findings", w.Findings, "recommendations", w.Recommendations, "seconds", fmt.Sprintf("%.1f", time.Since(r.started).Seconds()))
	return nil
}

// checkRetainDays refuses a negative --retain-days before a run or a merge
// opens anything.
func checkRetainDays(days int) error {
	if days < 0 {
		return usagef("--retain-days %d: want a number of days, or 0 to keep everything", days)
	}
	return nil
}

// checkRetention refuses a --retain-days shorter than what a detector reads
// raw before the night: that night's findings would change.
func (r *nightRun) checkRetention() error {
	if r.cfg.RetainDays <= 0 {
		return nil
	}
	need, by, err := detectors.LongestRawLookback(r.cfg.Pack, all.Detectors())
	if err != nil {
		return err
	}
	if r.cfg.RetainDays < need {
		return usagef("--retain-days %d: %s reads raw rows %d days before the night under this rule pack; keep at least %d days", r.cfg.RetainDays, by, need, need)
	}
	return nil
}

// retain drops the raw clicks and orders older than --retain-days before
// the night, after the night's results are committed: later nights read
// what they need of those days from the detectors' state.
func (r *nightRun) retain(ctx context.Context) error {
	if r.cfg.RetainDays <= 0 {
		return nil
	}
	t0 := beginStage(r.log, "retain")
	horizon := r.night.Lookback(r.cfg.RetainDays)
	dropped, err := store.DropRawBefore(ctx, r.st.DB, r.runID, horizon)
	if err != nil {
		// The night is committed: a drop that failed is tried again by the
		// next night, which drops everything before its own horizon.
		r.log.Warn("raw rows not dropped (--retain-days); the next night tries again", "error", err)
		return nil
	}
	r.timed("retain", t0)
	r.log.Info("raw rows older than --retain-days dropped", "before", horizon.Format(time.DateOnly), "clicks", dropped.Clicks, "orders", dropped.Orders)
	return nil
}

// firstQuarantined names the first quarantined rows of a run (file:line,
// column, reason) for an error that must stand alone: an in-memory
// database is gone when the run fails.
func firstQuarantined(ctx context.Context, st *store.Store, runID string) string {
	const shown = 3
	rows, err := st.DB.QueryContext(ctx, `SELECT file, line, column_name, reason FROM quarantine
		WHERE run_id = ? ORDER BY file, line, column_name LIMIT ?`, runID, shown+1)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var file, column, reason string
		var line int64
		if err := rows.Scan(&file, &line, &column, &reason); err != nil {
			return "(" + err.Error() + ")"
		}
		if len(out) == shown {
			out = append(out, "…")
			break
		}
		where := fmt.Sprintf("%s:%d", file, line)
		if column != "" {
			where += " " + column
		}
		out = append(out, where+": "+reason)
	}
	return strings.Join(out, "; ")
}
