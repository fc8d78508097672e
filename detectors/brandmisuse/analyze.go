package brandmisuse

import (
	"bytes"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// Ad is one search ad of the ads dataset.
type Ad struct {
	ID, Keyword, Title, Text, DisplayURL string
}

// AdResult is what an ad says about the brand.
type AdResult struct {
	Hits []Hit
	// NegativeKeywords are brand keywords the ad excludes ("-aliexpress"):
	// what ePN asks for, never a violation.
	NegativeKeywords []string
}

// Flagged reports whether the ad bids on or shows the brand (E.10.i).
func (r AdResult) Flagged() bool { return len(r.Hits) > 0 }

// HasClaim reports a claim of affiliation that no negation cancels.
func HasClaim(hs []Hit) bool {
	for _, h := range hs {
		if h.Kind == KindClaim {
			return true
		}
	}
	return false
}

// AnalyzeAd finds the brand in an ad's keyword, title, text and display
// URL (its host screened like a domain, the brand's own domains excepted,
// its path like text). A keyword written as a negative ("-aliexpress") is
// the exclusion ePN asks for and is not read.
func (md *Model) AnalyzeAd(a Ad) AdResult {
	var r AdResult
	kw := strings.TrimSpace(a.Keyword)
	var keep []string
	for _, part := range strings.FieldsFunc(kw, func(c rune) bool { return c == ',' || c == '\n' || c == ';' }) {
		part = strings.TrimSpace(part)
		if strings.HasPrefix(part, "-") {
			r.NegativeKeywords = append(r.NegativeKeywords, cutUTF8(part, 100))
			continue
		}
		// "cheap phones -aliexpress": negatives inside one keyword line
		var words []string
		for _, w := range strings.Fields(part) {
			if strings.HasPrefix(w, "-") && len(w) > 1 {
				r.NegativeKeywords = append(r.NegativeKeywords, cutUTF8(w, 100))
				continue
			}
			words = append(words, w)
		}
		keep = append(keep, strings.Join(words, " "))
	}
	r.Hits = append(r.Hits, md.Analyze("keyword", a.ID, strings.Join(keep, ", "))...)
	r.Hits = append(r.Hits, md.Analyze("title", a.ID, a.Title)...)
	r.Hits = append(r.Hits, md.Analyze("text", a.ID, a.Text)...)
	if du := strings.TrimSpace(cutUTF8(a.DisplayURL, md.maxField)); du != "" {
		host, path := splitURL(du)
		if host != "" {
			if mt, ok := md.MatchHost(host); ok {
				r.Hits = append(r.Hits, Hit{Field: "display_url", Where: a.ID, Phrase: host, Snippet: snippet(du, 0, len(host), SnippetBytes),
					Brand: mt.Brand, Keyword: mt.Keyword, How: "domain", Class: mt.Class, Distance: mt.Distance, Kind: KindMention})
			}
		}
		if path != "" {
			for _, h := range md.Analyze("display_url", a.ID, path) {
				h.Snippet = snippet(du, len(du)-len(path)+h.start, len(du)-len(path)+h.start+len(h.Phrase), SnippetBytes)
				r.Hits = append(r.Hits, h)
			}
		}
	}
	return r
}

// splitURL splits a display URL into its host and the rest (path, query),
// the rest with separators turned into blanks so its words can be read.
func splitURL(raw string) (host, rest string) {
	s := raw
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	s = strings.TrimPrefix(s, "//")
	h := s
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		h, rest = s[:i], s[i:]
	}
	if u, err := url.Parse("http://" + h); err == nil {
		host = strings.ToLower(u.Hostname())
	}
	rest = strings.Map(func(r rune) rune {
		switch r {
		case '/', '_', '?', '#', '&', '=', '+', '%':
			return ' '
		}
		return r
	}, rest)
	return host, rest
}

// Page is one crawled page's text fields.
type Page struct {
	URL         string
	Title       string
	Description string
	Keywords    string
	Headings    []string
}

// AnalyzePage finds the brand in a page's title, meta description, meta
// keywords and headings.
func (md *Model) AnalyzePage(p Page) []Hit {
	var hs []Hit
	hs = append(hs, md.Analyze("title", p.URL, p.Title)...)
	hs = append(hs, md.Analyze("meta_description", p.URL, p.Description)...)
	hs = append(hs, md.Analyze("meta_keywords", p.URL, p.Keywords)...)
	for i, h := range p.Headings {
		if i >= md.p.MaxHeadings {
			break
		}
		hs = append(hs, md.Analyze("heading", p.URL, h)...)
	}
	return hs
}

// JudgePage is AnalyzePage, except that a page on one of the brands' own
// domains (a site redirecting to aliexpress.com) is the brand's own text,
// not the publisher's: no hits.
func (md *Model) JudgePage(p Page) []Hit {
	if host, _ := splitURL(p.URL); host != "" && md.Own(host) {
		return nil
	}
	return md.AnalyzePage(p)
}

// Verdict is a page's or ad's outcome: "", KindMention or KindClaim.
func Verdict(hs []Hit) string {
	switch {
	case HasClaim(hs):
		return KindClaim
	case len(hs) > 0:
		return KindMention
	}
	return ""
}

// maxHeadingBytes bounds one heading's text.
const maxHeadingBytes = 512

// Headings returns the text of a page's h1–h3 elements, in document order:
// the HTML is cut to maxHTML bytes and at most maxN headings are kept.
func Headings(html []byte, maxHTML, maxN int) []string {
	if len(html) > maxHTML {
		html = html[:maxHTML]
	}
	if len(html) == 0 || maxN <= 0 {
		return nil
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(html))
	if err != nil {
		return nil // the tree builder gives up on hostile pages; title and meta remain
	}
	var out []string
	doc.Find("h1, h2, h3").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		t := strings.Join(strings.Fields(cutUTF8(s.Text(), 4*maxHeadingBytes)), " ")
		if t != "" {
			out = append(out, cutUTF8(t, maxHeadingBytes))
		}
		return len(out) < maxN
	})
	return out
}
