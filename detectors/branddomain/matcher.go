package branddomain

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"

	"affwatch/rules"
)

// Params are the rule's thresholds (rules.brand_domain.thresholds in the
// pack), decoded and range-checked when the pack loads.
type Params struct {
	FuzzyMinLen      int     `yaml:"fuzzy_min_len" range:"[1,64]"`           // keywords shorter than this match exactly only (in text or skeleton)
	TwoEditMinLen    int     `yaml:"two_edit_min_len" range:"[1,64]"`        // keywords at least this long match with up to 2 edits; shorter ones with 1
	ShortKeywordLen  int     `yaml:"short_keyword_len" range:"[0,64]"`       // keywords up to this long count inside a longer label only at a boundary or beside an affix
	CompoundFuzzyMin int     `yaml:"compound_fuzzy_min_len" range:"[1,64]"`  // keywords at least this long also match with 1 edit inside a longer label
	ScoreExact       float64 `yaml:"score_exact" range:"[0,1]"`              // the keyword itself, or inside a label (combosquat)
	ScoreHomoglyph   float64 `yaml:"score_homoglyph" range:"[0,1]"`          // equal to the keyword once look-alike characters are mapped
	ScoreTypo1       float64 `yaml:"score_typo_1" range:"[0,1]"`             // one edit from the keyword (a whole label or hyphen-separated part)
	ScoreTypo2       float64 `yaml:"score_typo_2" range:"[0,1]"`             // two edits
	ScoreCompound    float64 `yaml:"score_compound_typo" range:"[0,1]"`      // one edit from the keyword, inside a longer label
	SubdomainFactor  float64 `yaml:"subdomain_factor" range:"[0,1]"`         // multiplies the score when only a subdomain label matches
	ShortFactor      float64 `yaml:"short_keyword_factor" range:"[0,1]"`     // multiplies the score of a fuzzy or compound match of a short keyword
	MinScore         float64 `yaml:"min_score" range:"(0,1]"`                // findings below this score are not reported
	MaxFindingsSites int     `yaml:"max_sites_in_evidence" range:"[1,1000]"` // evidence lists at most this many matching sites per finding
}

var thresholds = rules.Declare[Params](RuleName)

// ParamsFrom reads the thresholds of the rule.
func ParamsFrom(r rules.Rule) (Params, error) { return thresholds.From(r) }

// Match says how a host imitates a brand.
type Match struct {
	Brand        string  `json:"brand"`
	Keyword      string  `json:"keyword"`
	Class        string  `json:"class"`              // combosquat, subdomain, tld_swap, hyphenation, homoglyph, addition, omission, repetition, insertion, replacement, transposition, vowel_swap, bitsquatting, typo
	Where        string  `json:"where"`              // registrable_label, subdomain_label, across_labels
	Form         string  `json:"compared"`           // text, skeleton, loose_skeleton
	Distance     int     `json:"edit_distance"`      // in the compared form
	TextDistance int     `json:"text_edit_distance"` // between the label as written and the keyword
	MaxDistance  int     `json:"max_edit_distance"`
	Similarity   float64 `json:"similarity"` // 1 − distance / keyword length
	Label        string  `json:"label"`      // the label that matched (Unicode)
	Skeleton     string  `json:"skeleton"`   // its confusable skeleton
	Host         string  `json:"host"`       // normalized host (Unicode)
	HostASCII    string  `json:"host_ascii"` // as resolved (punycode)
	Registrable  string  `json:"registrable_domain"`
	IDN          bool    `json:"idn"`
	Score        float64 `json:"score"`
}

type keyword struct {
	brand, text, skel, loose, loose2 string
	maxd                             int
	short                            bool
	pieces                           []string  // pigeonhole pieces of skel for the compound prefilter
	nearStops                        []string  // skeletons of stop words within one edit of skel inside them
	strict                           string    // strictSkeleton of text
	hist, skelHist                   [128]int8 // letter histograms of text and skel (prefilter)
}

// Matcher screens host names against the brands of a pack.
type Matcher struct {
	p          Params
	kws        []keyword
	own        []string // the brands' own domains and exceptions: never flagged
	ownDot     []string
	stop       map[string]bool // stop words as written and their skeletons
	stopText   map[string]bool // as written only
	stopWords  []string        // text forms
	stopSkels  []string        // skeleton forms
	affixes    []string
	minKwLen   int
	maxKwLen   int
	exceptions map[string]string
}

