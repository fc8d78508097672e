package rules

import (
	"fmt"
	"strings"
	"time"
)

// Actions are the enforcement measures of clause F.11, mildest first; a
// higher rung is a harsher measure. The enforcement workflow consumes
// these exact strings (DESIGN §6, contract).
var Actions = []string{"warning", "cure_period", "withhold_payment", "deduct", "terminate", "restrict", "ban_registration"}

// actionClause is the F.11 letter of each action.
var actionClause = map[string]string{
	"warning":          "F.11.a",
	"cure_period":      "F.11.b",
	"withhold_payment": "F.11.c",
	"deduct":           "F.11.d",
	"terminate":        "F.11.e",
	"restrict":         "F.11.f",
	"ban_registration": "F.11.g",
}

// ActionRung is an action's place on the ladder (0 = warning); -1 for an
// unknown action.
func ActionRung(action string) int {
	for i, a := range Actions {
		if a == action {
			return i
		}
	}
	return -1
}

// ActionClause is the clause of F.11 that allows action.
func ActionClause(action string) string { return actionClause[action] }

// Severities are the finding severities, lowest first.
var Severities = []string{"low", "medium", "high", "critical"}

// Confidences are a finding's confidence levels, lowest first.
var Confidences = []string{"low", "medium", "high"}

// Penalties is the pack's penalty ladder (clause F.11) and the terms of its
// use: how sure a finding must be, how history escalates, which rules only
// correct commission, and the appeal period (G.12).
type Penalties struct {
	// Confidence maps a finding's score to a confidence: at or above High
	// (and backed by more than one signal) is high, at or above Medium is
	// medium, anything else (or a single signal) low.
	Confidence struct {
		High   float64 `yaml:"high"`
		Medium float64 `yaml:"medium"`
	} `yaml:"confidence"`
	// Ladder is the first rung of a finding: severity → confidence → action.
	Ladder map[string]map[string]string `yaml:"ladder"`
	// MaxAction bounds how far history may escalate a finding of each
	// severity.
	MaxAction map[string]string `yaml:"max_action"`
	History   struct {
		// LookbackDays: offences older than this are forgotten.
		LookbackDays int `yaml:"lookback_days"`
		// StrikeGapDays: a breach seen again within this many days is the
		// same incident (nightly look-back windows overlap); one strike
		// counts per such period, and only once it is over.
		StrikeGapDays int `yaml:"strike_gap_days"`
	} `yaml:"history"`
	// ShadowMaxAction is the most a finding of a rule whose status is not
	// stable may lead to (shadow mode).
	ShadowMaxAction string `yaml:"shadow_max_action"`
	// Corrections lists detectors whose findings correct commission (7.8–
	// 7.9) instead of alleging a breach: they never escalate nor count as
	// history; their rung is CorrectionPaid when money already paid is at
	// stake, CorrectionPending when only pending money is, else a warning.
	Corrections       []string `yaml:"corrections"`
	CorrectionPending string   `yaml:"correction_pending"`
	CorrectionPaid    string   `yaml:"correction_paid"`
	// AppealWorkingDays is the Claim Period of G.12.
	AppealWorkingDays int `yaml:"appeal_working_days"`
	// CaseCloseQuietNights closes a case (publisher × detector) after this
	// many nights without a finding; a finding after that opens a new case.
	CaseCloseQuietNights int `yaml:"case_close_quiet_nights"`
	// CorrectionReview decides when a publisher's commission corrections
	// stop being routine: its share of invalid orders is anomalous against
	// the program's (at least MinOrders invalid orders, at least MinRatio
	// times the program's share, and a one-sided binomial p-value at most
	// MaxPValue). Only then does a person review them; otherwise they go
	// straight to the 7.8 report.
	CorrectionReview struct {
		MinOrders int     `yaml:"min_orders"`
		MinRatio  float64 `yaml:"min_ratio"`
		MaxPValue float64 `yaml:"max_p_value"`
	} `yaml:"correction_review"`
}

