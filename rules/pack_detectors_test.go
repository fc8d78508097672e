package rules_test

// These tests load packs with every detector's declared thresholds, as the
// binary does: each case of a pack an analyst might write by mistake has
// its message at its own line.

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors/all"
	"affwatch/detectors/clickburst"
	"affwatch/rules"
)

var _ = all.Detectors // links every detector, so each declares its thresholds

func writePack(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pack.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaultPackDecodesEveryDetector(t *testing.T) {
	p, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	th, err := rules.Declare[clickburst.Thresholds]("click_burst").Of(p)
	if err != nil {
		t.Fatal(err)
	}
	if th.BucketMinutes != 60 || th.MinModifiedZ != 3.5 || th.MinMachineSignals != 2 {
		t.Errorf("click_burst thresholds = %+v", th)
	}
	changes, err := p.Diff()
	if err != nil || len(changes) != 0 {
		t.Errorf("the default differs from itself: %v %v", changes, err)
	}
}

// The six-line pack of the README: one threshold changes, nothing else.
func TestSixLineOverrideChangesOneThreshold(t *testing.T) {
	p, err := rules.Load(writePack(t, `extends: default
version: "local-1"
rules:
  click_burst:
    thresholds:
      min_modified_z: 4.5
`))
	if err != nil {
		t.Fatal(err)
	}
	def, _ := rules.Default()
	if got, want := p.RuleNames(), def.RuleNames(); !reflect.DeepEqual(got, want) {
		t.Fatalf("rules = %v, want the default's %v", got, want)
	}
	decl := rules.Declare[clickburst.Thresholds]("click_burst")
	got, _ := decl.Of(p)
	want, _ := decl.Of(def)
	want.MinModifiedZ = 4.5
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("click_burst thresholds (-want +got):\n%s", diff)
	}
	for _, n := range def.RuleNames() {
		a, b := def.Rules[n], p.Rules[n]
		if a.ID != b.ID || a.Status != b.Status || a.Policy != b.Policy || a.Severity != b.Severity || !reflect.DeepEqual(a.Lists, b.Lists) {
			t.Errorf("rule %s changed beyond its threshold", n)
		}
	}
	if !reflect.DeepEqual(p.Commission, def.Commission) || !reflect.DeepEqual(p.Penalties, def.Penalties) || !reflect.DeepEqual(p.Brands, def.Brands) {
		t.Error("an override of one threshold changed commission, penalties or brands")
	}
	changes, err := p.Diff()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range changes {
		lines = append(lines, strings.TrimPrefix(c.String(), filepath.Dir(p.Source)+"/"))
	}
	wantLines := []string{
		`pack.yaml:2: ~ version: "2026.12.15" → "local-1"`,
		"pack.yaml:6: ~ rules.click_burst.thresholds.min_modified_z: 3.5 → 4.5",
		`pack.yaml:1: + extends: "default"`,
	}
	if diff := cmp.Diff(wantLines, lines); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
}

// Each mistake of the list: the message names the pack file, the
// line of the mistake and what to do.
func TestPackMistakesAtTheirLine(t *testing.T) {
	head := "extends: default\nrules:\n"
	tests := []struct{ name, body, want string }{
		{"misspelt threshold", head + "  click_burst:\n    thresholds:\n      min_modifed_z: 4\n",
			"pack.yaml:5: rules.click_burst.thresholds.min_modifed_z: unknown key; did you mean min_modified_z?"},
		{"extra key", head + "  click_burst:\n    thresholds:\n      min_bucket_clickz: 40\n",
			"pack.yaml:5: rules.click_burst.thresholds.min_bucket_clickz: unknown key; did you mean min_bucket_clicks?"},
		{"max_hops out of range", head + "  self_purchase:\n    thresholds:\n      max_hops: 9\n",
			"pack.yaml:5: rules.self_purchase.thresholds.max_hops: 9 is out of range: want an integer in [1, 6]"},
		{"NaN", head + "  click_burst:\n    thresholds:\n      min_modified_z: .nan\n",
			"pack.yaml:5: rules.click_burst.thresholds.min_modified_z: want a finite number, have .nan"},
		{"infinity", head + "  click_burst:\n    thresholds:\n      min_modified_z: .inf\n",
			"pack.yaml:5: rules.click_burst.thresholds.min_modified_z: want a finite number, have .inf"},
		{"bucket of zero minutes", head + "  click_burst:\n    thresholds:\n      bucket_minutes: 0\n",
			"pack.yaml:5: rules.click_burst.thresholds.bucket_minutes: 0 is out of range: want an integer in [1, 1440]"},
		{"bucket of 1e9 minutes", head + "  click_burst:\n    thresholds:\n      bucket_minutes: 1000000000\n",
			"pack.yaml:5: rules.click_burst.thresholds.bucket_minutes: 1000000000 is out of range"},
		{"bucket written as 1e9", head + "  click_burst:\n    thresholds:\n      bucket_minutes: 1e9\n",
			`pack.yaml:5: rules.click_burst.thresholds.bucket_minutes: want an integer, have "1e9"`},
		{"bucket not dividing a day", head + "  click_burst:\n    thresholds:\n      bucket_minutes: 7\n",
			"pack.yaml:5: rules.click_burst.thresholds.bucket_minutes: 7 does not divide a day"},
		{"integer given a fraction", head + "  cookie_stuffing:\n    thresholds:\n      min_hits: 2.5\n",
			`pack.yaml:5: rules.cookie_stuffing.thresholds.min_hits: want an integer, have "2.5"`},
		{"a count of prohibited_content given a fraction", head + "  prohibited_content:\n    thresholds:\n      max_pages: 2.5\n",
			`pack.yaml:5: rules.prohibited_content.thresholds.max_pages: want an integer, have "2.5"`},
		{"misspelt rule", head + "  click_brust:\n    thresholds:\n      min_modified_z: 4\n",
			"pack.yaml:3: rules.click_brust: no detector reads a rule of this name; did you mean click_burst?"},
		{"misspelt rule field", head + "  click_burst:\n    severty: high\n",
			"pack.yaml:4: rules.click_burst.severty: unknown key; did you mean severity?"},
		{"allow-list rule that resolves to nothing", "extends: default\nallowlist:\n  - publisher_id: P000123\n    rule: cookie_stufing\n    reason: TV campaign\n    approved_by: j.doe\n    expires: 2026-12-15\n",
			`pack.yaml:4: allowlist[0].rule: "cookie_stufing" is not a rule of this pack; did you mean cookie_stuffing?`},
		{"correction that resolves to nothing", "extends: default\npenalties:\n  corrections: [invalid_comission]\n",
			`pack.yaml:3: penalties.corrections[1]: "invalid_comission" is not a rule of this pack; did you mean invalid_commission?`},
		{"ladder action that resolves to nothing", "extends: default\npenalties:\n  ladder:\n    low: {high: scold}\n",
			`pack.yaml:4: penalties.ladder.low.high: "scold" is not an action of F.11`},
		{"per-category key with a typo", head + "  prohibited_content:\n    thresholds:\n      weapons_concept_min_grups: 4\n",
			"pack.yaml:5: rules.prohibited_content.thresholds.weapons_concept_min_grups: unknown key"},
		{"remove of something absent", "extends: default\ncommission:\n  cis_countries: [!remove XX]\n",
			`pack.yaml:3: commission.cis_countries: !remove "XX" matches no entry of the default pack`},
		{"remove in a pack without extends", "version: \"1\"\ncommission:\n  cis_countries: [!remove RU]\n",
			"pack.yaml:3: commission.cis_countries[0]: !remove only works in a pack that says `extends: default`"},
		{"YAML syntax", "extends: default\nrules:\n  click_burst: [\n",
			"pack.yaml:3: not valid YAML"},
		{"required rule missing without extends", "version: \"1\"\n",
			"rules.cookie_stuffing: required: the detector cookie_stuffing reads this rule (start the pack with `extends: default` to inherit it)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.Load(writePack(t, tc.body))
			if err == nil {
				t.Fatalf("Load succeeded, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "rule pack ") {
				t.Errorf("error %q does not say it is about the rule pack", err)
			}
		})
	}
}

