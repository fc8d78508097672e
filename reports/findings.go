package reports

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// findingLine is one line of findings.ndjson (DESIGN §6, contract; rule_id
// and rule_status are additions a reviewer uses to weigh the finding).
type findingLine struct {
	FindingID     string          `json:"finding_id"`
	PublisherID   string          `json:"publisher_id"`
	Detector      string          `json:"detector"`
	RuleID        string          `json:"rule_id"`
	RuleStatus    string          `json:"rule_status"`
	Severity      string          `json:"severity"`
	Score         float64         `json:"score"`
	PolicyRef     string          `json:"policy_ref"`
	Summary       string          `json:"summary"`
	Evidence      json.RawMessage `json:"evidence"`
	WindowStart   string          `json:"window_start"`
	WindowEnd     string          `json:"window_end"`
	OrderIDs      []string        `json:"order_ids"`
	CommissionUSD Money           `json:"commission_usd"`
	// CaseID is the publisher × detector case the finding belongs to,
	// stable while the case stays open (empty on rows from before cases).
	CaseID string `json:"case_id"`
}

// writeFindings streams the run's findings as NDJSON and returns how many.
func writeFindings(ctx context.Context, db *sql.DB, runID string, out io.Writer) (int, error) {
	enc := json.NewEncoder(out)
	n := 0
	err := eachRow(ctx, db, "Findings", []any{runID}, func(rows *sql.Rows) error {
		var (
			f                              findingLine
			evidence, orderIDs, commission string
			ws, we                         time.Time
		)
		if err := rows.Scan(&f.FindingID, &f.PublisherID, &f.Detector, &f.RuleID, &f.RuleStatus, &f.Severity,
			&f.Score, &f.PolicyRef, &f.Summary, &evidence, &ws, &we, &orderIDs, &commission, &f.CaseID); err != nil {
			return err
		}
		if math.IsNaN(f.Score) || math.IsInf(f.Score, 0) {
			return fmt.Errorf("finding %s: score %v is not a number between 0 and 1", f.FindingID, f.Score)
		}
		f.Evidence = evidenceObject(evidence)
		f.WindowStart, f.WindowEnd = timestamp(ws), timestamp(we)
		var err error
		if f.OrderIDs, err = stringList(orderIDs, "finding "+f.FindingID+" order_ids"); err != nil {
			return err
		}
		if f.CommissionUSD, err = parseMoney(commission); err != nil {
			return fmt.Errorf("finding %s: commission_usd: %w", f.FindingID, err)
		}
		n++
		return enc.Encode(f)
	})
	return n, err
}

// evidenceObject returns stored evidence as the JSON object the contract
// promises. The JSON column guarantees valid JSON, not an object: anything
// else (a detector's mistake) is kept, wrapped as {"value": …}.
func evidenceObject(text string) json.RawMessage {
	b := bytes.TrimSpace([]byte(text))
	if !json.Valid(b) {
		s, _ := json.Marshal(text)
		return json.RawMessage(`{"value":` + string(s) + `}`)
	}
	if len(b) > 0 && b[0] == '{' {
		return b
	}
	return json.RawMessage(`{"value":` + string(b) + `}`)
}

// timestamp is the contract's time format: RFC 3339 in UTC with Z, with
// fractional seconds only when there are some.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
