package prohibited

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"affwatch/rules"
)

// Page is what the classifier reads of one crawled page.
type Page struct {
	URL         string
	Title       string
	Description string
	Keywords    string
	Text        string
}

// Tiers of a category's phrases, each weighed by the threshold
// <tier>_weight.
var tiers = []string{"strong", "medium", "weak"}

// Model is a rule's lexicons and thresholds, compiled once per run.
type Model struct {
	cats     []Category
	terms    *matcher
	cues     *matcher
	neg      *matcher
	concepts *matcher // concept words (concept.go), matched by stem
	rules    map[string]*conceptRule
	th       Thresholds
	minBy    map[string]float64 // per-category min_strength overrides
	// the learned path (learned.go): nil when the rule sets no
	// <category>_min_probability
	learned *Learned
	minProb map[string]float64
}

// Category is one kind of prohibited content and the clause it breaks.
type Category struct {
	Name   string `json:"category"`
	Clause string `json:"clause"`
}

// Thresholds are the rule's numbers (rules/default.yaml explains each).
type Thresholds struct {
	StrongWeight       float64 `json:"strong_weight" yaml:"strong_weight" range:"[0,]"`
	MediumWeight       float64 `json:"medium_weight" yaml:"medium_weight" range:"[0,]"`
	WeakWeight         float64 `json:"weak_weight" yaml:"weak_weight" range:"[0,]"`
	TitleBoost         float64 `json:"title_boost" yaml:"title_boost" range:"[0,]"`
	RepeatDecay        float64 `json:"repeat_decay" yaml:"repeat_decay" range:"[0,1]"`
	NegationWindow     int     `json:"negation_window" yaml:"negation_window" range:"[0,50]"`
	ContextWindow      int     `json:"context_window" yaml:"context_window" range:"[0,200]"`
	ContextDiscount    float64 `json:"context_discount" yaml:"context_discount" range:"[0,1]"`
	PhraseGap          int     `json:"phrase_gap" yaml:"phrase_gap" range:"[0,20]"`
	MinStrength        float64 `json:"min_strength" yaml:"min_strength" range:"(0,]"`
	MinDistinct        int     `json:"min_distinct" yaml:"min_distinct" range:"[1,]"`
	MinStrong          int     `json:"min_strong" yaml:"min_strong" range:"[0,]"`
	WeakCap            float64 `json:"weak_cap" yaml:"weak_cap" range:"[0,]"`
	MinDensity         float64 `json:"min_density" yaml:"min_density" range:"[0,]"`
	DensityFloorTokens int     `json:"density_floor_tokens" yaml:"density_floor_tokens" range:"[1,]"`
	StrengthScale      float64 `json:"strength_scale" yaml:"strength_scale" range:"(0,]"`
	FullDensity        float64 `json:"full_density" yaml:"full_density" range:"(0,]"`
	MaxPages           int     `json:"max_pages" yaml:"max_pages" range:"[1,100]"`
	MaxMatches         int     `json:"max_matches" yaml:"max_matches" range:"[1,1000]"`
	MaxSnippetChars    int     `json:"max_snippet_chars" yaml:"max_snippet_chars" range:"[1,300]"`
	MaxTextChars       int     `json:"max_text_chars" yaml:"max_text_chars" range:"[1024,16777216]"`
	// the concept path (concept.go)
	ConceptWindow      int     `json:"concept_window" yaml:"concept_window" range:"[1,1000]"`
	ConceptMinGroups   int     `json:"concept_min_groups" yaml:"concept_min_groups" range:"[1,20]"`
	ConceptMinTerms    int     `json:"concept_min_terms" yaml:"concept_min_terms" range:"[1,]"`
	ConceptMinTopic    float64 `json:"concept_min_topic" yaml:"concept_min_topic" range:"[0,]"`
	ConceptMinWeight   float64 `json:"concept_min_weight" yaml:"concept_min_weight" range:"[0,1]"`
	ConceptMinDensity  float64 `json:"concept_min_density" yaml:"concept_min_density" range:"[0,]"`
	ConceptMinStrength float64 `json:"concept_min_strength" yaml:"concept_min_strength" range:"(0,]"`
	ConceptInfoRatio   float64 `json:"concept_info_ratio" yaml:"concept_info_ratio" range:"[0,]"`
	ConceptGroupCap    float64 `json:"concept_group_cap" yaml:"concept_group_cap" range:"(0,]"`
	ConceptMaxScore    float64 `json:"concept_max_score" yaml:"concept_max_score" range:"[0,1]"`
	// PerCategory are the values one category sets for itself, as
	// "<category>_<threshold>" (weapons_concept_min_groups: 4); the
	// suffixes are perCategorySuffixes.
	PerCategory map[string]float64 `json:"-" yaml:",inline"`
}

