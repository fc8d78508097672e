// Package pagecode judges the code of publishers' own pages, as the
// crawler stored it, against the program's rules:
//
//   - Stuffing (cookie_stuffing, clause 1.6 and ePN's ban on
//     cookie-stuffing "in any form"): a frame or image nobody can see that
//     loads an affiliate link (in the HTML or built by a script), or a
//     landing page that sends the visitor to an affiliate link by itself
//     (HTTP, meta refresh or script redirect).
//   - Popup (popup_traffic, E.10.h): window.open when the page loads or on
//     any click anywhere on it, scripts of pop-under ad networks, downloads
//     started without a click and sign-up walls over the whole page.
//
// The crawler records generic candidates; which hosts are affiliate links
// or pop-under networks is data (the rules' lists, defaults in lists.go),
// how much each sign weighs is a threshold, and known-good sites are the
// rules' exceptions (page_cookie_stuffing, page_popup in the rule pack).
// Evidence carries source "page" and the offending HTML, truncated.
package pagecode

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/rules"
)

//go:embed pagecode.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// Rule names in the pack (detectors/all registers both types).
const (
	StuffingRule = "page_cookie_stuffing"
	PopupRule    = "page_popup"
)

// Stuffing is the page-code cookie_stuffing detector.
type Stuffing struct{}

// Code implements detectors.Detector.
func (Stuffing) Code() string { return detectors.CookieStuffing }

// RuleName implements detectors.RuleNamer.
func (Stuffing) RuleName() string { return StuffingRule }

// Popup is the page-code popup_traffic detector.
type Popup struct{}

// Code implements detectors.Detector.
func (Popup) Code() string { return detectors.PopupTraffic }

// RuleName implements detectors.RuleNamer.
func (Popup) RuleName() string { return PopupRule }

// candidate is one row of the Candidates query.
type candidate struct {
	publisher, siteURL, crawlID string
	started, finished           time.Time
	pageNo                      int64
	documentURL, kind, trigger  string
	hidden, target, snippet     string
	source, profile             string // page (the crawler's HTML) or render (Chromium, per profile)
}

// signal is a candidate that matched, with what it means.
type signal struct {
	Name        string `json:"signal"`
	Kind        string `json:"kind"`
	Trigger     string `json:"trigger,omitempty"`
	Hidden      string `json:"hidden,omitempty"`
	TargetURL   string `json:"target_url,omitempty"`
	DocumentURL string `json:"document_url"`
	PageNo      int64  `json:"page_no"`
	Snippet     string `json:"snippet"`
	Source      string `json:"source,omitempty"`  // render: seen by headless Chromium
	Profile     string `json:"profile,omitempty"` // honest or shopper
	weight      float64
}

// StuffingThresholds are page_cookie_stuffing's tunable values: each sign's
// weight is how sure it makes us on its own.
type StuffingThresholds struct {
	Frame       float64 `yaml:"hidden_frame_weight" range:"[0,1]"`
	Image       float64 `yaml:"hidden_image_weight" range:"[0,1]"`
	Script      float64 `yaml:"script_redirect_weight" range:"[0,1]"`
	Injected    float64 `yaml:"script_injected_weight" range:"[0,1]"`
	Meta        float64 `yaml:"meta_refresh_weight" range:"[0,1]"`
	HTTP        float64 `yaml:"http_redirect_weight" range:"[0,1]"`
	MinScore    float64 `yaml:"min_score" range:"(0,1]"`
	MaxExamples int     `yaml:"max_examples" range:"[1,100]"`
	Snippet     int     `yaml:"max_snippet_chars" range:"[1,10000]"`
	// RenderShopperProfile 1: the render stage also opens each site as a
	// shopper would arrive (cloaking shows only there) on a desktop
	// browser, 2: on a phone; 0: honest profile only, for programs that
	// forbid the second.
	RenderShopperProfile int `yaml:"render_shopper_profile" range:"[0,2]"`
}

// Shopper devices of render_shopper_profile.
const (
	ShopperNone    = ""
	ShopperDesktop = "desktop"
	ShopperMobile  = "mobile"
)

// RenderShopperProfile reports whether the pack lets the render stage open
// sites in the shopper profile too.
func RenderShopperProfile(p *rules.Pack) (bool, error) {
	d, err := RenderShopperDevice(p)
	return d != ShopperNone, err
}

