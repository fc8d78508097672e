package detectors

import (
	"context"
	"database/sql"
	"time"
)

// ClickSpanQuery finds the first and last click, for Scope.Days.
const ClickSpanQuery = `SELECT min(ts), max(ts) FROM clicks`

// Days returns the whole UTC days a run judges: the night, or for a
// backfill every day from the first to the last timestamp spanQuery finds
// (a query returning a minimum and a maximum TIMESTAMP). ok is false when
// a backfill finds no rows at all.
func (s Scope) Days(ctx context.Context, db *sql.DB, spanQuery string) (start, end time.Time, ok bool, err error) {
	if s.IsNight() {
		start = s.Night.UTC().Truncate(24 * time.Hour)
		return start, start.AddDate(0, 0, 1), true, nil
	}
	var lo, hi sql.NullTime
	if err := db.QueryRowContext(ctx, spanQuery).Scan(&lo, &hi); err != nil {
		return start, end, false, err
	}
	if !lo.Valid {
		return start, end, false, nil
	}
	start = lo.Time.UTC().Truncate(24 * time.Hour)
	end = hi.Time.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	return start, end, true, nil
}
