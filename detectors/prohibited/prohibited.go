// Package prohibited decides whether a publisher's own site is about
// content the program forbids on advertising channels (clauses C.6.c–q and
// D.7; the ePN rules' notes on piracy, refund content and motivated
// traffic): adult, gambling, drugs, prescription drugs sold without a
// prescription, weapons, tobacco, hacking how-tos, hate or violence,
// piracy, misleading bait offers, refund-fraud guides and incentivized
// traffic.
//
// It reads the text, title and meta of every page of the newest crawl of
// each site (crawl_latest, crawl_pages) and, when the render stage ran,
// the text headless Chromium laid out in each profile (render_latest_ok,
// render_pages): text a script writes is only there, and text served only
// to a visitor that looks like a shopper is cloaking, said in the finding.
// It classifies each page two ways, both
// from lists of the prohibited_content rule in English, Russian, Spanish,
// Portuguese and French. Words are folded first (case, diacritics,
// leetspeak, look-alike letters of other scripts, s.p.e.l.l.e.d-out
// words, symbols between letters); a word after a negation ("we do not
// sell tobacco to minors") does not count, one near a context cue (news,
// law, addiction help, parental control, defence) counts for less.
//
// The phrase path weighs the lexicons' phrases: repeats of one phrase
// decay, and the total is weighed against the page's length, so one
// mention on a long page is not a site about it. It knows the wording it
// was written from and little else. The concept path (concept.go)
// recognizes a category by what a page does: words of several distinct
// concept groups, matched by light stem (stem.go), within a window — a
// substance AND an offer to sell it, a game AND money AND a bonus — where
// one group alone is a topic that news, law, help and reviews share. A
// page is about a category when either path reaches the rule's thresholds;
// the site's finding quotes the pages, the phrases and concept words with
// their groups, and says which path found it.
package prohibited

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"affwatch/detectors"
)

//go:embed prohibited.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// RuleName is the rule's key in the pack.
const RuleName = "prohibited_content"

// Detector is the prohibited_content detector.
type Detector struct{}

// Code implements detectors.Detector.
func (Detector) Code() string { return detectors.ProhibitedContent }

type siteKey struct{ publisher, site string }

type site struct {
	crawlID           string
	started, finished time.Time
	pages             []PageResult
	pageNos           []int64
	// views says where each of pages was read: the crawler's HTML or a
	// render in a profile
	views []view
	// rendered: the profiles whose render of the site was read
	rendered map[string]bool
	crawled  bool
}

// view is where a page's text was read and which page it stands for: a
// rendered page whose URL the crawler also read is the same page seen
// another way (key), not one more page about the category.
type view struct {
	source  string // page (the crawler's HTML) or render
	profile string // render: honest or shopper
	key     string
}

// seenAs names a view in the evidence: crawl, render:honest, render:shopper.
func (v view) seenAs() string {
	if v.source == "render" {
		return "render:" + v.profile
	}
	return "crawl"
}

