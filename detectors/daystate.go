package detectors

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"
)

// DayState is what a detector keeps per day of clicks so that a night
// computes its own day and reads the look-back's days from the database
// (issue 16). A day's stored rows hold while the rows they were computed
// from are the same: a fingerprint of the day's clicks and orders (their
// count and the sum of 64-bit hashes of each row's file, line and time)
// and of the Reach days before it, plus Params, is kept beside them; a day
// whose fingerprint changed — a re-run night, a late file, other
// thresholds — is computed again, never patched.
//
// Rows are named by the file and line they were loaded from: the loader
// never changes a stored row, a new delivery replaces rows with rows of a
// new file. Naming them costs a read of three integer columns, where
// hashing the columns a computation reads made every night decompress
// those columns of the whole history.
type DayState struct {
	// Days is the table (day DATE, deps VARCHAR) of the days held; State
	// the table of the rows, whose first column is the day.
	Days, State string
	// Clicks and Orders say which raw rows the computation reads: their
	// days' rows join its fingerprint.
	Clicks, Orders bool
	// TrafficColumns, when set, are the click_traffic columns it reads
	// (the reference lists' labels, which a list update rewrites in
	// place): their values join the fingerprint.
	TrafficColumns string
	// Reach is how many days before a day its computation reads.
	Reach int
	// Params names the thresholds the rows depend on (e.g. "gap=30").
	Params string
	// Compute inserts the rows of the days listed in temp table
	// day_state_days (day DATE) into State; $1 is the earliest click it
	// may read, $2 the end, then Args.
	Compute string
	Args    []any
	// Lead is how far before the first day Compute reads (its $1).
	Lead time.Duration
}

// Update brings the state up to date for the days of [start, end).
func (s DayState) Update(ctx context.Context, db *sql.DB, start, end time.Time) error {
	if !start.Before(end) {
		return nil
	}
	for _, name := range []string{s.Days, s.State} {
		if !isIdent(name) {
			return fmt.Errorf("day state: bad table name %q", name)
		}
	}
	// Days whose raw rows --retain-days dropped keep the rows computed
	// while the rows were there: nothing is left to compute them from.
	horizon, err := RetainedFrom(ctx, db)
	if err != nil {
		return err
	}
	from := start.AddDate(0, 0, -s.Reach)
	if from.Before(horizon) {
		from = horizon
	}
	fps := map[string]string{}
	if s.Clicks {
		if fps, err = s.fingerprints(ctx, db, "clicks", rowIdentity, from, end); err != nil {
			return err
		}
	}
	for _, more := range []struct{ table, columns string }{{"orders", boolCols(s.Orders)}, {"click_traffic", s.TrafficColumns}} {
		if more.columns == "" {
			continue
		}
		ofps, err := s.fingerprints(ctx, db, more.table, more.columns, from, end)
		if err != nil {
			return err
		}
		for d := from; d.Before(end); d = d.AddDate(0, 0, 1) {
			key := d.Format(time.DateOnly)
			if fps[key] != "" || ofps[key] != "" {
				fps[key] += "|" + ofps[key]
			}
		}
	}

	stored := map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT CAST(day AS VARCHAR), deps FROM `+s.Days+` WHERE day >= CAST(? AS DATE) AND day < CAST(? AS DATE)`, start, end)
	if err != nil {
		return fmt.Errorf("%s: %w", s.Days, err)
	}
	for rows.Next() {
		var day, deps string
		if err := rows.Scan(&day, &deps); err != nil {
			rows.Close()
			return err
		}
		stored[day] = deps
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var stale []time.Time
	deps := map[string]string{}
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		parts := []string{s.Params}
		for k := s.Reach; k >= 0; k-- {
			parts = append(parts, fps[d.AddDate(0, 0, -k).Format(time.DateOnly)])
		}
		key := d.Format(time.DateOnly)
		deps[key] = strings.Join(parts, ";")
		if d.Before(horizon) {
			continue
		}
		if stored[key] != deps[key] {
			stale = append(stale, d)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	return InTx(ctx, db, func(tx *sql.Tx) error { return s.compute(ctx, tx, stale, deps) })
}

// compute fills the stale days' rows in tx.
func (s DayState) compute(ctx context.Context, tx *sql.Tx, stale []time.Time, deps map[string]string) error {
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE day_state_days (day DATE)`); err != nil {
		return err
	}
	// One statement each for all stale days: a first night on a new
	// database has the whole look-back to fill.
	days := make([]string, len(stale))
	depsOf := make([]string, len(stale))
	for i, d := range stale {
		days[i] = d.Format(time.DateOnly)
		depsOf[i] = deps[days[i]]
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO day_state_days SELECT CAST(unnest(?::VARCHAR[]) AS DATE)`, days); err != nil {
		return fmt.Errorf("%s: %w", s.State, err)
	}
	for _, table := range []string{s.State, s.Days} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE day IN (SELECT day FROM day_state_days)`); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+s.Days+` SELECT CAST(d AS DATE), x FROM (SELECT unnest(?::VARCHAR[]) AS d, unnest(?::VARCHAR[]) AS x)`, days, depsOf); err != nil {
		return fmt.Errorf("%s: %w", s.Days, err)
	}
	first, last := stale[0], stale[len(stale)-1].AddDate(0, 0, 1)
	if _, err := tx.ExecContext(ctx, s.Compute, append([]any{first.Add(-s.Lead), last}, s.Args...)...); err != nil {
		return fmt.Errorf("%s of %s … %s: %w", s.State, first.Format(time.DateOnly), stale[len(stale)-1].Format(time.DateOnly), err)
	}
	return nil
}

