// Package brandmisuse decides whether a publisher uses a brand of the rule
// pack where the program forbids it: in search ads (E.10.i: no SEO or SEM
// "using any brands of Alibaba Group"; ePN: "in keywords, text and title of
// the ad it is forbidden to use the words aliexpress … including spelling
// with errors and in other languages"), and in its pages' titles, meta tags
// and headings (C.6.a "any unauthorized use of Alibaba Group Brands"),
// above all as a claim of affiliation (C.6.b "any content that
// misrepresents or creates any untrue relationship or affiliation with
// AliExpress"; ePN rule 3: "it must be clear to the users, that this is a
// third-party website").
//
// Inputs: the ads dataset (keyword, title, text, display_url) and, when
// the crawler ran, crawl_pages (title, meta description and keywords; the
// h1–h3 headings parsed from the stored HTML). Brand words are matched
// with detectors/branddomain's keyword matcher (typos within an edit
// budget, look-alike characters, hyphenation, compounds), plus Cyrillic
// spellings and the keyword split in two words. A claim is a phrase of the
// rule's per-language lists near a brand word, in the same sentence; a
// negation before it ("not affiliated with", "не является официальным")
// makes it the disclaimer the program asks for. An ad using the brand and
// a claim are high; a page that only mentions the brand is low (policy D.8
// allows brand words with AliExpress's prior consent, which the data does
// not show). Quality: Evaluate on the labeled corpus in testdata/.
package brandmisuse

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"affwatch/crawler"
	"affwatch/detectors"
)

//go:embed brandmisuse.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// RuleName is the rule's key in the pack.
const RuleName = "brand_misuse"

// Detector is the brand_misuse detector.
type Detector struct{}

// Code implements detectors.Detector.
func (Detector) Code() string { return detectors.BrandMisuse }

// Run implements detectors.Detector.
func (Detector) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	code := detectors.BrandMisuse
	rule, err := env.Pack.Rule(RuleName)
	if err != nil {
		return nil, err
	}
	md, err := NewModel(env.Pack, rule)
	if err != nil {
		return nil, err
	}
	var nAds, nSites, nHTML, thisRun, renders int64
	if err := env.DB.QueryRowContext(ctx, queries["State"], env.RunID).Scan(&nAds, &nSites, &nHTML, &thisRun, &renders); err != nil {
		return nil, fmt.Errorf("%s: state: %w", code, err)
	}
	mk := findingMaker{p: md.p}
	var out []detectors.Finding
	if nAds == 0 {
		env.Signals.Add(code, "ads", "no search ads in the input (the ads dataset is optional): brand bidding (E.10.i) not judged")
	} else {
		cols, err := detectors.Columns(ctx, env.DB, "ads", "keyword", "title", "text", "display_url")
		if err != nil {
			return nil, err
		}
		for _, c := range []string{"keyword", "title", "text", "display_url"} {
			if !cols[c] {
				env.Signals.Add(code, "ads."+c, "column absent or empty in the ads dataset: ads judged on their other fields")
			}
		}
		fs, err := adFindings(ctx, env, md, mk)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	if nSites == 0 && renders == 0 {
		env.Signals.Add(code, "crawl_pages.title", "no site was crawled (--no-crawl or no sites): page titles, meta tags and headings not judged")
	} else {
		if thisRun == 0 && nSites > 0 {
			env.Signals.Add(code, "crawl_sites", "no site was crawled in this run (--no-crawl): the newest stored visits are judged; each finding's evidence says when its site was crawled")
		}
		if nHTML == 0 && nSites > 0 {
			env.Signals.Add(code, "crawl_pages.html", "no crawled page kept its HTML: headings not judged, titles and meta tags only")
		}
		fs, err := pageFindings(ctx, env, md, mk, renders > 0)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].PublisherID != out[j].PublisherID {
			return out[i].PublisherID < out[j].PublisherID
		}
		return out[i].FindingID < out[j].FindingID
	})
	return out, nil
}

type findingMaker struct {
	p Params
}

// finding builds a finding; sites are the publisher's site it is about
// (none for search ads, whose publisher's sites are the registered ones).
func (mk findingMaker) finding(pub, disc string, score float64, ws, we time.Time, summary string, ev map[string]any, sites ...string) (detectors.Finding, error) {
	severity := detectors.SeverityFromScore(score)
	ev["thresholds"] = mk.p
	body, err := json.Marshal(ev)
	if err != nil {
		return detectors.Finding{}, err
	}
	return detectors.Finding{
		Discriminator: disc,
		PublisherID:   pub,
		Severity:      severity,
		Score:         score,
		Summary:       summary,
		Evidence:      body,
		WindowStart:   ws,
		WindowEnd:     we,
		OrderIDs:      []string{},
		CommissionUSD: 0,
		Sites:         detectors.SiteHosts(sites...),
	}, nil
}

