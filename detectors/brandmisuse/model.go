package brandmisuse

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"affwatch/detectors/branddomain"
	"affwatch/rules"
)

// Languages whose phrase lists the rule carries (lists claims_<lang>,
// negations_<lang>); a pack may add more.
var Languages = []string{"en", "ru", "es", "pt", "fr"}

// SnippetBytes bounds an evidence snippet (the reviewer's context around
// the phrase); with the "…" marks it stays under 240 characters.
const SnippetBytes = 230

// Params are the rule's thresholds (rules.brand_misuse.thresholds in the
// pack), decoded and range-checked when the pack loads.
type Params struct {
	FuzzyMinLen      int     `json:"fuzzy_min_len" yaml:"fuzzy_min_len" range:"[1,64]"`
	TwoEditMinLen    int     `json:"two_edit_min_len" yaml:"two_edit_min_len" range:"[1,64]"`
	ShortKeywordLen  int     `json:"short_keyword_len" yaml:"short_keyword_len" range:"[0,64]"`
	CompoundFuzzyMin int     `json:"compound_fuzzy_min_len" yaml:"compound_fuzzy_min_len" range:"[1,64]"`
	SplitMinLen      int     `json:"split_min_len" yaml:"split_min_len" range:"[1,64]"`     // a keyword written as two words (ali express) counts from this length
	ClaimWindow      int     `json:"claim_window" yaml:"claim_window" range:"[0,50]"`       // words between a claim phrase and the brand
	NegationWindow   int     `json:"negation_window" yaml:"negation_window" range:"[0,50]"` // words before a claim in which a negation cancels it
	ScoreSEM         float64 `json:"score_sem" yaml:"score_sem" range:"[0,1]"`
	ScoreClaim       float64 `json:"score_claim" yaml:"score_claim" range:"[0,1]"`
	ScoreMention     float64 `json:"score_mention" yaml:"score_mention" range:"[0,1]"`
	ReportMentions   int     `json:"report_mentions" yaml:"report_mentions" range:"[0,1]"` // 1: a page that only mentions the brand gets a (low) finding; 0: not
	MaxFieldBytes    int     `json:"max_field_bytes" yaml:"max_field_bytes" range:"[64,1048576]"`
	MaxHTMLBytes     int     `json:"max_html_bytes" yaml:"max_html_bytes" range:"[1024,16777216]"`
	MaxHeadings      int     `json:"max_headings" yaml:"max_headings" range:"[0,1000]"`
	MaxEvidence      int     `json:"max_matches_in_evidence" yaml:"max_matches_in_evidence" range:"[1,1000]"`
}

var thresholds = rules.Declare[Params](RuleName)

// ParamsFrom reads the rule's thresholds.
func ParamsFrom(r rules.Rule) (Params, error) { return thresholds.From(r) }

// Kinds of hit.
const (
	KindMention = "mention" // the brand (or a misspelling) is used
	KindClaim   = "claim"   // the text claims affiliation with the brand
	// KindDisclaimer is a claim's words under a negation ("not affiliated
	// with AliExpress"): the notice ePN rule 3 asks for, never a claim.
	KindDisclaimer = "disclaimer"
)

// Hit is one use of a brand in one field: what reviewers check.
type Hit struct {
	Field    string `json:"field"`         // keyword, title, text, display_url; title, meta_description, meta_keywords, heading
	Where    string `json:"where"`         // ad id or page URL
	Phrase   string `json:"phrase"`        // the words as written (brand, and the claim's words)
	Snippet  string `json:"snippet"`       // the text around it (≤ 240 characters)
	Brand    string `json:"brand"`         // brand of the pack
	Keyword  string `json:"keyword"`       // its keyword that matched
	How      string `json:"how"`           // exact, misspelling, look-alike, compound, hyphenated, split, transliteration, domain
	Class    string `json:"class"`         // the matcher's class (omission, homoglyph, combosquat…)
	Distance int    `json:"edit_distance"` // edits from the keyword (0: as written or once look-alikes are mapped)
	Kind     string `json:"kind"`          // mention, claim or disclaimer (a negated claim)
	Cue      string `json:"claim_phrase"`  // the claim's words (claims only)
	Negated  bool   `json:"negated"`       // a negation cancels the claim ("not affiliated with")
	Negation string `json:"negation"`      // the negating word
	Lang     string `json:"claim_lang"`    // the claim list that matched
	// SeenBy lists where the hit was read when the site was also
	// rendered: crawl, render:honest, render:shopper
	SeenBy []string `json:"seen_by,omitempty"`
	start  int
}

