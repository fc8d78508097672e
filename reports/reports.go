package reports

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Output file names (DESIGN §6, contract). recommendations.csv and the
// Parquet files (RecommendationsCSVFile, FindingsParquetFile,
// RecommendationsParquetFile) are additions: the same rows for
// spreadsheets and analysts' tools.
const (
	FindingsFile           = "findings.ndjson"
	RecommendationsFile    = "recommendations.json"
	DisqualifiedOrdersFile = "disqualified_orders.csv"
	ReportFile             = "report.html"
	// DisqualifiedOrdersParquetFile is disqualified_orders.csv typed, for
	// analysts' tools and spreadsheets that import Parquet (ids stay text).
	DisqualifiedOrdersParquetFile = "disqualified_orders.parquet"
	ManifestFile                  = "run.json"
)

// TempDirPrefix starts the name of the directory Write prepares its files
// in, inside the output directory (a rename within one file system is
// atomic; across file systems it is not).
const TempDirPrefix = ".affwatch-tmp-"

// InputFile is one input file of the run, as the loaders recorded it in
// load_ledger.
type InputFile struct {
	Dataset         string `json:"dataset"`
	Path            string `json:"path"` // relative to the input directory
	SHA256          string `json:"sha256"`
	Format          string `json:"format"`
	Compression     string `json:"compression"`
	SizeBytes       int64  `json:"size_bytes"`
	FileID          int64  `json:"file_id"` // load_ledger.file_id
	RowsRead        int64  `json:"rows_read"`
	RowsLoaded      int64  `json:"rows_loaded"`
	RowsQuarantined int64  `json:"rows_quarantined"`
	// Status is "loaded" (new this run) or "unchanged" (the same content
	// hash was already in the database: a no-op).
	Status string `json:"status"`
}

// Timing is how long one stage of the run took.
type Timing struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
}

// Meta is what the run knows that the tables do not.
type Meta struct {
	RunID, Command, ToolVersion string
	// Night is the --date processed; zero for a backfill (every day present
	// in the input).
	Night                                  time.Time
	InputDir, DBPath                       string
	RulesSource, RulesVersion, RulesSHA256 string
	Strict                                 bool
	// StartedAt and FinishedAt are the run's; Write sets a zero FinishedAt
	// to the time it starts. report.html shows FinishedAt as generated-at.
	StartedAt, FinishedAt time.Time
	Timings               []Timing
	Inputs                []InputFile
	// SkippedInputs are entries of dataset folders not read on purpose
	// (names starting with . or _); InputWarnings names that look meant
	// as a dataset but are not read. Both go to run.json when present.
	SkippedInputs, InputWarnings []string
}

// Written says what Write wrote.
type Written struct {
	// Files are the paths of the outputs (OutputNames), run.json last.
	Files              []string
	Findings           int
	Recommendations    int
	DisqualifiedOrders int
	QuarantinedRows    int
	// Manifest is run.json's content, for runs.manifest.
	Manifest Manifest
}

// OutputNames are the files Write writes, in the order it commits them
// and lists them in run.json; run.json, last, marks the set complete.
var OutputNames = []string{
	FindingsFile, RecommendationsFile, DisqualifiedOrdersFile, ReportFile,
	RecommendationsCSVFile, FindingsParquetFile, RecommendationsParquetFile,
	DisqualifiedOrdersParquetFile,
	ManifestFile,
}

// testHookBeforeCommit, when set by a test, runs after every file is in the
// temporary directory and before the commit.
var testHookBeforeCommit func()

