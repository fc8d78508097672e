// Package branddomain decides whether a publisher's site name imitates a
// brand of the rule pack (policy B.5.a–b and 8.3; ePN rule 1: "The
// 'AliExpress' word cannot be used in the domain name of the website.
// Variants with a spelling mistake and names similar to Aliexpress are also
// not allowed").
//
// Inputs: the sites dataset (url) and, when the crawler ran, the hosts the
// landing page ended on (final URL, redirect hops) and DNS facts. Each
// host is normalized (lower case, IDN decoded, public suffix split off,
// confusable skeleton: normalize.go, confusables.go) and compared with
// every keyword of every brand (matcher.go): the keyword inside a label
// (combosquat), as a subdomain label, with another TLD, hyphenated, within
// a length-aware edit budget (typos), or equal once look-alike characters
// are mapped (homoglyphs, IDN). The brands' own domains and the rule's
// exceptions are never flagged; the rule's stop words are real words near a
// keyword. Quality is measured by Evaluate on generated look-alikes of every
// class (permute.go) and 16,722 real domains (testdata/README.md).
package branddomain

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/rules"
)

//go:embed branddomain.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// RuleName is the rule's key in the pack.
const RuleName = "brand_domain"

// MaxURLLen bounds the URL text parsed per site.
const MaxURLLen = 2048

// Detector is the brand_domain detector.
type Detector struct{}

// Code implements detectors.Detector.
func (Detector) Code() string { return detectors.BrandDomain }

type site struct {
	publisher, url, kind string
	crawlID, status      sql.NullString
	started, finished    sql.NullTime
}

type dnsFacts struct {
	Available bool   `json:"available"`
	Resolves  *bool  `json:"resolves,omitempty"`
	HasMX     *bool  `json:"mx_present,omitempty"`
	ARcode    string `json:"a_rcode,omitempty"`
	Records   int64  `json:"records,omitempty"`
	Crawl     string `json:"crawl_status,omitempty"`
	Note      string `json:"note,omitempty"`
}

type hostMatch struct {
	Source string `json:"source"` // site_url, final_url, redirect
	URL    string `json:"url"`
	Match
}