// Model finds brand uses and claims of affiliation in text.
type Model struct {
	p         Params
	m         *branddomain.Matcher
	cues      []phrase
	negations map[string]string // folded word → language
	negPrefix []phrase
	locatives map[string]bool
	after     []phrase // a word right after a claim that makes it about the brand's own thing (app, program)
	before    []phrase // a word right before a claim phrase that makes it the (true) affiliate relationship
	stops     []string // stop phrases, normalized for flat matching
	splitMin  int
	maxField  int
}

// phrase is a list of folded words; a word ending in * matches any word it
// begins.
type phrase struct {
	words []string
	lang  string
	text  string
}

func parsePhrase(s, lang string) phrase {
	var ws []string
	for _, part := range strings.Fields(s) {
		toks := tokenize(strings.TrimSuffix(part, "*"), DefaultMaxFieldBytes)
		for k, t := range toks {
			w := t.fold
			if k == len(toks)-1 && strings.HasSuffix(part, "*") {
				w += "*"
			}
			ws = append(ws, w)
		}
	}
	return phrase{words: ws, lang: lang, text: s}
}

func (ph phrase) matchAt(toks []token, i int) bool {
	if i+len(ph.words) > len(toks) || len(ph.words) == 0 {
		return false
	}
	for k, w := range ph.words {
		t := toks[i+k].fold
		if k > 0 && toks[i+k].sentence {
			return false
		}
		if p, ok := strings.CutSuffix(w, "*"); ok {
			if !strings.HasPrefix(t, p) {
				return false
			}
		} else if t != w {
			return false
		}
	}
	return true
}

// NewModel builds the model from the pack's brands and the rule's lists.
func NewModel(pack *rules.Pack, rule rules.Rule) (*Model, error) {
	p, err := ParamsFrom(rule)
	if err != nil {
		return nil, err
	}
	bp := branddomain.Params{FuzzyMinLen: p.FuzzyMinLen, TwoEditMinLen: p.TwoEditMinLen, ShortKeywordLen: p.ShortKeywordLen,
		CompoundFuzzyMin: p.CompoundFuzzyMin, ScoreExact: 1, ScoreHomoglyph: 1, ScoreTypo1: 1, ScoreTypo2: 1, ScoreCompound: 1,
		SubdomainFactor: 1, ShortFactor: 1}
	m, err := branddomain.NewMatcher(pack, rule, bp, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", RuleName, err)
	}
	md := &Model{p: p, m: m, negations: map[string]string{}, locatives: map[string]bool{}, splitMin: p.SplitMinLen, maxField: p.MaxFieldBytes}
	if md.maxField <= 0 {
		md.maxField = DefaultMaxFieldBytes
	}
	for _, lang := range languagesOf(rule) {
		cl, err := rule.List("claims_" + lang)
		if err != nil {
			return nil, err
		}
		for _, c := range cl {
			if ph := parsePhrase(c, lang); len(ph.words) > 0 {
				md.cues = append(md.cues, ph)
			}
		}
		nl, err := rule.List("negations_" + lang)
		if err != nil {
			return nil, err
		}
		for _, n := range nl {
			ph := parsePhrase(n, lang)
			if len(ph.words) == 1 && !strings.HasSuffix(ph.words[0], "*") {
				md.negations[ph.words[0]] = lang
			} else if len(ph.words) > 0 {
				md.negPrefix = append(md.negPrefix, ph)
			}
		}
	}
	// longer cues first: "official partner" is reported rather than "official"
	sort.SliceStable(md.cues, func(i, j int) bool { return len(md.cues[i].words) > len(md.cues[j].words) })
	loc, err := rule.List("claim_separators")
	if err != nil {
		return nil, err
	}
	for _, l := range loc {
		md.locatives[fold(l)] = true
	}
	af, err := rule.List("claim_exceptions_after")
	if err != nil {
		return nil, err
	}
	for _, a := range af {
		md.after = append(md.after, parsePhrase(a, ""))
	}
	bf, err := rule.List("claim_exceptions_before")
	if err != nil {
		return nil, err
	}
	for _, a := range bf {
		md.before = append(md.before, parsePhrase(a, ""))
	}
	sp, err := rule.List("stop_phrases")
	if err != nil {
		return nil, err
	}
	for _, s := range sp {
		if f := flatten(tokenize(s, DefaultMaxFieldBytes)); f.text != "" {
			md.stops = append(md.stops, f.text)
		}
	}
	return md, nil
}