// RenderShopperDevice is the device the render's shopper profile poses
// as: ShopperDesktop, ShopperMobile, or ShopperNone (honest profile only).
func RenderShopperDevice(p *rules.Pack) (string, error) {
	th, err := stuffingThresholds.Of(p)
	switch {
	case err != nil || th.RenderShopperProfile == 0:
		return ShopperNone, err
	case th.RenderShopperProfile == 2:
		return ShopperMobile, nil
	}
	return ShopperDesktop, nil
}

// PopupThresholds are page_popup's tunable values.
type PopupThresholds struct {
	Load        float64 `yaml:"open_on_load_weight" range:"[0,1]"`
	Body        float64 `yaml:"open_on_body_click_weight" range:"[0,1]"`
	Timer       float64 `yaml:"open_on_timer_weight" range:"[0,1]"`
	Network     float64 `yaml:"popup_network_weight" range:"[0,1]"`
	Download    float64 `yaml:"forced_download_weight" range:"[0,1]"`
	Wall        float64 `yaml:"registration_wall_weight" range:"[0,1]"`
	MinScore    float64 `yaml:"min_score" range:"(0,1]"`
	MaxExamples int     `yaml:"max_examples" range:"[1,100]"`
	Snippet     int     `yaml:"max_snippet_chars" range:"[1,10000]"`
}

var (
	stuffingThresholds = rules.Declare[StuffingThresholds](StuffingRule)
	popupThresholds    = rules.Declare[PopupThresholds](PopupRule)
)

// Run implements detectors.Detector.
func (Stuffing) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	rule, err := env.Pack.Rule(StuffingRule)
	if err != nil {
		return nil, err
	}
	p, err := stuffingThresholds.From(rule)
	if err != nil {
		return nil, err
	}
	lists := affiliateLists(rule, env.Pack)
	classify := func(c candidate) (signal, bool) {
		if !lists.isAffiliateLink(c.target) {
			return signal{}, false
		}
		s := newSignal(c, p.Snippet)
		switch c.kind {
		case "hidden_frame":
			s.Name, s.weight = "hidden_affiliate_frame", p.Frame
		case "hidden_image":
			s.Name, s.weight = "hidden_affiliate_image", p.Image
		case "script_url":
			if c.trigger != "injects_iframe" && c.trigger != "injects_image" {
				return signal{}, false // a link in a script is not a request
			}
			s.Name, s.weight = "script_injected_affiliate_request", p.Injected
		case "redirect_script_redirect":
			s.Name, s.weight = "script_redirect_to_affiliate_link", p.Script
		case "redirect_meta_refresh":
			s.Name, s.weight = "meta_refresh_to_affiliate_link", p.Meta
		case "redirect_http":
			s.Name, s.weight = "http_redirect_to_affiliate_link", p.HTTP
		default:
			return signal{}, false
		}
		return s, true
	}
	return judge(ctx, env, rule, detectors.CookieStuffing, classify, p.MinScore, p.MaxExamples, stuffingSummary)
}

// Run implements detectors.Detector.
func (Popup) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	rule, err := env.Pack.Rule(PopupRule)
	if err != nil {
		return nil, err
	}
	p, err := popupThresholds.From(rule)
	if err != nil {
		return nil, err
	}
	networks := listOr(rule, ListPopupNetworks, PopupNetworks)
	classify := func(c candidate) (signal, bool) {
		s := newSignal(c, p.Snippet)
		switch {
		case c.kind == "window_open" && c.trigger == "load":
			s.Name, s.weight = "window_open_on_load", p.Load
		case c.kind == "window_open" && c.trigger == "body_click":
			s.Name, s.weight = "window_open_on_any_click", p.Body
		case c.kind == "window_open" && c.trigger == "timer":
			s.Name, s.weight = "window_open_on_timer", p.Timer
		case (c.kind == "script_src" || c.kind == "script_url") && hostIn(c.target, networks):
			s.Name, s.weight = "popup_network_script", p.Network
		case c.kind == "forced_download":
			s.Name, s.weight = "forced_download", p.Download
		case c.kind == "registration_wall":
			s.Name, s.weight = "registration_wall", p.Wall
		default:
			// a share button's window.open on its own click is what a
			// visitor asked for: not a pop-up
			return signal{}, false
		}
		return s, true
	}
	return judge(ctx, env, rule, detectors.PopupTraffic, classify, p.MinScore, p.MaxExamples, popupSummary)
}

type siteKey struct{ publisher, site string }