// Write reads the run's rows (findings, recommendations,
// disqualified_orders and signals_unavailable of meta.RunID; quarantine
// rows of meta.Inputs' files) and writes the outputs (OutputNames) into
// outDir atomically (see the package comment).
func Write(ctx context.Context, db *sql.DB, outDir string, meta Meta) (Written, error) {
	if meta.RunID == "" {
		return Written{}, errors.New("write reports: empty run id")
	}
	if meta.FinishedAt.IsZero() {
		meta.FinishedAt = time.Now()
	}
	if err := ctx.Err(); err != nil {
		return Written{}, fmt.Errorf("write reports: %w", err)
	}
	man, err := BuildManifest(ctx, db, meta)
	if err != nil {
		return Written{}, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Written{}, fmt.Errorf("write reports: %w", err)
	}
	// Absolute: DuckDB's COPY writes the Parquet files and must not
	// resolve the path differently from us.
	absOut, err := filepath.Abs(outDir)
	if err != nil {
		return Written{}, fmt.Errorf("write reports: %w", err)
	}
	tmp := filepath.Join(absOut, TempDirPrefix+safeFileName(meta.RunID))
	if err := os.RemoveAll(tmp); err != nil {
		return Written{}, fmt.Errorf("write reports: remove stale %s: %w", tmp, err)
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return Written{}, fmt.Errorf("write reports: %w", err)
	}
	defer os.RemoveAll(tmp)

	w := Written{
		Recommendations:    man.Counts.Recommendations,
		DisqualifiedOrders: man.Counts.DisqualifiedOrders,
		QuarantinedRows:    int(man.Quarantine.Rows),
	}
	// recommendations.json and .csv are the same rows: read once.
	recs, err := readRecommendations(ctx, db, meta.RunID)
	if err != nil {
		return Written{}, fmt.Errorf("write reports: %w", err)
	}
	streamed := func(write func(io.Writer) error) func(string) (OutputFile, error) {
		return func(path string) (OutputFile, error) { return writeFile(ctx, path, write) }
	}
	parquet := func(queryName string) func(string) (OutputFile, error) {
		return func(path string) (OutputFile, error) {
			return writeParquet(ctx, db, queryName, []any{meta.RunID}, path)
		}
	}
	steps := map[string]func(path string) (OutputFile, error){
		FindingsFile: streamed(func(out io.Writer) error {
			n, err := writeFindings(ctx, db, meta.RunID, out)
			w.Findings = n
			return err
		}),
		RecommendationsFile:           streamed(func(out io.Writer) error { return writeRecommendations(recs, out) }),
		DisqualifiedOrdersFile:        streamed(func(out io.Writer) error { return writeDisqualifiedOrders(ctx, db, meta.RunID, out) }),
		ReportFile:                    streamed(func(out io.Writer) error { return writeHTML(ctx, db, meta, man, out) }),
		RecommendationsCSVFile:        streamed(func(out io.Writer) error { return writeRecommendationsCSV(recs, out) }),
		FindingsParquetFile:           parquet("FindingsParquet"),
		RecommendationsParquetFile:    parquet("RecommendationsParquet"),
		DisqualifiedOrdersParquetFile: parquet("DispositionsParquet"),
	}
	for _, name := range OutputNames[:len(OutputNames)-1] {
		of, err := steps[name](filepath.Join(tmp, name))
		if err != nil {
			return Written{}, fmt.Errorf("write %s: %w", name, err)
		}
		man.Outputs = append(man.Outputs, of)
	}
	if _, err := writeFile(ctx, filepath.Join(tmp, ManifestFile), func(out io.Writer) error {
		return writeManifest(man, out)
	}); err != nil {
		return Written{}, fmt.Errorf("write %s: %w", ManifestFile, err)
	}
	if testHookBeforeCommit != nil {
		testHookBeforeCommit()
	}
	// Last chance to give up with the previous outputs intact; once the
	// commit starts it runs to the end (a few renames).
	if err := ctx.Err(); err != nil {
		return Written{}, fmt.Errorf("write reports: %w", err)
	}
	if err := commit(tmp, absOut, OutputNames); err != nil {
		return Written{}, fmt.Errorf("write reports into %s: %w", outDir, err)
	}
	for _, n := range OutputNames {
		w.Files = append(w.Files, filepath.Join(outDir, n))
	}
	w.Manifest = man
	return w, nil
}

// writeFile creates path, lets write fill it through a buffer, and fsyncs
// it; it returns the file's name, size and SHA-256 for the manifest.
func writeFile(ctx context.Context, path string, write func(io.Writer) error) (OutputFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return OutputFile{}, err
	}
	defer f.Close() // after Close below, a no-op
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(f, h)}
	bw := bufio.NewWriterSize(cw, 64<<10)
	if err := write(bw); err != nil {
		return OutputFile{}, err
	}
	if err := bw.Flush(); err != nil {
		return OutputFile{}, err
	}
	if err := ctx.Err(); err != nil {
		return OutputFile{}, err
	}
	if err := f.Sync(); err != nil {
		return OutputFile{}, err
	}
	if err := f.Close(); err != nil {
		return OutputFile{}, err
	}
	return OutputFile{Name: filepath.Base(path), SHA256: hex.EncodeToString(h.Sum(nil)), SizeBytes: cw.n}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// commit moves the prepared files from tmp into dir: the old run.json goes
// first, so that from then until the new one arrives (renamed last) the
// directory does not claim to be complete.
func commit(tmp, dir string, names []string) error {
	marker := names[len(names)-1]
	if err := os.Remove(filepath.Join(dir, marker)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	for _, n := range names {
		if err := os.Rename(filepath.Join(tmp, n), filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// syncDir makes renames in dir durable. Windows cannot fsync a directory
// (and does not need to).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// safeFileName keeps a run id usable as one path element.
func safeFileName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	out := strings.TrimLeft(string(b), ".")
	if len(out) > 64 {
		out = out[:64]
	}
	if out == "" {
		out = "run"
	}
	return out
}
