package rules

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
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
`, []string{"pack.yaml:6: rules.click_burst.status: \"maybe\" is not one of stable, test, experimental"}},
		{"missing policy", `version: "1"
rules:
  click_burst:
    id: X
    status: test
    severity: high
`, []string{"pack.yaml:3: rules.click_burst.policy: required"}},
		{"unknown key", `version: "1"
rulez: {}
`, []string{"pack.yaml:2: rulez: unknown key; did you mean rules?"}},
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

// testThresholds stands in for a detector's declared thresholds.
type testThresholds struct {
	BucketMinutes int     `yaml:"bucket_minutes" range:"[1,1440]"`
	MadK          float64 `yaml:"mad_k" range:"(0,]"`
	Note          string  `yaml:"note" optional:"true"`
}

func (t testThresholds) Validate() error {
	if 1440%t.BucketMinutes != 0 {
		return &FieldError{Key: "bucket_minutes", Msg: "must divide a day"}
	}
	return nil
}

// withDeclarations replaces the detectors' declarations for one test (the
// rules package alone has none: detectors register theirs).
func withDeclarations(t *testing.T, decl map[string]any) {
	t.Helper()
	declMu.Lock()
	saved, savedSealed := declarations, sealed
	declarations = map[string]declaration{}
	for k, v := range decl {
		declarations[k] = declaration{typ: reflect.TypeOf(v)}
	}
	sealed = len(decl) > 0
	declMu.Unlock()
	t.Cleanup(func() {
		declMu.Lock()
		declarations, sealed = saved, savedSealed
		declMu.Unlock()
	})
}

func TestMissingThresholdNamesTheRule(t *testing.T) {
	withDeclarations(t, map[string]any{"click_burst": testThresholds{}})
	_, err := Load(writePack(t, `version: "1"
rules:
  click_burst:
    id: AW-CB-001
    policy: E.10.c
    status: test
    severity: high
    thresholds:
      mad_k: 5
`))
	if err == nil || !strings.Contains(err.Error(), "pack.yaml:9: rules.click_burst.thresholds.bucket_minutes: required threshold is missing") {
		t.Errorf("error = %v", err)
	}
}

func TestTypedThresholds(t *testing.T) {
	withDeclarations(t, map[string]any{"click_burst": testThresholds{}})
	head := `version: "1"
rules:
  click_burst:
    id: AW-CB-001
    policy: E.10.c
    status: test
    severity: high
    thresholds:
`
	tests := []struct {
		name, body, want string
	}{
		{"typo", "      bucket_minutes: 60\n      mad_k: 5\n      mak_k: 6\n", "pack.yaml:11: rules.click_burst.thresholds.mak_k: unknown key; did you mean mad_k?"},
		{"integer stays integer", "      bucket_minutes: 7.5\n      mad_k: 5\n", `pack.yaml:9: rules.click_burst.thresholds.bucket_minutes: want an integer, have "7.5"`},
		{"nan", "      bucket_minutes: 60\n      mad_k: .nan\n", "pack.yaml:10: rules.click_burst.thresholds.mad_k: want a finite number, have .nan"},
		{"inf", "      bucket_minutes: 60\n      mad_k: -.inf\n", "pack.yaml:10: rules.click_burst.thresholds.mad_k: want a finite number, have -.inf"},
		{"open range", "      bucket_minutes: 60\n      mad_k: 0\n", "pack.yaml:10: rules.click_burst.thresholds.mad_k: 0 is out of range: want a number above 0"},
		{"closed range", "      bucket_minutes: 0\n      mad_k: 1\n", "pack.yaml:9: rules.click_burst.thresholds.bucket_minutes: 0 is out of range: want an integer in [1, 1440]"},
		{"validate at its key", "      mad_k: 1\n      bucket_minutes: 7\n", "pack.yaml:10: rules.click_burst.thresholds.bucket_minutes: must divide a day"},
		{"a list for a number", "      bucket_minutes: [60]\n      mad_k: 1\n", "pack.yaml:9: rules.click_burst.thresholds.bucket_minutes: want an integer, have a list"},
		{"twice", "      bucket_minutes: 60\n      mad_k: 1\n      mad_k: 2\n", "pack.yaml:11: rules.click_burst.thresholds.mad_k: set twice in this mapping"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writePack(t, head+tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	p, err := Load(writePack(t, head+"      bucket_minutes: 30\n      mad_k: 2.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	th, err := Declared[testThresholds]{rule: "click_burst"}.Of(p)
	if err != nil || th.BucketMinutes != 30 || th.MadK != 2.5 || th.Note != "" {
		t.Errorf("thresholds = %+v, %v", th, err)
	}
}

func TestUnknownRuleName(t *testing.T) {
	withDeclarations(t, map[string]any{"click_burst": testThresholds{}})
	_, err := Load(writePack(t, `version: "1"