type siteFacts struct {
	crawlID           string
	started, finished time.Time
	signals           []signal
}

// judge runs the candidates query once and turns each site's matching
// signals into one finding.
func judge(ctx context.Context, env detectors.Env, rule rules.Rule, code string, classify func(candidate) (signal, bool),
	minScore float64, maxExamples int, summary func(site string, names []string, n int) string) ([]detectors.Finding, error) {
	rows, err := env.DB.QueryContext(ctx, queries["Candidates"])
	if err != nil {
		return nil, fmt.Errorf("%s (page): candidates: %w", code, err)
	}
	defer rows.Close()
	sites := map[siteKey]*siteFacts{}
	var order []siteKey
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.publisher, &c.siteURL, &c.crawlID, &c.started, &c.finished, &c.pageNo, &c.documentURL,
			&c.kind, &c.trigger, &c.hidden, &c.target, &c.snippet, &c.source, &c.profile); err != nil {
			return nil, err
		}
		s, ok := classify(c)
		if !ok {
			continue
		}
		k := siteKey{c.publisher, c.siteURL}
		f := sites[k]
		if f == nil {
			f = &siteFacts{crawlID: c.crawlID, started: c.started, finished: c.finished}
			sites[k] = f
			order = append(order, k)
		}
		f.signals = append(f.signals, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rendered, err := renderedProfiles(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("%s (page): rendered profiles: %w", code, err)
	}
	var renderedNow int64
	if err := env.DB.QueryRowContext(ctx, queries["RenderedThisRun"], env.RunID).Scan(&renderedNow); err != nil {
		return nil, fmt.Errorf("%s (page): renders of this run: %w", code, err)
	}
	if renderedNow == 0 && env.Signals != nil {
		env.Signals.Add(code, "render", "rendered signals unavailable: no site was rendered in this run (no Chromium installed, --no-render, or --no-crawl); the crawler's HTML and the newest stored renders are judged")
	}
	var out []detectors.Finding
	for _, k := range order {
		f := sites[k]
		if excepted(rule, k.publisher, k.site, f.finished) {
			continue // a known-good case of the rule pack, with its reason there
		}
		// Each kind of sign counts once at its weight; repeats of one
		// sign on more pages add a little, never certainty.
		best := map[string]float64{}
		count := map[string]int{}
		for _, s := range f.signals {
			best[s.Name] = math.Max(best[s.Name], s.weight)
			count[s.Name]++
		}
		names := make([]string, 0, len(best))
		doubt := 1.0
		for n, wgt := range best {
			names = append(names, n)
			doubt *= 1 - wgt
		}
		sort.Strings(names)
		score := math.Round((1-doubt)*1000) / 1000
		if score < minScore {
			continue
		}
		cloaked := shopperOnly(f.signals, rendered[k])
		if len(cloaked) > 0 {
			// Cloaking adds no weight (the signals carry it); it is what a
			// reviewer must know: our honest visit would not have seen it.
			names = append(names, "cloaked_to_shoppers")
		}
		severity := detectors.SeverityFromScore(score)
		examples := f.signals
		if len(examples) > maxExamples {
			examples = examples[:maxExamples]
		}
		ws, we := f.started.UTC(), f.finished.UTC()
		body, err := json.Marshal(map[string]any{
			"source":        "page",
			"site_url":      k.site,
			"crawl_id":      f.crawlID,
			"crawled_at":    we.Format(time.RFC3339),
			"signals":       names,
			"signal_counts": count,
			"items":         examples,
			"items_total":   len(f.signals),
			"rendered":      rendered[k] != nil,
			"profiles":      profileList(rendered[k]),
			"shopper_only":  cloaked,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, detectors.Finding{
			Discriminator: "page\x00" + k.site,
			PublisherID:   k.publisher,
			Severity:      severity,
			Score:         score,
			Summary:       summary(k.site, names, len(f.signals)) + cloakNote(cloaked),
			Evidence:      body,
			WindowStart:   ws,
			WindowEnd:     we,
			OrderIDs:      []string{},
			CommissionUSD: 0,
			Sites:         detectors.SiteHosts(k.site),
		})
	}
	return out, nil
}

var signalText = map[string]string{
	"hidden_affiliate_frame":            "a hidden or tiny frame loading an affiliate link",
	"hidden_affiliate_image":            "a hidden or tiny image loading an affiliate link",
	"script_redirect_to_affiliate_link": "a script sending visitors to an affiliate link",
	"script_injected_affiliate_request": "a script building a frame or image that loads an affiliate link",
	"meta_refresh_to_affiliate_link":    "a meta refresh to an affiliate link",
	"http_redirect_to_affiliate_link":   "an HTTP redirect of the landing page to an affiliate link",
	"window_open_on_load":               "window.open when the page loads",
	"window_open_on_any_click":          "window.open on any click on the page",
	"window_open_on_timer":              "window.open on a timer",
	"popup_network_script":              "a pop-under ad network's script",
	"forced_download":                   "a download started without the visitor's choice",
	"registration_wall":                 "a sign-up wall over the whole page",
	"cloaked_to_shoppers":               "shown only to a visitor that looks like a shopper (cloaking)",
}

func texts(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = signalText[n]
	}
	return strings.Join(out, ", ")
}

