package loaders

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"
)

// Many small files: a delivery split into 10,000 files of a few rows took
// 11 minutes and 1.8 GB, almost all of it per-file statements (a ledger
// query, two inserts, a reader call and its rejects tables for each file).
// Small text files of one dataset with the same layout are read by one
// reader call per batch; the ledger, the ids and the counts are one
// statement per batch or per chunk of rows.
const (
	// maxBatchFiles bounds the files one reader call reads.
	maxBatchFiles = 256
	// maxBatchFileBytes: larger files are read alone (the reader
	// parallelizes within a file, and a batch holds its rows in one window).
	maxBatchFileBytes = 4 << 20
	// progressEvery is how often a long dataset logs how many files it has read.
	progressEvery = 5 * time.Second
)

// batchKey says which files can share a reader call: text files that need
// no copy (no stray CR, empty line, long record or quoted line break: those
// need the exact per-file path), with the same format, compression, header
// and hive keys. "" means the file is read alone.
func (l *datasetLoad) batchKey(f File) string {
	if f.Format != FormatCSV && f.Format != FormatTSV && f.Format != FormatNDJSON {
		return ""
	}
	if f.QuotedNewlines || f.BlankLines || f.StrayCR || f.LongRecords || f.SizeBytes > maxBatchFileBytes || l.copies[f.Path] != nil {
		return ""
	}
	cols := ""
	if f.Format != FormatNDJSON {
		cols = strings.Join(f.Columns, "\x00")
	}
	return strings.Join([]string{f.Format, f.Compression, cols, strings.Join(sortedKeys(f.Hive), "\x00")}, "\x01")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// batches groups the fresh files (indexes into files), keeping their order.
func (l *datasetLoad) batches(files []File, fresh []int) [][]int {
	var out [][]int
	var cur []int
	key := ""
	for _, i := range fresh {
		k := l.batchKey(files[i])
		if len(cur) > 0 && (k == "" || k != key || len(cur) == maxBatchFiles) {
			out, cur = append(out, cur), nil
		}
		cur, key = append(cur, i), k
		if k == "" {
			out, cur = append(out, cur), nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// insertBatch reads files with one reader call. It reports false, having
// removed the batch's rows, when the reader rejected a line: the files are
// then read one by one, where a rejected line gets its exact line number
// and reason.
func (l *datasetLoad) insertBatch(ctx context.Context, tx *sql.Tx, files []File, ids []int64) (bool, error) {
	keys := sortedKeys(files[0].Hive)
	defs := []string{"path VARCHAR", "file_id BIGINT"}
	for i := range keys {
		defs = append(defs, fmt.Sprintf("_h%d VARCHAR", i))
	}
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE aw_batch (`+strings.Join(defs, ", ")+`)`); err != nil {
		return false, err
	}
	b := &batchInfo{hive: len(keys)}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", 2+len(keys)), ", ") + ")"
	var vals []string
	var args []any
	for i, f := range files {
		p, err := l.literalPath(f.Path)
		if err != nil {
			return false, err
		}
		b.paths = append(b.paths, p)
		vals = append(vals, row)
		args = append(args, p, ids[i])
		for _, k := range keys {
			args = append(args, f.Hive[k])
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO aw_batch VALUES `+strings.Join(vals, ", "), args...); err != nil {
		return false, err
	}
	src, err := l.openSource(ctx, tx, files[0], b)
	if err != nil {
		return false, err
	}
	defer src.close()
	if err := l.insertSource(ctx, tx, files[0], 0, src); err != nil {
		return false, err
	}
	var rejected int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE table_name = 'aw_rej'`).Scan(&rejected); err != nil {
		return false, err
	}
	if rejected > 0 {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM aw_rej`).Scan(&rejected); err != nil {
			return false, err
		}
	}
	if rejected == 0 {
		return true, nil
	}
	idArgs := make([]any, len(ids))
	for i, id := range ids {
		idArgs[i] = id
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE _file_id IN (%s)`, l.ds.Name, placeholders(len(ids))), idArgs...); err != nil {
		return false, err
	}
	return false, nil
}

// nextFileIDs takes n file ids from the ledger's sequence, ascending.
func nextFileIDs(ctx context.Context, tx *sql.Tx, n int) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT nextval('load_file_seq') FROM range(?)`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("file ids: got %d, want %d", len(ids), n)
	}
	slices.Sort(ids)
	return ids, nil
}

// recordFiles writes the ledger rows of the fresh files, 500 to a statement.
func (l *datasetLoad) recordFiles(ctx context.Context, tx *sql.Tx, results []FileResult, fresh []int) error {
	for len(fresh) > 0 {
		n := min(len(fresh), 500)
		vals := make([]string, 0, n)
		args := make([]any, 0, 9*n)
		for _, i := range fresh[:n] {
			r := results[i]
			vals = append(vals, "(?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, now()::TIMESTAMP, NULL)")
			args = append(args, r.FileID, l.opts.RunID, l.ds.Name, r.Rel, r.SHA256, r.SizeBytes, r.Format, r.Compression, r.ColumnsPresent)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO load_ledger VALUES `+strings.Join(vals, ", "), args...); err != nil {
			return fmt.Errorf("record %s… in load ledger: %w", results[fresh[0]].Rel, err)
		}
		fresh = fresh[n:]
	}
	return nil
}

// progressLog logs, every progressEvery, how many of a dataset's files are
// read: a long load is not silent until its dataset ends.
type progressLog struct {
	log         *slog.Logger
	dataset     string
	total, done int
	start, last time.Time
}

func newProgressLog(log *slog.Logger, dataset string, total int) *progressLog {
	now := time.Now()
	return &progressLog{log: log, dataset: dataset, total: total, start: now, last: now}
}

func (p *progressLog) add(n int) {
	p.done += n
	if time.Since(p.last) < progressEvery {
		return
	}
	p.last = time.Now()
	p.log.Info("loading", "dataset", p.dataset, "files", p.done, "of", p.total, "seconds", fmt.Sprintf("%.0f", time.Since(p.start).Seconds()))
}
