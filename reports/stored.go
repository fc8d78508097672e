package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrResultsReplaced is returned by StoredMeta for a run whose results a
// later run of the same night replaced (store.ReplaceEarlierResults).
var ErrResultsReplaced = errors.New("results replaced by a later run")

// StoredMeta rebuilds the Meta a succeeded run wrote its outputs with, from
// the manifest stored in its runs row, so that Write can write them again
// from the tables (DESIGN §1: each stage can be re-run alone). runID ""
// means the latest succeeded run. The times are the run's, not the
// re-render's: with the same binary the files come out byte-identical to
// the run's own, which is how a reader checks them against the database.
// toolVersion names the binary writing them.
func StoredMeta(ctx context.Context, db *sql.DB, runID, toolVersion string) (Meta, error) {
	if runID == "" {
		err := eachRow(ctx, db, "ExplainLatestRun", []any{nil, nil}, func(rows *sql.Rows) error {
			r, err := scanExplainRun(rows)
			runID = r.RunID
			return err
		})
		if err != nil {
			return Meta{}, err
		}
		if runID == "" {
			return Meta{}, fmt.Errorf("no succeeded run in the database: %w", ErrNoRun)
		}
	}
	var (
		found    bool
		status   string
		night    sql.NullString
		finished sql.NullTime
		manifest sql.NullString
	)
	err := eachRow(ctx, db, "StoredRun", []any{runID}, func(rows *sql.Rows) error {
		found = true
		var id string
		return rows.Scan(&id, &status, &night, &finished, &manifest)
	})
	if err != nil {
		return Meta{}, err
	}
	if !found {
		return Meta{}, fmt.Errorf("run %s: %w", TerminalSafe(runID), ErrNoRun)
	}
	if status != "succeeded" || !manifest.Valid || !finished.Valid {
		return Meta{}, fmt.Errorf("run %s is %s: only a succeeded run's outputs can be written again: %w", TerminalSafe(runID), TerminalSafe(status), ErrNoRun)
	}
	var nightArg any
	if night.Valid {
		nightArg = night.String
	}
	var later string
	err = eachRow(ctx, db, "StoredRunReplacedBy", []any{nightArg, finished.Time}, func(rows *sql.Rows) error {
		return rows.Scan(&later)
	})
	if err != nil {
		return Meta{}, err
	}
	if later != "" {
		return Meta{}, fmt.Errorf("run %s: %w %s of the same night; write that one's instead", TerminalSafe(runID), ErrResultsReplaced, TerminalSafe(later))
	}

	var m Manifest
	if err := json.Unmarshal([]byte(manifest.String), &m); err != nil {
		return Meta{}, fmt.Errorf("run %s: stored manifest: %w", TerminalSafe(runID), err)
	}
	meta := Meta{
		RunID: runID, Command: m.Command, ToolVersion: toolVersion,
		InputDir: m.InputDir, DBPath: m.DBPath, Strict: m.Strict,
		RulesSource: m.Rules.Source, RulesVersion: m.Rules.Version, RulesSHA256: m.Rules.SHA256,
		Timings: m.Timings, Inputs: m.Inputs,
	}
	for _, t := range []struct {
		s   *string
		dst *time.Time
	}{{m.StartedAt, &meta.StartedAt}, {m.FinishedAt, &meta.FinishedAt}} {
		if t.s == nil {
			continue
		}
		if *t.dst, err = time.Parse(time.RFC3339Nano, *t.s); err != nil {
			return Meta{}, fmt.Errorf("run %s: stored manifest: %w", TerminalSafe(runID), err)
		}
	}
	if m.Night != nil {
		if meta.Night, err = time.Parse(time.DateOnly, *m.Night); err != nil {
			return Meta{}, fmt.Errorf("run %s: stored manifest: %w", TerminalSafe(runID), err)
		}
	}
	return meta, nil
}
