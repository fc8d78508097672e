package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultPack(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Rule("click_burst")
	if err != nil {
		t.Fatal(err)
	}
	if r.Policy != "E.10.c" || r.Status != "stable" {
		t.Errorf("click_burst rule = %+v", r)
	}
	if got := p.Commission.CookieDays["cis"]; got != 15 {
		t.Errorf("CIS cookie days = %d, want 15 (docs/DECISIONS.md)", got)
	}
	if len(p.Brands) != 1 || p.Brands[0].Name != "AliExpress" {
		t.Errorf("brands = %+v", p.Brands)
	}
}

func writePack(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pack.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExtendsDefault(t *testing.T) {
	path := writePack(t, `extends: default
version: "local-1"
calendar:
  weekend: [saturday, sunday]
  holidays: ["2026-11-25"]
`)
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "local-1" || len(p.Calendar.Holidays) != 1 {
		t.Errorf("override not applied: version %q holidays %v", p.Version, p.Calendar.Holidays)
	}
	if _, err := p.Rule("click_burst"); err != nil {
		t.Errorf("rules not inherited from the default: %v", err)
	}
	def, _ := Default()
	if p.SHA256 == def.SHA256 {
		t.Error("an extending pack must not share the default's hash")
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"bad status", `version: "1"
rules:
  click_burst:
    id: X
    policy: E.10.c
    status: maybe
    severity: high
`, []string{"pack.yaml:3: rules.click_burst.status: \"maybe\" is not one of stable, test, experimental"}},
		{"missing policy", `version: "1"
rules:
  click_burst:
    id: X
    status: test
    severity: high
`, []string{"pack.yaml:3: rules.click_burst.policy: required"}},
		{"unknown key", `version: "1"
rulez: {}
`, []string{"field rulez not found"}},
		{"bad holiday", `extends: default
calendar:
  weekend: [saturday]
  holidays: ["25.11.2026"]
`, []string{`"25.11.2026" is not a YYYY-MM-DD date`}},
		{"unknown base", `extends: other
`, []string{`pack.yaml:1: extends: unknown pack "other"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writePack(t, tc.body))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestAddWorkingDays(t *testing.T) {
	cal := Calendar{Weekend: []string{"saturday", "sunday"}, Holidays: []string{"2026-11-26"}}
	tests := []struct{ from, want string }{
		{"2026-11-23", "2026-12-01"}, // Monday + 5 working days, skipping Thursday's holiday and the weekend
		{"2026-11-21", "2026-11-30"}, // Saturday: counting starts Monday
		{"2026-11-27", "2026-12-04"},
	}
	for _, tc := range tests {
		from, _ := time.Parse(time.DateOnly, tc.from)
		if got := cal.AddWorkingDays(from, 5).Format(time.DateOnly); got != tc.want {
			t.Errorf("AddWorkingDays(%s, 5) = %s, want %s", tc.from, got, tc.want)
		}
	}
}

func TestMissingThresholdNamesTheRule(t *testing.T) {
	p, err := Load(writePack(t, `extends: default
rules:
  click_burst:
    id: AW-CB-001
    policy: E.10.c
    status: test
    severity: high
    thresholds:
      mad_k: 5
`))
	if err != nil {
		t.Fatal(err)
	}
	var k, b float64
	err = p.Rules["click_burst"].Fill(map[string]*float64{"mad_k": &k, "bucket_minutes": &b})
	if err == nil || !strings.Contains(err.Error(), "pack.yaml:3: rules.click_burst.thresholds.bucket_minutes: required threshold is missing") {
		t.Errorf("error = %v", err)
	}
	if k != 5 {
		t.Errorf("mad_k = %v, want 5", k)
	}
}

func TestExtendingPackErrorsPointIntoIt(t *testing.T) {
	_, err := Load(writePack(t, `extends: default
# a comment line
rules:
  click_burst:
    id: AW-CB-001
    policy: E.10.c
    status: shadow
    severity: high
`))
	if err == nil || !strings.Contains(err.Error(), `pack.yaml:4: rules.click_burst.status: "shadow" is not one of stable, test, experimental`) {
		t.Errorf("error = %v", err)
	}
}