// languagesOf lists the languages the rule has claim lists for.
func languagesOf(r rules.Rule) []string {
	var out []string
	for k := range r.Lists {
		if lang, ok := strings.CutPrefix(k, "claims_"); ok {
			out = append(out, lang)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return Languages // rule.List will name the missing list
	}
	return out
}

// brandAt is a brand found at tokens [i, j).
type brandAt struct {
	i, j int
	how  string
	mt   branddomain.Match
}

// Analyze finds the brand uses and claims in one field's text.
func (md *Model) Analyze(field, where, text string) []Hit {
	text = cutUTF8(text, md.maxField)
	toks := tokenize(text, md.maxField)
	if len(toks) == 0 {
		return nil
	}
	masked := md.maskStops(toks)
	var brands []brandAt
	for i := 0; i < len(toks); i++ {
		if masked[i] {
			continue
		}
		if b, ok := md.brandWord(toks[i].raw); ok {
			b.i, b.j = i, i+1
			brands = append(brands, b)
			continue
		}
		// the keyword written as two words (ali express, али экспресс)
		if i+1 < len(toks) && !masked[i+1] && toks[i+1].spaced && !toks[i+1].clause {
			if b, ok := md.splitWord(toks[i].raw, toks[i+1].raw); ok {
				b.i, b.j = i, i+2
				brands = append(brands, b)
				i++
			}
		}
	}
	if len(brands) == 0 {
		return nil
	}
	var out []Hit
	for _, b := range brands {
		h := Hit{Field: field, Where: where, Phrase: text[toks[b.i].start:toks[b.j-1].end], Brand: b.mt.Brand, Keyword: b.mt.Keyword,
			How: b.how, Class: b.mt.Class, Distance: b.mt.Distance, Kind: KindMention, start: toks[b.i].start}
		h.Snippet = snippet(text, toks[b.i].start, toks[b.j-1].end, SnippetBytes)
		if c, ok := md.claim(toks, b); ok && !question(text, toks[max(c.to, b.j)-1].end) {
			h.Kind, h.Cue, h.Lang, h.Negated, h.Negation = KindClaim, c.cue, c.lang, c.negated, c.negation
			a, z := min(c.from, b.i), max(c.to, b.j)
			if c.negated {
				h.Kind = KindDisclaimer
				a = min(a, c.negAt)
			}
			h.Phrase = text[toks[a].start:toks[z-1].end]
			h.Snippet = snippet(text, toks[a].start, toks[z-1].end, SnippetBytes)
			h.start = toks[a].start
		}
		out = append(out, h)
	}
	return out
}

// brandWord matches one word with the pack's keywords: as written (and
// with look-alike characters mapped), or spelled in Cyrillic.
func (md *Model) brandWord(w string) (brandAt, bool) {
	if mt, ok := md.m.MatchWord(w); ok && md.wholeOK(mt) {
		return brandAt{how: howOf(mt, w), mt: mt}, true
	}
	if t := translit(w); t != "" {
		if mt, ok := md.m.MatchWord(t); ok && md.wholeOK(mt) {
			return brandAt{how: "transliteration", mt: mt}, true
		}
	}
	return brandAt{}, false
}

// wholeOK: a hyphenated keyword is a keyword written as two words, which
// counts only for long keywords (Али-Баба is the tale's hero; ali-express
// the brand).
//
// The loose skeleton (b/d, m/n/r, u/v taken for one another) is for crafted
// domain names; in prose it takes "trail" for tmall, so words never match
// by it.
func (md *Model) wholeOK(mt branddomain.Match) bool {
	if mt.Form == "loose_skeleton" {
		return false
	}
	return mt.Class != "hyphenation" || len(mt.Keyword) >= md.splitMin
}

// splitWord matches two words written apart as one keyword: only the
// keyword itself (ali express; not "cali express", which merely contains
// it), and only long keywords (ali baba is a tale's hero).
func (md *Model) splitWord(a, b string) (brandAt, bool) {
	for _, w := range []string{a + b, translit(a) + translit(b)} {
		if w == "" || len(w) < md.splitMin {
			continue
		}
		mt, ok := md.m.MatchWord(w)
		if ok && mt.Distance == 0 && (mt.Class == "exact" || mt.Class == "homoglyph") && len(mt.Keyword) >= md.splitMin {
			return brandAt{how: "split", mt: mt}, true
		}
	}
	return brandAt{}, false
}

func howOf(mt branddomain.Match, w string) string {
	switch {
	case mt.Class == "exact":
		return "exact"
	case mt.Class == "hyphenation":
		return "hyphenated"
	case mt.Class == "combosquat" || mt.Class == "subdomain":
		return "compound"
	case mt.Distance == 0 && mt.Form != "text":
		return "look-alike"
	case mt.Class == "compound_typo":
		return "compound misspelling"
	default:
		return "misspelling"
	}
}

type claimMatch struct {
	cue, lang, negation string
	from, to, negAt     int
	negated             bool
}

// claim looks for a claim phrase within the window of the brand at b, in
// the same sentence, with no separator word between them ("official store
// on AliExpress" is a seller's store on the platform) and no exception
// word right after ("official AliExpress app"). A negation within the
// negation window before the pair (same clause) cancels it.
func (md *Model) claim(toks []token, b brandAt) (claimMatch, bool) {
	win := md.p.ClaimWindow
	var all []claimMatch
	for _, ph := range md.cues {
		lo, hi := b.i-win-len(ph.words), b.j+win
		if lo < 0 {
			lo = 0
		}
		for i := lo; i <= hi && i < len(toks); i++ {
			if !ph.matchAt(toks, i) {
				continue
			}
			from, to := i, i+len(ph.words)
			if from < b.j && to > b.i {
				continue // overlaps the brand itself
			}
			a, z := min(from, b.i), max(to, b.j)
			gapFrom, gapTo := b.j, from // brand then claim
			if to <= b.i {
				gapFrom, gapTo = to, b.i // claim then brand
			}
			if gapTo-gapFrom > win || crossesSentence(toks, a, z) || md.locativeIn(toks, gapFrom, gapTo) || md.exceptedAfter(toks, z) || md.exceptedBefore(toks, from) {
				continue
			}
			c := claimMatch{cue: ph.text, lang: ph.lang, from: from, to: to}
			c.negation, c.negAt, c.negated = md.negated(toks, a, z)
			all = append(all, c)
		}
	}
	if len(all) == 0 {
		return claimMatch{}, false
	}
	// the claim is every phrase found around the brand (official … partner);
	// cancelled only when every one of them is negated
	negated := true
	for _, c := range all {
		negated = negated && c.negated
	}
	var best claimMatch
	var cues []string
	var spans [][2]int
	found := false
	for _, c := range all {
		if c.negated != negated || slices.Contains(cues, c.cue) || slices.ContainsFunc(spans, func(sp [2]int) bool { return sp[0] <= c.from && c.to <= sp[1] }) {
			continue // the same words as a longer phrase already taken
		}
		spans = append(spans, [2]int{c.from, c.to})
		cues = append(cues, c.cue)
		if !found {
			best, found = c, true
			continue
		}
		best.from, best.to, best.negAt = min(best.from, c.from), max(best.to, c.to), min(best.negAt, c.negAt)
	}
	best.cue = strings.Join(cues, " + ")
	return best, true
}

// question reports whether the sentence going on at byte i ends with a
// question mark: "Is this an official AliExpress seller?" asks, it does not
// claim.
func question(text string, i int) bool {
	for _, r := range text[i:] {
		switch r {
		case '?':
			return true
		case '.', '!', '\n', '…', '。':
			return false
		}
	}
	return false
}

func crossesSentence(toks []token, a, z int) bool {
	for k := a + 1; k < z; k++ {
		if toks[k].sentence {
			return true
		}
	}
	return false
}

func (md *Model) locativeIn(toks []token, a, z int) bool {
	for k := a; k < z; k++ {
		if md.locatives[toks[k].fold] {
			return true
		}
	}
	return false
}

func (md *Model) exceptedBefore(toks []token, from int) bool {
	if from == 0 || toks[from].clause {
		return false
	}
	for _, ph := range md.before {
		if ph.matchAt(toks, from-1) {
			return true
		}
	}
	return false
}

func (md *Model) exceptedAfter(toks []token, z int) bool {
	for _, ph := range md.after {
		if ph.matchAt(toks, z) {
			return true
		}
	}
	return false
}

// negated reports a negation word in the window before tokens [a, z) or
// inside them, within one clause.
func (md *Model) negated(toks []token, a, z int) (string, int, bool) {
	lo := a - md.p.NegationWindow
	for k := z - 1; k >= 0 && k >= lo; k-- {
		if _, ok := md.negations[toks[k].fold]; ok {
			return toks[k].raw, k, true
		}
		for _, ph := range md.negPrefix {
			if ph.matchAt(toks, k) {
				return toks[k].raw, k, true
			}
		}
		if k <= a && toks[k].clause {
			break // the scope ends at a clause break before the pair
		}
	}
	return "", 0, false
}

// flat is a field's words joined by single spaces (hyphens as spaces), to
// find stop phrases however they are hyphenated.
type flat struct {
	text string
	off  []int // offset of each token in text
}

func flatten(toks []token) flat {
	var b strings.Builder
	f := flat{off: make([]int, len(toks))}
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		f.off[i] = b.Len()
		b.WriteString(strings.ReplaceAll(t.fold, "-", " "))
	}
	f.text = b.String()
	return f
}

// maskStops marks the tokens inside a stop phrase ("Ali Baba and the
// forty thieves"): never a brand there.
func (md *Model) maskStops(toks []token) []bool {
	masked := make([]bool, len(toks))
	if len(md.stops) == 0 {
		return masked
	}
	f := flatten(toks)
	for _, s := range md.stops {
		for from := 0; from < len(f.text); {
			i := strings.Index(f.text[from:], s)
			if i < 0 {
				break
			}
			i += from
			end := i + len(s)
			if (i == 0 || f.text[i-1] == ' ') && (end == len(f.text) || f.text[end] == ' ') {
				for k, o := range f.off {
					if o >= i && o < end {
						masked[k] = true
					}
				}
			}
			from = i + 1
		}
	}
	return masked
}

// Own reports whether a host is one of the brands' own domains.
func (md *Model) Own(host string) bool {
	_, own := md.m.Own(branddomain.Normalize(host))
	return own
}

// MatchHost screens a host (an ad's display URL): own domains never match.
func (md *Model) MatchHost(host string) (branddomain.Match, bool) {
	return md.m.MatchHost(host)
}
