package reports

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// RecommendationsCSVFile is recommendations.json as a spreadsheet: the
// enforcement team's worklist, one row per recommendation.
const RecommendationsCSVFile = "recommendations.csv"

// recommendationsCSVHeader is recommendations.csv's header. Money columns
// are the JSON's amounts in dollars and cents ("12.50"); list columns are
// joined with listSep; a column the penalty engine did not record (rows
// from before migration 003) is an empty cell.
var recommendationsCSVHeader = []string{
	"publisher_id", "action", "policy_ref", "severity", "confidence", "strikes", "review_required",
	"appeal_deadline", "withhold_usd", "clawback_usd", "finding_ids", "shadow_finding_ids", "summary",
	"withheld_total_usd", "clawed_back_total_usd", "kind", "case_status", "case_ids",
}

// writeRecommendationsCSV writes recs (in recommendations.json's order) as
// CSV. Every text cell goes through NeutralizeCell, ids and clause
// references included: they come from the database, which holds
// attacker-controlled log fields. Money, strikes and review_required are
// formatted here and cannot hold a formula.
func writeRecommendationsCSV(recs []Recommendation, out io.Writer) error {
	cw := csv.NewWriter(out)
	if err := cw.Write(recommendationsCSVHeader); err != nil {
		return err
	}
	for _, r := range recs {
		strikes := ""
		if r.Strikes != nil {
			strikes = strconv.Itoa(*r.Strikes)
		}
		if err := cw.Write([]string{
			TextCell(r.PublisherID),
			NeutralizeCell(r.Action),
			NeutralizeCell(r.PolicyRef),
			NeutralizeCell(deref(r.Severity)),
			NeutralizeCell(deref(r.Confidence)),
			strikes,
			strconv.FormatBool(r.ReviewRequired),
			NeutralizeCell(r.AppealDeadline),
			r.WithholdUSD.String(),
			r.ClawbackUSD.String(),
			NeutralizeCell(strings.Join(r.FindingIDs, listSep)),
			NeutralizeCell(strings.Join(r.ShadowFindingIDs, listSep)),
			NeutralizeCell(r.Summary),
			moneyCell(r.WithheldTotalUSD),
			moneyCell(r.ClawedBackTotalUSD),
			NeutralizeCell(deref(r.Kind)),
			NeutralizeCell(deref(r.CaseStatus)),
			NeutralizeCell(strings.Join(r.CaseIDs, listSep)),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func moneyCell(m *Money) string {
	if m == nil {
		return ""
	}
	return m.String()
}
