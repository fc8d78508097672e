package detectors

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Run runs each detector and stores its findings and the signals it went
// without, all in one transaction: a failed run stores nothing.
func Run(ctx context.Context, env Env, ds []Detector) ([]Finding, error) {
	var all []Finding
	for _, d := range ds {
		t0 := time.Now()
		if env.OnDetector != nil {
			env.OnDetector(d.Code(), false, 0, 0)
		}
		fs, err := RunOne(ctx, env, d)
		if err != nil {
			return nil, fmt.Errorf("detector %s: %w", d.Code(), err)
		}
		fs = env.Part.Keep(fs)
		if env.OnDetector != nil {
			env.OnDetector(d.Code(), true, time.Since(t0), len(fs))
		}
		all = append(all, fs...)
	}
	SortFindings(all)
	tx, err := env.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := insertFindings(ctx, tx, env.RunID, env.Night.DateArg(), all); err != nil {
		return nil, err
	}
	for _, s := range env.Signals.List() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO signals_unavailable VALUES (?, ?, ?, ?)`, env.RunID, s.Detector, s.Signal, s.Reason); err != nil {
			return nil, err
		}
	}
	return all, tx.Commit()
}

// findingsPerInsert bounds one INSERT's rows: a statement per finding
// cost about a millisecond each (a second and more on a night of a
// thousand findings); 16 values a row keeps a batch far below the
// driver's parameter limits.
const findingsPerInsert = 128

func insertFindings(ctx context.Context, tx *sql.Tx, runID string, night any, fs []Finding) error {
	const row = "(?, ?, ?::DATE, ?, ?, ?, ?, ?, ?, ?, ?, ?::JSON, ?, ?, ?, ?)"
	for start := 0; start < len(fs); start += findingsPerInsert {
		batch := fs[start:min(start+findingsPerInsert, len(fs))]
		args := make([]any, 0, 16*len(batch))
		for _, f := range batch {
			args = append(args, f.FindingID, runID, night, f.PublisherID, f.Detector, f.RuleID, f.RuleStatus, f.Severity, f.Score,
				f.PolicyRef, f.Summary, string(f.Evidence), f.WindowStart, f.WindowEnd, stringsOrEmpty(f.OrderIDs), f.CommissionUSD)
		}
		q := "INSERT INTO findings VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", len(batch)), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store findings %s … %s: %w", batch[0].FindingID, batch[len(batch)-1].FindingID, err)
		}
	}
	return insertSites(ctx, tx, runID, fs)
}

// insertSites stores the findings' Sites in finding_sites, one statement.
func insertSites(ctx context.Context, tx *sql.Tx, runID string, fs []Finding) error {
	ids, hosts := []string{}, []string{}
	for _, f := range fs {
		for _, h := range f.Sites {
			ids, hosts = append(ids, f.FindingID), append(hosts, h)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO finding_sites SELECT $1, unnest($2::VARCHAR[]), unnest($3::VARCHAR[])`, runID, ids, hosts); err != nil {
		return fmt.Errorf("store findings' sites: %w", err)
	}
	return nil
}

// RunOne runs one detector and completes its findings' envelope
// (Complete), storing nothing.
func RunOne(ctx context.Context, env Env, d Detector) ([]Finding, error) {
	fs, err := d.Run(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := Complete(env.Pack, d, fs); err != nil {
		return nil, err
	}
	return fs, nil
}

// sitesOf reads a stored finding's Sites (a JSON array) beside its row.
const sitesOf = `CAST(to_json(coalesce((SELECT list(s.host ORDER BY s.host) FROM finding_sites s
		WHERE s.run_id = findings.run_id AND s.finding_id = findings.finding_id), []::VARCHAR[])) AS VARCHAR)`

func stringsOrEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// Load reads back the findings a run stored, in output order.
func Load(ctx context.Context, db *sql.DB, runID string) ([]Finding, error) {
	rows, err := db.QueryContext(ctx, `SELECT finding_id, publisher_id, detector, rule_id, rule_status, severity, score,
			policy_ref, summary, evidence::VARCHAR, window_start, window_end, order_ids, commission_usd::DOUBLE, `+sitesOf+`
		FROM findings WHERE run_id = ? ORDER BY publisher_id, detector, window_start, finding_id`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var ev, sites string
		var ids []any
		if err := rows.Scan(&f.FindingID, &f.PublisherID, &f.Detector, &f.RuleID, &f.RuleStatus, &f.Severity, &f.Score,
			&f.PolicyRef, &f.Summary, &ev, &f.WindowStart, &f.WindowEnd, &ids, &f.CommissionUSD, &sites); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(sites), &f.Sites); err != nil {
			return nil, fmt.Errorf("finding %s: sites: %w", f.FindingID, err)
		}
		f.Evidence = []byte(ev)
		f.OrderIDs = []string{}
		for _, id := range ids {
			if s, ok := id.(string); ok {
				f.OrderIDs = append(f.OrderIDs, s)
			}
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// SortFindings puts findings in the order of findings.ndjson: publisher,
// detector, window start, id. A merge of partitions sorts the same way.
func SortFindings(fs []Finding) {
	sort.Slice(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.PublisherID != b.PublisherID {
			return a.PublisherID < b.PublisherID
		}
		if a.Detector != b.Detector {
			return a.Detector < b.Detector
		}
		if !a.WindowStart.Equal(b.WindowStart) {
			return a.WindowStart.Before(b.WindowStart)
		}
		return a.FindingID < b.FindingID
	})
}

// ReadFindings returns the stored findings of a run in findings.ndjson's
// order: what affwatch merge decides penalties on after it has gathered
// the partitions' findings.
func ReadFindings(ctx context.Context, db *sql.DB, runID string) ([]Finding, error) {
	rows, err := db.QueryContext(ctx, `SELECT finding_id, publisher_id, detector, rule_id, rule_status, severity, score,
		policy_ref, summary, CAST(evidence AS VARCHAR), window_start, window_end, CAST(to_json(order_ids) AS VARCHAR),
		CAST(commission_usd AS DOUBLE), `+sitesOf+`
		FROM findings WHERE run_id = ?`, runID)
	if err != nil {
		return nil, fmt.Errorf("read findings of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var evidence, orders, sites string
		if err := rows.Scan(&f.FindingID, &f.PublisherID, &f.Detector, &f.RuleID, &f.RuleStatus, &f.Severity, &f.Score,
			&f.PolicyRef, &f.Summary, &evidence, &f.WindowStart, &f.WindowEnd, &orders, &f.CommissionUSD, &sites); err != nil {
			return nil, err
		}
		f.Evidence = json.RawMessage(evidence)
		if err := json.Unmarshal([]byte(orders), &f.OrderIDs); err != nil {
			return nil, fmt.Errorf("finding %s: order ids: %w", f.FindingID, err)
		}
		if err := json.Unmarshal([]byte(sites), &f.Sites); err != nil {
			return nil, fmt.Errorf("finding %s: sites: %w", f.FindingID, err)
		}
		f.WindowStart, f.WindowEnd = f.WindowStart.UTC(), f.WindowEnd.UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	SortFindings(out)
	return out, nil
}
