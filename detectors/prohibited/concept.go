package prohibited

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// The concept path recognizes a category by what a page does rather than
// by the phrases someone has seen before. Each category is a few groups of
// concept words in five languages (the lists <category>.concept.<group>,
// or concept.<group> for the groups every trade shares: buying, delivery,
// payment), matched by light stem (stem.go) or by prefix ("ставк*"). A
// page is about the category when words of several DISTINCT groups occur
// together within concept_window words, the groups the category cannot do
// without among them: a drug shop names a substance AND sells it (price,
// order, delivery, payment); a casino has a game or a wager AND money
// going in and out AND an offer. One group alone, however often, is a
// topic, not an offer: news, law, help and reviews talk about a substance
// or a game without selling it. Words near a context cue or after a
// negation count for little, as on the phrase path, and a page whose
// informational cues (news, law, research, help, protection) are many per
// concept word reads as information about the thing, not the thing.
//
// The rule's "concepts" list says, per category, which groups there are:
// "drugs = substance!, trade|delivery|payment!, measure" — groups separated
// by commas, "a|b" two groups either of which fills the slot, "!" a slot
// the category needs.

// conceptSlot is one entry of a category's concept rule.
type conceptSlot struct {
	groups   []string // list keys of the alternative groups
	required bool
}

// conceptRule is one category's concept rule.
type conceptRule struct {
	slots     []conceptSlot
	groups    map[string]string // list key → short group name, for the evidence
	minGroups float64
	minTopic  float64
	window    float64
}

// parseConcepts reads the "concepts" list into rules per category; each
// group must be a list (<category>.concept.<g> first, then concept.<g>).
func parseConcepts(ruleID string, lists map[string][]string, thresholds map[string]float64, known map[string]bool, minGroups, minTopic, window float64) (map[string]*conceptRule, error) {
	out := map[string]*conceptRule{}
	for _, d := range lists["concepts"] {
		name, spec, ok := strings.Cut(d, "=")
		name = strings.TrimSpace(name)
		if !ok || !known[name] {
			return nil, fmt.Errorf("rule %s: lists.concepts: %q is not \"category = group, group!, a|b\" of a known category", ruleID, d)
		}
		cr := &conceptRule{groups: map[string]string{}, minGroups: minGroups, minTopic: minTopic, window: window}
		if v, ok := thresholds[name+"_concept_window"]; ok {
			cr.window = v
		}
		if v, ok := thresholds[name+"_concept_min_groups"]; ok {
			cr.minGroups = v
		}
		if v, ok := thresholds[name+"_concept_min_topic"]; ok {
			cr.minTopic = v
		}
		for _, item := range strings.Split(spec, ",") {
			item = strings.TrimSpace(item)
			s := conceptSlot{}
			if strings.HasSuffix(item, "!") {
				s.required = true
				item = strings.TrimSuffix(item, "!")
			}
			for _, g := range strings.Split(item, "|") {
				g = strings.TrimSpace(g)
				key := name + ".concept." + g
				if _, ok := lists[key]; !ok {
					key = "concept." + g
				}
				if _, ok := lists[key]; !ok || g == "" {
					return nil, fmt.Errorf("rule %s: lists.concepts: %s: group %q has no list %s.concept.%s or concept.%s", ruleID, name, g, name, g, g)
				}
				s.groups = append(s.groups, key)
				cr.groups[key] = g
			}
			cr.slots = append(cr.slots, s)
		}
		if len(cr.slots) == 0 {
			return nil, fmt.Errorf("rule %s: lists.concepts: %s has no groups", ruleID, name)
		}
		out[name] = cr
	}
	return out, nil
}

// conceptOwner is who reads a concept list: the category for
// "<category>.concept.<group>", the shared list itself for "concept.<group>".
func conceptOwner(group string) string {
	if cat, _, ok := strings.Cut(group, ".concept."); ok {
		return cat
	}
	return group
}

// conceptHit is one concept word found on a page.
type conceptHit struct {
	phrase *phrase
	field  string
	pos    int // token index in the text; -1 for title and meta, which speak for the whole page
	cues   []*phrase
	text   string
	start  int
	end    int
}

