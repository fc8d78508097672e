// Package penalty turns a run's findings into what clause F.11 lets the
// program do to a publisher, with the money at stake (7.8–7.9) and the
// appeal deadline (G.12), following the rule pack's `penalties` ladder.
//
// Per finding: its first rung comes from severity × confidence (the pack's
// ladder; one signal only means low confidence); each earlier strike moves
// it one rung up, never past the severity's max_action. Strikes are the
// publisher's earlier offences against stable rules, one per cure period
// (nightly windows overlap: the same breach seen again the next night is
// not a new offence), minus what a cleared appeal covers. Findings of rules
// that are not stable (shadow mode) stay at shadow_max_action and take no
// money; commission corrections (invalid_commission) withhold or deduct
// exactly their orders and never escalate. The publisher's action is its
// highest finding's rung.
//
// Known-good cases are data: allow-list entries of the pack, and cleared
// appeals naming a finding id, move matching findings to
// suppressed_findings (the report lists them) before anything is decided.
//
// Money: only findings whose rung takes money (withhold_payment or above)
// disqualify their orders; a warning or a cure period takes none. An order
// named by several findings counts once, at the most any one of them puts at
// stake on it: its booked commission, or for a finding that itemizes its
// orders (evidence `order_reasons`) that finding's at_stake_usd for the
// order, never more than was booked. Pending orders are withheld, completed
// ones clawed back; sums are kept in US$0.0001 units, rounded to the cent
// only in the outputs.
//
// Across nights (issue 14): the ledger of dispositions (ledger.go) makes
// each disqualified order new once and says what later nights change
// (amended, released by a cleared appeal), so the nightly 7.8 reports add
// up; cases (cases.go) follow a publisher × detector while findings keep
// coming. Routine commission corrections need no review unless the
// publisher's rate of invalid orders is anomalous (review.go).
package penalty

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/rules"
)

//go:embed penalty.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// moneyRung is the first rung that takes money (F.11.c withholding).
var moneyRung = rules.ActionRung("withhold_payment")

// Recommendation is one element of recommendations.json (DESIGN §6): the
// contract's keys, then why the action is what it is.
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

	// Severity and Confidence are those of the finding that set the action.
	Severity   string `json:"severity"`
	Confidence string `json:"confidence"`
	// Strikes are the earlier offences counted (history).
	Strikes int `json:"strikes"`
	// ShadowFindingIDs are findings of rules that are not stable: shown,
	// never acted on beyond shadow_max_action.
	ShadowFindingIDs []string `json:"shadow_finding_ids"`
	Basis            []Step   `json:"basis"`

	// WithholdUSD and ClawbackUSD above are the money new tonight: the net
	// change tonight's dispositions make in the ledger. The totals the
	// ledger holds for the publisher after tonight stand here.
	WithheldTotalUSD   float64 `json:"withheld_total_usd"`
	ClawedBackTotalUSD float64 `json:"clawed_back_total_usd"`
	// Kind is "breach" when a finding alleges a breach of the Rules,
	// "correction" when the recommendation only corrects commission.
	Kind string `json:"kind"`
	// CaseStatus is the most urgent status of the publisher's cases
	// tonight (escalated, new, continuing, cleared); CaseIDs its cases.
	CaseStatus string   `json:"case_status"`
	CaseIDs    []string `json:"case_ids"`
	// Risk orders the review queue: severity × confidence of the finding
	// that set the action (1 … 12).
	Risk float64 `json:"risk"`

	// what summary needs once the ledger says what is new tonight
	top                       Step
	codes                     []string
	orders                    int
	allShadow, correctionOnly bool
}