const overlayPack = `extends: default
commission:
  cis_countries: [!remove GE, !remove TM, UA]
  category_rates:
    tablets: 3
brands:
  - name: AliExpress
    keywords: [!remove alimama, aliexpres]
  - name: Example
    keywords: [examplebrand]
allowlist:
  - {publisher_id: P000123, rule: click_burst, reason: TV campaign, approved_by: j.doe, expires: 2026-12-15}
rules:
  page_cookie_stuffing:
    lists:
      affiliate_hosts: [go.example-aff.net]
`

func TestOverlayListEntries(t *testing.T) {
	_, err := rules.Load(writePack(t, overlayPack+"  popup_traffic:\n    thresholds:\n      min_popup_clicks: !remove\n"))
	if err == nil || !strings.Contains(err.Error(), "pack.yaml:19: rules.popup_traffic.thresholds.min_popup_clicks: required threshold is missing") {
		t.Fatalf("removing a required threshold: error = %v", err)
	}
	p, err := rules.Load(writePack(t, overlayPack))
	if err != nil {
		t.Fatal(err)
	}
	def, _ := rules.Default()
	if got := p.Commission.CISCountries; !reflect.DeepEqual(got, []string{"RU", "BY", "KZ", "UZ", "AM", "AZ", "KG", "MD", "TJ", "UA"}) {
		t.Errorf("cis_countries = %v", got)
	}
	if p.Commission.CategoryRates["tablets"] != 3 || len(p.Commission.CategoryRates) != len(def.Commission.CategoryRates) {
		t.Errorf("category_rates = %v", p.Commission.CategoryRates)
	}
	if len(p.Brands) != 2 || !reflect.DeepEqual(p.Brands[0].Keywords, []string{"aliexpress", "alibaba", "taobao", "tmall", "alipay", "aliexpres"}) ||
		!reflect.DeepEqual(p.Brands[0].Domains, def.Brands[0].Domains) || p.Brands[1].Name != "Example" {
		t.Errorf("brands = %+v", p.Brands)
	}
	if len(p.AllowList) != 1 || p.AllowList[0].PublisherID != "P000123" {
		t.Errorf("allowlist = %+v", p.AllowList)
	}
	hosts := p.Rules["page_cookie_stuffing"].Lists["affiliate_hosts"]
	if len(hosts) != len(def.Rules["page_cookie_stuffing"].Lists["affiliate_hosts"])+1 || hosts[len(hosts)-1] != "go.example-aff.net" {
		t.Errorf("affiliate_hosts = %v", hosts)
	}
	changes, err := p.Diff()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.Op+" "+c.Path)
	}
	want := []string{
		"- brands[AliExpress].keywords[alimama]",
		"+ brands[AliExpress].keywords[aliexpres]",
		"+ brands[Example]",
		"- commission.cis_countries[GE]",
		"- commission.cis_countries[TM]",
		"+ commission.cis_countries[UA]",
		"~ commission.category_rates.tablets",
		"+ allowlist[P000123]",
		"+ rules.page_cookie_stuffing.lists.affiliate_hosts[go.example-aff.net]",
		"+ extends",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
}
