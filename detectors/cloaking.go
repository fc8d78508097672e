package detectors

import "sort"

// Cloaking is what a site's renders say about where a finding's content was
// seen (issue 17): only in the rendered page (a script wrote it, or only a
// browser is served it), or only by the shopper profile, not by affwatch's
// announced visit or the crawler.
type Cloaking struct{ RenderedOnly, ShopperOnly bool }

// Note is the sentence a finding's summary ends with; empty when the
// content was seen as plainly as the crawler sees it.
func (c Cloaking) Note() string {
	switch {
	case c.ShopperOnly:
		return " Seen only by the shopper profile (a browser arriving from a search engine), not by affwatch's announced visit or the crawler — cloaking."
	case c.RenderedOnly:
		return " Seen only in the rendered page (text a script writes or a browser is served), not in the crawler's HTML."
	}
	return ""
}

// SortedKeys returns the members of a set in order, for evidence that must
// read the same on every run.
func SortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
