package branddomain

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/rules"
)

func setup(t *testing.T, files ...string) detectors.Env {
	t.Helper()
	return detectortest.Env(t, "t", detectortest.Files(t, files...)...)
}

type got struct {
	Publisher, Severity, Class, Keyword, Host string
	Resolves                                  string
}

func run(t *testing.T, env detectors.Env) ([]got, []detectors.Finding) {
	t.Helper()
	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	var out []got
	for _, f := range fs {
		var ev struct {
			Class   string `json:"class"`
			Keyword string `json:"keyword"`
			Match   Match  `json:"match"`
			Hosts   []struct {
				Source string `json:"source"`
			} `json:"hosts"`
			DNS dnsFacts `json:"dns"`
		}
		if err := json.Unmarshal(f.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		res := "n/a"
		if ev.DNS.Available {
			res = "no"
			if *ev.DNS.Resolves {
				res = "yes"
			}
			if *ev.DNS.HasMX {
				res += "+mx"
			}
		}
		if f.Detector != detectors.BrandDomain || f.RuleID != "AW-BD-001" || f.PolicyRef == "" || len(f.OrderIDs) != 0 || f.Summary == "" {
			t.Errorf("finding fields: %+v", f)
		}
		out = append(out, got{f.PublisherID, f.Severity, ev.Class, ev.Keyword, ev.Match.Host, res})
	}
	return out, fs
}

func TestRunWithCrawl(t *testing.T) {
	env := setup(t, "testdata/sites.sql", "testdata/crawl.sql")
	g, fs := run(t, env)
	want := []got{
		{"P_COMBO", "high", "combosquat", "aliexpress", "aliexpress-deals.net", "yes"},
		{"P_EMAIL", "high", "combosquat", "aliexpress", "aliexpress-mail.net", "n/a"},
		{"P_IDN", "high", "homoglyph", "aliexpress", "аliexpress.shop", "n/a"},
		{"P_REDIR", "high", "transposition", "aliexpress", "alixepress.site", "yes"},
		{"P_SHORT", "medium", "combosquat", "tmall", "tmall-deals.ru", "n/a"},
		{"P_SUBDOM", "high", "subdomain", "aliexpress", "aliexpress.com.example.net", "n/a"},
		{"P_TLD", "high", "tld_swap", "alibaba", "www.alibaba.store", "n/a"},
		{"P_TYPO", "high", "omission", "aliexpress", "s-aliexpres.com", "n/a"},
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
		for _, f := range fs {
			t.Log(f.Summary)
		}
	}
	for _, f := range fs {
		t.Log(f.Summary)
		if f.PublisherID == "P_COMBO" && (f.WindowStart.Format("15:04:05") != "01:00:00" || !strings.Contains(string(f.Evidence), `"mx_present":false`)) {
			t.Errorf("crawled finding: window %v, evidence %s", f.WindowStart, f.Evidence)
		}
		// The allow-list matches the sites a finding is about: the
		// publisher's look-alike host is one of them.
		var ev struct {
			Match Match `json:"match"`
		}
		json.Unmarshal(f.Evidence, &ev)
		host := strings.ToLower(ev.Match.Host)
		if !slices.ContainsFunc(f.Sites, func(s string) bool {
			return s == host || strings.HasSuffix(s, "."+host) || strings.HasSuffix(host, "."+s) || detectors.HostOf(s) == host
		}) &&
			!slices.Contains(f.Sites, ev.Match.HostASCII) {
			t.Errorf("%s: sites %v do not name the look-alike host %s", f.PublisherID, f.Sites, host)
		}
	}
	if len(env.Signals.List()) != 0 {
		t.Errorf("signals with a crawl: %v", env.Signals.List())
	}
	// deterministic
	_, again := run(t, env)
	if diff := cmp.Diff(fs, again); diff != "" {
		t.Errorf("second run differs:\n%s", diff)
	}
}

func TestExceptions(t *testing.T) {
	env := setup(t, "testdata/sites.sql")
	r := env.Pack.Rules[RuleName]
	r.Exceptions = append(append([]rules.Exception(nil), r.Exceptions...),
		rules.Exception{Value: "P_TLD", Reason: "licensed reseller, contract 42"},
		rules.Exception{Value: "tmall-deals.ru", Reason: "written consent", Expires: "2026-12-31"},
		rules.Exception{Value: "aliexpress-mail.net", Reason: "expired consent", Expires: "2026-11-01"})
	env.Pack.Rules[RuleName] = r
	g, _ := run(t, env)
	var pubs []string
	for _, x := range g {
		pubs = append(pubs, x.Publisher)
	}
	if diff := cmp.Diff([]string{"P_COMBO", "P_EMAIL", "P_IDN", "P_SUBDOM", "P_TYPO"}, pubs); diff != "" {
		t.Errorf("publishers with findings (-want +got):\n%s", diff)
	}
}

func TestRunNoCrawl(t *testing.T) {
	env := setup(t, "testdata/sites.sql")
	g, fs := run(t, env)
	if len(g) != 7 { // the redirect target is only known from the crawl
		t.Errorf("findings without crawl = %+v", g)
	}
	for _, f := range fs {
		if !strings.Contains(string(f.Evidence), `"available":false`) {
			t.Errorf("DNS facts should be unavailable: %s", f.Evidence)
		}
		if f.WindowStart.Format("2006-01-02") != "2026-11-20" {
			t.Errorf("backfill window = %v", f.WindowStart)
		}
	}
	sig := env.Signals.List()
	if len(sig) != 2 || sig[0].Signal != "crawl_dns" {
		t.Errorf("signals = %+v", sig)
	}
}
