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
		)
		if err := rows.Scan(&r.PublisherID, &r.Action, &r.PolicyRef, &findingIDs, &withhold, &clawback,
			&r.AppealDeadline, &r.ReviewRequired, &r.Summary); err != nil {
			return err
		}
		var err error
		if r.FindingIDs, err = stringList(findingIDs, "recommendation for "+r.PublisherID+" finding_ids"); err != nil {
			return err
		}
		if r.WithholdUSD, err = parseMoney(withhold); err != nil {
			return fmt.Errorf("recommendation for %s: withhold_usd: %w", r.PublisherID, err)
		}
		if r.ClawbackUSD, err = parseMoney(clawback); err != nil {
			return fmt.Errorf("recommendation for %s: clawback_usd: %w", r.PublisherID, err)
		}
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

// writeRecommendations writes recommendations.json: an indented array,
// `[]` when the run recommends nothing.
func writeRecommendations(ctx context.Context, db *sql.DB, runID string, out io.Writer) error {
	recs, err := readRecommendations(ctx, db, runID)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = out.Write(b)
	return err
}
