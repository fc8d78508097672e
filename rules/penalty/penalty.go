// Package penalty turns a run's findings into what clause F.11 lets the
// program do to a publisher, with the money at stake (7.8–7.9) and the
// appeal deadline (G.12: 5 working days). This first version recommends a
// written warning (F.11.a) for every flagged publisher and itemizes the
// orders the findings disqualify; the full ladder (severity × confidence ×
// history) comes with the penalty engine.
//
// Money: an order named by several findings counts once, at the most any
// one of them puts at stake on it: its booked commission, or for a finding
// that itemizes its orders (evidence `order_reasons`, e.g. invalid_commission)
// that finding's at_stake_usd for the order (only the excess of an overpaid
// order), never more than was booked. Pending orders are withheld, completed
// ones clawed back; sums are kept in US$0.0001 units, rounded to the cent
// only in the outputs.
package penalty

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/rules"
)

// AppealWorkingDays is the Claim Period of clause G.12.
const AppealWorkingDays = 5

// Recommendation is one element of recommendations.json (DESIGN §6).
type Recommendation struct {
	PublisherID    string   `json:"publisher_id"`
	Action         string   `json:"action"`
	PolicyRef      string   `json:"policy_ref"`
	FindingIDs     []string `json:"finding_ids"`
	WithholdUSD    float64  `json:"withhold_usd"`
	ClawbackUSD    float64  `json:"clawback_usd"`
	AppealDeadline string   `json:"appeal_deadline"`
	ReviewRequired bool     `json:"review_required"`
	Summary        string   `json:"summary"`
}