// NewMatcher builds a matcher for the brands of a pack, with the rule's
// lists (stop_words, affixes) and exceptions.
func NewMatcher(pack *rules.Pack, rule rules.Rule, p Params, exceptions []rules.Exception) (*Matcher, error) {
	m := &Matcher{p: p, stop: map[string]bool{}, stopText: map[string]bool{}, exceptions: map[string]string{}}
	stop, err := rule.List("stop_words")
	if err != nil {
		return nil, err
	}
	aff, err := rule.List("affixes")
	if err != nil {
		return nil, err
	}
	for _, w := range stop {
		w = strings.ToLower(strings.ReplaceAll(w, "-", ""))
		m.stop[w] = true
		m.stopText[w] = true
		m.stop[Skeleton(w)] = true
		m.stopWords = append(m.stopWords, w)
		m.stopSkels = append(m.stopSkels, Skeleton(w))
	}
	for _, a := range aff {
		m.affixes = append(m.affixes, strings.ToLower(a))
	}
	for _, b := range pack.Brands {
		for _, d := range b.Domains {
			m.own = append(m.own, Normalize(d).Host)
		}
		for _, k := range b.Keywords {
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "" {
				continue
			}
			kw := keyword{brand: b.Name, text: k, skel: Skeleton(k)}
			kw.loose, kw.loose2 = loose(kw.skel), looseMapOnly(kw.skel)
			kw.strict = strictSkeleton(k)
			n := len(kw.skel)
			switch {
			case n < p.FuzzyMinLen:
				kw.maxd = 0
			case n >= p.TwoEditMinLen:
				kw.maxd = 2
			default:
				kw.maxd = 1
			}
			kw.short = n <= p.ShortKeywordLen
			for i := 0; i < len(kw.text); i++ {
				kw.hist[kw.text[i]&127]++
			}
			for i := 0; i < len(kw.skel); i++ {
				kw.skelHist[kw.skel[i]&127]++
			}
			half := n / 2
			kw.pieces = []string{kw.skel[:half], kw.skel[half:]}
			for _, w := range m.stopSkels {
				if len(w) >= n-1 && substringDistance(kw.skel, w) <= 1 {
					kw.nearStops = append(kw.nearStops, w)
				}
			}
			m.kws = append(m.kws, kw)
			if m.minKwLen == 0 || n < m.minKwLen {
				m.minKwLen = n
			}
			if n > m.maxKwLen {
				m.maxKwLen = n
			}
		}
	}
	// a stop word whose skeleton is a keyword's (tmail ~ tmall once i
	// and l are merged) stays a stop word as written only
	for _, kw := range m.kws {
		delete(m.stop, kw.skel)
		for i, w := range m.stopSkels {
			if w == kw.skel {
				m.stopSkels[i] = "\x00"
			}
		}
	}
	for _, e := range exceptions {
		h := Normalize(e.Value).Host
		m.own = append(m.own, h)
		m.exceptions[h] = e.Reason
	}
	if len(m.kws) == 0 {
		return nil, fmt.Errorf("brand_domain: the pack has no brand keywords")
	}
	for _, d := range m.own {
		m.ownDot = append(m.ownDot, "."+d)
	}
	return m, nil
}

// Own reports whether host is one of the brands' own domains or an
// exception (or below one), and which.
func (m *Matcher) Own(n Name) (string, bool) {
	for i, d := range m.own {
		if n.Host == d || strings.HasSuffix(n.Host, m.ownDot[i]) {
			return d, true
		}
	}
	return "", false
}

// MatchHost normalizes and screens one host.
func (m *Matcher) MatchHost(host string) (Match, bool) {
	return m.Match(Normalize(host))
}

// Match screens a normalized host: the best match over its labels and
// the brands' keywords, or false.
func (m *Matcher) Match(n Name) (Match, bool) {
	if len(n.Labels) == 0 {
		return Match{}, false
	}
	if _, own := m.Own(n); own {
		return Match{}, false
	}
	var best Match
	found := false
	consider := func(c Match) {
		c.Score = m.score(c)
		if !found || better(c, best) {
			best, found = c, true
		}
	}
	for i := range n.Labels {
		l := &n.Labels[i]
		if m.stopText[l.Joined] {
			continue // the label as written is a real word (tmail)
		}
		where := "registrable_label"
		if l.Sub {
			where = "subdomain_label"
		}
		for k := range m.kws {
			if c, ok := m.matchLabel(l, &m.kws[k], false); ok {
				c.Where = where
				consider(c)
			}
		}
	}
	if n.Joined.Joined != "" {
		for k := range m.kws {
			if c, ok := m.matchLabel(&n.Joined, &m.kws[k], true); ok {
				c.Where = "across_labels"
				c.Class = "subdomain"
				consider(c)
			}
		}
	}
	if !found {
		return Match{}, false
	}
	best.Host, best.HostASCII, best.Registrable = n.Unicode, n.Host, n.Registrable
	return best, true
}

