package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"affwatch/detectors"

	"affwatch/reports"
	"affwatch/rules"
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
	// clickDays: a merge's night click counts (reports.MetricsRun).
	clickDays []reports.DayRows
}

func (m *metricsWriter) write(ctx context.Context, ok bool, timings []reports.Timing) {
	if m.path == "" {
		return
	}
	run := reports.MetricsRun{RunID: m.runID, OK: ok, Finished: time.Now().UTC(), Timings: timings, ClickDays: m.clickDays}
	if err := reports.WriteMetrics(context.WithoutCancel(ctx), m.db, m.path, run); err != nil {
		m.log.Warn("metrics file not written", "path", m.path, "err", err)
	}
	m.path = ""
}

// recordRun inserts the run's row, status running; a zero night is a
// backfill. It returns a function for a deferred call that marks the run
// failed with the error, if there is one when the command returns.
func recordRun(ctx context.Context, st *store.Store, runID, command string, night detectors.Night, started time.Time, pack *rules.Pack, toolVersion string) (markFailed func(err error), err error) {
	nightArg := night.DateArg()
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO runs (run_id, command, night, started_at, status, rules_version, rules_sha256, tool_version)
		VALUES (?, ?, ?::DATE, ?, 'running', ?, ?, ?)`, runID, command, nightArg, started, pack.Version, pack.SHA256, toolVersion); err != nil {
		return nil, fmt.Errorf("record run: %w", err)
	}
	return func(err error) {
		if err != nil {
			// The run row says why it failed; ctx may be cancelled already.
			st.DB.ExecContext(context.WithoutCancel(ctx), `UPDATE runs SET status = 'failed', error = ?, finished_at = ? WHERE run_id = ?`,
				err.Error(), time.Now().UTC(), runID)
		}
	}, nil
}

// succeedRunSQL marks a run succeeded with its manifest.
const succeedRunSQL = `UPDATE runs SET status = 'succeeded', finished_at = ?, manifest = ?::JSON WHERE run_id = ?`

// succeedRun marks a run that leaves no results of a night (a baselines
// pass, a partition) succeeded with its manifest.
func succeedRun(ctx context.Context, st *store.Store, runID string, manifest any) error {
	body, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	_, err = st.DB.ExecContext(ctx, succeedRunSQL, time.Now().UTC(), string(body), runID)
	return err
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
	if _, err := tx.ExecContext(ctx, succeedRunSQL, time.Now().UTC(), string(body), runID); err != nil {
		return 0, err
	}
	replaced, err := store.ReplaceEarlierResults(ctx, tx, night, runID)
	if err != nil {
		return 0, err
	}
	return replaced, tx.Commit()
}

// planCompaction decides whether this run's close compacts the database
// (DB.CompactEvery) and tells DuckDB; a compacting run is recorded in
// compactions before any of its work, so that a run that fails still
// counts as one (its close checkpoints all the same).
func (r *nightRun) planCompaction(ctx context.Context) error {
	every := r.cfg.DB.CompactEvery
	if every == 0 {
		every = DefaultCompactEvery
	}
	compact := false
	if every > 0 {
		var since int
		if err := r.st.DB.QueryRowContext(ctx, `SELECT count(*) FROM runs
			WHERE status = 'succeeded'
			  AND started_at > coalesce((SELECT max(started_at) FROM compactions), TIMESTAMP '-infinity')`).Scan(&since); err != nil {
			return fmt.Errorf("runs since the last compaction: %w", err)
		}
		compact = since >= every-1
	}
	if compact {
		if err := r.st.RecordCompaction(ctx, r.runID, r.started); err != nil {
			return err
		}
		r.log.Info("this run compacts the database when it closes", "every_runs", every)
		return nil
	}
	return r.st.DeferCompaction(ctx, true)
}