// Apply computes and stores the recommendations and disqualified orders of
// a run. runDate is the day the action would be taken (the night processed).
func Apply(ctx context.Context, db *sql.DB, pack *rules.Pack, runID string, night, runDate time.Time, findings []detectors.Finding) ([]Recommendation, error) {
	byPub := map[string][]detectors.Finding{}
	var pubs []string
	for _, f := range findings {
		if _, ok := byPub[f.PublisherID]; !ok {
			pubs = append(pubs, f.PublisherID)
		}
		byPub[f.PublisherID] = append(byPub[f.PublisherID], f)
	}
	sort.Strings(pubs)
	deadline := pack.Calendar.AddWorkingDays(runDate, AppealWorkingDays).Format(time.DateOnly)
	var nightArg any
	if !night.IsZero() {
		nightArg = night.Format(time.DateOnly)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	orderInfo, err := orderStatus(ctx, tx, findings)
	if err != nil {
		return nil, err
	}
	var recs []Recommendation
	for _, pub := range pubs {
		fs := byPub[pub]
		// One order may be named by several findings: money counts it once,
		// at the most any one finding puts at stake on it (never the sum).
		orders := map[string][]string{} // order id → finding ids
		reasons := map[string]map[string]bool{}
		stake := map[string]unit{}
		var ids, codes []string
		review := false
		seenCode := map[string]bool{}
		for _, f := range fs {
			ids = append(ids, f.FindingID)
			if !seenCode[f.Detector] {
				seenCode[f.Detector] = true
				codes = append(codes, f.Detector)
			}
			var ev struct {
				SingleSignal bool `json:"single_signal"`
				// OrderReasons, when a finding has them, itemize each order:
				// its reason codes and the money at stake on it (an overpaid
				// order puts only the excess at stake).
				OrderReasons map[string]struct {
					Reasons    []string `json:"reasons"`
					AtStakeUSD float64  `json:"at_stake_usd"`
				} `json:"order_reasons"`
			}
			_ = json.Unmarshal(f.Evidence, &ev)
			review = review || ev.SingleSignal
			for _, o := range f.OrderIDs {
				orders[o] = append(orders[o], f.FindingID)
				if reasons[o] == nil {
					reasons[o] = map[string]bool{}
				}
				at := orderInfo[o].commission
				if or, ok := ev.OrderReasons[o]; ok && len(or.Reasons) > 0 {
					for _, r := range or.Reasons {
						reasons[o][f.Detector+":"+r] = true
					}
					at = min(usdUnits(or.AtStakeUSD), at)
				} else {
					reasons[o][f.Detector] = true
				}
				stake[o] = max(stake[o], at)
			}
		}
		var withhold, clawback unit
		orderIDs := make([]string, 0, len(orders))
		for o := range orders {
			orderIDs = append(orderIDs, o)
		}
		sort.Strings(orderIDs)
		for _, o := range orderIDs {
			info := orderInfo[o]
			c := stake[o]
			// Paid but not yet completed: the commission is still pending and
			// can be withheld; completed: it was paid and must be clawed back.
			switch info.status {
			case "completed":
				clawback += c
			default:
				withhold += c
			}
			rc := keys(reasons[o])
			if _, err := tx.ExecContext(ctx, `INSERT INTO disqualified_orders VALUES (?, ?::DATE, ?, ?, ?, ?, ?::DECIMAL(18,4))`,
				runID, nightArg, o, pub, rc, orders[o], c.decimal()); err != nil {
				return nil, fmt.Errorf("store disqualified order %s: %w", o, err)
			}
		}
		r := Recommendation{
			PublisherID: pub, Action: "warning", PolicyRef: "F.11.a", FindingIDs: ids,
			WithholdUSD: withhold.cents(), ClawbackUSD: clawback.cents(), AppealDeadline: deadline,
			ReviewRequired: review,
			Summary: fmt.Sprintf("Written warning (F.11.a) for %s: %d finding(s), %d order(s) disqualified; the publisher may object until %s (G.12).",
				strings.Join(codes, ", "), len(fs), len(orderIDs), deadline),
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO recommendations VALUES (?, ?::DATE, ?, ?, ?, ?, ?, ?, ?::DATE, ?, ?)`,
			runID, nightArg, r.PublisherID, r.Action, r.PolicyRef, r.FindingIDs, r.WithholdUSD, r.ClawbackUSD, r.AppealDeadline, r.ReviewRequired, r.Summary); err != nil {
			return nil, fmt.Errorf("store recommendation for %s: %w", pub, err)
		}
		recs = append(recs, r)
	}
	return recs, tx.Commit()
}

type orderFacts struct {
	status     string
	commission unit // booked
}

// unit is money in US$0.0001, the store's DECIMAL(18,4) as an integer, so
// sums over many orders never drift.
type unit int64

func usdUnits(x float64) unit { return unit(math.Round(x * 1e4)) }

// cents rounds to the cent (half up) for the outputs.
func (u unit) cents() float64 {
	c := (int64(u) + 50) / 100
	if u < 0 {
		c = -((-int64(u) + 50) / 100)
	}
	return float64(c) / 100
}

// decimal is the exact text of u for a DECIMAL(18,4) parameter.
func (u unit) decimal() string {
	sign, v := "", int64(u)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%04d", sign, v/1e4, v%1e4)
}

// orderStatus reads, in one query, the status and booked commission of
// every order the findings name.
func orderStatus(ctx context.Context, tx *sql.Tx, findings []detectors.Finding) (map[string]orderFacts, error) {
	seen := map[string]bool{}
	var ids []string
	for _, f := range findings {
		for _, o := range f.OrderIDs {
			if !seen[o] {
				seen[o] = true
				ids = append(ids, o)
			}
		}
	}
	out := map[string]orderFacts{}
	if len(ids) == 0 {
		return out, nil
	}
	sort.Strings(ids)
	rows, err := tx.QueryContext(ctx, `SELECT order_id, coalesce(status, ''), (coalesce(commission_usd, 0) * 10000)::BIGINT
		FROM orders WHERE order_id IN (SELECT unnest(?::VARCHAR[]))`, ids)
	if err != nil {
		return nil, fmt.Errorf("read disqualified orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var f orderFacts
		if err := rows.Scan(&id, &f.status, &f.commission); err != nil {
			return nil, err
		}
		out[id] = f
	}
	return out, rows.Err()
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