// perCategorySuffixes are the thresholds a category may set for itself.
var perCategorySuffixes = []string{"min_strength", "min_probability", "concept_window", "concept_min_groups", "concept_min_topic"}

// Validate implements rules.Validator: a per-category key must end in a
// known suffix, so a misspelt one is an error instead of a silent no-op.
func (t Thresholds) Validate() error {
	keys := make([]string, 0, len(t.PerCategory))
	for k := range t.PerCategory {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ok := false
		for _, suf := range perCategorySuffixes {
			if cat, found := strings.CutSuffix(k, "_"+suf); found && cat != "" {
				ok = true
			}
		}
		if !ok {
			return &rules.FieldError{Key: k, Msg: fmt.Sprintf("unknown key: not a threshold, nor a category's own <category>_{%s}", strings.Join(perCategorySuffixes, ","))}
		}
		if v := t.PerCategory[k]; v < 0 {
			return &rules.FieldError{Key: k, Msg: fmt.Sprintf("%v is out of range: want a number of at least 0", v)}
		}
		if v := t.PerCategory[k]; strings.HasSuffix(k, "_min_probability") && !(v > 0 && v <= 1) {
			return &rules.FieldError{Key: k, Msg: fmt.Sprintf("%v is out of range: want a probability in (0, 1]", v)}
		}
	}
	return nil
}

var thresholds = rules.Declare[Thresholds](RuleName)

// maxSnippet is the contract's bound on a quoted snippet.
const maxSnippet = 300