// Run implements detectors.Detector.
func (Detector) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	rule, err := env.Pack.Rule(RuleName)
	if err != nil {
		return nil, err
	}
	p, err := ParamsFrom(rule)
	if err != nil {
		return nil, err
	}
	ws, we, _, err := env.Night.Days()
	if err != nil {
		return nil, err
	}
	// exceptions in force at the end of the scope (deterministic for a
	// given input, unlike the wall clock)
	day := we
	if day.IsZero() {
		day = time.Now().UTC()
	}
	// an exception's value is a host (it and its subdomains are never
	// flagged) or, without a dot, a publisher id (none of its sites is)
	var active []rules.Exception
	exemptPublishers := map[string]string{}
	for _, e := range rule.Exceptions {
		if !e.Active(day) {
			continue
		}
		if strings.Contains(e.Value, ".") {
			active = append(active, e)
		} else {
			exemptPublishers[e.Value] = e.Reason
		}
	}
	m, err := NewMatcher(env.Pack, rule, p, active)
	if err != nil {
		return nil, err
	}
	db := env.DB
	var crawled int64
	if err := db.QueryRowContext(ctx, queries["CrawlCount"]).Scan(&crawled); err != nil {
		return nil, fmt.Errorf("brand_domain: crawl count: %w", err)
	}
	if crawled == 0 {
		env.Signals.Add(detectors.BrandDomain, "crawl_dns", "no crawl in this run (--no-crawl or nothing crawled): DNS facts unavailable, site URLs judged alone")
		env.Signals.Add(detectors.BrandDomain, "crawl_pages.final_url", "no crawl in this run: redirect targets of the sites not screened")
	}
	// crawl facts
	extra := map[string][]hostMatch{}
	dns := map[string]dnsFacts{}
	if crawled > 0 {
		rows, err := db.QueryContext(ctx, queries["CrawlHosts"])
		if err != nil {
			return nil, fmt.Errorf("brand_domain: crawl hosts: %w", err)
		}
		for rows.Next() {
			var id, src, u string
			if err := rows.Scan(&id, &src, &u); err != nil {
				rows.Close()
				return nil, err
			}
			extra[id] = append(extra[id], hostMatch{Source: src, URL: u})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		rows, err = db.QueryContext(ctx, queries["DNSFacts"])
		if err != nil {
			return nil, fmt.Errorf("brand_domain: dns facts: %w", err)
		}
		for rows.Next() {
			var id, rc string
			var res, mx bool
			var n int64
			if err := rows.Scan(&id, &res, &mx, &rc, &n); err != nil {
				rows.Close()
				return nil, err
			}
			dns[id] = dnsFacts{Available: true, Resolves: &res, HasMX: &mx, ARcode: rc, Records: n}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	rows, err := db.QueryContext(ctx, queries["Sites"])
	if err != nil {
		return nil, fmt.Errorf("brand_domain: sites: %w", err)
	}
	var sites []site
	for rows.Next() {
		var s site
		if err := rows.Scan(&s.publisher, &s.url, &s.kind, &s.crawlID, &s.status, &s.started, &s.finished); err != nil {
			rows.Close()
			return nil, err
		}
		sites = append(sites, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []detectors.Finding
	for _, s := range sites {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, ok := exemptPublishers[s.publisher]; ok {
			continue
		}
		var cands []hostMatch
		// an app or extension is named by a store URL or a package id
		// (com.example.app), not a domain: only URLs with a scheme count
		if (s.kind != "app" && s.kind != "extension") || strings.Contains(s.url, "://") {
			cands = append(cands, hostMatch{Source: "site_url", URL: s.url})
		}
		if s.crawlID.Valid {
			cands = append(cands, extra[s.crawlID.String]...)
		}
		var hits []hostMatch
		seen := map[string]bool{}
		for _, c := range cands {
			h := hostOf(c.URL)
			if h == "" || seen[h] {
				continue
			}
			seen[h] = true
			mt, ok := m.MatchHost(h)
			if !ok || mt.Score < p.MinScore {
				continue
			}
			c.Match = mt
			c.URL = clip(c.URL, 300)
			hits = append(hits, c)
		}
		if len(hits) == 0 {
			continue
		}
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
		best := hits[0]
		if len(hits) > p.MaxFindingsSites {
			hits = hits[:p.MaxFindingsSites]
		}
		f := dnsFacts{Note: "no crawl of this site in this run: DNS facts unavailable"}
		fs, fe := ws, we
		if s.crawlID.Valid {
			f = dns[s.crawlID.String]
			f.Crawl = s.status.String
			if !f.Available {
				f.Note = "crawled, but no DNS answers were recorded"
			}
			if s.started.Valid && s.finished.Valid {
				fs, fe = s.started.Time.UTC(), s.finished.Time.UTC()
			}
		}
		severity := detectors.SeverityFromScore(best.Score)
		ev, err := json.Marshal(map[string]any{
			"source":    "site_name",
			"site_url":  clip(s.url, 300),
			"site_kind": s.kind,
			"brand":     best.Brand,
			"keyword":   best.Keyword,
			"class":     best.Class,
			"closeness": closeness(best.Match),
			"match":     best,
			"hosts":     hits,
			"dns":       f,
			"thresholds": map[string]any{
				"max_edit_distance": best.MaxDistance, "min_score": p.MinScore, "fuzzy_min_len": p.FuzzyMinLen,
				"two_edit_min_len": p.TwoEditMinLen, "short_keyword_len": p.ShortKeywordLen, "compound_fuzzy_min_len": p.CompoundFuzzyMin,
			},
		})
		if err != nil {
			return nil, err
		}
		siteURLs := []string{s.url}
		for _, h := range hits {
			siteURLs = append(siteURLs, h.URL)
		}
		out = append(out, detectors.Finding{
			Discriminator: "site\x00" + s.url,
			PublisherID:   s.publisher,
			Severity:      severity,
			Score:         best.Score,
			Summary:       summary(s.url, best),
			Evidence:      ev,
			WindowStart:   fs,
			WindowEnd:     fe,
			OrderIDs:      []string{},
			CommissionUSD: 0,
			Sites:         detectors.SiteHosts(siteURLs...),
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].PublisherID != out[j].PublisherID {
			return out[i].PublisherID < out[j].PublisherID
		}
		return out[i].FindingID < out[j].FindingID
	})
	return out, nil
}

var classText = map[string]string{
	"combosquat":    "contains its keyword %q",
	"subdomain":     "carries its keyword %q in a subdomain",
	"tld_swap":      "is its keyword %q under another top-level domain",
	"hyphenation":   "is its keyword %q with hyphens inserted",
	"homoglyph":     "spells its keyword %q with look-alike characters",
	"addition":      "is its keyword %q with a character added",
	"omission":      "is its keyword %q with a letter missing",
	"repetition":    "is its keyword %q with a letter doubled",
	"insertion":     "is its keyword %q with a character inserted",
	"replacement":   "is its keyword %q with a letter replaced",
	"transposition": "is its keyword %q with two letters swapped",
	"vowel_swap":    "is its keyword %q with a vowel swapped",
	"bitsquatting":  "is its keyword %q with one character a bit-flip away",
	"compound_typo": "contains a misspelling of its keyword %q",
	"typo":          "is a misspelling of its keyword %q",
}

var sourceText = map[string]string{"site_url": "", "final_url": " (where its landing page ends)", "redirect": " (a redirect of its landing page)"}

func summary(siteURL string, m hostMatch) string {
	return fmt.Sprintf("The publisher's site %s imitates the brand %s: %s%s %s (%s).",
		clip(siteURL, 120), m.Brand, m.Host, sourceText[m.Source], fmt.Sprintf(classText[m.Class], m.Keyword), closeness(m.Match))
}

// closeness says in words how close the host is to the keyword.
func closeness(m Match) string {
	switch {
	case m.Distance == 0 && m.Form == "text":
		return "exact keyword"
	case m.Distance == 0:
		return fmt.Sprintf("identical once look-alike characters are mapped (%s), %d edit(s) as written", strings.ReplaceAll(m.Form, "_", " "), m.TextDistance)
	default:
		return fmt.Sprintf("%d edit(s) from the keyword, budget %d, similarity %.2f", m.Distance, m.MaxDistance, m.Similarity)
	}
}

// hostOf extracts the host of a site URL ("example.com/path" and
// "//example.com" too); "" when there is none.
func hostOf(raw string) string {
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxURLLen {
		raw = raw[:MaxURLLen]
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + strings.TrimPrefix(raw, "//")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