// Step is one finding's place on the ladder.
type Step struct {
	FindingID  string  `json:"finding_id"`
	Detector   string  `json:"detector"`
	RuleStatus string  `json:"rule_status"`
	Severity   string  `json:"severity"`
	Score      float64 `json:"score"`
	Confidence string  `json:"confidence"`
	Action     string  `json:"action"`
	PolicyRef  string  `json:"policy_ref"`
	// Note says how the rung was reached, in words a reviewer reads.
	Note string `json:"note"`
	// Review says whether this step needs a person's decision.
	Review bool `json:"review"`
	// CaseID is the case the finding belongs to.
	CaseID string `json:"case_id,omitempty"`

	rung        int
	correction  bool
	pendingOnly bool // puts only pending orders at stake
	shadow      bool
	single      bool
}

// Suppression is a finding kept out of the run's actions, and why.
type Suppression struct {
	Finding detectors.Finding
	By      string // "allowlist" or "appeal"
	Detail  map[string]string
}

// Result is what Apply decided.
type Result struct {
	Recommendations []Recommendation
	Suppressed      []Suppression
	// Dispositions counts tonight's rows of the ledger (new, amended,
	// released).
	Dispositions int
}

// Apply decides and stores the recommendations, disqualified orders,
// suppressions, dispositions and case events of a run. runDate is the day the action would be taken (the
// night processed; the last day of a backfill): the appeal deadline counts
// from it, allow-list expiry and history are judged on it.
func Apply(ctx context.Context, db *sql.DB, pack *rules.Pack, runID string, night, runDate time.Time, findings []detectors.Finding) (*Result, error) {
	pen := pack.Penalties
	var nightArg any
	if !night.IsZero() {
		nightArg = night.Format(time.DateOnly)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	acting, suppressed, err := suppress(ctx, tx, pack, runDate, findings)
	if err != nil {
		return nil, err
	}
	if len(suppressed) > 0 {
		type row struct {
			ID     string `json:"id"`
			By     string `json:"by"`
			Detail string `json:"detail"`
		}
		rows := make([]row, len(suppressed))
		ids := make([]string, len(suppressed))
		for i, s := range suppressed {
			detail, _ := json.Marshal(s.Detail)
			rows[i] = row{s.Finding.FindingID, s.By, string(detail)}
			ids[i] = s.Finding.FindingID
		}
		body, err := json.Marshal(rows)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, queries["Suppress"], runID, string(body)); err != nil {
			return nil, fmt.Errorf("suppress findings: %w", err)
		}
		if _, err := tx.ExecContext(ctx, queries["DeleteSuppressed"], runID, ids); err != nil {
			return nil, fmt.Errorf("suppress findings: %w", err)
		}
	}

	byPub := map[string][]detectors.Finding{}
	var pubs []string
	for _, f := range acting {
		if _, ok := byPub[f.PublisherID]; !ok {
			pubs = append(pubs, f.PublisherID)
		}
		byPub[f.PublisherID] = append(byPub[f.PublisherID], f)
	}
	sort.Strings(pubs)
	strikes, err := earlierStrikes(ctx, tx, pen, runID, nightArg, runDate, pubs)
	if err != nil {
		return nil, err
	}
	orderInfo, err := orderFactsOf(ctx, tx, acting)
	if err != nil {
		return nil, err
	}
	deadline := pack.Calendar.AddWorkingDays(runDate, pen.AppealWorkingDays).Format(time.DateOnly)

	res := &Result{Suppressed: suppressed}
	type dqRow struct {
		OrderID       string   `json:"order_id"`
		PublisherID   string   `json:"publisher_id"`
		ReasonCodes   []string `json:"reason_codes"`
		FindingIDs    []string `json:"finding_ids"`
		CommissionUSD string   `json:"commission_usd"`
	}
	type recRow struct {
		Recommendation
		WithholdText        string `json:"withhold_usd"`
		ClawbackText        string `json:"clawback_usd"`
		WithheldTotalText   string `json:"withheld_total_usd"`
		ClawedBackTotalText string `json:"clawed_back_total_usd"`
		BasisText           string `json:"basis"`
	}
	var dqRows []dqRow
	var recRows []recRow
	var tonight []dqOrder
	recs := make([]Recommendation, 0, len(pubs))
	steps := map[string]Step{}
	for _, pub := range pubs {
		r, dq, err := decide(pen, pub, byPub[pub], strikes[pub], orderInfo, deadline)
		if err != nil {
			return nil, err
		}
		for _, d := range dq {
			dqRows = append(dqRows, dqRow{d.orderID, pub, d.reasons, d.findingIDs, d.stake.decimal()})
			of := orderInfo[d.orderID]
			d.stake = d.stake.roundCents()
			tonight = append(tonight, dqOrder{disqualified: d, publisherID: pub, status: of.status, ts: of.ts, amount: of.amount})
		}
		for _, s := range r.Basis {
			steps[s.FindingID] = s
		}
		recs = append(recs, r)
	}

	// Cases: tonight's findings, acting and suppressed, against the open
	// cases of earlier nights.
	priorCases, err := readPriorCases(ctx, tx, runID, nightArg, runDate)
	if err != nil {
		return nil, err
	}
	appeals, err := readClearedAppeals(ctx, tx, runDate)
	if err != nil {
		return nil, err
	}
	events, caseOf := judgeCases(priorCases, appeals, acting, steps, suppressed, runDate, pen.QuietNights())
	statusOf := map[string]string{}
	for _, e := range events {
		if len(e.FindingIDs) > 0 {
			statusOf[e.CaseID] = e.Status
		}
	}
	for i := range tonight {
		for _, f := range tonight[i].findingIDs {
			tonight[i].caseIDs = union(tonight[i].caseIDs, []string{caseOf[f]})
		}
	}

	// The ledger: tonight's dispositions against the earlier nights'.
	var named []string
	for _, d := range tonight {
		named = append(named, d.orderID)
	}
	appealPubs := map[string]bool{}
	for _, a := range appeals {
		appealPubs[a.publisher] = true
	}
	prior, err := readLedger(ctx, tx, runID, nightArg, runDate, named, keys(appealPubs))
	if err != nil {
		return nil, err
	}
	entries := judgeLedger(prior, tonight, appeals)
	totals, err := ledgerTotals(ctx, tx, runID, nightArg, runDate, pubs)
	if err != nil {
		return nil, err
	}
	type money struct{ withhold, clawback unit }
	newTonight := map[string]money{}
	newOrders := map[string]int{}
	for _, e := range entries {
		m := newTonight[e.PublisherID]
		t := totals[e.PublisherID]
		if e.Money == "clawback" {
			m.clawback += e.delta
			t[1] += e.delta
		} else {
			m.withhold += e.delta
			t[0] += e.delta
		}
		newTonight[e.PublisherID], totals[e.PublisherID] = m, t
		if e.Change == ChangeNew {
			newOrders[e.PublisherID]++
		}
	}
	for i := range recs {
		r := &recs[i]
		urgency := -1
		for j := range r.Basis {
			id := caseOf[r.Basis[j].FindingID]
			r.Basis[j].CaseID = id
			r.CaseIDs = union(r.CaseIDs, []string{id})
			if st := statusOf[id]; caseUrgency[st] > urgency {
				urgency, r.CaseStatus = caseUrgency[st], st
			}
		}
		m, t := newTonight[r.PublisherID], totals[r.PublisherID]
		r.WithholdUSD, r.ClawbackUSD = m.withhold.cents(), m.clawback.cents()
		r.WithheldTotalUSD, r.ClawedBackTotalUSD = t[0].cents(), t[1].cents()
		r.Summary = summaryWithLedger(r, newOrders[r.PublisherID])
		basis, err := json.Marshal(r.Basis)
		if err != nil {
			return nil, err
		}
		recRows = append(recRows, recRow{Recommendation: *r, WithholdText: m.withhold.decimal(), ClawbackText: m.clawback.decimal(),
			WithheldTotalText: t[0].decimal(), ClawedBackTotalText: t[1].decimal(), BasisText: string(basis)})
	}
	res.Recommendations = recs
	res.Dispositions = len(entries)
	if len(events) > 0 {
		body, err := json.Marshal(events)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, queries["InsertCaseEvents"], runID, nightArg, runDate.Format(time.DateOnly), string(body)); err != nil {
			return nil, fmt.Errorf("store cases: %w", err)
		}
	}
	if len(entries) > 0 {
		body, err := json.Marshal(entries)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, queries["InsertDispositions"], runID, nightArg, runDate.Format(time.DateOnly), string(body)); err != nil {
			return nil, fmt.Errorf("store the disposition ledger: %w", err)
		}
	}
	// One statement per table, whatever the count: no per-row round trips.
	if len(dqRows) > 0 {
		body, err := json.Marshal(dqRows)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, queries["InsertDisqualified"], runID, nightArg, string(body)); err != nil {
			return nil, fmt.Errorf("store disqualified orders: %w", err)
		}
	}
	if len(recRows) > 0 {
		body, err := json.Marshal(recRows)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, queries["InsertRecommendations"], runID, nightArg, string(body)); err != nil {
			return nil, fmt.Errorf("store recommendations: %w", err)
		}
	}
	return res, tx.Commit()
}

