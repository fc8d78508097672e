package reports

import (
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
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parquet outputs: findings.ndjson and recommendations.json for analysts'
// tools (DuckDB, pandas, Spark), typed, with the same rows in the same
// order.
const (
	FindingsParquetFile        = "findings.parquet"
	RecommendationsParquetFile = "recommendations.parquet"
)

// parquetOptions are the COPY options of every Parquet output, but the row
// group size. Each is spelled out, not left to DuckDB's defaults, because
// the bytes depend on them and a DuckDB upgrade may change a default: ZSTD
// at level 3 (small files; a fixed codec and level give the same bytes for
// the same rows).
const parquetOptions = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3"

// parquetRowGroupSize is the rows per Parquet row group: DuckDB's default,
// 122,880, spelled out for the same reason (one group holds a typical
// night's findings). A variable so that the determinism test can cut many
// groups from few rows.
var parquetRowGroupSize = 122_880

// writeParquet writes the rows of the named query (a SELECT of
// queries.sql, bound to args) to path with DuckDB's COPY, then fsyncs the
// file and returns its size and SHA-256 for the manifest.
//
// Determinism: DuckDB writes a COPY of an ordered query with several
// threads in the query's order (preserve_insertion_order, on by default in
// the session, and left on), and cuts row groups by row count, so the same
// rows give the same bytes whatever the thread count: no single-thread
// setting is needed. TestParquetDeterministic checks it on many row groups,
// rows inserted in opposite orders, with 1 and 4 threads.
func writeParquet(ctx context.Context, db *sql.DB, name string, args []any, path string) (OutputFile, error) {
	lit, err := copyPathLiteral(path)
	if err != nil {
		return OutputFile{}, err
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return OutputFile{}, fmt.Errorf("%s exists already", path)
	}
	q := strings.TrimSuffix(strings.TrimSpace(query(name)), ";")
	// COPY cannot take the target as a bound parameter (DuckDB parses it
	// when it plans the statement), so the path is spliced in as a string
	// literal, built by copyPathLiteral; the query's own values (the run
	// id) stay bound.
	stmt := fmt.Sprintf("COPY (\n%s\n) TO %s (%s, ROW_GROUP_SIZE %d)", q, lit, parquetOptions, parquetRowGroupSize)
	if _, err := db.ExecContext(ctx, stmt, args...); err != nil {
		return OutputFile{}, fmt.Errorf("copy %s: %w", name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return OutputFile{}, err
	}
	defer f.Close()
	// DuckDB closes the file without fsync; the commit renames only files
	// that are on disk.
	if err := f.Sync(); err != nil {
		return OutputFile{}, err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return OutputFile{}, err
	}
	return OutputFile{Name: filepath.Base(path), SHA256: hex.EncodeToString(h.Sum(nil)), SizeBytes: n}, nil
}

// copyPathLiteral makes path a SQL string literal for COPY … TO. The path
// is ours (a file in Write's temporary directory), but the directory comes
// from the command line: it must be absolute (DuckDB would otherwise read
// "s3://…", "http://…" or "~/…" as something else), valid UTF-8 and free of
// control characters; quotes are doubled, the only escape a DuckDB string
// literal has.
func copyPathLiteral(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("parquet output path %q is not absolute", path)
	}
	if !utf8.ValidString(path) {
		return "", fmt.Errorf("parquet output path %q is not valid UTF-8", path)
	}
	for _, r := range path {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return "", fmt.Errorf("parquet output path %q holds a control character", path)
		}
	}
	return "'" + strings.ReplaceAll(path, "'", "''") + "'", nil
}