// looseMatch compares loose skeletons (computed on first use).
func (l *Label) looseMatch(kw *keyword) bool {
	if !l.looseDone {
		l.Loose, l.Loose2, l.looseDone = loose(l.Skeleton), looseMapOnly(l.Skeleton), true
	}
	return l.Loose == kw.loose || l.Loose2 == kw.loose2 || l.Loose == kw.loose2 || l.Loose2 == kw.loose
}

func better(a, b Match) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	ra, rb := a.Where != "registrable_label", b.Where != "registrable_label"
	if ra != rb {
		return !ra
	}
	if a.Distance != b.Distance {
		return a.Distance < b.Distance
	}
	if len(a.Keyword) != len(b.Keyword) {
		return len(a.Keyword) > len(b.Keyword)
	}
	return a.Keyword < b.Keyword
}

func (m *Matcher) score(c Match) float64 {
	var s float64
	switch {
	case c.Class == "homoglyph" && c.Form != "text":
		s = m.p.ScoreHomoglyph
	case c.Distance == 0:
		s = m.p.ScoreExact
	case c.Class == "compound_typo":
		s = m.p.ScoreCompound
	case c.Distance == 1:
		s = m.p.ScoreTypo1
	default:
		s = m.p.ScoreTypo2
	}
	if c.Where != "registrable_label" {
		s *= m.p.SubdomainFactor
	}
	if len(c.Keyword) <= m.p.ShortKeywordLen && (c.Distance > 0 || c.Class == "combosquat") {
		s *= m.p.ShortFactor
	}
	if s > 1 {
		s = 1
	}
	return float64(int(s*1000+0.5)) / 1000
}

// matchLabel compares one label with one keyword. whole: only whole-label
// equality and (for long keywords) containment count (labels joined).
func (m *Matcher) matchLabel(l *Label, kw *keyword, whole bool) (Match, bool) {
	lj, sk := l.Joined, l.Skeleton
	if len(sk) < len(kw.skel)-kw.maxd-1 && len(lj) < len(kw.text)-kw.maxd {
		return Match{}, false
	}
	mk := func(class, form string, d int) Match {
		sim := 1 - float64(d)/float64(len(kw.text))
		return Match{TextDistance: editDistance(lj, kw.text), Brand: kw.brand, Keyword: kw.text, Class: class, Form: form, Distance: d, MaxDistance: kw.maxd,
			Similarity: float64(int(sim*1000+0.5)) / 1000, Label: l.Text, Skeleton: l.Skeleton, IDN: l.NonASCII}
	}
	// 1. the keyword as it is
	if lj == kw.text {
		switch {
		case l.Hyphenate:
			return mk("hyphenation", "text", 0), true
		case l.Sub:
			return mk("subdomain", "text", 0), true
		default:
			return mk("tld_swap", "text", 0), true
		}
	}
	if !whole && strings.Contains(lj, kw.text) && m.containedOK(l.Text, kw) {
		class := "combosquat"
		if l.Sub {
			class = "subdomain"
		} else if len(lj) <= len(kw.text)+kw.maxd {
			class = classifyEdit(lj, kw.text) // aliexpresss: a doubled letter rather than a compound
		}
		return mk(class, "text", 0), true
	}
	// 2. look-alike characters: the skeleton
	if sk == kw.skel {
		return mk("homoglyph", "skeleton", 0), true
	}
	// inside a longer label, i and l stay apart (strictSkeleton): smallexpress
	// holds "allexpress", which is not aliexpress written with look-alikes
	if !kw.short && !whole && strings.Contains(sk, kw.skel) && !stopExplains(m.stopSkels, sk, kw.skel) &&
		strings.Contains(strictSkeleton(lj), kw.strict) {
		return mk("homoglyph", "skeleton", 0), true
	}
	if d := len(sk) - len(kw.skel); d >= -4 && d <= 4 && l.looseMatch(kw) {
		return mk("homoglyph", "loose_skeleton", 0), true
	}
	if whole || kw.maxd == 0 {
		return Match{}, false
	}
	// 3. typos: the label, or a hyphen-separated part of it, within maxd
	// edits (the closest of them)
	c, ok := m.fuzzyToken(l, lj, sk, kw, mk)
	if l.Hyphenate {
		for _, part := range strings.Split(l.Text, "-") {
			if part == "" || part == lj {
				continue
			}
			if d := len(part) - len(kw.text); d > kw.maxd+1 || d < -kw.maxd-1 {
				continue
			}
			if pc, pok := m.fuzzyToken(l, part, Skeleton(part), kw, mk); pok && (!ok || pc.Distance < c.Distance) {
				c, ok = pc, true
			}
		}
	}
	if ok {
		return c, true
	}
	// 4. one edit inside a longer label (aliexpres-deals, bestalibabba)
	if len(kw.skel) >= m.p.CompoundFuzzyMin && len(sk) > len(kw.skel)+1 &&
		(strings.Contains(sk, kw.pieces[0]) || strings.Contains(sk, kw.pieces[1])) {
		if d := substringDistance(kw.skel, sk); d <= 1 && !containsAny(sk, kw.nearStops) && m.compoundOK(strictSkeleton(lj), kw.strict) {
			return mk("compound_typo", "skeleton", d), true
		}
	}
	return Match{}, false
}