type disqualified struct {
	orderID    string
	reasons    []string
	findingIDs []string
	stake      unit
}

// decide computes one publisher's recommendation and disqualified orders.
func decide(pen rules.Penalties, pub string, fs []detectors.Finding, strikes int, orderInfo map[string]orderFacts, deadline string) (Recommendation, []disqualified, error) {
	facts := make([]detectors.PenaltyFacts, len(fs))
	for i, f := range fs {
		var err error
		if facts[i], err = f.Facts(); err != nil {
			return Recommendation{}, nil, err
		}
	}
	// stakeOf is what finding i puts at stake on order o.
	stakeOf := func(i int, o string) unit {
		at := orderInfo[o].commission
		if or, ok := facts[i].OrderReasons[o]; ok && len(or.Reasons) > 0 {
			at = min(usdUnits(or.AtStakeUSD), at)
		}
		return at
	}
	steps := make([]Step, len(fs))
	for i, f := range fs {
		s := Step{FindingID: f.FindingID, Detector: f.Detector, RuleStatus: f.RuleStatus, Severity: f.Severity,
			Score: f.Score, single: facts[i].SingleSignal}
		s.Confidence = pen.ConfidenceOf(f.Score, s.single)
		base := rules.ActionRung(pen.Ladder[f.Severity][s.Confidence])
		if base < 0 { // an unknown severity: the mildest measure
			base = 0
		}
		switch {
		case pen.IsCorrection(f.Detector):
			s.correction = true
			var paid, pending unit
			for _, o := range f.OrderIDs {
				if orderInfo[o].status == "completed" {
					paid += stakeOf(i, o)
				} else {
					pending += stakeOf(i, o)
				}
			}
			anomalous, why := correctionAnomalous(pen, facts[i])
			switch {
			case s.single && pending > 0:
				// Only the delivery country differs from the click's: the
				// terms pay such orders "not in full", by an amount they do
				// not state. Pending money waits for a reviewer to set the
				// cut; nothing paid is clawed back on this ground alone.
				s.rung, s.pendingOnly = rules.ActionRung(pen.CorrectionPending), true
				s.Note = "commission correction (7.8–7.9) on a single ground: pending commission is withheld until a reviewer sets the cut; nothing paid is clawed back on it"
			case s.single:
				s.rung, s.pendingOnly = 0, true
				s.Note = "commission correction on a single ground with nothing pending: a notice for review, nothing clawed back"
			case paid > 0:
				s.rung = rules.ActionRung(pen.CorrectionPaid)
				s.Note = "commission correction (7.8–7.9): paid commission on disqualified orders is deducted; no breach of the Rules alleged"
			case pending > 0:
				s.rung = rules.ActionRung(pen.CorrectionPending)
				s.Note = "commission correction (7.8–7.9): pending commission on disqualified orders is withheld; no breach of the Rules alleged"
			default:
				s.rung = 0
				s.Note = "commission correction with no commission at stake: a notice only"
			}
			// Routine corrections go straight to the 7.8 report; a person
			// reviews only an anomalous rate of invalid orders, or the cut
			// of a single-ground withholding.
			s.Review = anomalous || (s.single && pending > 0)
			s.Note += "; " + why
		case f.RuleStatus != "stable":
			s.shadow = true
			s.rung = min(base, rules.ActionRung(pen.ShadowMaxAction))
			s.Note = fmt.Sprintf("rule status %q (shadow mode): shown, never acted on beyond %s", f.RuleStatus, pen.ShadowMaxAction)
			s.Review = s.single
		default:
			maxRung := rules.ActionRung(pen.MaxAction[f.Severity])
			if maxRung < 0 {
				maxRung = base
			}
			s.rung = min(base+strikes, max(maxRung, base))
			s.Note = fmt.Sprintf("%s severity, %s confidence: %s", f.Severity, s.Confidence, rules.Actions[base])
			if strikes > 0 {
				s.Note += fmt.Sprintf("; %s for %d earlier strike(s)", escalation(s.rung-base), strikes)
				if s.rung < base+strikes {
					s.Note += fmt.Sprintf(", capped at %s for %s severity", rules.Actions[s.rung], f.Severity)
				}
			}
		}
		if !s.correction && !s.shadow {
			s.Review = s.single || s.rung > 0
		}
		s.Action = rules.Actions[s.rung]
		s.PolicyRef = rules.ActionClause(s.Action)
		steps[i] = s
	}

	// The action: the highest rung; among equals the worse severity, then
	// the higher score, then the finding id (deterministic).
	top := 0
	for i := range steps {
		a, b := steps[i], steps[top]
		if a.rung != b.rung {
			if a.rung > b.rung {
				top = i
			}
			continue
		}
		if ra, rb := detectors.SeverityRank(a.Severity), detectors.SeverityRank(b.Severity); ra != rb {
			if ra > rb {
				top = i
			}
			continue
		}
		if a.Score != b.Score {
			if a.Score > b.Score {
				top = i
			}
			continue
		}
		if a.FindingID < b.FindingID {
			top = i
		}
	}
	action := steps[top].Action

	// Money and disqualified orders: only findings whose rung takes money.
	orders := map[string][]string{}
	reasons := map[string]map[string]bool{}
	stake := map[string]unit{}
	var ids, shadow, codes []string
	seenCode := map[string]bool{}
	review, allShadow, anyCorrectionOnly := false, true, true
	for i, f := range fs {
		ids = append(ids, f.FindingID)
		s := steps[i]
		if s.shadow {
			shadow = append(shadow, f.FindingID)
		} else {
			allShadow = false
		}
		if !s.correction {
			anyCorrectionOnly = false
		}
		if !seenCode[f.Detector] {
			seenCode[f.Detector] = true
			codes = append(codes, f.Detector)
		}
		review = review || s.Review
		if s.shadow || s.rung < moneyRung {
			continue
		}
		for _, o := range f.OrderIDs {
			if s.pendingOnly && orderInfo[o].status == "completed" {
				continue
			}
			orders[o] = append(orders[o], f.FindingID)
			if reasons[o] == nil {
				reasons[o] = map[string]bool{}
			}
			if or, ok := facts[i].OrderReasons[o]; ok && len(or.Reasons) > 0 {
				for _, r := range or.Reasons {
					reasons[o][f.Detector+":"+r] = true
				}
			} else {
				reasons[o][f.Detector] = true
			}
			stake[o] = max(stake[o], stakeOf(i, o))
		}
	}
	var withhold, clawback unit
	orderIDs := make([]string, 0, len(orders))
	for o := range orders {
		orderIDs = append(orderIDs, o)
	}
	sort.Strings(orderIDs)
	var dq []disqualified
	for _, o := range orderIDs {
		// Paid but not yet completed: the commission is still pending and
		// can be withheld; completed: it was paid and must be clawed back.
		// Sums of the per-order amounts rounded to the cent, as clause 7.8's
		// itemized report shows them: its lines add up to the money.
		if orderInfo[o].status == "completed" {
			clawback += stake[o].roundCents()
		} else {
			withhold += stake[o].roundCents()
		}
		dq = append(dq, disqualified{orderID: o, reasons: keys(reasons[o]), findingIDs: orders[o], stake: stake[o]})
	}
	// A person confirms a breach harsher than a warning, anything that
	// rests on one signal, a warning that rests on unproven rules only, and
	// commission corrections only when the publisher's rate of invalid
	// orders is anomalous (routine corrections go to the 7.8 report).
	review = review || allShadow
	if shadow == nil {
		shadow = []string{}
	}
	r := Recommendation{
		PublisherID: pub, Action: action, PolicyRef: rules.ActionClause(action), FindingIDs: ids,
		WithholdUSD: withhold.cents(), ClawbackUSD: clawback.cents(), AppealDeadline: deadline,
		ReviewRequired: review, Severity: steps[top].Severity, Confidence: steps[top].Confidence,
		Strikes: strikes, ShadowFindingIDs: shadow, Basis: steps,
	}
	r.Kind = "breach"
	if anyCorrectionOnly {
		r.Strikes = 0
		r.Kind = "correction"
	}
	r.Risk = risk(steps[top].Severity, steps[top].Confidence)
	r.top, r.codes, r.orders, r.allShadow, r.correctionOnly = steps[top], codes, len(orderIDs), allShadow, anyCorrectionOnly
	r.Summary = summaryWithLedger(&r, -1)
	return r, dq, nil
}