// Defaults of the cross-night settings, for packs that do not set them.
const (
	DefaultCaseCloseQuietNights = 7
	DefaultCorrectionMinOrders  = 5
	DefaultCorrectionMinRatio   = 2.0
	DefaultCorrectionMaxPValue  = 0.001
)

// QuietNights is CaseCloseQuietNights, or its default when unset.
func (p Penalties) QuietNights() int {
	if p.CaseCloseQuietNights > 0 {
		return p.CaseCloseQuietNights
	}
	return DefaultCaseCloseQuietNights
}

// CorrectionTest is CorrectionReview with defaults for what is unset:
// min_orders, min_ratio, max_p_value.
func (p Penalties) CorrectionTest() (int, float64, float64) {
	cr := p.CorrectionReview
	if cr.MinOrders <= 0 {
		cr.MinOrders = DefaultCorrectionMinOrders
	}
	if cr.MinRatio <= 0 {
		cr.MinRatio = DefaultCorrectionMinRatio
	}
	if cr.MaxPValue <= 0 {
		cr.MaxPValue = DefaultCorrectionMaxPValue
	}
	return cr.MinOrders, cr.MinRatio, cr.MaxPValue
}

// IsCorrection reports whether detector's findings are commission
// corrections.
func (p Penalties) IsCorrection(detector string) bool {
	for _, c := range p.Corrections {
		if c == detector {
			return true
		}
	}
	return false
}

// ConfidenceOf is a finding's confidence from its score and whether it
// rests on a single signal.
func (p Penalties) ConfidenceOf(score float64, singleSignal bool) string {
	switch {
	case singleSignal || score < p.Confidence.Medium:
		return "low"
	case score < p.Confidence.High:
		return "medium"
	default:
		return "high"
	}
}

// AllowEntry is one known-good case (Falco's exceptions, at the penalty
// stage): findings of Rule against the publisher or the domain are
// suppressed until Expires, and the report lists each suppression.
type AllowEntry struct {
	PublisherID string `yaml:"publisher_id"`
	// Domain matches a finding whose evidence names a host in that domain
	// or, when the evidence names none, a publisher with a site there.
	Domain string `yaml:"domain"`
	// Rule is a detector code, a rule id, or "*" for every rule.
	Rule       string `yaml:"rule"`
	Reason     string `yaml:"reason"`
	ApprovedBy string `yaml:"approved_by"`
	Expires    string `yaml:"expires"` // YYYY-MM-DD, inclusive
}

// Active reports whether the entry applies on day (UTC).
func (e AllowEntry) Active(day time.Time) bool {
	end, err := time.Parse(time.DateOnly, e.Expires)
	if err != nil {
		return false
	}
	return !day.UTC().Truncate(24 * time.Hour).After(end)
}

// MatchesRule reports whether the entry covers findings of the detector
// code or rule id.
func (e AllowEntry) MatchesRule(detector, ruleID string) bool {
	return e.Rule == "*" || e.Rule == detector || (ruleID != "" && e.Rule == ruleID)
}