// InTx runs fn in one transaction on one connection of db, committed when
// fn returns nil: the temporary tables fn's statements share are visible
// only on the connection that made them.
func InTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// rowIdentity names a raw row: the file and line it was loaded from, and
// its time (which puts it in its day).
const rowIdentity = "_file_id, _line, ts"

func boolCols(reads bool) string {
	if reads {
		return rowIdentity
	}
	return ""
}

// UpdateHeld brings the state up to date for every day the database holds
// clicks or orders of: state that a detector reads over the program's whole
// history (a device's publishers, a buyer's first order, a product's
// seller) rather than over a look-back.
func (s DayState) UpdateHeld(ctx context.Context, db *sql.DB) error {
	held, err := ResolveNight(ctx, db, BackfillNight())
	if err != nil {
		return fmt.Errorf("%s: %w", s.State, err)
	}
	return s.Update(ctx, db, held.Start, held.End)
}

// fingerprints reads, per day with rows of table (clicks, orders or
// click_traffic) in [from, to), the count and hash sum of the columns; a
// day without rows has none ("").
func (s DayState) fingerprints(ctx context.Context, db *sql.DB, table, columns string, from, to time.Time) (map[string]string, error) {
	if table != "clicks" && table != "orders" && table != "click_traffic" {
		return nil, fmt.Errorf("day state: bad table %q", table)
	}
	for _, c := range strings.Split(columns, ",") {
		if !isIdent(strings.TrimSpace(c)) {
			return nil, fmt.Errorf("day state: bad column %q", c)
		}
	}
	cache, _ := ctx.Value(rowFingerprintsKey{}).(*rowFingerprints)
	if cache == nil || !isDay(from) || !isDay(to) {
		return s.readFingerprints(ctx, db, table, columns, from, to)
	}
	cache.mu.Lock()
	defer cache.mu.Unlock()
	key := table + "\x00" + columns
	known := cache.days[key]
	if known == nil {
		known = map[string]string{}
		cache.days[key] = known
	}
	var lo, hi time.Time
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if _, ok := known[d.Format(time.DateOnly)]; !ok {
			if lo.IsZero() {
				lo = d
			}
			hi = d.AddDate(0, 0, 1)
		}
	}
	if !lo.IsZero() {
		read, err := s.readFingerprints(ctx, db, table, columns, lo, hi)
		if err != nil {
			return nil, err
		}
		for d := lo; d.Before(hi); d = d.AddDate(0, 0, 1) {
			known[d.Format(time.DateOnly)] = read[d.Format(time.DateOnly)]
		}
	}
	out := map[string]string{}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if fp := known[d.Format(time.DateOnly)]; fp != "" {
			out[d.Format(time.DateOnly)] = fp
		}
	}
	return out, nil
}

// rowFingerprints holds the raw rows' per-day fingerprints a run has read,
// by table and columns; a day without rows is "".
type rowFingerprints struct {
	mu   sync.Mutex
	days map[string]map[string]string
}

type rowFingerprintsKey struct{}

// WithRowFingerprints returns a context in which every DayState update
// reads each day's fingerprint of the raw rows once: six states read the
// same clicks days, each with its own scan of the look-back. It is valid
// while no raw row changes (the detect stage, a baselines pass: clicks,
// orders and their traffic labels are loaded and labelled before), so it
// is made afresh for each.
func WithRowFingerprints(ctx context.Context) context.Context {
	return context.WithValue(ctx, rowFingerprintsKey{}, &rowFingerprints{days: map[string]map[string]string{}})
}

func isDay(t time.Time) bool { return t.Equal(t.Truncate(24 * time.Hour)) }

func (s DayState) readFingerprints(ctx context.Context, db *sql.DB, table, columns string, from, to time.Time) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT CAST(ts AS DATE), count(*), CAST(sum(hash(`+columns+`)) AS VARCHAR)
		FROM `+table+` WHERE ts >= ? AND ts < ? GROUP BY 1`, from, to)
	if err != nil {
		return nil, fmt.Errorf("%s: fingerprints: %w", s.Days, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var day time.Time
		var n int64
		var h sql.NullString
		if err := rows.Scan(&day, &n, &h); err != nil {
			return nil, err
		}
		out[day.UTC().Format(time.DateOnly)] = fmt.Sprintf("%d:%s", n, h.String)
	}
	return out, rows.Err()
}

// RetainedFrom is the first day whose raw clicks and orders the database
// still holds in full: --retain-days dropped the days before it (zero:
// nothing was dropped).
func RetainedFrom(ctx context.Context, db *sql.DB) (time.Time, error) {
	var t sql.NullTime
	if err := db.QueryRowContext(ctx, `SELECT max(retained_from)::TIMESTAMP FROM retention`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("retention horizon: %w", err)
	}
	if !t.Valid {
		return time.Time{}, nil
	}
	return t.Time.UTC(), nil
}