// weightFor is the hit's weight for a category: 1, less for each distinct
// cue of that category (or a general cue) near it; with names, the cues.
func (h *conceptHit) weightFor(cat string, discount float64, names bool) (float64, []string) {
	w := 1.0
	var out []string
	for i, c := range h.cues {
		if c.group != "" && c.group != cat {
			continue
		}
		dup := false
		for _, d := range h.cues[:i] {
			if d.text == c.text && (d.group == "" || d.group == cat) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if names {
			out = append(out, c.text)
		}
		w *= 1 - discount
	}
	return w, out
}

// conceptResult is what the concept path found for one category.
type conceptResult struct {
	flagged  bool
	groups   []string // short names of the groups in the best window, sorted
	terms    int      // distinct concept words in the best window
	strength float64
	density  float64
	info     int // informational cues on the page (general and the category's)
	hits     int // concept words of the category on the page, before discounts
	shown    []conceptHit
	weights  []float64
	contexts [][]string
}

// conceptCand is a concept word that counts for a category.
type conceptCand struct {
	h    *conceptHit
	w    float64
	slot int // index of the group in the rule's slots (flattened), -1 if none
}

// scoreConcepts runs the concept path for one category: the page's words
// of the category's groups, the best window of concept_window words (title
// and meta words count in every window), and the thresholds.
func (m *Model) scoreConcepts(cat string, cr *conceptRule, hits []conceptHit, info int, floor float64) conceptResult {
	res := conceptResult{info: info}
	// flattened groups of the rule: index → list key; topic marks the
	// first required slot's groups
	var keys []string
	var topic []bool
	slotOf := map[string]int{}
	firstReq := -1
	for si, sl := range cr.slots {
		if sl.required && firstReq < 0 {
			firstReq = si
		}
		for _, k := range sl.groups {
			slotOf[k] = len(keys)
			keys = append(keys, k)
			topic = append(topic, si == firstReq)
		}
	}
	var global, text []conceptCand
	for i := range hits {
		h := &hits[i]
		gi, ok := slotOf[h.phrase.group]
		if !ok {
			continue
		}
		res.hits++
		w, _ := h.weightFor(cat, m.th.ContextDiscount, false)
		if w < m.th.ConceptMinWeight {
			continue
		}
		c := conceptCand{h: h, w: w, slot: gi}
		if h.pos < 0 {
			global = append(global, c)
		} else {
			text = append(text, c)
		}
	}
	if len(global)+len(text) == 0 {
		return res
	}
	// page-wide: distinct words, each at its heaviest
	best := map[*phrase]float64{}
	for _, cs := range [][]conceptCand{global, text} {
		for _, c := range cs {
			if c.w > best[c.h.phrase] {
				best[c.h.phrase] = c.w
			}
		}
	}
	total := 0.0
	for _, w := range best {
		total += w
	}
	res.density = round3(total / floor * 1000)
	sort.SliceStable(text, func(i, j int) bool { return text[i].h.pos < text[j].h.pos })

	// sliding window: counts of each group and each word inside it
	groupN := make([]int, len(keys))
	wordN := map[*phrase]int{}
	groups, words, topicWords := 0, 0, 0
	add := func(c conceptCand, d int) {
		if wordN[c.h.phrase] == 0 && d > 0 {
			words++
			if topic[c.slot] {
				topicWords++
			}
		}
		wordN[c.h.phrase] += d
		if wordN[c.h.phrase] == 0 && d < 0 {
			words--
			if topic[c.slot] {
				topicWords--
			}
		}
		if groupN[c.slot] == 0 && d > 0 {
			groups++
		}
		groupN[c.slot] += d
		if groupN[c.slot] == 0 && d < 0 {
			groups--
		}
	}
	satisfied := func() bool {
		k := 0
		for _, sl := range cr.slots {
			any := false
			for range sl.groups {
				any = any || groupN[k] > 0
				k++
			}
			if sl.required && !any {
				return false
			}
		}
		return true
	}
	for _, c := range global {
		add(c, 1)
	}
	window := int(cr.window)
	bestOK, bestG, bestT, bestFrom, bestTo := false, -1, -1, 0, 0
	consider := func(from, to int) {
		ok := satisfied() && float64(groups) >= cr.minGroups && words >= m.th.ConceptMinTerms && float64(topicWords) >= cr.minTopic
		if (ok && !bestOK) || (ok == bestOK && (groups > bestG || (groups == bestG && words > bestT))) {
			bestOK, bestG, bestT, bestFrom, bestTo = ok, groups, words, from, to
		}
	}
	if len(text) == 0 {
		consider(0, 0)
	}
	j := 0
	for i := range text {
		if j < i {
			j = i
		}
		for j < len(text) && text[j].h.pos-text[i].h.pos <= window {
			add(text[j], 1)
			j++
		}
		consider(i, j)
		add(text[i], -1)
	}
	in := append(append([]conceptCand(nil), global...), text[bestFrom:bestTo]...)
	terms := map[*phrase]float64{}
	present := map[string]bool{}
	for _, c := range in {
		present[c.h.phrase.group] = true
		if c.w > terms[c.h.phrase] {
			terms[c.h.phrase] = c.w
		}
	}
	for k := range present {
		res.groups = append(res.groups, cr.groups[k])
	}
	sort.Strings(res.groups)
	res.terms = len(terms)
	// strength: each group's distinct words, capped per group
	perGroup := map[string]float64{}
	for p, w := range terms {
		perGroup[p.group] += w
	}
	for _, w := range perGroup {
		res.strength += math.Min(w, m.th.ConceptGroupCap)
	}
	res.strength = round3(res.strength)
	// one cue is an aside ("void where prohibited"); several, per word of
	// the category, make a page that informs about the thing
	infoOK := res.info < 2 || float64(res.info) <= m.th.ConceptInfoRatio*float64(res.hits)
	res.flagged = bestOK && res.strength >= m.th.ConceptMinStrength && res.density >= m.th.ConceptMinDensity && infoOK
	// evidence: the heaviest word of each group first, then the rest
	sort.SliceStable(in, func(i, j int) bool {
		if in[i].w != in[j].w {
			return in[i].w > in[j].w
		}
		return in[i].h.start < in[j].h.start
	})
	shownGroup := map[string]bool{}
	shownPhrase := map[*phrase]bool{}
	show := func(c conceptCand) {
		shownGroup[c.h.phrase.group] = true
		shownPhrase[c.h.phrase] = true
		_, names := c.h.weightFor(cat, m.th.ContextDiscount, true)
		res.shown = append(res.shown, *c.h)
		res.weights = append(res.weights, c.w)
		res.contexts = append(res.contexts, names)
	}
	for _, c := range in {
		if !shownGroup[c.h.phrase.group] {
			show(c)
		}
	}
	for _, c := range in {
		if len(res.shown) >= m.th.MaxMatches {
			break
		}
		if !shownPhrase[c.h.phrase] {
			show(c)
		}
	}
	return res
}
