// Package pipeline owns a night: the judged days (detectors.Night), the
// one list of stages that a whole run, a baselines pass, a partition and a
// merge share (stages.go), and what each stage stores. cmd/affwatch turns
// flags into a Config and calls Run or Merge.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"syscall"
	"time"

	"affwatch/detectors"
	"affwatch/loaders"
	"affwatch/rules"
	"affwatch/store"
)

// UsageError is a mistake in what the caller asked for (a baselines pass
// of another night, a partition missing from a merge): the command line
// exits with status 2 on it.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{fmt.Sprintf(format, args...)}
}

// DB says where the database is and how DuckDB runs.
type DB struct {
	Path        string // default: affwatch.duckdb in the output directory
	MemoryLimit string
	Threads     int
	TempDir     string
	// CompactEvery: a nightly run or merge compacts the database's storage
	// when it closes on every Nth run (DefaultCompactEvery when 0; 1: every
	// run; negative: never) and defers it on the others (Store.DeferCompaction).
	CompactEvery int
}

// DefaultCompactEvery is weekly for a database run once a night.
const DefaultCompactEvery = 7

// Open opens the database, creating it (and migrating it) when new.
func (o DB) Open(ctx context.Context, outDir string) (*store.Store, error) {
	path := o.Path
	if path == "" {
		path = filepath.Join(outDir, "affwatch.duckdb")
	}
	temp := o.TempDir
	if spill := o.ownSpillDir(outDir); spill != "" {
		temp = spill
	}
	return store.Open(ctx, path, store.Options{MemoryLimit: o.MemoryLimit, Threads: o.Threads, TempDirectory: temp})
}

// ownSpillDir is the spill folder an in-memory database without --temp-dir
// gets in outDir (DuckDB's own default, ./.tmp, is outside --out), which
// the run removes when it ends; "" when the database spills elsewhere.
func (o DB) ownSpillDir(outDir string) string {
	if o.Path != store.InMemory || o.TempDir != "" || outDir == "" {
		return ""
	}
	return filepath.Join(outDir, ScratchSpillDir)
}

// ScratchSpillDir is the folder in --out where an in-memory database
// spills when no --temp-dir is given; it is removed when the run ends.
const ScratchSpillDir = ".spill"

// scratch is the database of a baselines pass or a partition run when no
// --db is given: in memory, because nothing reads it after the run (the
// hand-over is Parquet) and a file would cost the night its writes and
// its checkpoint. A partition that keeps its look-back between nights
// names its database with --db.
func (o DB) scratch() DB {
	if o.Path == "" {
		o.Path = store.InMemory
	}
	return o
}

// Crawl tunes the crawl and render stages.
type Crawl struct {
	DNSServer    string
	AllowPrivate bool
	Force        bool
	IgnoreRobots bool
	TTL          time.Duration
	MaxPages     int
	Concurrency  int
	HostDelay    time.Duration
	// Allow lists exact listeners the crawler may reach although they are
	// not public (the demo's fixture web server); never set from a flag.
	Allow map[netip.AddrPort]bool
	// DialControl is a last-resort dial check (tests: crawler.LoopbackOnly).
	DialControl func(network, address string, c syscall.RawConn) error
	Render      Render
	// Progress draws sites done on a terminal; nil: the log says it.
	Progress, RenderProgress func(done, total, failed int)
}

// Render tunes the render stage (issue 17).
type Render struct {
	Off      bool
	Tabs     int
	MaxPages int
	Browser  string
}

// Config is one run of the night's pipeline.
type Config struct {
	In, Out string
	// Pack is the rule pack; when nil, it is loaded from RulesPath (the
	// embedded pack when empty) as the run's first step, so that a pack
	// that does not load is a failed run with its metrics.
	Pack      *rules.Pack
	RulesPath string
	// Night is detectors.NightOf(--date) or detectors.BackfillNight().
	Night detectors.Night
	// Mode is ModeWhole, ModeBaselines or ModePartition (a merge has
	// MergeConfig).
	Mode Mode
	// Part and Baselines (the baselines pass's folder) are a partition's.
	Part      detectors.Partition
	Baselines string

	NoCrawl         bool
	Crawl           Crawl
	Strict          bool
	AllowEmptyNight bool
	SetAsideBroken  bool
	BotList         string
	// RetainDays, when positive, drops raw clicks and orders older than
	// this many days before the night once the night is committed.
	RetainDays  int
	MetricsFile string
	DB          DB
	ToolVersion string
	Log         *slog.Logger
	// LoadProgress hears about each input file; nil: silent.
	LoadProgress loaders.Progress
}

// MergeConfig is `affwatch merge`: the partitions' folders into one
// night's outputs.
type MergeConfig struct {
	Out         string
	Pack        *rules.Pack // nil: loaded from RulesPath
	RulesPath   string
	Date        string // checked against the partitions'; empty: theirs
	Dirs        []string
	MetricsFile string
	DB          DB
	// RetainDays, when positive, drops from the merge's database the raw
	// orders and clicks older than this many days before the night, after
	// it is committed, as a whole run's --retain-days does: the merge's
	// database is the long-lived one, and it takes each night's orders.
	RetainDays  int
	ToolVersion string
	Log         *slog.Logger
}

// Result is what a run or a merge wrote.
type Result struct {
	RunID string
	// Findings, Recommendations and QuarantinedRows count what was written;
	// a baselines pass counts its tables in Tables.
	Findings, Recommendations, QuarantinedRows, Tables int
}