// fuzzyToken compares a whole token with the keyword, in text and skeleton.
func (m *Matcher) fuzzyToken(l *Label, tok, skel string, kw *keyword, mk func(string, string, int) Match) (Match, bool) {
	best, form := -1, ""
	// prefilter: one edit changes the letter histogram by at most 2
	if d := len(tok) - len(kw.text); d <= kw.maxd && d >= -kw.maxd && histDiff(tok, &kw.hist) <= 2*kw.maxd {
		best, form = editDistance(tok, kw.text), "text"
	}
	// with edits, i and l stay apart (strict skeleton): mallexpress is two
	// edits from aliexpress as written, and must not become one
	if d := len(skel) - len(kw.skel); !kw.short && d <= kw.maxd && d >= -kw.maxd && histDiff(skel, &kw.skelHist) <= 2*kw.maxd {
		if ds := editDistance(strictSkeleton(tok), kw.strict); best < 0 || ds < best {
			best, form = ds, "skeleton"
		}
	}
	if best < 0 || best > kw.maxd || m.stop[tok] || m.stop[skel] {
		return Match{}, false
	}
	class := classifyEdit(tok, kw.text)
	if form == "skeleton" && best < editDistance(tok, kw.text) {
		class = "homoglyph"
	}
	return mk(class, form, best), true
}

// histDiff is the L1 distance between the byte histograms of s and a
// keyword's (non-ASCII bytes fold together; only a lower bound matters).
func histDiff(s string, kh *[128]int8) int {
	h := *kh
	d := 0
	for _, v := range kh {
		d += int(v)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] & 127; h[c] > 0 {
			h[c]--
			d--
		} else {
			d++
		}
	}
	return d
}

// editDistance is Levenshtein's distance, except that one swap of two
// adjacent letters counts as one edit (transposition, as in
// Damerau–Levenshtein's restricted form).
func editDistance(a, b string) int {
	d := levenshtein.ComputeDistance(a, b)
	if d == 2 && isTransposition(a, b) {
		return 1
	}
	return d
}

func isTransposition(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}

// substringDistance is the least edit distance between pat and any
// substring of s (Sellers' semi-global alignment), bounded: both strings
// are at most a DNS label long here.
func substringDistance(pat, s string) int {
	if len(s) > MaxLabelLen*4 {
		s = s[:MaxLabelLen*4]
	}
	var buf [2][MaxLabelLen*4 + 1]int
	prev, cur := buf[0][:len(s)+1], buf[1][:len(s)+1]
	for j := range prev {
		prev[j] = 0
	}
	for i := 1; i <= len(pat); i++ {
		cur[0] = i
		for j := 1; j <= len(s); j++ {
			c := prev[j-1]
			if pat[i-1] != s[j-1] {
				c++
			}
			if v := prev[j] + 1; v < c {
				c = v
			}
			if v := cur[j-1] + 1; v < c {
				c = v
			}
			cur[j] = c
		}
		prev, cur = cur, prev
	}
	best := prev[0]
	for _, v := range prev {
		if v < best {
			best = v
		}
	}
	return best
}

