package detectors_test

import (
	"context"
	"testing"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/pagecode"
	"affwatch/detectors/selfpurchase"
	"affwatch/rules"
)

// TestCompleteFillsTheEnvelope checks the envelope the runner gives every
// finding: the detector code, the rule's fields from the pack (under the
// rule's own name where it differs from the code), the severity capped at
// the rule's, UTC windows and an id that depends on what the finding is
// about and on nothing else.
func TestCompleteFillsTheEnvelope(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	sp := pack.Rules[detectors.SelfPurchase]
	sp.Severity = "medium" // an analyst's overlay lowering the rule's ceiling
	pack.Rules[detectors.SelfPurchase] = sp
	kyiv := time.FixedZone("EET", 2*3600)
	ws, we := time.Date(2026, 11, 28, 2, 0, 0, 0, kyiv), time.Date(2026, 11, 29, 2, 0, 0, 0, kyiv)
	judged := func(severity, disc string) detectors.Finding {
		return detectors.Finding{PublisherID: "P1", Severity: severity, Score: 0.95, WindowStart: ws, WindowEnd: we, Discriminator: disc}
	}
	cases := []struct {
		name         string
		d            detectors.Detector
		in           detectors.Finding
		wantRule     string
		wantPolicy   string
		wantSeverity string
	}{
		{"capped at the rule's severity", selfpurchase.Detector{}, judged("critical", ""), "AW-SP-001", "E.10.j", "medium"},
		{"below the cap unchanged", selfpurchase.Detector{}, judged("low", ""), "AW-SP-001", "E.10.j", "low"},
		{"a rule named apart from its code", pagecode.Stuffing{}, judged("critical", "page\x00http://a.example/"), "AW-PC-001", "1.6", "critical"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := []detectors.Finding{tc.in}
			if err := detectors.Complete(pack, tc.d, fs); err != nil {
				t.Fatal(err)
			}
			f := fs[0]
			if f.Detector != tc.d.Code() || f.RuleID != tc.wantRule || f.PolicyRef != tc.wantPolicy || f.Severity != tc.wantSeverity {
				t.Errorf("got detector %q rule %q policy %q severity %q, want %q %q %q %q",
					f.Detector, f.RuleID, f.PolicyRef, f.Severity, tc.d.Code(), tc.wantRule, tc.wantPolicy, tc.wantSeverity)
			}
			if f.RuleStatus == "" {
				t.Error("rule status left empty")
			}
			if f.WindowStart.Location() != time.UTC || !f.WindowStart.Equal(ws) {
				t.Errorf("window start %v, want %v in UTC", f.WindowStart, ws)
			}
			if want := detectors.FindingID(tc.d.Code(), "P1", ws, we, tc.in.Discriminator); f.FindingID != want {
				t.Errorf("finding id %q, want %q", f.FindingID, want)
			}
		})
	}
	// The id tells apart what differs, and only that.
	a, b, c := []detectors.Finding{judged("low", "x")}, []detectors.Finding{judged("high", "x")}, []detectors.Finding{judged("low", "y")}
	for _, fs := range [][]detectors.Finding{a, b, c} {
		if err := detectors.Complete(pack, selfpurchase.Detector{}, fs); err != nil {
			t.Fatal(err)
		}
	}
	if a[0].FindingID != b[0].FindingID || a[0].FindingID == c[0].FindingID {
		t.Errorf("ids: same subject %q / %q, another discriminator %q", a[0].FindingID, b[0].FindingID, c[0].FindingID)
	}
}

// A detector whose rule the pack lacks fails, rather than producing
// findings without a clause.
func TestCompleteRefusesAMissingRule(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	delete(pack.Rules, detectors.SelfPurchase)
	_, err = detectors.RunOne(context.Background(), detectors.Env{Pack: pack}, emptyDetector{})
	if err == nil {
		t.Fatal("RunOne completed findings of a rule the pack does not have")
	}
}

type emptyDetector struct{}

func (emptyDetector) Code() string { return detectors.SelfPurchase }
func (emptyDetector) Run(context.Context, detectors.Env) ([]detectors.Finding, error) {
	return nil, nil
}
