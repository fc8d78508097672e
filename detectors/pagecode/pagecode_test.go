package pagecode

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

func setup(t *testing.T) detectors.Env {
	t.Helper()
	return detectortest.Env(t, "t", detectortest.Files(t, "testdata/crawl.sql")...)
}

type got struct {
	Publisher, Severity, Policy string
	Score                       float64
	Signals                     []string
}

func run(t *testing.T, d detectors.Detector, env detectors.Env) ([]got, []detectors.Finding) {
	t.Helper()
	fs, err := detectors.RunOne(context.Background(), env, d)
	if err != nil {
		t.Fatal(err)
	}
	var out []got
	for _, f := range fs {
		var ev struct {
			Source  string   `json:"source"`
			Signals []string `json:"signals"`
			Items   []struct {
				Snippet string `json:"snippet"`
			} `json:"items"`
		}
		if err := json.Unmarshal(f.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Source != "page" || len(ev.Items) == 0 || ev.Items[0].Snippet == "" {
			t.Errorf("%s: evidence %s", f.PublisherID, f.Evidence)
		}
		if f.Detector != d.Code() || !strings.HasPrefix(f.FindingID, d.Code()[:2]+"-") {
			t.Errorf("finding %s detector %s", f.FindingID, f.Detector)
		}
		out = append(out, got{f.PublisherID, f.Severity, f.PolicyRef, f.Score, ev.Signals})
	}
	return out, fs
}

func TestStuffing(t *testing.T) {
	env := setup(t)
	findings, fs := run(t, Stuffing{}, env)
	want := []got{
		{"DOWN", "critical", "1.6", 0.9, []string{"hidden_affiliate_image"}},
		{"STUFF1", "critical", "1.6", 0.995, []string{"hidden_affiliate_frame", "hidden_affiliate_image"}},
		{"STUFF2", "critical", "1.6", 0.97, []string{"script_injected_affiliate_request", "script_redirect_to_affiliate_link"}},
	}
	if diff := cmp.Diff(want, findings); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// Same crawl data, same ids (DESIGN §6).
	_, again := run(t, Stuffing{}, env)
	if fs[0].FindingID != again[0].FindingID {
		t.Error("finding ids are not stable")
	}
	if !strings.Contains(fs[1].Summary, "https://deals-stuff.example/") || fs[1].PublisherID != "STUFF1" {
		t.Errorf("summary %q", fs[1].Summary)
	}
}

func TestPopup(t *testing.T) {
	findings, _ := run(t, Popup{}, setup(t))
	want := []got{{"POP1", "high", "E.10.h", 0.985, []string{"popup_network_script", "window_open_on_load"}}}
	if diff := cmp.Diff(want, findings); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestIsAffiliateLink(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	rule, _ := pack.Rule(StuffingRule)
	lists := affiliateLists(rule, pack)
	for link, want := range map[string]bool{
		"https://s.click.aliexpress.com/e/_abc":             true,
		"https://click.aliexpress.com/e/_abc":               true,
		"https://click.aliexpress.com/help":                 false,
		"https://www.aliexpress.com/item/1.html?aff_fcid=x": true,
		"https://aliexpress.ru/item/1.html?sk=_x":           true,
		"https://www.aliexpress.com/item/1.html":            false,
		"https://aliexpress.com.evil.example/?aff_fcid=x":   false,
		"https://alii.pub/5abc":                             true,
		"https://example.com/?aff_fcid=x":                   false,
		"not a url":                                         false,
	} {
		if got := lists.isAffiliateLink(link); got != want {
			t.Errorf("isAffiliateLink(%s) = %v", link, got)
		}
	}
	if hosts := TrackingHosts(pack); !slices.Contains(hosts, "s.click.aliexpress.com") || !slices.Contains(hosts, "click.aliexpress.com") {
		t.Errorf("tracking hosts %v", hosts)
	}
}

// The rule pack's lists and exceptions are data an analyst tunes.
func TestListsAndExceptionsFromThePack(t *testing.T) {
	env := setup(t)
	r := env.Pack.Rules[PopupRule]
	r.Lists = map[string][]string{ListPopupNetworks: {"other-network.example"}} // popads.net and popcash.net no longer listed
	r.Exceptions = []rules.Exception{{Value: "wall.example", Reason: "test", Expires: "2030-01-01"}}
	env.Pack.Rules[PopupRule] = r
	findings, _ := run(t, Popup{}, env)
	want := []got{{"POP1", "high", "E.10.h", 0.85, []string{"window_open_on_load"}}}
	if diff := cmp.Diff(want, findings); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	r.Exceptions = []rules.Exception{{Value: "POP1", Reason: "prior written approval for pop-ups (Awin terms h.)", Expires: "2026-11-30"}}
	env.Pack.Rules[PopupRule] = r
	if findings, _ := run(t, Popup{}, env); len(findings) != 0 {
		t.Errorf("an active exception still flags: %+v", findings)
	}
	r.Exceptions[0].Expires = "2026-11-21" // expired the day before the crawl
	env.Pack.Rules[PopupRule] = r
	if findings, _ := run(t, Popup{}, env); len(findings) != 1 {
		t.Errorf("an expired exception still applies: %+v", findings)
	}
}

// TestRenderShopperDevice reads the pack's choice of shopper for the
// render stage: none, a desktop browser, or a phone; anything else is a
// pack error.
func TestRenderShopperDevice(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[float64]string{0: ShopperNone, 1: ShopperDesktop, 2: ShopperMobile} {
		p, err := pack.WithThresholds(StuffingRule, map[string]float64{"render_shopper_profile": v})
		if err != nil {
			t.Fatalf("render_shopper_profile %v: %v", v, err)
		}
		got, err := RenderShopperDevice(p)
		if err != nil || got != want {
			t.Errorf("render_shopper_profile %v: %q, %v; want %q", v, got, err, want)
		}
		if on, _ := RenderShopperProfile(p); on != (want != ShopperNone) {
			t.Errorf("render_shopper_profile %v: RenderShopperProfile %v", v, on)
		}
	}
	if _, err := pack.WithThresholds(StuffingRule, map[string]float64{"render_shopper_profile": 3}); err == nil {
		t.Error("render_shopper_profile 3 accepted, want a range error")
	}
}
