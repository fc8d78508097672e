package loaders

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"affwatch/store"
)

//go:embed macros.sql
var macrosSQL string

// Status of a file after a load.
const (
	StatusLoaded    = "loaded"    // read this run
	StatusUnchanged = "unchanged" // same content hash already loaded: a no-op
)

// Progress receives load progress. Implementations must be cheap; the
// loader calls them from its own goroutine.
type Progress interface {
	// FileStarted says file i (1-based) of total is being read.
	FileStarted(f File, i, total int)
	// FileDone says the file is loaded, with its counts.
	FileDone(r FileResult, i, total int)
}

// Options control a load.
type Options struct {
	RunID string
	// Night is the --date being processed; zero for a backfill. It decides
	// which stored rows a new file replaces (see Load).
	Night    time.Time
	Progress Progress
	Logger   *slog.Logger
	// SpanDays bounds the timestamps of a dated dataset around the median
	// of its new rows (DefaultSpanDays when zero; a negative value turns
	// the check off, for the coercion fuzz targets, which judge every
	// instant).
	SpanDays int
}

// DefaultSpanDays: a load accepts the rows of a dated dataset (clicks.ts,
// orders.ts) within this many days of the median timestamp of the
// dataset's new rows, and quarantines the rest with the reason. A click
// dated 2099 in a backfill made click_burst zero-fill an hourly grid to
// 2099 (23.7 GB). The median, not the night, anchors the window: a night
// re-run with a file that also holds later days (a replay) loses nothing,
// and the same files always get the same window.
const DefaultSpanDays = 366

// FileResult is what happened to one input file.
type FileResult struct {
	File
	FileID          int64
	Status          string
	RowsRead        int64
	RowsLoaded      int64
	RowsQuarantined int64
	ColumnsPresent  []string // contract columns the file has
	Seconds         float64
}

// Result of a load, one entry per input file in input order.
type Result struct {
	Files []FileResult
}

// Quarantined is the number of rows quarantined by files read in this load.
func (r *Result) Quarantined() int64 {
	var n int64
	for _, f := range r.Files {
		if f.Status == StatusLoaded {
			n += f.RowsQuarantined
		}
	}
	return n
}

// Load reads files (from Discover) into the store.
//
// A file whose content hash the ledger already holds is skipped. New files
// of a dataset are loaded together in one transaction, and replace:
//   - for dated datasets, rows of the night being processed (Night), or for
//     a backfill of every day the new files cover, that came from files not
//     in this input; so a night re-run never duplicates rows, and a late
//     click of an earlier day in tonight's file never wipes that day;
//   - for reference datasets (publishers, sites, …), every row from files not
//     in this input: a new file set is a new snapshot.
func Load(ctx context.Context, st *store.Store, files []File, opts Options) (*Result, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	conn, err := st.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, macrosSQL); err != nil {
		return nil, fmt.Errorf("create coercion macros: %w", err)
	}
	res := &Result{}
	done := 0
	copies := map[string]*crCopy{}
	links := map[string]string{}
	defer func() {
		for _, c := range copies {
			os.Remove(c.path)
		}
		for _, p := range links {
			os.RemoveAll(filepath.Dir(p))
		}
	}()
	for _, ds := range Datasets {
		var dsFiles []File
		for _, f := range files {
			if f.Dataset == ds.Name {
				dsFiles = append(dsFiles, f)
			}
		}
		if len(dsFiles) == 0 {
			continue
		}
		l := &datasetLoad{conn: conn, ds: ds, opts: opts, total: len(files), done: &done, copies: copies, links: links}
		results, err := l.run(ctx, dsFiles)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", ds.Name, err)
		}
		res.Files = append(res.Files, results...)
	}
	return res, nil
}

type datasetLoad struct {
	conn  *sql.Conn
	ds    Dataset
	opts  Options
	total int
	done  *int
	// copies of files read without their stray CRs (see cr.go), by Path
	copies map[string]*crCopy
	// links to files whose path DuckDB would read as a glob, by Path
	links map[string]string
}

// globChars are the characters DuckDB's readers expand in a path.
const globChars = "*?[]{}"

// literalPath returns a path DuckDB reads as exactly the file p. Its
// readers take a path as a glob pattern: a folder named date=* made one
// file claim every file's rows, p?rt-0.csv read its neighbour. Such a path
// is read through a symlink with a plain name.
func (l *datasetLoad) literalPath(p string) (string, error) {
	if !strings.ContainsAny(p, globChars) {
		return p, nil
	}
	if q, ok := l.links[p]; ok {
		return q, nil
	}
	d, err := os.MkdirTemp("", "affwatch-input-*")
	if err != nil {
		return "", err
	}
	q := filepath.Join(d, "input"+strings.ToLower(filepath.Ext(p)))
	if err := os.Symlink(p, q); err != nil {
		os.RemoveAll(d)
		return "", fmt.Errorf("link to a name without glob characters: %w", err)
	}
	l.links[p] = q
	return q, nil
}

