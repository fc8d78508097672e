package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
)

// Recommendation is one element of recommendations.json (DESIGN §6,
// contract): the penalty the rule pack's ladder suggests for a publisher.
// The contract's keys come first, in the contract's order; the penalty
// engine's reasons (migration 003) follow as additions a consumer may
// ignore.
type Recommendation struct {
	PublisherID    string   `json:"publisher_id"`
	Action         string   `json:"action"`     // clause F.11
	PolicyRef      string   `json:"policy_ref"` // the clause the action rests on
	FindingIDs     []string `json:"finding_ids"`
	WithholdUSD    Money    `json:"withhold_usd"`
	ClawbackUSD    Money    `json:"clawback_usd"`
	AppealDeadline string   `json:"appeal_deadline"` // YYYY-MM-DD, clause G.12
	ReviewRequired bool     `json:"review_required"`
	Summary        string   `json:"summary"`

	// Severity and Confidence are those of the finding that set the
	// action; Strikes counts the earlier offences that escalated it. All
	// three are null on rows stored before the penalty engine recorded
	// them: unknown, which is not "none".
	Severity   *string `json:"severity"`
	Confidence *string `json:"confidence"`
	Strikes    *int    `json:"strikes"`
	// ShadowFindingIDs are findings of rules in test or experimental
	// status: shown, never acted on beyond a warning. Empty (never null)
	// when there are none or none were recorded.
	ShadowFindingIDs []string `json:"shadow_finding_ids"`
	// Basis is each finding's step on the ladder, as the penalty engine
	// stored it (a JSON array); null when not recorded.
	Basis json.RawMessage `json:"basis"`

	// WithholdUSD and ClawbackUSD are the money new tonight (the net change
	// tonight's dispositions make); WithheldTotalUSD and ClawedBackTotalUSD
	// what the ledger holds for the publisher after tonight. Null on rows
	// from before the ledger.
	WithheldTotalUSD   *Money `json:"withheld_total_usd"`
	ClawedBackTotalUSD *Money `json:"clawed_back_total_usd"`
	// Kind is "breach" or "correction" (commission corrections only);
	// CaseStatus the most urgent status of its cases tonight (escalated,
	// new, continuing, cleared); CaseIDs its cases; Risk severity ×
	// confidence of the finding that set the action (1–12), the review
	// queue's first key.
	Kind       *string  `json:"kind"`
	CaseStatus *string  `json:"case_status"`
	CaseIDs    []string `json:"case_ids"`
	Risk       *float64 `json:"risk"`
}

// ledgerCols are the recommendations columns of migration 005.
type ledgerCols struct {
	withheld, clawedBack, kind, status, caseIDs sql.NullString
	risk                                        sql.NullFloat64
}

func (l *ledgerCols) dest() []any {
	return []any{&l.withheld, &l.clawedBack, &l.kind, &l.status, &l.caseIDs, &l.risk}
}

func (l *ledgerCols) fill(r *Recommendation) error {
	what := "recommendation for " + r.PublisherID
	for _, m := range []struct {
		v   sql.NullString
		dst **Money
	}{{l.withheld, &r.WithheldTotalUSD}, {l.clawedBack, &r.ClawedBackTotalUSD}} {
		if m.v.Valid {
			x, err := parseMoney(m.v.String)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			*m.dst = &x
		}
	}
	if l.kind.Valid {
		r.Kind = &l.kind.String
	}
	if l.status.Valid {
		r.CaseStatus = &l.status.String
	}
	r.CaseIDs = []string{}
	if l.caseIDs.Valid {
		var err error
		if r.CaseIDs, err = stringList(l.caseIDs.String, what+" case_ids"); err != nil {
			return err
		}
	}
	if l.risk.Valid {
		r.Risk = &l.risk.Float64
	}
	return nil
}

// readRecommendations reads the run's recommendations in publisher order.
// There is one per flagged publisher, so the list is as long as the
// report's index and held in memory.
func readRecommendations(ctx context.Context, db *sql.DB, runID string) ([]Recommendation, error) {
	recs := []Recommendation{}
	err := eachRow(ctx, db, "Recommendations", []any{runID}, func(rows *sql.Rows) error {
		var (
			r                              Recommendation
			findingIDs, withhold, clawback string
			severity, confidence           sql.NullString
			strikes                        sql.NullInt64
			shadow, basis                  sql.NullString
			l                              ledgerCols
		)
		if err := rows.Scan(append([]any{&r.PublisherID, &r.Action, &r.PolicyRef, &findingIDs, &withhold, &clawback,
			&r.AppealDeadline, &r.ReviewRequired, &r.Summary,
			&severity, &confidence, &strikes, &shadow, &basis}, l.dest()...)...); err != nil {
			return err
		}
		if err := fillRecommendation(&r, findingIDs, withhold, clawback, severity, confidence, strikes, shadow, basis); err != nil {
			return err
		}
		if err := l.fill(&r); err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

// fillRecommendation decodes the columns of a recommendations row that
// need more than a Scan: id lists and basis read as JSON text, money as
// DECIMAL text, and the penalty engine's columns, NULL on older rows.
func fillRecommendation(r *Recommendation, findingIDs, withhold, clawback string,
	severity, confidence sql.NullString, strikes sql.NullInt64, shadow, basis sql.NullString) error {
	what := "recommendation for " + r.PublisherID
	var err error
	if r.FindingIDs, err = stringList(findingIDs, what+" finding_ids"); err != nil {
		return err
	}
	if r.WithholdUSD, err = parseMoney(withhold); err != nil {
		return fmt.Errorf("%s: withhold_usd: %w", what, err)
	}
	if r.ClawbackUSD, err = parseMoney(clawback); err != nil {
		return fmt.Errorf("%s: clawback_usd: %w", what, err)
	}
	if severity.Valid {
		r.Severity = &severity.String
	}
	if confidence.Valid {
		r.Confidence = &confidence.String
	}
	if strikes.Valid {
		n := int(strikes.Int64)
		r.Strikes = &n
	}
	r.ShadowFindingIDs = []string{}
	if shadow.Valid {
		if r.ShadowFindingIDs, err = stringList(shadow.String, what+" shadow_finding_ids"); err != nil {
			return err
		}
	}
	if basis.Valid {
		// The JSON column guarantees valid JSON; the check keeps a broken
		// value from corrupting the whole file all the same.
		if !json.Valid([]byte(basis.String)) {
			return fmt.Errorf("%s: basis is not JSON", what)
		}
		r.Basis = json.RawMessage(basis.String)
	}
	return nil
}

// writeRecommendations writes recommendations.json: an indented array,
// `[]` when the run recommends nothing.
func writeRecommendations(recs []Recommendation, out io.Writer) error {
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = out.Write(b)
	return err
}