func stuffingSummary(site string, names []string, n int) string {
	return fmt.Sprintf("The publisher's site %s sets the affiliate cookie without a click: %s (%d element(s) in the crawled pages).", site, texts(names), n)
}

func popupSummary(site string, names []string, n int) string {
	return fmt.Sprintf("The publisher's site %s opens pop-ups or pop-unders: %s (%d element(s) in the crawled pages).", site, texts(names), n)
}

// brandDomains are the brands' own domains: a link there carrying the
// program's tracking parameters is an affiliate link.
func brandDomains(p *rules.Pack) []string {
	var out []string
	for _, b := range p.Brands {
		out = append(out, b.Domains...)
	}
	return out
}

func (l linkLists) isAffiliateLink(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	if hostIn(raw, l.hosts) {
		return true
	}
	for _, prefix := range l.pathPrefixes[strings.ToLower(u.Hostname())] {
		if strings.HasPrefix(u.Path, prefix) {
			return true
		}
	}
	if hostIn(raw, l.brands) {
		q := u.Query()
		for _, p := range l.params {
			if q.Has(p) {
				return true
			}
		}
	}
	return false
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// hostIn reports whether raw's host is one of hosts or below one of them.
func hostIn(raw string, hosts []string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, x := range hosts {
		if h == x || strings.HasSuffix(h, "."+x) {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

func newSignal(c candidate, snippet int) signal {
	s := signal{Kind: c.kind, Trigger: c.trigger, Hidden: c.hidden, TargetURL: c.target, DocumentURL: c.documentURL, PageNo: c.pageNo,
		Snippet: clip(c.snippet, snippet)}
	if c.source == "render" {
		s.Source, s.Profile = c.source, c.profile
	}
	return s
}

// renderedProfiles lists, per site, the profiles its newest completed
// renders used (nil: never rendered).
func renderedProfiles(ctx context.Context, env detectors.Env) (map[siteKey]map[string]bool, error) {
	rows, err := env.DB.QueryContext(ctx, queries["RenderedProfiles"])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[siteKey]map[string]bool{}
	for rows.Next() {
		var k siteKey
		var profile string
		if err := rows.Scan(&k.publisher, &k.site, &profile); err != nil {
			return nil, err
		}
		if out[k] == nil {
			out[k] = map[string]bool{}
		}
		out[k][profile] = true
	}
	return out, rows.Err()
}

func profileList(m map[string]bool) []string {
	out := []string{}
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// shopperOnly returns the signals the shopper profile saw that neither the
// honest render nor the crawler's HTML showed — only when the honest
// profile rendered the site, so a site that forbade our honest visit is
// not called cloaking.
func shopperOnly(sigs []signal, profiles map[string]bool) []string {
	if !profiles["honest"] || !profiles["shopper"] {
		return []string{}
	}
	type key struct{ name, target string }
	seen := map[key]bool{}
	for _, s := range sigs {
		if s.Profile != "shopper" {
			seen[key{s.Name, s.TargetURL}] = true
			seen[key{s.Name, ""}] = true
		}
	}
	set := map[string]bool{}
	for _, s := range sigs {
		if s.Profile == "shopper" && !seen[key{s.Name, s.TargetURL}] && !seen[key{s.Name, ""}] {
			set[s.Name+": "+s.TargetURL] = true
		}
	}
	out := make([]string, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

func cloakNote(cloaked []string) string {
	if len(cloaked) == 0 {
		return ""
	}
	return fmt.Sprintf(" Seen only by the shopper profile (a browser arriving from a search engine), not by affwatch's announced visit: %d signal(s) — cloaking.", len(cloaked))
}