// containedOK decides whether a keyword found inside a longer label is the
// brand: long keywords always; short ones (tmall) at the start of the
// label (tmallshop: hardly a word starts so), and elsewhere only with a
// boundary (a hyphen, a digit, the label's end) or an affix word of the
// pack on each side (mytmall, best-tmall-deals): gadgetmall and outletmall
// end in "tmall" but are malls. Never when a stop word covers the
// occurrence (smartmall, hotmall).
func (m *Matcher) containedOK(text string, kw *keyword) bool {
	if !kw.short {
		return !stopExplains(m.stopWords, strings.ReplaceAll(text, "-", ""), kw.text)
	}
	for from := 0; from < len(text); {
		i := strings.Index(text[from:], kw.text)
		if i < 0 {
			return false
		}
		i += from
		left, right := text[:i], text[i+len(kw.text):]
		if (left == "" || m.sideOK(left, true)) && m.sideOK(right, false) || left == "" && right != "" && !stopExplains(m.stopWords, strings.ReplaceAll(text, "-", ""), kw.text) {
			return true
		}
		from = i + 1
	}
	return false
}

// compoundOK decides whether a window of s within one edit of kw is the
// brand glued to other words: each side of the window must be the label's
// edge, a hyphen or digit, or an affix of the pack (aliexpresdeals,
// best-aliexpres), so that a real compound that merely overlaps the
// keyword (smallexpress: "allexpress" one edit from aliexpress) is not.
func (m *Matcher) compoundOK(s, kw string) bool {
	n := len(kw)
	for i := 0; i+n-1 <= len(s); i++ {
		for _, w := range [3]int{n, n - 1, n + 1} {
			if i+w > len(s) || w <= 0 {
				continue
			}
			if editDistance(s[i:i+w], kw) <= 1 && m.sideOK(s[:i], true) && m.sideOK(s[i+w:], false) {
				return true
			}
		}
	}
	return false
}

func (m *Matcher) sideOK(rest string, left bool) bool {
	if rest == "" {
		return true
	}
	c := rest[0]
	if left {
		c = rest[len(rest)-1]
	}
	if c == '-' || c >= '0' && c <= '9' {
		return true
	}
	for _, a := range m.affixes {
		if left && strings.HasSuffix(rest, a) || !left && strings.HasPrefix(rest, a) {
			return true
		}
	}
	return false
}

// stopExplains reports whether every occurrence of kw in s lies inside one
// of the stop words (a real word or another company's name containing it).
func stopExplains(stops []string, s, kw string) bool {
	masked := s
	for _, w := range stops {
		if strings.Contains(w, kw) && strings.Contains(masked, w) {
			masked = strings.ReplaceAll(masked, w, strings.Repeat("#", len(w)))
		}
	}
	return !strings.Contains(masked, kw)
}

func containsAny(s string, subs []string) bool {
	for _, w := range subs {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// classifyEdit names the typo class of a token one or two edits from kw.
func classifyEdit(tok, kw string) string {
	switch {
	case len(tok) == len(kw)+1:
		if strings.HasPrefix(tok, kw) {
			if len(kw) > 0 && tok[len(kw)] == kw[len(kw)-1] {
				return "repetition"
			}
			return "addition"
		}
		for i := 0; i < len(kw); i++ {
			if tok[:i] == kw[:i] && tok[i+1:] == kw[i:] {
				if tok[i] == kw[i] || i > 0 && tok[i] == kw[i-1] {
					return "repetition"
				}
				return "insertion"
			}
		}
	case len(tok)+1 == len(kw):
		for i := 0; i < len(kw); i++ {
			if kw[:i]+kw[i+1:] == tok {
				return "omission"
			}
		}
	case len(tok) == len(kw):
		if isTransposition(tok, kw) {
			return "transposition"
		}
		diff := -1
		for i := 0; i < len(tok); i++ {
			if tok[i] != kw[i] {
				if diff >= 0 {
					return "typo"
				}
				diff = i
			}
		}
		if diff < 0 {
			return "homoglyph"
		}
		a, b := tok[diff], kw[diff]
		switch {
		case isVowel(a) && isVowel(b):
			return "vowel_swap"
		case bitsOne(a ^ b):
			return "bitsquatting"
		default:
			return "replacement"
		}
	}
	return "typo"
}

func isVowel(c byte) bool { return strings.IndexByte("aeiouy", c) >= 0 }

func bitsOne(x byte) bool { return x != 0 && x&(x-1) == 0 }

// Classes lists the match classes, for documentation and evaluation.
func Classes() []string {
	c := []string{"combosquat", "subdomain", "tld_swap", "hyphenation", "homoglyph", "addition", "omission", "repetition",
		"insertion", "replacement", "transposition", "vowel_swap", "bitsquatting", "compound_typo", "typo"}
	sort.Strings(c)
	return c
}
