package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"time"

	"affwatch/reports"
	"affwatch/store"
)

// metricsWriter writes --metrics-file once, however a run ends, so a
// failed night pages someone: with the database's counts once it is open
// (db set), without before.
type metricsWriter struct {
	path  string
	db    *sql.DB
	runID string
	log   *slog.Logger
}

func (m *metricsWriter) write(ctx context.Context, ok bool, timings []reports.Timing) {
	if m.path == "" {
		return
	}
	run := reports.MetricsRun{RunID: m.runID, OK: ok, Finished: time.Now().UTC(), Timings: timings}
	if err := reports.WriteMetrics(context.WithoutCancel(ctx), m.db, m.path, run); err != nil {
		m.log.Warn("metrics file not written", "path", m.path, "err", err)
	}
	m.path = ""
}

// commitResults marks a run that wrote its outputs succeeded and deletes
// the results earlier runs left for the same night, in one transaction: a
// re-run leaves one set of rows per night. It returns the rows replaced.
func commitResults(ctx context.Context, st *store.Store, runID string, night time.Time, manifest any) (int64, error) {
	body, err := json.Marshal(manifest)
	if err != nil {
		return 0, err
	}
	tx, err := st.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'succeeded', finished_at = ?, manifest = ?::JSON WHERE run_id = ?`,
		time.Now().UTC(), string(body), runID); err != nil {
		return 0, err
	}
	replaced, err := store.ReplaceEarlierResults(ctx, tx, night, runID)
	if err != nil {
		return 0, err
	}
	return replaced, tx.Commit()
}