// Run implements detectors.Detector.
func (Detector) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	rule, err := env.Pack.Rule(RuleName)
	if err != nil {
		return nil, err
	}
	code := detectors.ProhibitedContent
	var crawled, withText, thisRun, renders int64
	if err := env.DB.QueryRowContext(ctx, queries["CrawlState"], env.RunID).Scan(&crawled, &withText, &thisRun, &renders); err != nil {
		return nil, fmt.Errorf("%s: crawl state: %w", code, err)
	}
	if crawled == 0 && renders == 0 {
		env.Signals.Add(code, "crawl_pages.visible_text", "no site was crawled in this run (--no-crawl or no sites): site content not judged")
		return nil, nil
	}
	// The learned model (4 MB of weights) is read only when there are
	// pages to judge: a night without crawls does not pay for it.
	model, err := NewModel(rule)
	if err != nil {
		return nil, err
	}
	if thisRun == 0 && crawled > 0 {
		env.Signals.Add(code, "crawl_sites", "no site was crawled in this run (--no-crawl): the newest stored visits are judged; each finding's evidence says when its site was crawled")
	}
	if withText == 0 && renders == 0 {
		env.Signals.Add(code, "crawl_pages.visible_text", "no crawled page carries text: site content not judged")
	}
	rows, err := env.DB.QueryContext(ctx, queries["Pages"], int64(model.th.MaxTextChars))
	if err != nil {
		return nil, fmt.Errorf("%s: pages: %w", code, err)
	}
	defer rows.Close()
	sites := map[siteKey]*site{}
	var order []siteKey
	for rows.Next() {
		var k siteKey
		var crawlID string
		var started, finished time.Time
		var pageNo int64
		var p Page
		if err := rows.Scan(&k.publisher, &k.site, &crawlID, &started, &finished, &pageNo, &p.URL, &p.Title, &p.Description, &p.Keywords, &p.Text); err != nil {
			return nil, fmt.Errorf("%s: pages: %w", code, err)
		}
		s := sites[k]
		if s == nil {
			s = &site{crawlID: crawlID, started: started, finished: finished, crawled: true}
			sites[k] = s
			order = append(order, k)
		}
		s.pages = append(s.pages, model.Classify(p))
		s.pageNos = append(s.pageNos, pageNo)
		s.views = append(s.views, view{source: "page", key: fmt.Sprintf("page\x00%d", pageNo)})
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: pages: %w", code, err)
	}
	rows.Close()
	if renders > 0 {
		if order, err = readRendered(ctx, env, model, sites, order); err != nil {
			return nil, err
		}
	}
	var out []detectors.Finding
	for _, k := range order {
		fs, err := siteFindings(model, k, sites[k])
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

// readRendered adds the pages of each site's newest renders to sites. A
// rendered page whose URL the crawler read (or another profile rendered)
// is that page seen another way: it shares its key.
func readRendered(ctx context.Context, env detectors.Env, model *Model, sites map[siteKey]*site, order []siteKey) ([]siteKey, error) {
	code := detectors.ProhibitedContent
	rows, err := env.DB.QueryContext(ctx, queries["RenderedPages"], int64(model.th.MaxTextChars))
	if err != nil {
		return nil, fmt.Errorf("%s: rendered pages: %w", code, err)
	}
	defer rows.Close()
	keyOf := map[siteKey]map[string]string{} // site → page URL → key
	for rows.Next() {
		var k siteKey
		var renderID, profile string
		var started, finished time.Time
		var pageNo int64
		var p Page
		if err := rows.Scan(&k.publisher, &k.site, &renderID, &profile, &started, &finished, &pageNo, &p.URL, &p.Title, &p.Text); err != nil {
			return nil, fmt.Errorf("%s: rendered pages: %w", code, err)
		}
		s := sites[k]
		if s == nil {
			// rendered, never crawled: the renders' times are the window
			s = &site{crawlID: renderID, started: started, finished: finished}
			sites[k] = s
			order = append(order, k)
		}
		if !s.crawled {
			if started.Before(s.started) {
				s.started = started
			}
			if finished.After(s.finished) {
				s.finished = finished
			}
		}
		if s.rendered == nil {
			s.rendered = map[string]bool{}
		}
		s.rendered[profile] = true
		urls := keyOf[k]
		if urls == nil {
			urls = map[string]string{}
			for i, pr := range s.pages {
				if s.views[i].source == "page" {
					urls[pr.URL] = s.views[i].key
				}
			}
			keyOf[k] = urls
		}
		key, ok := urls[p.URL]
		if !ok {
			key = "url\x00" + p.URL
			urls[p.URL] = key
		}
		s.pages = append(s.pages, model.Classify(p))
		s.pageNos = append(s.pageNos, pageNo)
		s.views = append(s.views, view{source: "render", profile: profile, key: key})
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: rendered pages: %w", code, err)
	}
	return order, nil
}

// pageSites are the hosts of the site and of its pages a finding cites.
func pageSites(site string, pages []evidencePage) []string {
	urls := []string{site}
	for _, p := range pages {
		urls = append(urls, p.URL)
	}
	return detectors.SiteHosts(urls...)
}

// evidencePage is one flagged page in a finding's evidence.
type evidencePage struct {
	URL        string  `json:"url"`
	PageNo     int64   `json:"page_no"`
	Words      int     `json:"words"`
	TextLength int     `json:"text_length"`
	Score      float64 `json:"score"`
	Strength   float64 `json:"strength"`
	Density    float64 `json:"density"`
	Distinct   int     `json:"distinct_phrases"`
	Strong     int     `json:"strong_phrases"`
	Negated    int     `json:"negated"`
	Discounted int     `json:"discounted"`
	// Basis is the path that flagged the page ("phrases", "concepts" or
	// both); Concepts holds the concept path's figures
	Basis    string          `json:"basis,omitempty"`
	Concepts *ConceptFigures `json:"concepts,omitempty"`
	// Probability is the learned model's calibrated probability (issue 18)
	Probability float64 `json:"probability,omitempty"`
	Matches     []Match `json:"matches"`
	// SeenBy lists where the page was read about the category when the
	// site was also rendered: crawl, render:honest, render:shopper
	SeenBy []string `json:"seen_by,omitempty"`
	key    string
}

// siteFindings makes one finding per category the site is about: the
// site's score is its strongest page's, plus a little for each further
// page about the same thing.
func siteFindings(m *Model, k siteKey, s *site) ([]detectors.Finding, error) {
	var out []detectors.Finding
	read := map[string]bool{}
	for _, v := range s.views {
		read[v.key] = true
	}
	for _, c := range m.cats {
		var pages []evidencePage
		at := map[string]int{}               // page key → index in pages
		seen := map[string]map[string]bool{} // page key → where it was flagged
		seenAll := map[string]bool{}
		best := 0.0
		for i, pr := range s.pages {
			for _, cr := range pr.Categories {
				if cr.Category != c.Name || !cr.Flagged {
					continue
				}
				best = math.Max(best, cr.Score)
				v := s.views[i]
				if seen[v.key] == nil {
					seen[v.key] = map[string]bool{}
				}
				seen[v.key][v.seenAs()] = true
				seenAll[v.seenAs()] = true
				ep := evidencePage{URL: pr.URL, PageNo: s.pageNos[i], Words: pr.Tokens, TextLength: pr.TextLength, Score: cr.Score,
					Strength: cr.Strength, Density: cr.Density, Distinct: cr.Distinct, Strong: cr.Strong, Negated: cr.Negated, Discounted: cr.Discounted,
					Basis: cr.Basis, Concepts: cr.Concepts, Probability: cr.Probability, Matches: cr.Matches, key: v.key}
				// one page read several ways counts once, as its best reading
				if j, ok := at[v.key]; !ok {
					at[v.key] = len(pages)
					pages = append(pages, ep)
				} else if cr.Score > pages[j].Score {
					pages[j] = ep
				}
			}
		}
		if len(pages) == 0 {
			continue
		}
		if len(s.rendered) > 0 {
			for i := range pages {
				pages[i].SeenBy = detectors.SortedKeys(seen[pages[i].key])
			}
		}
		score := round3(math.Min(1, best+0.05*float64(len(pages)-1)))
		sort.SliceStable(pages, func(i, j int) bool {
			if pages[i].Score != pages[j].Score {
				return pages[i].Score > pages[j].Score
			}
			return pages[i].PageNo < pages[j].PageNo
		})
		flagged := len(pages)
		if len(pages) > m.th.MaxPages {
			pages = pages[:m.th.MaxPages]
		}
		severity := detectors.SeverityFromScore(score)
		ws, we := s.started.UTC(), s.finished.UTC()
		body := map[string]any{
			"source":        "page",
			"site_url":      k.site,
			"crawl_id":      s.crawlID,
			"crawled_at":    we.Format(time.RFC3339),
			"category":      c.Name,
			"clause":        c.Clause,
			"score":         score,
			"pages_flagged": flagged,
			"pages_read":    len(read),
			"pages":         pages,
			"thresholds":    m.th,
		}
		if len(m.minProb) > 0 {
			// the learned path's thresholds, for reading each page's probability
			body["min_probability"] = m.minProb
		}
		var cloak detectors.Cloaking
		if len(s.rendered) > 0 {
			cloak = detectors.Cloaking{
				// the crawler read the site and never saw it: a script
				// writes it, or the server shows it to browsers only
				RenderedOnly: s.crawled && !seenAll["crawl"],
				// only a visitor that looks like a shopper was shown it,
				// and affwatch's announced render read the site too
				ShopperOnly: s.rendered["honest"] && len(seenAll) == 1 && seenAll["render:shopper"],
			}
			body["rendered"] = true
			body["profiles"] = detectors.SortedKeys(s.rendered)
			body["seen_by"] = detectors.SortedKeys(seenAll)
			body["rendered_only"] = cloak.RenderedOnly
			body["shopper_only"] = cloak.ShopperOnly
		}
		evidence, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		out = append(out, detectors.Finding{
			Discriminator: k.site + "\x00" + c.Name,
			PublisherID:   k.publisher,
			Severity:      severity,
			Score:         score,
			Summary:       summary(k.site, c, flagged, len(read), pages[0]) + cloak.Note(),
			Evidence:      evidence,
			WindowStart:   ws,
			WindowEnd:     we,
			OrderIDs:      []string{},
			CommissionUSD: 0,
			Sites:         pageSites(k.site, pages),
		})
	}
	return out, nil
}

var categoryText = map[string]string{
	"adult":              "adult content",
	"gambling":           "gambling",
	"drugs":              "the sale of drugs",
	"prescription_drugs": "the sale of prescription drugs",
	"weapons":            "the sale of weapons",
	"tobacco":            "the sale of tobacco",
	"hacking":            "hacking how-tos",
	"hate":               "hate or violence",
	"piracy":             "pirated content",
	"misleading":         "misleading bait offers",
	"refund_fraud":       "refund-fraud guides",
	"incentivized":       "paid or rewarded clicks",
}

func summary(siteURL string, c Category, flagged, read int, top evidencePage) string {
	what := categoryText[c.Name]
	if what == "" {
		what = strings.ReplaceAll(c.Name, "_", " ")
	}
	var phrases []string
	for _, m := range top.Matches {
		if len(phrases) == 3 {
			break
		}
		phrases = append(phrases, fmt.Sprintf("%q", m.Phrase))
	}
	s := fmt.Sprintf("The publisher's site %s is about %s (%s): %d of %d crawled page(s), e.g. %s on %s.",
		siteURL, what, c.Clause, flagged, read, strings.Join(phrases, ", "), top.URL)
	if top.Basis == "learned" {
		// no lexicon phrase: the model's words are quoted instead
		s += fmt.Sprintf(" Found by the learned model (probability %.2f), not by a known phrase.", top.Probability)
	}
	if top.Basis == "concepts" && top.Concepts != nil {
		// no known phrase: say what was taken together
		s += fmt.Sprintf(" Found by co-occurring concepts (%s), not by a known phrase.", strings.Join(top.Concepts.Groups, ", "))
	}
	return s
}