func escalation(n int) string {
	if n == 1 {
		return "one rung up"
	}
	return fmt.Sprintf("%d rungs up", n)
}

var actionWords = map[string]string{
	"warning":          "Written warning",
	"cure_period":      "Cure period",
	"withhold_payment": "Withhold payment",
	"deduct":           "Deduct",
	"terminate":        "Terminate the account",
	"restrict":         "Restrict collaboration",
	"ban_registration": "Bar future registration",
}

// summaryWithLedger is the recommendation's one sentence for a reviewer;
// newOrders is how many of its orders are new in the ledger tonight (-1:
// not known yet).
func summaryWithLedger(r *Recommendation, newOrders int) string {
	top, codes, orders, allShadow, correctionOnly := r.top, r.codes, r.orders, r.allShadow, r.correctionOnly
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)", actionWords[r.Action], r.PolicyRef)
	switch {
	case correctionOnly:
		fmt.Fprintf(&b, ": commission correction under 7.8–7.9, no breach of the Rules alleged")
	case allShadow:
		fmt.Fprintf(&b, " at most: %s only from rules in shadow mode (not stable)", strings.Join(codes, ", "))
	default:
		fmt.Fprintf(&b, " for %s: %s %s severity, %s confidence", strings.Join(codes, ", "), top.Detector, top.Severity, top.Confidence)
		if r.Strikes > 0 {
			fmt.Fprintf(&b, ", %d earlier strike(s)", r.Strikes)
		}
	}
	if orders > 0 {
		fmt.Fprintf(&b, "; %d order(s) disqualified", orders)
		if newOrders >= 0 {
			fmt.Fprintf(&b, " (%d new tonight)", newOrders)
		}
		if r.WithholdUSD != 0 {
			fmt.Fprintf(&b, ", US$%.2f pending withheld tonight", r.WithholdUSD)
		}
		if r.ClawbackUSD != 0 {
			fmt.Fprintf(&b, ", US$%.2f paid to claw back tonight", r.ClawbackUSD)
		}
		if newOrders >= 0 && (r.WithheldTotalUSD != r.WithholdUSD || r.ClawedBackTotalUSD != r.ClawbackUSD) {
			fmt.Fprintf(&b, " (held in all: US$%.2f withheld, US$%.2f clawed back)", r.WithheldTotalUSD, r.ClawedBackTotalUSD)
		}
	}
	switch {
	case r.ReviewRequired:
		b.WriteString("; a reviewer must confirm first")
	case correctionOnly:
		b.WriteString("; routine: straight to the 7.8 report, no review")
	}
	fmt.Fprintf(&b, "; the publisher may object until %s (G.12).", r.AppealDeadline)
	return b.String()
}