// run loads the dataset's files; a file the CSV reader fails on for a
// stray carriage return is copied without them and the dataset loaded again
// (its transaction was rolled back).
func (l *datasetLoad) run(ctx context.Context, files []File) ([]FileResult, error) {
	for _, f := range files {
		if (f.BlankLines || f.StrayCR || f.LongRecords) && l.copies[f.Path] == nil {
			c, err := copyWithoutStrayCR(f)
			if err != nil {
				return nil, fmt.Errorf("%s: copy marking empty lines and stray carriage returns: %w", f.Rel, err)
			}
			l.copies[f.Path] = c
		}
	}
	done := *l.done
	for {
		results, err := l.runOnce(ctx, files)
		var cr *strayCRFile
		if !errors.As(err, &cr) {
			return results, err
		}
		c, cerr := copyWithoutStrayCR(cr.file)
		if cerr != nil {
			return nil, fmt.Errorf("%s: copy without stray carriage returns: %w", cr.file.Rel, cerr)
		}
		l.copies[cr.file.Path] = c
		*l.done = done
		l.opts.Logger.Warn("carriage returns inside lines; reading a copy that quarantines those lines", "dataset", l.ds.Name, "file", cr.file.Rel, "lines", len(c.lines))
	}
}

func (l *datasetLoad) runOnce(ctx context.Context, files []File) (_ []FileResult, err error) {
	results := make([]FileResult, len(files))
	var fresh []int
	// One read of the ledger for the dataset, not one per file: a delivery
	// of 10,000 small files paid 10,000 queries here.
	loaded := map[string]FileResult{}
	rows, err := l.conn.QueryContext(ctx, `SELECT sha256, file_id, rows_read, rows_loaded, rows_quarantined FROM load_ledger
		WHERE dataset = ? AND superseded_by IS NULL ORDER BY file_id DESC`, l.ds.Name)
	if err != nil {
		return nil, fmt.Errorf("read load ledger: %w", err)
	}
	for rows.Next() {
		var sum string
		var r FileResult
		if err := rows.Scan(&sum, &r.FileID, &r.RowsRead, &r.RowsLoaded, &r.RowsQuarantined); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read load ledger: %w", err)
		}
		loaded[sum] = r // descending: the first file with the hash wins
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read load ledger: %w", err)
	}
	for i, f := range files {
		results[i].File = f
		results[i].ColumnsPresent = l.contractColumns(f.Columns)
		r, ok := loaded[f.SHA256]
		if !ok {
			fresh = append(fresh, i)
			continue
		}
		r.File, r.Status, r.ColumnsPresent = f, StatusUnchanged, results[i].ColumnsPresent
		results[i] = r
		*l.done++
		l.opts.Logger.Info("input unchanged, skipped", "dataset", l.ds.Name, "file", f.Rel, "sha256", f.SHA256[:12])
		if l.opts.Progress != nil {
			l.opts.Progress.FileDone(r, *l.done, l.total)
		}
	}
	if len(fresh) == 0 {
		return results, nil
	}

	tx, err := l.conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// One pass per file: every row goes straight into the dataset's table,
	// its problems (if any) in _q. Bad rows are moved to quarantine before
	// the commit, so no reader ever sees them.
	var newIDs []any
	ids, err := nextFileIDs(ctx, tx, len(fresh))
	if err != nil {
		return nil, err
	}
	for k, i := range fresh {
		newIDs = append(newIDs, ids[k])
		results[i].FileID, results[i].Status = ids[k], StatusLoaded
	}
	if err := l.recordFiles(ctx, tx, results, fresh); err != nil {
		return nil, err
	}
	prog := newProgressLog(l.opts.Logger, l.ds.Name, len(fresh))
	for _, b := range l.batches(files, fresh) {
		start := time.Now()
		for _, i := range b {
			if l.opts.Progress != nil {
				l.opts.Progress.FileStarted(files[i], *l.done+1, l.total)
			}
		}
		if len(b) > 1 {
			batch := make([]File, len(b))
			bids := make([]int64, len(b))
			for k, i := range b {
				batch[k], bids[k] = files[i], results[i].FileID
			}
			ok, err := l.insertBatch(ctx, tx, batch, bids)
			if err != nil {
				return nil, fmt.Errorf("%s … (%d files): %w", batch[0].Rel, len(batch), err)
			}
			if ok {
				for _, i := range b {
					results[i].Seconds = time.Since(start).Seconds() / float64(len(b))
				}
				prog.add(len(b))
				continue
			}
			// a line of the batch was rejected: its files are read one by
			// one, where rejected lines get their exact line and reason
		}
		for _, i := range b {
			f := files[i]
			start := time.Now()
			if err := l.insertFile(ctx, tx, f, results[i].FileID); err != nil {
				if isStrayCRError(err) && l.copies[f.Path] == nil {
					return nil, &strayCRFile{file: f, err: err}
				}
				return nil, fmt.Errorf("%s: %w", f.Rel, err)
			}
			results[i].Seconds = time.Since(start).Seconds()
			prog.add(1)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE aw_new (file_id BIGINT)`); err != nil {
		return nil, err
	}
	for len(newIDs) > 0 {
		n := min(len(newIDs), 1000)
		if _, err := tx.ExecContext(ctx, `INSERT INTO aw_new VALUES `+strings.TrimSuffix(strings.Repeat("(?), ", n), ", "), newIDs[:n]...); err != nil {
			return nil, err
		}
		newIDs = newIDs[n:]
	}
	tstep := time.Now()
	step := func(name string) {
		l.opts.Logger.Debug("load step", "dataset", l.ds.Name, "step", name, "seconds", fmt.Sprintf("%.2f", time.Since(tstep).Seconds()))
		tstep = time.Now()
	}
	step("insert")
	const newList = "SELECT file_id FROM aw_new"
	if err := l.quarantineOutsideWindow(ctx, tx, newList); err != nil {
		return nil, err
	}
	if err := l.replace(ctx, tx, results, newList); err != nil {
		return nil, err
	}
	step("replace")
	if err := l.markDuplicates(ctx, tx); err != nil {
		return nil, err
	}
	step("duplicates")
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO quarantine
		SELECT ?, ?, s._file_id, g.path, s._line, coalesce(s.e.col, ''), s.e.reason, left(s.e.val, ?)
		FROM (SELECT _file_id, _line, unnest(_q) AS e FROM %s WHERE _file_id IN (%s) AND _q IS NOT NULL) s
		JOIN load_ledger g ON g.file_id = s._file_id`, l.ds.Name, newList),
		l.opts.RunID, l.ds.Name, rawValueChars); err != nil {
		return nil, fmt.Errorf("quarantine rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE _file_id IN (%s) AND _q IS NOT NULL`, l.ds.Name, newList)); err != nil {
		return nil, fmt.Errorf("remove quarantined rows: %w", err)
	}
	step("quarantine")
	rows, err = tx.QueryContext(ctx, fmt.Sprintf(`SELECT g.file_id, coalesce(t.n, 0), coalesce(q.n, 0)
		FROM load_ledger g
		LEFT JOIN (SELECT _file_id, count(*) AS n FROM %s WHERE _file_id IN (%s) GROUP BY _file_id) t ON t._file_id = g.file_id
		LEFT JOIN (SELECT file_id, count(DISTINCT line) AS n FROM quarantine WHERE file_id IN (%s) GROUP BY file_id) q ON q.file_id = g.file_id
		WHERE g.file_id IN (%s)`, l.ds.Name, newList, newList, newList))
	if err != nil {
		return nil, err
	}
	counts := map[int64][2]int64{}
	for rows.Next() {
		var id, loaded, quarantined int64
		if err := rows.Scan(&id, &loaded, &quarantined); err != nil {
			rows.Close()
			return nil, err
		}
		counts[id] = [2]int64{loaded, quarantined}
	}
	rows.Close()
	var vals []string
	var args []any
	flush := func() error {
		if len(vals) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE load_ledger SET rows_read = c.r, rows_loaded = c.l, rows_quarantined = c.q
			FROM (VALUES `+strings.Join(vals, ", ")+`) c(id, r, l, q) WHERE load_ledger.file_id = c.id`, args...)
		vals, args = vals[:0], args[:0]
		return err
	}
	for _, i := range fresh {
		r := &results[i]
		c := counts[r.FileID]
		r.RowsLoaded, r.RowsQuarantined = c[0], c[1]
		r.RowsRead = r.RowsLoaded + r.RowsQuarantined
		vals = append(vals, "(?::BIGINT, ?::BIGINT, ?::BIGINT, ?::BIGINT)")
		args = append(args, r.FileID, r.RowsRead, r.RowsLoaded, r.RowsQuarantined)
		if len(vals) == 500 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	step("counts")
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	step("commit")
	for _, i := range fresh {
		*l.done++
		r := results[i]
		l.opts.Logger.Info("loaded", "dataset", l.ds.Name, "file", r.Rel, "rows", r.RowsLoaded, "quarantined", r.RowsQuarantined, "seconds", fmt.Sprintf("%.2f", r.Seconds))
		if l.opts.Progress != nil {
			l.opts.Progress.FileDone(r, *l.done, l.total)
		}
	}
	return results, nil
}

// quarantineOutsideWindow marks the new rows of a dated dataset whose
// timestamp is outside the window the load accepts (see DefaultSpanDays).
func (l *datasetLoad) quarantineOutsideWindow(ctx context.Context, tx *sql.Tx, newList string) error {
	col := l.ds.DateColumn
	if col == "" {
		return nil
	}
	span := orDefault(l.opts.SpanDays, DefaultSpanDays)
	if l.opts.SpanDays < 0 {
		return nil
	}
	var mid sql.NullTime
	if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT quantile_disc(%s, 0.5) FROM %s WHERE _file_id IN (%s) AND _q IS NULL`, col, l.ds.Name, newList)).Scan(&mid); err != nil {
		return fmt.Errorf("median %s: %w", col, err)
	}
	if !mid.Valid {
		return nil
	}
	m := mid.Time.UTC().Truncate(24 * time.Hour)
	lo, hi := m.AddDate(0, 0, -span), m.AddDate(0, 0, span+1)
	why := fmt.Sprintf("timestamp more than %d days from the middle of the input (median day %s); a load accepts %s to %s; a clock or unit error",
		span, m.Format(time.DateOnly), lo.Format(time.DateOnly), hi.Add(-time.Second).Format(time.DateOnly))
	res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %[1]s SET _q = [{'col': %[2]s, 'reason': ?, 'val': strftime(%[3]s, '%%Y-%%m-%%dT%%H:%%M:%%SZ')}]
		WHERE _file_id IN (%[4]s) AND _q IS NULL AND (%[3]s < ? OR %[3]s >= ?)`, l.ds.Name, sqlString(col), col, newList), why, lo, hi)
	if err != nil {
		return fmt.Errorf("quarantine timestamps outside the window: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		l.opts.Logger.Warn("rows with timestamps outside the accepted window quarantined", "dataset", l.ds.Name, "rows", n, "from", lo.Format(time.DateOnly), "to", hi.Format(time.DateOnly))
	}
	return nil
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func (l *datasetLoad) contractColumns(cols []string) []string {
	have := map[string]bool{}
	for _, c := range cols {
		have[c] = true
	}
	out := []string{}
	for _, c := range l.ds.Columns {
		if have[c.Name] {
			out = append(out, c.Name)
		}
	}
	return out
}

// markDuplicates marks the new rows whose key repeats another row: a row
// already stored (and not replaced by this load) wins, then the first new
// occurrence by file and line, so a re-delivered file cannot overwrite
// evidence. Only keys of the new files are examined.
func (l *datasetLoad) markDuplicates(ctx context.Context, tx *sql.Tx) error {
	if len(l.ds.Key) == 0 {
		return nil
	}
	key := strings.Join(l.ds.Key, ", ")
	keyName := strings.Join(l.ds.Key, "+")
	on := make([]string, len(l.ds.Key))
	for i, k := range l.ds.Key {
		on[i] = fmt.Sprintf("t.%s IS NOT DISTINCT FROM k.%s", k, k)
	}
	keyVal := "t." + l.ds.Key[0]
	if len(l.ds.Key) > 1 {
		parts := make([]string, len(l.ds.Key))
		for i, k := range l.ds.Key {
			parts[i] = "coalesce(t." + k + ", '')"
		}
		keyVal = strings.Join(parts, " || ' ' || ")
	}
	// The keys seen more than once that touch a new file (file ids grow,
	// so the new rows are those with _file_id >= the first new id): keys
	// repeated among the new rows, and new keys already stored. The stored
	// rows are only probed against the new keys (a semi join, whose hash
	// table holds the night's keys), never grouped: grouping every stored
	// row made a night's load grow with the history it sits on.
	var firstNew int64
	if err := tx.QueryRowContext(ctx, "SELECT min(file_id) FROM aw_new").Scan(&firstNew); err != nil {
		return err
	}
	// The new keys are counted by their 64-bit hash first: a night's
	// millions of key strings grouped as strings fill the memory the
	// loaded rows need. Only the rows of a hash seen twice (a repeated
	// key, or two keys sharing a hash) are grouped by the key itself.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE aw_dupkeys AS
		WITH fresh AS (SELECT %[2]s, hash(%[2]s) AS _h FROM %[1]s WHERE _q IS NULL AND _file_id >= ?),
		twice AS (SELECT _h FROM fresh GROUP BY _h HAVING count(*) > 1),
		fresh_keys AS (SELECT %[2]s FROM fresh SEMI JOIN twice USING (_h) GROUP BY %[2]s HAVING count(*) > 1)
		SELECT %[2]s FROM fresh_keys
		UNION
		SELECT %[2]s FROM fresh k WHERE EXISTS (
			SELECT 1 FROM %[1]s t WHERE t._q IS NULL AND t._file_id < ? AND %[3]s)`, l.ds.Name, key, strings.Join(on, " AND ")), firstNew, firstNew); err != nil {
		return fmt.Errorf("find duplicate keys: %w", err)
	}
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM aw_dupkeys").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	// Rank only the rows of those keys: stored rows (not new) first, then
	// by file and line.
	q := fmt.Sprintf(`UPDATE %[1]s SET _q = [{'col': %[2]s,
			'reason': 'duplicate ' || %[2]s || CASE WHEN d.first_new THEN ' (first at ' ELSE ' (already loaded from ' END || d.first_at || ')',
			'val': d.keyval}]
		FROM (
			SELECT t.rowid AS rid, %[5]s AS keyval,
			       first_value(g.path || ':' || t._line) OVER w AS first_at,
			       first_value(t._file_id >= %[6]d) OVER w AS first_new,
			       row_number() OVER w AS rn
			FROM %[1]s t JOIN load_ledger g ON g.file_id = t._file_id
			SEMI JOIN aw_dupkeys k ON %[4]s
			WHERE t._q IS NULL
			WINDOW w AS (PARTITION BY %[7]s ORDER BY t._file_id >= %[6]d, t._file_id, t._line)
		) d
		WHERE d.rn > 1 AND %[1]s.rowid = d.rid`,
		l.ds.Name, sqlString(keyName), key, strings.Join(on, " AND "), keyVal, firstNew, prefixed("t.", l.ds.Key))
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("find duplicate keys: %w", err)
	}
	return nil
}