// NewModel compiles the rule's lists: "categories" (name = clause),
// "<category>.strong|medium|weak" (phrases), "<category>.context" and
// "context" (cues that discount nearby phrases), "negation".
func NewModel(rule rules.Rule) (*Model, error) {
	th, err := thresholds.From(rule)
	if err != nil {
		return nil, err
	}
	if th.MaxSnippetChars > maxSnippet || th.MaxSnippetChars <= 0 {
		th.MaxSnippetChars = maxSnippet
	}
	m := &Model{th: th, terms: newMatcher(th.PhraseGap), cues: newMatcher(th.PhraseGap), neg: newMatcher(0),
		concepts: newStemMatcher(th.PhraseGap), minBy: map[string]float64{}}
	defs, err := rule.List("categories")
	if err != nil {
		return nil, err
	}
	weights := map[string]float64{"strong": th.StrongWeight, "medium": th.MediumWeight, "weak": th.WeakWeight}
	for _, d := range defs {
		name, clause, ok := strings.Cut(d, "=")
		name, clause = strings.TrimSpace(name), strings.TrimSpace(clause)
		if !ok || name == "" || clause == "" {
			return nil, fmt.Errorf("rule %s: lists.categories: %q is not \"name = clause\"", rule.ID, d)
		}
		m.cats = append(m.cats, Category{name, clause})
		n := 0
		for _, tier := range tiers {
			for _, p := range rule.Lists[name+"."+tier] {
				if err := m.terms.add(p, name, tier, weights[tier]); err != nil {
					return nil, fmt.Errorf("rule %s: lists.%s.%s: %w", rule.ID, name, tier, err)
				}
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("rule %s: category %s has no phrases (lists.%s.strong, .medium, .weak)", rule.ID, name, name)
		}
		for _, p := range rule.Lists[name+".context"] {
			if err := m.cues.add(p, name, "", th.ContextDiscount); err != nil {
				return nil, fmt.Errorf("rule %s: lists.%s.context: %w", rule.ID, name, err)
			}
		}
		if v, ok := th.PerCategory[name+"_min_strength"]; ok {
			m.minBy[name] = v
		}
	}
	sort.Slice(m.cats, func(i, j int) bool { return m.cats[i].Name < m.cats[j].Name })
	for _, p := range rule.Lists["context"] {
		if err := m.cues.add(p, "", "", th.ContextDiscount); err != nil {
			return nil, fmt.Errorf("rule %s: lists.context: %w", rule.ID, err)
		}
	}
	for _, p := range rule.Lists["negation"] {
		if err := m.neg.add(p, "negation", "", 1); err != nil {
			return nil, fmt.Errorf("rule %s: lists.negation: %w", rule.ID, err)
		}
	}
	known := map[string]bool{}
	for _, c := range m.cats {
		known[c.Name] = true
	}
	if m.rules, err = parseConcepts(rule.ID, rule.Lists, th.PerCategory, known, float64(th.ConceptMinGroups), th.ConceptMinTopic, float64(th.ConceptWindow)); err != nil {
		return nil, err
	}
	var keys []string
	for _, cr := range m.rules {
		for k := range cr.groups {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if err := m.loadLearned(rule, th.PerCategory); err != nil {
		return nil, err
	}
	added := map[string]bool{}
	for _, k := range keys {
		if added[k] {
			continue
		}
		added[k] = true
		for _, p := range rule.Lists[k] {
			if err := m.concepts.add(p, k, "concept", 1); err != nil {
				return nil, fmt.Errorf("rule %s: lists.%s: %w", rule.ID, k, err)
			}
		}
	}
	return m, nil
}

// Categories returns the model's categories, sorted by name.
func (m *Model) Categories() []Category { return append([]Category(nil), m.cats...) }

// Thresholds returns the thresholds in use, for the evidence.
func (m *Model) Thresholds() Thresholds { return m.th }

// Match is one phrase found on a page, as the evidence shows it.
type Match struct {
	Phrase  string   `json:"phrase"`
	Tier    string   `json:"tier"`            // strong, medium, weak, concept, or learned
	Group   string   `json:"group,omitempty"` // a concept word's group
	Field   string   `json:"field"`
	Weight  float64  `json:"weight"` // after title boost and context discount
	Context []string `json:"context,omitempty"`
	Snippet string   `json:"snippet,omitempty"` // set when the category is flagged
}

// CategoryResult is how much of one category a page holds.
type CategoryResult struct {
	Category string  `json:"category"`
	Clause   string  `json:"clause"`
	Flagged  bool    `json:"flagged"`
	Score    float64 `json:"score"`
	Strength float64 `json:"strength"`
	// Density is the strength per 1,000 words of the page (at least
	// density_floor_tokens words are assumed).
	Density    float64 `json:"density"`
	Distinct   int     `json:"distinct_phrases"`
	Strong     int     `json:"strong_phrases"`
	Hits       int     `json:"hits"`
	Negated    int     `json:"negated"`
	Discounted int     `json:"discounted"`
	// Basis says which path flagged the category: "phrases" (the
	// lexicons' phrases), "concepts" (co-occurring concept groups) or both
	Basis    string          `json:"basis,omitempty"`
	Concepts *ConceptFigures `json:"concepts,omitempty"`
	// Probability is the learned path's calibrated probability that the
	// page is about the category (0 without a learned model)
	Probability float64        `json:"probability,omitempty"`
	Learned     *LearnedResult `json:"learned,omitempty"`
	Matches     []Match        `json:"matches"`
}

// ConceptFigures are the concept path's figures for one category.
type ConceptFigures struct {
	Flagged bool     `json:"flagged"`
	Groups  []string `json:"groups"` // groups found together in the best window
	Terms   int      `json:"terms"`  // distinct concept words in it
	// Strength sums each group's words (each group capped at
	// concept_group_cap); Density is the page's concept words per 1,000
	// words.
	Strength float64 `json:"strength"`
	Density  float64 `json:"density"`
	Hits     int     `json:"hits"`               // concept words on the page, before discounts
	Info     int     `json:"informational_cues"` // news, law, help… cues on the page
}

// PageResult is the classification of one page.
type PageResult struct {
	URL        string           `json:"url"`
	Tokens     int              `json:"words"`
	TextLength int              `json:"text_length"`
	Categories []CategoryResult `json:"categories"`
}

// Flagged returns the categories the page is about.
func (r PageResult) Flagged() []CategoryResult {
	var out []CategoryResult
	for _, c := range r.Categories {
		if c.Flagged {
			out = append(out, c)
		}
	}
	return out
}

type field struct {
	name, text string
	boost      float64
}

// scored is a hit with its effective weight.
type scored struct {
	phrase *phrase
	field  string
	weight float64
	cues   []string
	text   string
	start  int
	end    int
}

// Classify reads one page: phrases of each category, minus those negated
// ("we do not sell tobacco") and discounted near context cues (news, law,
// help, protection), repeats of one phrase decaying, weighed against the
// page's length; and, on the concept path (concept.go), the groups of
// concept words that occur together. A category is flagged when either
// path reaches its thresholds; Basis says which. The learned path
// (learned.go), when the rule sets its thresholds, flags a category too
// and adds the phrases that pushed its probability most.
func (m *Model) Classify(p Page) PageResult {
	res := m.ClassifyRules(p)
	if m.learned == nil {
		return res
	}
	lr := m.learned.classify(p, m.th.MaxTextChars, m.minProb, m.th.MaxMatches, m.th.MaxSnippetChars)
	for i := range res.Categories {
		cr := &res.Categories[i]
		l, ok := lr[cr.Category]
		if !ok {
			continue
		}
		cr.Learned = &l
		cr.Probability = l.Probability
		if !l.Flagged {
			continue
		}
		if cr.Flagged {
			cr.Basis += "+learned"
		} else {
			cr.Basis = "learned"
			// the lexicons' matches were not quoted below their thresholds
			cr.Matches = nil
		}
		cr.Flagged = true
		cr.Score = math.Max(cr.Score, l.Probability)
		// the learned phrases lead (at most half the quota when the
		// lexicons found the page too, so both kinds of evidence show)
		lp := l.Phrases
		if cr.Basis != "learned" && len(lp) > m.th.MaxMatches/2 {
			lp = lp[:m.th.MaxMatches/2]
		}
		cr.Matches = append(append([]Match(nil), lp...), cr.Matches...)
		if len(cr.Matches) > m.th.MaxMatches {
			cr.Matches = cr.Matches[:m.th.MaxMatches]
		}
	}
	return res
}

// ClassifyRules is Classify without the learned path: the phrase and
// concept paths alone (for comparison in the evaluation).
func (m *Model) ClassifyRules(p Page) PageResult {
	maxText := m.th.MaxTextChars
	fields := []field{
		{"title", p.Title, m.th.TitleBoost},
		{"meta_description", p.Description, m.th.TitleBoost},
		{"meta_keywords", p.Keywords, m.th.TitleBoost},
		{"text", p.Text, 1},
	}
	res := PageResult{URL: p.URL}
	byCat := map[string][]scored{}
	negated := map[string]int{}
	var chits []conceptHit
	info := map[string]int{} // cue hits per cue group ("" general)
	for _, f := range fields {
		if f.text == "" {
			continue
		}
		toks := tokenize(f.text, maxText)
		res.Tokens += len(toks)
		if f.name == "text" {
			res.TextLength = utf8.RuneCountInString(truncateBytes(f.text, maxText))
		}
		hits := m.terms.find(toks)
		var cs []hit
		if len(m.rules) > 0 {
			cs = m.concepts.findEach(toks, conceptOwner)
		}
		if len(hits) == 0 && len(cs) == 0 {
			continue
		}
		cues := m.cues.find(toks)
		negs := m.neg.find(toks)
		for _, c := range cues {
			info[m.cues.phrases[c.phrase].group]++
		}
		for _, h := range cs {
			if m.negatedAt(toks, negs, h.first) {
				continue
			}
			ch := conceptHit{phrase: &m.concepts.phrases[h.phrase], field: f.name, pos: h.first, text: f.text, start: toks[h.first].start, end: toks[h.last].end}
			if f.name != "text" {
				ch.pos = -1
			}
			for _, c := range cues {
				if c.last < h.first-m.th.ContextWindow || c.first > h.last+m.th.ContextWindow {
					continue
				}
				if c.first >= h.first && c.last <= h.last {
					continue // a cue inside the word itself ("без подписки") says nothing about its context
				}
				ch.cues = append(ch.cues, &m.cues.phrases[c.phrase])
			}
			chits = append(chits, ch)
		}
		for _, h := range hits {
			ph := &m.terms.phrases[h.phrase]
			if m.negatedAt(toks, negs, h.first) {
				negated[ph.group]++
				continue
			}
			w := ph.weight * f.boost
			var names []string
			seen := map[string]bool{}
			for _, c := range cues {
				cp := &m.cues.phrases[c.phrase]
				if cp.group != "" && cp.group != ph.group {
					continue
				}
				if c.last < h.first-m.th.ContextWindow || c.first > h.last+m.th.ContextWindow {
					continue
				}
				if seen[cp.text] {
					continue
				}
				seen[cp.text] = true
				names = append(names, cp.text)
				w *= 1 - cp.weight
			}
			byCat[ph.group] = append(byCat[ph.group], scored{phrase: ph, field: f.name, weight: w, cues: names, text: f.text, start: toks[h.first].start, end: toks[h.last].end})
		}
	}
	floor := float64(max(res.Tokens, m.th.DensityFloorTokens))
	for _, c := range m.cats {
		hs := byCat[c.Name]
		cr := CategoryResult{Category: c.Name, Clause: c.Clause, Negated: negated[c.Name], Hits: len(hs), Matches: []Match{}}
		var con conceptResult
		if rule := m.rules[c.Name]; rule != nil && len(chits) > 0 {
			con = m.scoreConcepts(c.Name, rule, chits, info[""]+info[c.Name], floor)
			if con.hits > 0 {
				cr.Concepts = &ConceptFigures{Flagged: con.flagged, Groups: con.groups, Terms: con.terms, Strength: con.strength, Density: con.density, Hits: con.hits, Info: con.info}
			}
		}
		if len(hs) == 0 && cr.Negated == 0 && cr.Concepts == nil {
			continue
		}
		// per phrase, its occurrences from the heaviest, each worth
		// repeat_decay of the one before
		byPhrase := map[*phrase][]float64{}
		var seen []*phrase // first-seen order: sums in a fixed order are reproducible
		for _, h := range hs {
			if _, ok := byPhrase[h.phrase]; !ok {
				seen = append(seen, h.phrase)
			}
			byPhrase[h.phrase] = append(byPhrase[h.phrase], h.weight)
			if len(h.cues) > 0 {
				cr.Discounted++
			}
		}
		weak := 0.0
		for _, ph := range seen {
			ws := byPhrase[ph]
			sort.Sort(sort.Reverse(sort.Float64Slice(ws)))
			f, sum := 1.0, 0.0
			for _, w := range ws {
				sum += w * f
				f *= m.th.RepeatDecay
			}
			if ph.tier == "weak" {
				weak += sum
				continue
			}
			cr.Strength += sum
			// a phrase discounted to a trace is not a distinct sign
			if ws[0] > m.th.WeakWeight {
				cr.Distinct++
			}
			// a strong phrase counts as one only where no context cue
			// discounted it: the news and law pages quote strong phrases
			if ph.tier == "strong" && ws[0] >= ph.weight*0.99 {
				cr.Strong++
			}
		}
		cr.Strength += math.Min(weak, m.th.WeakCap)
		cr.Strength = round3(cr.Strength)
		cr.Density = round3(cr.Strength / floor * 1000)
		minStrength := m.th.MinStrength
		if v, ok := m.minBy[c.Name]; ok {
			minStrength = v
		}
		byPhrases := cr.Strength >= minStrength && cr.Distinct >= m.th.MinDistinct && cr.Strong >= m.th.MinStrong && cr.Density >= m.th.MinDensity
		cr.Flagged = byPhrases || con.flagged
		cr.Score = round3((1 - math.Exp(-cr.Strength/m.th.StrengthScale)) * math.Min(1, cr.Density/m.th.FullDensity))
		switch {
		case byPhrases && con.flagged:
			cr.Basis = "phrases+concepts"
		case byPhrases:
			cr.Basis = "phrases"
		case con.flagged:
			// co-occurring concepts without a known phrase are weaker
			// evidence: the score stays below concept_max_score
			cr.Basis = "concepts"
			cs := round3((1 - math.Exp(-con.strength/m.th.StrengthScale)) * math.Min(1, con.density/m.th.FullDensity))
			cr.Score = math.Min(math.Max(cr.Score, cs), m.th.ConceptMaxScore)
		}
		if !cr.Flagged {
			// below the thresholds the score says how close it came, never
			// enough for a finding on its own
			cr.Score = math.Min(cr.Score, 0.39)
		}
		// evidence: heaviest matches first, one per phrase
		sort.SliceStable(hs, func(i, j int) bool {
			if hs[i].weight != hs[j].weight {
				return hs[i].weight > hs[j].weight
			}
			return hs[i].start < hs[j].start
		})
		// candidates for the evidence; quoting is deferred (src) for the
		// concept words, which are many, until a match is sure to be shown
		type candidate struct {
			mt  Match
			src *conceptHit
		}
		var phraseMatches, conceptMatches []candidate
		shown := map[string]bool{}
		for _, h := range hs {
			if shown[h.phrase.text] {
				continue
			}
			shown[h.phrase.text] = true
			mt := Match{Phrase: h.phrase.text, Tier: h.phrase.tier, Field: h.field, Weight: round3(h.weight), Context: h.cues}
			if cr.Flagged {
				// only a flagged category becomes evidence: quote it
				mt.Snippet = snippet(h.text, h.start, h.end, m.th.MaxSnippetChars)
			}
			phraseMatches = append(phraseMatches, candidate{mt: mt})
		}
		for i := range con.shown {
			h := &con.shown[i]
			mt := Match{Phrase: h.phrase.text, Tier: "concept", Group: m.rules[c.Name].groups[h.phrase.group], Field: h.field, Weight: round3(con.weights[i]), Context: con.contexts[i]}
			conceptMatches = append(conceptMatches, candidate{mt: mt, src: h})
		}
		// the path that flagged the page speaks first
		ordered := append(phraseMatches, conceptMatches...)
		if cr.Basis == "concepts" {
			ordered = append(conceptMatches, phraseMatches...)
		}
		for _, o := range ordered {
			if len(cr.Matches) >= m.th.MaxMatches {
				break
			}
			if o.src != nil && cr.Flagged {
				o.mt.Snippet = snippet(o.src.text, o.src.start, o.src.end, m.th.MaxSnippetChars)
			}
			cr.Matches = append(cr.Matches, o.mt)
		}
		res.Categories = append(res.Categories, cr)
	}
	return res
}

// negatedAt reports whether a negation word ends within negation_window
// words before token i, in the same clause.
func (m *Model) negatedAt(toks []token, negs []hit, i int) bool {
	w := m.th.NegationWindow
	for _, n := range negs {
		if n.last >= i || n.last < i-w {
			continue
		}
		clause := true
		for k := n.last + 1; k <= i; k++ {
			if toks[k].brk {
				clause = false
				break
			}
		}
		if clause {
			return true
		}
	}
	return false
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func truncateBytes(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// snippet quotes the match with words around it, whitespace collapsed, at
// most max runes.
func snippet(text string, start, end, max int) string {
	if start < 0 || end > len(text) || start > end {
		return ""
	}
	match := collapse(text[start:end])
	room := max - utf8.RuneCountInString(match)
	if room < 0 {
		return clipRunes(match, max)
	}
	before := collapse(text[max0(0, start-4*max):start])
	after := collapse(text[end:min(len(text), end+4*max)])
	lb, la := room/2, room-room/2
	br, ar := []rune(before), []rune(after)
	if len(br) < lb {
		la += lb - len(br)
	}
	if len(ar) < la {
		lb += la - len(ar)
	}
	if len(br) > lb {
		br = br[len(br)-lb:]
	}
	if len(ar) > la {
		ar = ar[:la]
	}
	return strings.TrimSpace(string(br) + match + string(ar))
}

func max0(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func collapse(s string) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