// earlierStrikes counts each publisher's strikes: earlier offence days,
// one per strike gap, the first at the oldest day.
func earlierStrikes(ctx context.Context, tx *sql.Tx, pen rules.Penalties, runID string, nightArg any, runDate time.Time, pubs []string) (map[string]int, error) {
	out := map[string]int{}
	if len(pubs) == 0 {
		return out, nil
	}
	corrections := pen.Corrections
	if corrections == nil {
		corrections = []string{}
	}
	rows, err := tx.QueryContext(ctx, queries["EarlierOffences"], runID, nightArg, pubs, corrections,
		runDate.Format(time.DateOnly), pen.History.LookbackDays, pen.History.StrikeGapDays)
	if err != nil {
		return nil, fmt.Errorf("read earlier offences: %w", err)
	}
	defer rows.Close()
	last := map[string]time.Time{}
	gap := time.Duration(pen.History.StrikeGapDays) * 24 * time.Hour
	for rows.Next() {
		var pub string
		var day time.Time
		if err := rows.Scan(&pub, &day); err != nil {
			return nil, err
		}
		if l, ok := last[pub]; ok && day.Sub(l) < gap {
			continue
		}
		out[pub]++
		last[pub] = day
	}
	return out, rows.Err()
}

// suppress splits findings into those that act and those an active
// allow-list entry or a cleared appeal suppresses.
func suppress(ctx context.Context, tx *sql.Tx, pack *rules.Pack, runDate time.Time, findings []detectors.Finding) ([]detectors.Finding, []Suppression, error) {
	if len(findings) == 0 {
		return nil, nil, nil
	}
	ids := make([]string, len(findings))
	for i, f := range findings {
		ids[i] = f.FindingID
	}
	cleared := map[string]map[string]string{}
	rows, err := tx.QueryContext(ctx, queries["ClearedFindings"], ids)
	if err != nil {
		return nil, nil, fmt.Errorf("read appeals: %w", err)
	}
	for rows.Next() {
		var fid, id, det, on, by, note string
		if err := rows.Scan(&fid, &id, &det, &on, &by, &note); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if _, ok := cleared[fid]; !ok {
			cleared[fid] = map[string]string{"appeal_id": id, "detector": det, "decided_on": on, "decided_by": by, "note": note}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var active []rules.AllowEntry
	for _, e := range pack.AllowList {
		if e.Active(runDate) {
			active = append(active, e)
		}
	}
	sites, err := publisherSiteHosts(ctx, tx, active, findings)
	if err != nil {
		return nil, nil, err
	}
	var acting []detectors.Finding
	var out []Suppression
	for _, f := range findings {
		if d, ok := cleared[f.FindingID]; ok {
			out = append(out, Suppression{Finding: f, By: "appeal", Detail: d})
			continue
		}
		if e, ok := allowed(active, f, sites); ok {
			d := map[string]string{"rule": e.Rule, "reason": e.Reason, "approved_by": e.ApprovedBy, "expires": e.Expires}
			if e.PublisherID != "" {
				d["publisher_id"] = e.PublisherID
			} else {
				d["domain"] = e.Domain
			}
			out = append(out, Suppression{Finding: f, By: "allowlist", Detail: d})
			continue
		}
		acting = append(acting, f)
	}
	return acting, out, nil
}

// allowed returns the first active entry that covers f.
func allowed(entries []rules.AllowEntry, f detectors.Finding, sites map[string][]string) (rules.AllowEntry, bool) {
	var hosts []string
	hostsRead := false
	for _, e := range entries {
		if !e.MatchesRule(f.Detector, f.RuleID) {
			continue
		}
		if e.PublisherID != "" {
			if e.PublisherID == f.PublisherID {
				return e, true
			}
			continue
		}
		if !hostsRead {
			hosts, hostsRead = f.Sites, true
			if len(hosts) == 0 {
				hosts = sites[f.PublisherID]
			}
		}
		d := detectors.HostOf(e.Domain)
		for _, h := range hosts {
			if h == d || strings.HasSuffix(h, "."+d) {
				return e, true
			}
		}
	}
	return rules.AllowEntry{}, false
}

// publisherSiteHosts reads the site hosts of publishers with findings, only
// when an allow-list entry names a domain.
func publisherSiteHosts(ctx context.Context, tx *sql.Tx, entries []rules.AllowEntry, findings []detectors.Finding) (map[string][]string, error) {
	out := map[string][]string{}
	byDomain := false
	for _, e := range entries {
		byDomain = byDomain || e.Domain != ""
	}
	if !byDomain {
		return out, nil
	}
	seen := map[string]bool{}
	var pubs []string
	for _, f := range findings {
		if !seen[f.PublisherID] {
			seen[f.PublisherID] = true
			pubs = append(pubs, f.PublisherID)
		}
	}
	rows, err := tx.QueryContext(ctx, queries["PublisherSites"], pubs)
	if err != nil {
		return nil, fmt.Errorf("read publisher sites: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pub string
		var u sql.NullString
		if err := rows.Scan(&pub, &u); err != nil {
			return nil, err
		}
		if h := detectors.HostOf(u.String); h != "" {
			out[pub] = append(out[pub], h)
		}
	}
	return out, rows.Err()
}

type orderFacts struct {
	status     string
	commission unit // booked
	ts         time.Time
	amount     *string // amount_usd as DECIMAL text; nil when unknown
}

// unit is money in US$0.0001, the store's DECIMAL(18,4) as an integer, so
// sums over many orders never drift.
type unit int64

func usdUnits(x float64) unit { return unit(math.Round(x * 1e4)) }

// cents rounds to the cent (half away from zero) for the outputs.
func (u unit) cents() float64 {
	c := (int64(u) + 50) / 100
	if u < 0 {
		c = -((-int64(u) + 50) / 100)
	}
	return float64(c) / 100
}

// roundCents rounds u to a whole cent (half away from zero), as the
// outputs show it.
func (u unit) roundCents() unit {
	if u < 0 {
		return -(-u).roundCents()
	}
	return (u + 50) / 100 * 100
}

// decimal is the exact text of u for a DECIMAL(18,4) parameter.
func (u unit) decimal() string {
	sign, v := "", int64(u)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%04d", sign, v/1e4, v%1e4)
}

// orderFactsOf reads, in one query, the status and booked commission of
// every order the findings name.
func orderFactsOf(ctx context.Context, tx *sql.Tx, findings []detectors.Finding) (map[string]orderFacts, error) {
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
	rows, err := tx.QueryContext(ctx, queries["OrderFacts"], ids)
	if err != nil {
		return nil, fmt.Errorf("read disqualified orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var f orderFacts
		var ts sql.NullTime
		var amount sql.NullString
		if err := rows.Scan(&id, &f.status, &f.commission, &ts, &amount); err != nil {
			return nil, err
		}
		if ts.Valid {
			f.ts = ts.Time.UTC()
		}
		if amount.Valid {
			f.amount = &amount.String
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

// ledgerTotals reads each publisher's money held in the ledger before
// tonight: [withheld, clawed back].
func ledgerTotals(ctx context.Context, tx *sql.Tx, runID string, nightArg any, runDate time.Time, pubs []string) (map[string][2]unit, error) {
	out := map[string][2]unit{}
	if len(pubs) == 0 {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, queries["LedgerTotals"], runID, nightArg, runDate.Format(time.DateOnly), nightArg == nil, pubs)
	if err != nil {
		return nil, fmt.Errorf("read the disposition ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pub string
		var w, c unit
		if err := rows.Scan(&pub, &w, &c); err != nil {
			return nil, err
		}
		out[pub] = [2]unit{w, c}
	}
	return out, rows.Err()
}
