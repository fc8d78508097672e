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
		)
		if err := rows.Scan(&r.PublisherID, &r.Action, &r.PolicyRef, &findingIDs, &withhold, &clawback,
			&r.AppealDeadline, &r.ReviewRequired, &r.Summary,
			&severity, &confidence, &strikes, &shadow, &basis); err != nil {
			return err
		}
		if err := fillRecommendation(&r, findingIDs, withhold, clawback, severity, confidence, strikes, shadow, basis); err != nil {
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
