package branddomain

import "strings"

// MatchWord screens one word of free text (an ad keyword, a page title's
// word) with the same keyword, typo and look-alike rules as a host's
// registrable label, for detectors that look for the brand outside domain
// names (detectors/brandmisuse). A word is not a domain: the brands' own
// domains are not consulted, and the word itself equal to a keyword is
// class "exact" (not "tld_swap"). Hyphens inside the word are dropped as in
// a label (ali-express is the keyword hyphenated). The word is cut to
// MaxLabelLen bytes.
func (m *Matcher) MatchWord(word string) (Match, bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	if len(w) > MaxLabelLen {
		w = w[:MaxLabelLen]
		for len(w) > 0 && w[len(w)-1]&0xC0 == 0x80 {
			w = w[:len(w)-1]
		}
		// drop a lead byte left without its continuation bytes
		if len(w) > 0 && w[len(w)-1] >= 0xC0 {
			w = w[:len(w)-1]
		}
	}
	if w == "" || strings.Trim(w, "-") == "" {
		return Match{}, false
	}
	l := makeLabel(w)
	n := Name{Host: w, Unicode: w, Labels: []Label{l}}
	mt, ok := m.Match(n)
	if !ok {
		return Match{}, false
	}
	if mt.Class == "tld_swap" {
		mt.Class = "exact"
	}
	mt.Host, mt.HostASCII, mt.Registrable = "", "", ""
	return mt, true
}