rules:
  click_brust:
    id: X
    policy: E.10.c
    status: test
    severity: high
`))
	for _, want := range []string{
		"pack.yaml:3: rules.click_brust: no detector reads a rule of this name; did you mean click_burst?",
		"rules.click_burst: required: the detector click_burst reads this rule",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v\nwant it to contain %q", err, want)
		}
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
	if err == nil || !strings.Contains(err.Error(), `pack.yaml:7: rules.click_burst.status: "shadow" is not one of stable, test, experimental`) {
		t.Errorf("error = %v", err)
	}
}

func TestDefaultCommissionTable(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	c := p.Commission
	if len(c.CategoryRates) != 14 || c.CategoryRates["mobile phone"] != 2.4 || c.CategoryRates["women's clothing"] != 7 {
		t.Errorf("category rates = %v, want Table 1's 14 named categories", c.CategoryRates)
	}
	if c.DefaultRate == nil || *c.DefaultRate != 5.5 || c.BrandStoreRate == nil || *c.BrandStoreRate != 0.8 ||
		c.HotSaleMaxRate == nil || *c.HotSaleMaxRate != 70 || c.PerOrderCapUSD != 38.5 {
		t.Errorf("default %v, brand store %v, hot sale %v, cap %v", c.DefaultRate, c.BrandStoreRate, c.HotSaleMaxRate, c.PerOrderCapUSD)
	}
	if c.CouponOrders != CouponAllow || len(c.InSession) != 0 || c.CookieDays["other"] != 3 {
		t.Errorf("coupon %q, in-session %v, cookie days %v", c.CouponOrders, c.InSession, c.CookieDays)
	}
	// Both ePN texts name eleven CIS countries.
	if len(c.CISCountries) != 11 || !contains(c.CISCountries, "GE") || !contains(c.CISCountries, "TM") {
		t.Errorf("CIS countries = %v", c.CISCountries)
	}
	for _, z := range []string{"gift cards", "books", "travel services", "mobile payments"} {
		if !contains(c.ZeroRateCategories, z) {
			t.Errorf("zero-rate categories lack %q", z)
		}
	}
}

func TestNormalizeCategoryAndRateBP(t *testing.T) {
	for in, want := range map[string]string{
		"home audio& video equipment":     "home audio & video equipment",
		"  Home  Audio &Video Equipment ": "home audio & video equipment",
		"Gift Cards":                      "gift cards",
	} {
		if got := NormalizeCategory(in); got != want {
			t.Errorf("NormalizeCategory(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct {
		pct float64
		bp  int64
		ok  bool
	}{{2.4, 240, true}, {0.8, 80, true}, {5.5, 550, true}, {70, 7000, true}, {0.72, 72, true}, {0.725, 72, false}} {
		bp, ok := RateBP(tc.pct)
		if ok != tc.ok || ok && bp != tc.bp {
			t.Errorf("RateBP(%v) = %d, %v; want %d, %v", tc.pct, bp, ok, tc.bp, tc.ok)
		}
	}
}

// A pack written before the commission table existed still loads.
func TestCommissionWithoutTable(t *testing.T) {
	// !replace takes the section whole instead of merging it key by key.
	p, err := Load(writePack(t, `extends: default
commission: !replace
  cookie_days: {cis: 15, other: 3}
  cis_countries: [RU]
  per_order_cap_usd: 38.5
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Commission.DefaultRate != nil || len(p.Commission.CategoryRates) != 0 || p.Commission.CouponOrders != "" {
		t.Errorf("commission = %+v", p.Commission)
	}
}