func (p *Pack) validatePenalties() []error {
	var errs []error
	pen := p.Penalties
	bad := func(key, msg string) { errs = append(errs, p.errAt("penalties."+key, msg)) }
	action := func(key, a string) {
		if ActionRung(a) < 0 {
			bad(key, fmt.Sprintf("%q is not an action of F.11 (%s)", a, strings.Join(Actions, ", ")))
		}
	}
	if !(0 < pen.Confidence.Medium && pen.Confidence.Medium <= pen.Confidence.High && pen.Confidence.High <= 1) {
		bad("confidence", fmt.Sprintf("want 0 < medium ≤ high ≤ 1, have medium %v, high %v", pen.Confidence.Medium, pen.Confidence.High))
	}
	for _, sev := range Severities {
		row, ok := pen.Ladder[sev]
		if !ok {
			bad("ladder."+sev, "required: the first rung of a finding of this severity, per confidence")
			continue
		}
		for _, c := range Confidences {
			a, ok := row[c]
			if !ok {
				bad("ladder."+sev+"."+c, "required")
				continue
			}
			action("ladder."+sev+"."+c, a)
		}
		for c := range row {
			if !contains(Confidences, c) {
				bad("ladder."+sev+"."+c, "unknown confidence (low, medium, high)")
			}
		}
		m, ok := pen.MaxAction[sev]
		if !ok {
			bad("max_action."+sev, "required")
			continue
		}
		action("max_action."+sev, m)
		for _, c := range Confidences {
			if ActionRung(row[c]) > ActionRung(m) {
				bad("max_action."+sev, fmt.Sprintf("%s is milder than the ladder's %s for %s confidence", m, row[c], c))
			}
		}
	}
	for sev := range pen.Ladder {
		if !contains(Severities, sev) {
			bad("ladder."+sev, "unknown severity (low, medium, high, critical)")
		}
	}
	if pen.History.LookbackDays <= 0 || pen.History.StrikeGapDays <= 0 {
		bad("history", "lookback_days and strike_gap_days must be positive")
	}
	action("shadow_max_action", pen.ShadowMaxAction)
	if len(pen.Corrections) > 0 {
		action("correction_pending", pen.CorrectionPending)
		action("correction_paid", pen.CorrectionPaid)
	}
	if pen.AppealWorkingDays <= 0 {
		bad("appeal_working_days", "must be positive (G.12: 5 working days)")
	}
	for i, c := range pen.Corrections {
		if _, written := p.index["penalties"]; !written {
			break // the default's ladder lent to a pack older than it
		}
		if _, ok := p.Rules[c]; !ok {
			bad(fmt.Sprintf("corrections[%d]", i), p.unknownRuleMsg(c))
		}
	}
	// Zero means "not given" (a pack written before these keys): the
	// defaults below apply.
	if pen.CaseCloseQuietNights < 0 {
		bad("case_close_quiet_nights", "must be positive: the nights without a finding after which a case closes")
	}
	if cr := pen.CorrectionReview; cr.MinOrders < 0 || (cr.MinRatio != 0 && cr.MinRatio < 1) || cr.MaxPValue < 0 || cr.MaxPValue >= 1 {
		bad("correction_review", fmt.Sprintf("want min_orders ≥ 1, min_ratio ≥ 1, 0 < max_p_value < 1; have %d, %v, %v", cr.MinOrders, cr.MinRatio, cr.MaxPValue))
	}
	for i, e := range p.AllowList {
		k := fmt.Sprintf("allowlist[%d]", i)
		badE := func(key, msg string) { errs = append(errs, p.errAt(k+key, msg)) }
		if e.Rule != "" && e.Rule != "*" && !p.knowsRule(e.Rule) {
			badE(".rule", p.unknownRuleMsg(e.Rule))
		}
		if (e.PublisherID == "") == (e.Domain == "") {
			badE("", "give exactly one of publisher_id or domain")
		}
		if e.Rule == "" {
			badE(".rule", `required: a detector code, a rule id, or "*"`)
		}
		if e.Reason == "" {
			badE(".reason", "required: why this case is known-good")
		}
		if e.ApprovedBy == "" {
			badE(".approved_by", "required: who approved the exception")
		}
		if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
			badE(".expires", fmt.Sprintf("%q is not a YYYY-MM-DD date (an exception must expire)", e.Expires))
		}
	}
	return errs
}

// knowsRule reports whether name is a rule of the pack, by name (detector
// code) or by id.
func (p *Pack) knowsRule(name string) bool {
	if _, ok := p.Rules[name]; ok {
		return true
	}
	for _, r := range p.Rules {
		if r.ID == name {
			return true
		}
	}
	return false
}

// unknownRuleMsg says a rule name resolves to nothing, with the nearest
// rule name or id.
func (p *Pack) unknownRuleMsg(name string) string {
	known := p.RuleNames()
	for _, n := range known {
		known = append(known, p.Rules[n].ID)
	}
	msg := fmt.Sprintf("%q is not a rule of this pack (a detector code such as click_burst, a rule id such as AW-CB-001, or \"*\")", name)
	if s := suggest(name, known); s != "" {
		msg = fmt.Sprintf("%q is not a rule of this pack; did you mean %s?", name, s)
	}
	return msg
}