func prefixed(p string, names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return strings.Join(out, ", ")
}

// replace deletes the stored rows the new files supersede (see Load).
func (l *datasetLoad) replace(ctx context.Context, tx *sql.Tx, results []FileResult, newList string) error {
	// The files of this input (new and unchanged) in a temp table: a list
	// of 10,000 placeholders is a statement DuckDB takes seconds to plan.
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE aw_keep (file_id BIGINT)`); err != nil {
		return err
	}
	var keep []any
	for _, r := range results {
		keep = append(keep, r.FileID)
	}
	for rest := keep; len(rest) > 0; {
		n := min(len(rest), 1000)
		if _, err := tx.ExecContext(ctx, `INSERT INTO aw_keep VALUES `+strings.TrimSuffix(strings.Repeat("(?), ", n), ", "), rest[:n]...); err != nil {
			return err
		}
		rest = rest[n:]
	}
	const keepList = "SELECT file_id FROM aw_keep"
	var where string
	var wargs []any
	switch {
	case l.ds.DateColumn == "":
		where = fmt.Sprintf("_file_id NOT IN (%s)", keepList)
	case !l.opts.Night.IsZero():
		where = fmt.Sprintf("_file_id NOT IN (%s) AND CAST(%s AS DATE) = ?", keepList, l.ds.DateColumn)
		wargs = []any{l.opts.Night.Format(time.DateOnly)}
	default:
		where = fmt.Sprintf(`_file_id NOT IN (%s) AND CAST(%s AS DATE) IN (
			SELECT DISTINCT CAST(%s AS DATE) FROM %s WHERE _file_id IN (%s) AND _q IS NULL)`, keepList, l.ds.DateColumn, l.ds.DateColumn, l.ds.Name, newList)
	}
	res, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s`, l.ds.Name, where), wargs...)
	if err != nil {
		return fmt.Errorf("replace stored rows: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		l.opts.Logger.Info("replaced stored rows", "dataset", l.ds.Name, "rows", n)
		// A file none of whose rows remain is superseded: delivering it
		// again loads it again instead of skipping it as unchanged.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE load_ledger SET superseded_by = ?
			WHERE dataset = ? AND superseded_by IS NULL AND file_id NOT IN (%s)
			  AND file_id NOT IN (SELECT DISTINCT _file_id FROM %s)`, keepList, l.ds.Name),
			l.opts.RunID, l.ds.Name); err != nil {
			return fmt.Errorf("mark superseded files: %w", err)
		}
	}
	return nil
}

func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// insertFile reads one file into the dataset's table with every value
// coerced and every problem of a row listed in its _q.
func (l *datasetLoad) insertFile(ctx context.Context, tx *sql.Tx, f File, fileID int64) error {
	src, err := l.openSource(ctx, tx, f, nil)
	if err != nil {
		return err
	}
	defer src.close()
	return l.insertSource(ctx, tx, f, fileID, src)
}

// insertSource inserts the rows of src: one file (fileID), or a batch of
// files (src.batch: the file id and hive values come from aw_batch).
func (l *datasetLoad) insertSource(ctx context.Context, tx *sql.Tx, f File, fileID int64, src *source) error {
	byName := map[string]*srcCol{}
	for i := range src.cols {
		byName[src.cols[i].Name] = &src.cols[i]
	}
	var inner, outer, bads, errs []string
	var args []any
	for _, c := range l.ds.Columns {
		in, e := columnExprs(c, byName[c.Name])
		inner = append(inner, in...)
		outer = append(outer, fmt.Sprintf("%s AS %s", e.value, c.Name))
		if e.bad != "" {
			bads = append(bads, e.bad)
			errs = append(errs, fmt.Sprintf("CASE WHEN %s THEN {'col': %s, 'reason': %s, 'val': %s} END", e.bad, sqlString(c.Name), e.why, e.raw))
		}
	}
	// Extra columns: every source column the contract does not name, plus
	// hive keys, kept as a JSON object whose keys are bound parameters.
	var extraPairs []string
	var extraArgs []any
	hiveKeys := make([]string, 0, len(f.Hive))
	for k := range f.Hive {
		hiveKeys = append(hiveKeys, k)
	}
	sort.Strings(hiveKeys)
	for hi, k := range hiveKeys {
		if _, ok := l.ds.Column(k); ok || byName[k] != nil {
			continue
		}
		if src.batch != nil {
			extraPairs = append(extraPairs, fmt.Sprintf("?, _h%d", hi))
			extraArgs = append(extraArgs, k)
			continue
		}
		extraPairs = append(extraPairs, "?, ?")
		extraArgs = append(extraArgs, k, f.Hive[k])
	}
	for _, s := range src.cols {
		if _, ok := l.ds.Column(s.Name); ok {
			continue
		}
		extraPairs = append(extraPairs, "?, "+s.Ref)
		extraArgs = append(extraArgs, s.Name)
		inner = append(inner, s.Ref)
	}
	extra := "NULL::JSON"
	switch {
	case src.extraExpr != "":
		extra = src.extraExpr
		args = append(args, src.extraArgs...)
	case len(extraPairs) > 0:
		extra = "json_object(" + strings.Join(extraPairs, ", ") + ")"
		args = append(args, extraArgs...)
	}
	bad := "false"
	if len(bads) > 0 {
		bad = strings.Join(bads, " OR ")
	}
	errList := "[]"
	if len(errs) > 0 {
		errList = "list_filter([" + strings.Join(errs, ", ") + "], x -> x IS NOT NULL)"
	}
	if src.rowBad != "" {
		// A row the reader could not split into columns (malformed JSON,
		// invalid UTF-8 seen by the Arrow adapter) has one error: its own.
		errList = fmt.Sprintf("CASE WHEN %s THEN [%s] ELSE %s END", src.rowBad, src.rowErr, errList)
		bad = src.rowBad + " OR " + bad
	}
	fileIDExpr := fmt.Sprintf("%d::BIGINT", fileID)
	if src.batch != nil {
		fileIDExpr = "_fid"
	}
	q := fmt.Sprintf(`INSERT INTO %s BY NAME
		SELECT %s AS _file_id, %s AS _line, %s,
		       %s AS extra,
		       CASE WHEN (%s) THEN %s END AS _q
		FROM (SELECT %s, %s FROM %s) src`,
		l.ds.Name, fileIDExpr, src.lineExpr, strings.Join(outer, ", "),
		extra, bad, errList,
		src.ordExpr, strings.Join(inner, ", "), src.from)
	args = append(args, src.fromArgs...)
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("read rows: %w", err)
	}
	if src.rejects && src.batch == nil {
		if err := l.fixLines(ctx, tx, f, fileID, src); err != nil {
			return err
		}
	}
	return nil
}

// source is one file as a DuckDB relation with positional column names.
type source struct {
	cols      []srcCol
	from      string // FROM clause
	fromArgs  []any
	ordExpr   string // "<expr> AS _ord"
	lineExpr  string // the record's line (header + ordinal); fixLines corrects it
	nlSum     string // newlines inside the row's fields (text formats)
	nlAny     string // the row has a field with a newline
	extraExpr string // replaces the json_object of extra columns (NDJSON)
	extraArgs []any
	rowBad    string // whole-row problem
	rowErr    string
	rejects   bool // the reader may have rejected lines into aw_rej
	strayCR   bool // read from a copy without stray CRs; their lines are in aw_cr
	header    int  // lines before the first row
	batch     *batchInfo
	close     func()
}

// batchInfo is a batch of small text files read by one reader call (see
// batches): their paths, in aw_batch with their file ids and hive values.
type batchInfo struct {
	paths []string
	hive  int // hive keys, columns _h0… of aw_batch
}

// from wraps a multi-file reader call: each row gets its file's id
// (_fid), hive values and its record number within its file.
func (b *batchInfo) from(read string) string {
	cols := ""
	for i := 0; i < b.hive; i++ {
		cols += fmt.Sprintf(", aw_batch._h%d", i)
	}
	return fmt.Sprintf(`(SELECT aw_batch.file_id AS _fid%s, ordinality - min(ordinality) OVER (PARTITION BY filename) + 1 AS ordinality,
			COLUMNS(c -> c NOT IN ('ordinality', 'filename', 'path', 'file_id') AND NOT starts_with(c, '_h'))
		FROM (SELECT * FROM %s WITH ORDINALITY) JOIN aw_batch ON aw_batch.path = filename)`, cols, read)
}

func (b *batchInfo) cols() string {
	if b == nil {
		return ""
	}
	out := ", _fid"
	for i := 0; i < b.hive; i++ {
		out += fmt.Sprintf(", _h%d", i)
	}
	return out
}

// csvRejectsOptions makes DuckDB's CSV reader keep going past broken lines
// and say which they were (line, column, reason) in temp tables.
const csvRejectsOptions = `store_rejects = true, rejects_table = 'aw_rej', rejects_scan = 'aw_rejscan', hive_partitioning = false`

func duckCompression(c string) string {
	switch c {
	case "gz":
		return "gzip"
	case "zst":
		return "zstd"
	}
	return "none"
}

func (l *datasetLoad) openSource(ctx context.Context, tx *sql.Tx, f File, batch *batchInfo) (*source, error) {
	s := &source{close: func() {}, batch: batch}
	for _, t := range []string{"aw_rej", "aw_rejscan"} {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
			return nil, err
		}
	}
	path, err := l.literalPath(f.Path)
	if err != nil {
		return nil, err
	}
	compression := f.Compression
	if c := l.copies[f.Path]; c != nil && (f.Format == FormatCSV || f.Format == FormatTSV || f.Format == FormatNDJSON) {
		path, compression, s.strayCR = c.path, "", true
		if err := createLines(ctx, tx, "aw_cr", c.lines); err != nil {
			return nil, err
		}
		if err := createLines(ctx, tx, "aw_blank", c.blanks); err != nil {
			return nil, err
		}
		if err := createLongLines(ctx, tx, c.long); err != nil {
			return nil, err
		}
	}
	switch f.Format {
	case FormatCSV, FormatTSV:
		delim := ","
		if f.Format == FormatTSV {
			delim = `\t`
		}
		defs := make([]string, len(f.Columns))
		var nls []string
		for i, name := range f.Columns {
			ref := fmt.Sprintf("c%d", i)
			s.cols = append(s.cols, srcCol{Name: name, Ref: ref, Type: "VARCHAR"})
			defs[i] = fmt.Sprintf("'%s': 'VARCHAR'", ref)
			nls = append(nls, fmt.Sprintf("coalesce(length(%[1]s) - length(replace(%[1]s, chr(10), '')), 0)", ref))
		}
		contains := make([]string, len(f.Columns))
		for i := range f.Columns {
			contains[i] = fmt.Sprintf("contains(c%d, chr(10))", i)
		}
		read := fmt.Sprintf(`read_csv(?, header = true, auto_detect = false, columns = {%s}, delim = E'%s', quote = '"', escape = '"',
			compression = '%s', %s%s)`, strings.Join(defs, ", "), delim, duckCompression(compression), csvRejectsOptions, batchFilename(batch))
		s.from, s.fromArgs = read+" WITH ORDINALITY", []any{path}
		if batch != nil {
			s.from, s.fromArgs = batch.from(read), []any{batch.paths}
		}
		s.ordExpr = "ordinality AS _ord" + batch.cols()
		s.nlSum = strings.Join(nls, " + ")
		s.nlAny = "coalesce(" + strings.Join(contains, " OR ") + ", false)"
		s.header = 1
		s.lineExpr = "_ord + 1"
		s.rejects = true
	case FormatNDJSON:
		paths := make([]string, len(l.ds.Columns))
		nullObj := make([]string, len(l.ds.Columns))
		known := make([]string, len(l.ds.Columns))
		for i, c := range l.ds.Columns {
			paths[i] = sqlString("$." + c.Name)
			nullObj[i] = fmt.Sprintf(`"%s": null`, c.Name)
			known[i] = sqlString(c.Name)
			s.cols = append(s.cols, srcCol{Name: c.Name, Ref: fmt.Sprintf("_j[%d]", i+1), Type: "VARCHAR"})
		}
		// One JSON parse per line extracts every contract column; a line
		// that is not a JSON object gets _j = NULL and is quarantined whole.
		read := fmt.Sprintf(`read_csv(?, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false, delim = E'\x1f', quote = '', escape = '',
				compression = '%s', %s%s)`, duckCompression(compression), csvRejectsOptions, batchFilename(batch))
		lines, args := read+" WITH ORDINALITY", []any{path}
		if batch != nil {
			lines, args = batch.from(read), []any{batch.paths}
		}
		s.from = fmt.Sprintf(`(SELECT ordinality AS _o, line,
				CASE WHEN json_valid(line) AND json_type(line) = 'OBJECT' THEN json_extract_string(line, [%s]) END AS _j%s
			FROM %s
			WHERE line IS NOT NULL AND trim(line) <> '')`, strings.Join(paths, ", "), batch.cols(), lines)
		s.fromArgs = args
		s.ordExpr = "_o AS _ord, _j, line" + batch.cols()
		s.lineExpr = "_ord"
		s.rowBad = "_j IS NULL"
		s.rowErr = fmt.Sprintf("{'col': '', 'reason': 'malformed line (not a JSON object)', 'val': left(line, %d)}", rawValueChars)
		s.extraExpr = fmt.Sprintf(`CASE WHEN _j IS NOT NULL AND len(list_filter(json_keys(line), k -> NOT list_contains([%s], k))) > 0
			THEN json_merge_patch(line, '{%s}') END`, strings.Join(known, ", "), strings.Join(nullObj, ", "))
		s.rejects = true
		// Columns are found per line; the file-level list is the sample's.
		s.cols = s.cols[:len(l.ds.Columns)]
	case FormatParquet:
		refs := make([]string, len(f.Columns))
		for i, name := range f.Columns {
			refs[i] = fmt.Sprintf("c%d", i)
			s.cols = append(s.cols, srcCol{Name: name, Ref: refs[i]})
		}
		s.from = fmt.Sprintf(`read_parquet(?, file_row_number = true, hive_partitioning = false) AS src(%s, _frn)`, strings.Join(refs, ", "))
		s.fromArgs = []any{path}
		if err := describeTypes(ctx, tx, s); err != nil {
			return nil, err
		}
		s.ordExpr = "_frn + 1 AS _ord"
		s.lineExpr = "_ord"
	case FormatArrow:
		rows, err := openArrow(f.Path)
		if err != nil {
			return nil, err
		}
		view := fmt.Sprintf("aw_arrow_%d", time.Now().UnixNano())
		release, err := registerArrowView(ctx, l.conn, rows, view)
		if err != nil {
			rows.Release()
			return nil, fmt.Errorf("register Arrow view: %w", err)
		}
		s.close = func() { release(); rows.Release() }
		refs := make([]string, len(f.Columns))
		for i, name := range f.Columns {
			refs[i] = fmt.Sprintf("c%d", i)
			s.cols = append(s.cols, srcCol{Name: name, Ref: refs[i]})
		}
		s.from = fmt.Sprintf(`%s AS src(%s, _aw_row, _aw_bad_utf8)`, view, strings.Join(refs, ", "))
		if err := describeTypes(ctx, tx, s); err != nil {
			s.close()
			return nil, err
		}
		s.ordExpr = "_aw_row AS _ord, _aw_bad_utf8"
		s.lineExpr = "_ord"
		s.rowBad = "_aw_bad_utf8 IS NOT NULL"
		s.rowErr = "{'col': _aw_bad_utf8, 'reason': 'invalid UTF-8', 'val': NULL}"
	default:
		return nil, fmt.Errorf("unsupported format %q", f.Format)
	}
	return s, nil
}

func batchFilename(b *batchInfo) string {
	if b == nil {
		return ""
	}
	return ", filename = true"
}

func describeTypes(ctx context.Context, tx *sql.Tx, s *source) error {
	rows, err := tx.QueryContext(ctx, "DESCRIBE SELECT * FROM "+s.from, s.fromArgs...)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		var null, key, def, extra sql.NullString
		if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
			return err
		}
		types[name] = typ
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range s.cols {
		s.cols[i].Type = types[s.cols[i].Ref]
	}
	return nil
}

// fixLines gives the rows of a text file their physical line numbers. The
// insert numbered rows by record (header + ordinality); two things move
// them down: lines the reader rejected (which DuckDB numbers by record) and
// line breaks inside quoted fields. Both are rare, so this costs nothing
// for a clean file, and for a file with quoted line breaks one more read.
func (l *datasetLoad) fixLines(ctx context.Context, tx *sql.Tx, f File, fileID int64, src *source) error {
	var hasRej bool
	if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = 'aw_rej'`).Scan(&hasRej); err != nil {
		return err
	}
	var rejected int64
	if hasRej {
		if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE aw_rej1 AS
			SELECT line, any_value(column_name ORDER BY column_idx DESC) AS column_name,
			       any_value(error_type ORDER BY column_idx DESC) AS error_type,
			       any_value(error_message ORDER BY column_idx DESC) AS error_message,
			       any_value(csv_line ORDER BY column_idx DESC) AS csv_line
			FROM aw_rej GROUP BY line`); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM aw_rej1`).Scan(&rejected); err != nil {
			return err
		}
	}
	table := l.ds.Name
	if rejected > 0 {
		// Reject j at record Rj sits where accepted record Rj-(j-1) would
		// be: a row moves down by the number of such positions at or before it.
		if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE aw_rejpos AS
			SELECT line - row_number() OVER (ORDER BY line) + 1 AS a FROM aw_rej1`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %[1]s SET _line = %[1]s._line + (SELECT count(*) FROM aw_rejpos j WHERE j.a <= %[1]s._line)
			WHERE _file_id = ? AND _line >= (SELECT min(a) FROM aw_rejpos)`, table), fileID); err != nil {
			return fmt.Errorf("number lines after rejected lines: %w", err)
		}
	}
	if src.nlSum != "" && (f.QuotedNewlines || (f.Compression != "" && rejected > 0)) {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE aw_nl AS
			SELECT %d + ordinality AS rec, %s AS nl FROM %s WHERE %s`, src.header, src.nlSum, src.from, src.nlAny), src.fromArgs...); err != nil {
			return fmt.Errorf("find line breaks in quoted fields: %w", err)
		}
		if rejected > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE aw_nl SET rec = aw_nl.rec + (SELECT count(*) FROM aw_rejpos j WHERE j.a <= aw_nl.rec)`); err != nil {
				return err
			}
			// A rejected record is not in the reader's output: its own
			// line breaks are counted from the raw record the rejects keep
			// (bytes, not characters: it may not be UTF-8), without the
			// line ends some errors keep around it.
			if _, err := tx.ExecContext(ctx, `INSERT INTO aw_nl SELECT line, strlen(r) - strlen(replace(r, chr(10), ''))
				FROM (SELECT line, trim(csv_line, chr(13) || chr(10)) AS r FROM aw_rej1) WHERE contains(r, chr(10))`); err != nil {
				return fmt.Errorf("find line breaks in rejected records: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE aw_rej1 SET line = aw_rej1.line + coalesce((SELECT sum(nl) FROM aw_nl n WHERE n.rec < aw_rej1.line), 0)`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %[1]s SET _line = %[1]s._line + coalesce((SELECT sum(nl) FROM aw_nl n WHERE n.rec < %[1]s._line), 0)
			WHERE _file_id = ? AND _line > (SELECT coalesce(min(rec), 9223372036854775807) FROM aw_nl)`, table), fileID); err != nil {
			return fmt.Errorf("number lines after quoted line breaks: %w", err)
		}
	}
	if rejected == 0 {
		return nil
	}
	if src.strayCR {
		// empty lines marked in the copy were rejected only to be counted
		if _, err := tx.ExecContext(ctx, `DELETE FROM aw_rej1 WHERE line IN (SELECT line FROM aw_blank)`); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(src.cols))
	var args []any
	args = append(args, l.opts.RunID, l.ds.Name, fileID, f.Rel)
	for _, c := range src.cols {
		if strings.HasPrefix(c.Ref, "c") {
			names = append(names, fmt.Sprintf("WHEN %s THEN ?", sqlString(c.Ref)))
			args = append(args, c.Name)
		}
	}
	colCase := "''"
	if len(names) > 0 {
		colCase = "CASE column_name " + strings.Join(names, " ") + " ELSE '' END"
		if src.strayCR {
			colCase = "CASE WHEN line IN (SELECT line FROM aw_long) THEN '' ELSE " + colCase + " END"
		}
	}
	reason := `CASE error_type
			WHEN 'INVALID ENCODING' THEN 'invalid UTF-8'
			WHEN 'TOO MANY COLUMNS' THEN 'too many columns: ' || error_message
			WHEN 'MISSING COLUMNS' THEN 'missing columns: ' || error_message
			ELSE lower(CAST(error_type AS VARCHAR)) || ': ' || error_message END`
	if f.Format == FormatNDJSON {
		reason = `CASE error_type WHEN 'INVALID ENCODING' THEN 'invalid UTF-8'
			WHEN 'LINE SIZE OVER MAXIMUM' THEN 'line size over maximum: ' || error_message
			ELSE 'malformed line (control character outside a JSON string)' END`
	}
	if src.strayCR {
		reason = fmt.Sprintf(`CASE WHEN line IN (SELECT line FROM aw_long) THEN (SELECT reason FROM aw_long WHERE aw_long.line = aw_rej1.line)
			WHEN line IN (SELECT line FROM aw_cr) THEN %s ELSE %s END`, sqlString(strayCRReason), reason)
	}
	args = append(args, rawValueChars)
	q := fmt.Sprintf(`INSERT INTO quarantine
		SELECT ?, ?, ?, ?, line, %s, %s,
		       CASE WHEN error_type = 'INVALID ENCODING' THEN NULL ELSE left(csv_line, ?) END
		FROM aw_rej1`, colCase, reason)
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("quarantine rejected lines: %w", err)
	}
	return nil
}

// registerArrowView exposes an Arrow record stream to DuckDB as a view on
// the loading connection.
func registerArrowView(ctx context.Context, conn *sql.Conn, rows *arrowRows, view string) (func(), error) {
	dc, err := store.DriverConn(conn)
	if err != nil {
		return nil, err
	}
	ar, err := duckdb.NewArrowFromConn(dc)
	if err != nil {
		return nil, err
	}
	return ar.RegisterView(rows, view)
}

// createLongLines fills aw_long with the records over the size limit and
// their reasons (our own text: numbers only).
func createLongLines(ctx context.Context, tx *sql.Tx, long []longRecord) error {
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE aw_long (line BIGINT, reason VARCHAR)`); err != nil {
		return err
	}
	for _, r := range long {
		if _, err := tx.ExecContext(ctx, `INSERT INTO aw_long VALUES (?, ?)`, r.line, r.reason()); err != nil {
			return err
		}
	}
	return nil
}

// createLines fills the temp table name (aw_cr: lines that held a stray
// CR, aw_blank: empty lines) with line numbers, our own integers.
func createLines(ctx context.Context, tx *sql.Tx, name string, lines []int64) error {
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+name+` (line BIGINT)`); err != nil {
		return err
	}
	for len(lines) > 0 {
		n := min(len(lines), 1000)
		vals := make([]string, n)
		for i, v := range lines[:n] {
			vals[i] = fmt.Sprintf("(%d)", v)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+name+" VALUES "+strings.Join(vals, ", ")); err != nil {
			return err
		}
		lines = lines[n:]
	}
	return nil
}