func TestCommissionValidation(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"rate out of range", `extends: default
commission:
  category_rates:
    mobile phone: 2.4
    tablets: 140
  default_rate: 5.5
`, []string{"pack.yaml:5: commission.category_rates.tablets: 140 is not a rate in % between 0 and 100"}},
		{"too many decimals", `extends: default
commission:
  default_rate: 5.555
`, []string{"pack.yaml:3: commission.default_rate: 5.555 is not a rate"}},
		{"same category twice", `extends: default
commission:
  category_rates:
    home audio& video equipment: 2.4
    Home Audio & Video Equipment: 3
  default_rate: 5.5
`, []string{`pack.yaml:4: commission.category_rates.home audio& video equipment: same category as`}},
		{"table without default", `extends: default
commission:
  category_rates: !replace {books: 0}
  default_rate: !remove
`, []string{"pack.yaml:4: commission.default_rate: required with category_rates"}},
		{"zero-rate category with a rate", `extends: default
commission:
  category_rates: {books: 5}
  default_rate: 5.5
  zero_rate_categories: [Books]
`, []string{`pack.yaml:5: commission.zero_rate_categories: "Books" also has rate 5 in category_rates`}},
		{"unknown region", `extends: default
commission:
  cookie_days: {cis: 15, europe: 3}
`, []string{`pack.yaml:3: commission.cookie_days.europe: unknown region "europe"`}},
		{"in-session without minutes", `extends: default
commission:
  in_session: [other]
  session_minutes: !remove
`, []string{"pack.yaml:4: commission.session_minutes: must be positive"}},
		{"bad coupon policy", `extends: default
commission:
  coupon_orders: sometimes
`, []string{`pack.yaml:3: commission.coupon_orders: "sometimes" is not one of allow, disqualify`}},
		{"lower-case country", `extends: default
commission:
  cis_countries: [ru]
`, []string{`pack.yaml:3: commission.cis_countries: "ru" is not an upper-case ISO 3166 alpha-2 code`}},
		{"brand stores without rate", `extends: default
commission:
  brand_stores: [X]
  brand_store_rate: !remove
`, []string{"commission.brand_store_rate: required with brand_stores"}},
		{"negative cap", `version: "1"
commission:
  per_order_cap_usd: -1
`, []string{"pack.yaml:3: commission.per_order_cap_usd: must not be negative"}},
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

func TestWithThresholds(t *testing.T) {
	withDeclarations(t, map[string]any{"click_burst": testThresholds{}})
	p, err := Load(writePack(t, `version: "1"
rules:
  click_burst:
    id: AW-CB-001
    policy: E.10.c
    status: test
    severity: high
    thresholds: {bucket_minutes: 60, mad_k: 3.5, note: x}
`))
	if err != nil {
		t.Fatal(err)
	}
	decl := Declared[testThresholds]{rule: "click_burst"}
	q, err := p.WithThresholds("click_burst", map[string]float64{"mad_k": 9, "bucket_minutes": 30})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := decl.Of(q)
	if got.MadK != 9 || got.BucketMinutes != 30 || got.Note != "x" {
		t.Errorf("thresholds %+v", got)
	}
	if orig, _ := decl.Of(p); orig.MadK != 3.5 || orig.BucketMinutes != 60 {
		t.Errorf("the original pack changed: %+v", orig)
	}
	if _, err := p.WithThresholds("click_burst", map[string]float64{"mad_unused": 1}); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("an unknown key was accepted: %v", err)
	}
	if _, err := p.WithThresholds("click_burst", map[string]float64{"bucket_minutes": math.NaN()}); err == nil || !strings.Contains(err.Error(), "required threshold is missing") {
		t.Errorf("NaN did not remove bucket_minutes: %v", err)
	}
	if _, err := p.WithThresholds("click_burst", map[string]float64{"bucket_minutes": 7}); err == nil {
		t.Error("an invalid value was accepted")
	}
	if _, err := p.WithThresholds("no_such_rule", nil); err == nil {
		t.Error("unknown rule accepted")
	}
}
