package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Dropped counts the raw rows DropRawBefore removed.
type Dropped struct {
	Clicks, Orders int64
}

// DropRawBefore deletes the raw clicks and orders (and their reference-list
// labels) from before horizon, in one transaction, and records the horizon
// in retention: per-day state before it is never recomputed from the
// missing rows (detectors.DayState).
func DropRawBefore(ctx context.Context, db *sql.DB, runID string, horizon time.Time) (Dropped, error) {
	var d Dropped
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return d, err
	}
	defer tx.Rollback()
	for _, t := range []struct {
		table string
		n     *int64
	}{{"clicks", &d.Clicks}, {"orders", &d.Orders}, {"click_traffic", nil}, {"order_ip_class", nil}} {
		// The table names are the fixed list above, never input.
		res, err := tx.ExecContext(ctx, `DELETE FROM `+t.table+` WHERE ts < ?`, horizon)
		if err != nil {
			return d, fmt.Errorf("retain: %s: %w", t.table, err)
		}
		if t.n != nil {
			if *t.n, err = res.RowsAffected(); err != nil {
				return d, err
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO retention VALUES (?, CAST(? AS DATE), ?, ?)`,
		runID, horizon.Format(time.DateOnly), d.Clicks, d.Orders); err != nil {
		return d, fmt.Errorf("retain: %w", err)
	}
	return d, tx.Commit()
}