// adFindings: one finding per publisher whose ads use a brand.
func adFindings(ctx context.Context, env detectors.Env, md *Model, mk findingMaker) ([]detectors.Finding, error) {
	ws, we, _, err := env.Night.Days()
	if err != nil {
		return nil, err
	}
	rows, err := env.DB.QueryContext(ctx, queries["Ads"], int64(md.maxField))
	if err != nil {
		return nil, fmt.Errorf("%s: ads: %w", RuleName, err)
	}
	defer rows.Close()
	type pubAds struct {
		ads, flagged int
		hits         []Hit
		ids          []string
		negatives    []string
	}
	byPub := map[string]*pubAds{}
	var order []string
	for rows.Next() {
		var pub string
		var a Ad
		if err := rows.Scan(&pub, &a.ID, &a.Keyword, &a.Title, &a.Text, &a.DisplayURL); err != nil {
			return nil, fmt.Errorf("%s: ads: %w", RuleName, err)
		}
		pa := byPub[pub]
		if pa == nil {
			pa = &pubAds{}
			byPub[pub] = pa
			order = append(order, pub)
		}
		pa.ads++
		r := md.AnalyzeAd(a)
		for _, n := range r.NegativeKeywords {
			if len(pa.negatives) < 10 && !slices.Contains(pa.negatives, n) {
				pa.negatives = append(pa.negatives, n)
			}
		}
		if r.Flagged() {
			pa.flagged++
			pa.ids = append(pa.ids, a.ID)
			pa.hits = append(pa.hits, r.Hits...)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: ads: %w", RuleName, err)
	}
	var out []detectors.Finding
	for _, pub := range order {
		pa := byPub[pub]
		if pa.flagged == 0 {
			continue
		}
		claim := HasClaim(pa.hits)
		hits := topHits(pa.hits, md.p.MaxEvidence)
		ids := pa.ids
		if len(ids) > 50 {
			ids = ids[:50]
		}
		ev := map[string]any{
			"source": "ads", "ads_read": pa.ads, "ads_flagged": pa.flagged, "flagged_ad_ids": ids,
			"affiliation_claim": claim, "matches": hits, "matches_total": len(pa.hits), "negative_keywords": nonNil(pa.negatives),
		}
		h := hits[0]
		verb := "use"
		if pa.flagged == 1 {
			verb = "uses"
		}
		s := fmt.Sprintf("%d of the publisher's %d search ads %s the brand %s (%s %q in ad %s's %s), which E.10.i forbids in search-engine marketing.",
			pa.flagged, pa.ads, verb, h.Brand, describeHow(h), h.Phrase, h.Where, fieldName(h.Field))
		f, err := mk.finding(pub, "ads", md.p.ScoreSEM, ws, we, s, ev)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

type pageRow struct {
	site, crawlID     string
	started, finished time.Time
	pageNo            int64
	page              Page
}

// pageFindings: one finding per site whose pages use a brand, read from
// the crawler's HTML and, when the render stage ran, from the pages as
// headless Chromium showed them in each profile.
func pageFindings(ctx context.Context, env detectors.Env, md *Model, mk findingMaker, rendered bool) ([]detectors.Finding, error) {
	rows, err := env.DB.QueryContext(ctx, queries["Pages"], int64(md.maxField), int64(md.p.MaxHTMLBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: pages: %w", RuleName, err)
	}
	defer rows.Close()
	bySite := map[siteKey]*siteHits{}
	var order []siteKey
	for rows.Next() {
		var r pageRow
		var pub string
		var html []byte
		var contentType string
		if err := rows.Scan(&pub, &r.site, &r.crawlID, &r.started, &r.finished, &r.pageNo, &r.page.URL, &r.page.Title,
			&r.page.Description, &r.page.Keywords, &html, &contentType); err != nil {
			return nil, fmt.Errorf("%s: pages: %w", RuleName, err)
		}
		k := siteKey{pub, r.site}
		sh := bySite[k]
		if sh == nil {
			sh = &siteHits{pageRow: r, crawled: true}
			bySite[k] = sh
			order = append(order, k)
		}
		sh.pages++
		sh.crawlURLs = append(sh.crawlURLs, r.page.URL)
		if html != nil {
			html, _, _ = crawler.DecodeHTML(contentType, html)
		}
		r.page.Headings = Headings(html, md.p.MaxHTMLBytes, md.p.MaxHeadings)
		if hs := md.JudgePage(r.page); len(hs) > 0 {
			sh.pagesFlagged++
			sh.hits = append(sh.hits, hs...)
			for range hs {
				sh.seen = append(sh.seen, map[string]bool{"crawl": true})
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: pages: %w", RuleName, err)
	}
	rows.Close()
	if rendered {
		if order, err = readRendered(ctx, env, md, bySite, order); err != nil {
			return nil, err
		}
	}
	var out []detectors.Finding
	for _, k := range order {
		sh := bySite[k]
		v := Verdict(sh.hits)
		if v == "" || v == KindMention && md.p.ReportMentions < 1 {
			continue
		}
		var cloak detectors.Cloaking
		if len(sh.rendered) > 0 {
			for i := range sh.hits {
				sh.hits[i].SeenBy = detectors.SortedKeys(sh.seen[i])
			}
			cloak = sh.cloaking(v)
		}
		hits := topHits(sh.hits, md.p.MaxEvidence)
		h := hits[0]
		score := md.p.ScoreMention
		var s string
		if v == KindClaim {
			score = md.p.ScoreClaim
			s = fmt.Sprintf("The publisher's site %s claims an affiliation with %s: %q in the page's %s (%s).",
				clip(k.site, 120), h.Brand, clip(h.Phrase, 120), fieldName(h.Field), clip(h.Where, 120))
		} else {
			s = fmt.Sprintf("The publisher's site %s uses the brand %s (%s %q in the page's %s) with no claim of affiliation; D.8 allows it only with AliExpress's consent.",
				clip(k.site, 120), h.Brand, describeHow(h), clip(h.Phrase, 80), fieldName(h.Field))
		}
		negated := 0
		for _, x := range sh.hits {
			if x.Kind == KindDisclaimer {
				negated++
			}
		}
		ws, we := sh.started.UTC(), sh.finished.UTC()
		ev := map[string]any{
			"source": "page", "site_url": k.site, "crawl_id": sh.crawlID, "crawled_at": we.Format(time.RFC3339),
			"verdict": v, "affiliation_claim": v == KindClaim, "disclaimers_found": negated,
			"pages_read": sh.pages, "pages_flagged": sh.pagesFlagged, "matches": hits, "matches_total": len(sh.hits),
		}
		if len(sh.rendered) > 0 {
			ev["rendered"] = true
			ev["profiles"] = detectors.SortedKeys(sh.rendered)
			ev["rendered_only"] = cloak.RenderedOnly
			ev["shopper_only"] = cloak.ShopperOnly
		}
		f, err := mk.finding(k.pub, "site\x00"+k.site, score, ws, we, s+cloak.Note(), ev, k.site)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

type siteKey struct{ pub, site string }

// siteHits gathers one site's hits; seen[i] says where hits[i] was read
// (crawl, render:honest, render:shopper).
type siteHits struct {
	pageRow
	pages, pagesFlagged int
	hits                []Hit
	seen                []map[string]bool
	crawled             bool
	crawlURLs           []string
	rendered            map[string]bool // profiles whose render was read
}

// maxRenderedText bounds the rendered text read per page (the render
// stage keeps at most 60,000 characters).
const maxRenderedText = 64 << 10

// readRendered judges the rendered pages of every site: the title as any
// page's, the visible text for claims of affiliation and their
// disclaimers only (a page of deals names the brand everywhere; a claim
// in the body says what the title may not). A hit the crawl or another
// profile already read is that hit seen another way, not one more; a
// rendered page whose URL the crawler read is not one more page.
func readRendered(ctx context.Context, env detectors.Env, md *Model, bySite map[siteKey]*siteHits, order []siteKey) ([]siteKey, error) {
	rows, err := env.DB.QueryContext(ctx, queries["RenderedPages"], int64(md.maxField), int64(maxRenderedText))
	if err != nil {
		return nil, fmt.Errorf("%s: rendered pages: %w", RuleName, err)
	}
	defer rows.Close()
	type hitKey struct{ field, where, phrase, kind string }
	index := map[siteKey]map[hitKey]int{}
	pageSeen := map[siteKey]map[string]bool{}
	flaggedSeen := map[siteKey]map[string]bool{}
	for rows.Next() {
		var pub, site, renderID, profile, url, title, text string
		var started, finished time.Time
		var pageNo int64
		if err := rows.Scan(&pub, &site, &renderID, &profile, &started, &finished, &pageNo, &url, &title, &text); err != nil {
			return nil, fmt.Errorf("%s: rendered pages: %w", RuleName, err)
		}
		k := siteKey{pub, site}
		sh := bySite[k]
		if sh == nil {
			// rendered, never crawled: the render stands for the visit
			sh = &siteHits{pageRow: pageRow{site: site, crawlID: renderID, started: started, finished: finished}}
			bySite[k] = sh
			order = append(order, k)
		}
		if !sh.crawled {
			if started.Before(sh.started) {
				sh.started = started
			}
			if finished.After(sh.finished) {
				sh.finished = finished
			}
		}
		if sh.rendered == nil {
			sh.rendered = map[string]bool{}
		}
		sh.rendered[profile] = true
		if index[k] == nil {
			index[k] = map[hitKey]int{}
			for i, h := range sh.hits {
				index[k][hitKey{h.Field, h.Where, h.Phrase, h.Kind}] = i
			}
			pageSeen[k], flaggedSeen[k] = map[string]bool{}, map[string]bool{}
			for _, u := range sh.crawlURLs {
				pageSeen[k][u] = true
			}
			for _, h := range sh.hits {
				flaggedSeen[k][h.Where] = true
			}
		}
		if !pageSeen[k][url] {
			pageSeen[k][url] = true
			sh.pages++
		}
		var hs []Hit
		if host, _ := splitURL(url); host == "" || !md.Own(host) {
			hs = md.Analyze("title", url, title)
			for _, h := range analyzeText(md, url, text) {
				if h.Kind != KindMention {
					hs = append(hs, h)
				}
			}
		}
		if len(hs) > 0 && !flaggedSeen[k][url] {
			flaggedSeen[k][url] = true
			sh.pagesFlagged++
		}
		from := "render:" + profile
		for _, h := range hs {
			hk := hitKey{h.Field, h.Where, h.Phrase, h.Kind}
			if i, ok := index[k][hk]; ok {
				sh.seen[i][from] = true
				continue
			}
			index[k][hk] = len(sh.hits)
			sh.hits = append(sh.hits, h)
			sh.seen = append(sh.seen, map[string]bool{from: true})
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: rendered pages: %w", RuleName, err)
	}
	return order, nil
}

// analyzeText reads a page's visible text in windows of the model's field
// size, overlapping so that a phrase across a window's edge is read whole.
func analyzeText(md *Model, where, text string) []Hit {
	const overlap = 256
	var hs []Hit
	for off := 0; off < len(text); {
		end := min(off+md.maxField, len(text))
		hs = append(hs, md.Analyze("visible_text", where, strings.ToValidUTF8(text[off:end], ""))...)
		if end == len(text) {
			break
		}
		off = max(end-overlap, off+1)
	}
	return hs
}

// cloaking says where the hits behind the site's verdict were seen.
func (sh *siteHits) cloaking(verdict string) detectors.Cloaking {
	where := map[string]bool{}
	for i, h := range sh.hits {
		if verdict == KindClaim && (h.Kind != KindClaim || h.Negated) {
			continue
		}
		for s := range sh.seen[i] {
			where[s] = true
		}
	}
	return detectors.Cloaking{
		RenderedOnly: sh.crawled && !where["crawl"],
		ShopperOnly:  sh.rendered["honest"] && len(where) == 1 && where["render:shopper"],
	}
}

// topHits orders hits for the evidence: claims first (not negated), then
// ads' and titles' hits, exact before misspelled; at most n.
func topHits(hs []Hit, n int) []Hit {
	out := append([]Hit(nil), hs...)
	rank := func(h Hit) int {
		switch {
		case h.Kind == KindClaim:
			return 0
		case h.Kind == KindDisclaimer:
			return 2
		}
		return 1
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		return false
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

func describeHow(h Hit) string {
	switch h.How {
	case "exact":
		return "the keyword"
	case "domain":
		return "a look-alike domain"
	case "transliteration":
		return "the keyword in Cyrillic"
	case "split":
		return "the keyword split in two words"
	default:
		return "a " + h.How + " of " + h.Keyword
	}
}

var fieldNames = map[string]string{"keyword": "keyword", "title": "title", "text": "text", "display_url": "display URL",
	"meta_description": "meta description", "meta_keywords": "meta keywords", "heading": "heading"}

func fieldName(f string) string {
	if n, ok := fieldNames[f]; ok {
		return n
	}
	return strings.ReplaceAll(f, "_", " ")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return cutUTF8(s, n) + "…"
}
