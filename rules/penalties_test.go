package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDefaultPenalties(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	pen := p.Penalties
	if got := pen.Ladder["critical"]["high"]; got != "deduct" {
		t.Errorf("critical/high first rung = %q", got)
	}
	if !pen.IsCorrection("invalid_commission") || pen.IsCorrection("cookie_stuffing") {
		t.Errorf("corrections = %v", pen.Corrections)
	}
	for _, tc := range []struct {
		score  float64
		single bool
		want   string
	}{{0.95, false, "high"}, {0.8, false, "high"}, {0.79, false, "medium"}, {0.5, false, "medium"}, {0.49, false, "low"}, {0.99, true, "low"}} {
		if got := pen.ConfidenceOf(tc.score, tc.single); got != tc.want {
			t.Errorf("ConfidenceOf(%v, %v) = %s, want %s", tc.score, tc.single, got, tc.want)
		}
	}
	for i, a := range Actions {
		if ActionRung(a) != i || ActionClause(a) != "F.11."+string(rune('a'+i)) {
			t.Errorf("%s: rung %d clause %s", a, ActionRung(a), ActionClause(a))
		}
	}
}

func TestPenaltiesValidation(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"unknown action", `extends: default
penalties:
  confidence: {high: 0.8, medium: 0.5}
  ladder:
    low: {low: warning, medium: warning, high: scold}
    medium: {low: warning, medium: warning, high: warning}
    high: {low: warning, medium: warning, high: warning}
    critical: {low: warning, medium: warning, high: warning}
  max_action: {low: warning, medium: warning, high: warning, critical: warning}
  history: {lookback_days: 365, strike_gap_days: 7}
  shadow_max_action: warning
  appeal_working_days: 5
`, `:5: penalties.ladder.low.high: "scold" is not an action of F.11`},
		{"max below the first rung", `extends: default
penalties:
  confidence: {high: 0.8, medium: 0.5}
  ladder:
    low: {low: warning, medium: warning, high: warning}
    medium: {low: warning, medium: warning, high: warning}
    high: {low: warning, medium: warning, high: deduct}
    critical: {low: warning, medium: warning, high: warning}
  max_action: {low: warning, medium: warning, high: cure_period, critical: warning}
  history: {lookback_days: 365, strike_gap_days: 7}
  shadow_max_action: warning
  appeal_working_days: 5
`, `penalties.max_action.high: cure_period is milder than the ladder's deduct`},
		{"allow entry without approver", `extends: default
allowlist:
  - publisher_id: P1
    rule: click_burst
    reason: campaign
    expires: 2026-12-01
`, `:3: allowlist[0].approved_by: required`},
		{"allow entry that never expires", `extends: default
allowlist:
  - domain: example.org
    rule: "*"
    reason: test shop
    approved_by: j.doe
`, `allowlist[0].expires: "" is not a YYYY-MM-DD date (an exception must expire)`},
		{"allow entry with both keys", `extends: default
allowlist:
  - publisher_id: P1
    domain: example.org
    rule: "*"
    reason: r
    approved_by: j.doe
    expires: 2026-12-01
`, `allowlist[0]: give exactly one of publisher_id or domain`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writePack(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestAllowEntry(t *testing.T) {
	e := AllowEntry{PublisherID: "P1", Rule: "click_burst", Expires: "2026-11-30"}
	for _, tc := range []struct {
		day  string
		want bool
	}{{"2026-11-29", true}, {"2026-11-30", true}, {"2026-12-01", false}} {
		d, _ := time.Parse(time.DateOnly, tc.day)
		if got := e.Active(d.Add(23 * time.Hour)); got != tc.want {
			t.Errorf("Active(%s) = %v", tc.day, got)
		}
	}
	if !e.MatchesRule("click_burst", "AW-CB-001") || e.MatchesRule("popup_traffic", "AW-PU-001") {
		t.Error("MatchesRule by code")
	}
	byID := AllowEntry{Rule: "AW-CB-001"}
	if !byID.MatchesRule("click_burst", "AW-CB-001") || !(AllowEntry{Rule: "*"}).MatchesRule("x", "") {
		t.Error("MatchesRule by id or *")
	}
}

// A pack written before the ladder existed still loads, with the default ladder.
func TestPackWithoutPenalties(t *testing.T) {
	def, _ := Default()
	withDeclarations(t, nil) // a pack of a few rules: no detector asks for the others
	p, err := Load(writePack(t, `version: "old"
brands:
  - name: AliExpress
    keywords: [aliexpress]
rules: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Penalties.Ladder["high"]["high"] != def.Penalties.Ladder["high"]["high"] || p.Penalties.AppealWorkingDays != 5 {
		t.Errorf("penalties = %+v", p.Penalties)
	}
}

// The cross-night settings: a pack that sets penalties without them (one
// written before issue 14) gets their defaults; set, they are checked.
func TestCrossNightSettings(t *testing.T) {
	const old = `extends: default
penalties:
  confidence: {high: 0.8, medium: 0.5}
  ladder:
    low: {low: warning, medium: warning, high: warning}
    medium: {low: warning, medium: warning, high: warning}
    high: {low: warning, medium: warning, high: warning}
    critical: {low: warning, medium: warning, high: warning}
  max_action: {low: warning, medium: warning, high: warning, critical: warning}
  history: {lookback_days: 365, strike_gap_days: 7}
  shadow_max_action: warning
  appeal_working_days: 5
`
	p, err := Load(writePack(t, old))
	if err != nil {
		t.Fatal(err)
	}
	n, ratio, pv := p.Penalties.CorrectionTest()
	if got := []any{p.Penalties.QuietNights(), n, ratio, pv}; fmt.Sprint(got) != fmt.Sprint([]any{7, 5, 2.0, 0.001}) {
		t.Errorf("defaults: quiet nights, min orders, min ratio, max p = %v", got)
	}
	def, _ := Default()
	if def.Penalties.QuietNights() != 7 || def.Penalties.CorrectionReview.MinOrders != 5 {
		t.Errorf("default pack: case_close_quiet_nights %d, correction_review %+v", def.Penalties.CaseCloseQuietNights, def.Penalties.CorrectionReview)
	}
	p, err = Load(writePack(t, old+"  case_close_quiet_nights: 3\n  correction_review: {min_orders: 10, min_ratio: 3, max_p_value: 0.01}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n, ratio, pv := p.Penalties.CorrectionTest(); p.Penalties.QuietNights() != 3 || n != 10 || ratio != 3 || pv != 0.01 {
		t.Errorf("set: %d %d %v %v", p.Penalties.QuietNights(), n, ratio, pv)
	}
	for _, bad := range []string{"  case_close_quiet_nights: -1\n", "  correction_review: {min_ratio: 0.5}\n", "  correction_review: {max_p_value: 1.5}\n"} {
		if _, err := Load(writePack(t, old+bad)); err == nil {
			t.Errorf("%q: loaded, want an error", strings.TrimSpace(bad))
		}
	}
}
