package prohibited

// Cue words of the learned path: hand-written multilingual word lists per
// category (model/cues.txt) that become a few dense features beside the
// hashed n-grams. A bag of words learned from the 3–17 sites of a category
// holds those sites' vocabulary; the next site shares the category's
// words (casino, apuestas, ставки; escort, incall; e-liquid) more than
// anything else, in whatever language, and the cue features carry exactly
// that. The trainer weighs them like any feature, so a cue list's worth
// is learned from the real pages, not assumed.

import (
	_ "embed"
	"fmt"
	"math"
	"strings"
)

//go:embed model/cues.txt
var defaultCues string

// DefaultCues is the cue-word file the trainer stores in a new model.
func DefaultCues() string { return defaultCues }

// Cue groups that are not categories: words of selling and of informing.
// Crossed with a category's cues they tell a shop of a thing from a page
// about it.
const (
	cueOffer  = "offer"
	cueInform = "inform"
)

// Dense features per cue group, and per category group crossed with the
// offer and inform groups.
const (
	denseHead    = iota // distinct cues in title and meta
	denseText           // distinct cues in the visible text
	denseDensity        // cue occurrences per 100 words of text
	densePerGroup
)

// cueDensityFloor: short pages count as this many words, so three cues in
// a 20-word page are not denser than a shop's catalogue.
const cueDensityFloor = 100

// cueSet is a compiled cue file.
type cueSet struct {
	groups []string       // in file order
	index  map[string]int // group → position
	cats   []int          // groups that are not offer or inform, crossed with both
	offer  int            // -1 when absent
	inform int
	m      *matcher
}

// parseCues compiles a cue file: "[group]" lines open a group, other
// non-empty lines not starting with "#" are entries in the phrase syntax
// of the pack's lists.
func parseCues(text string) (*cueSet, error) {
	cs := &cueSet{index: map[string]int{}, offer: -1, inform: -1, m: newMatcher(0)}
	group := ""
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			group = strings.TrimSpace(line[1 : len(line)-1])
			if _, dup := cs.index[group]; dup || group == "" {
				return nil, fmt.Errorf("cues:%d: group %q empty or repeated", n+1, group)
			}
			cs.index[group] = len(cs.groups)
			cs.groups = append(cs.groups, group)
			continue
		}
		if group == "" {
			return nil, fmt.Errorf("cues:%d: %q comes before any [group]", n+1, line)
		}
		if err := cs.m.add(line, group, "", 1); err != nil {
			// an entry that folds to nothing ("€") is not a word
			if strings.Contains(err.Error(), "no words") {
				continue
			}
			return nil, fmt.Errorf("cues:%d: %w", n+1, err)
		}
	}
	if len(cs.groups) == 0 {
		return nil, fmt.Errorf("cues: no group")
	}
	for i, g := range cs.groups {
		switch g {
		case cueOffer:
			cs.offer = i
		case cueInform:
			cs.inform = i
		default:
			cs.cats = append(cs.cats, i)
		}
	}
	return cs, nil
}

// denseLen is the number of dense features a cue set gives.
func (cs *cueSet) denseLen() int {
	n := len(cs.groups) * densePerGroup
	if cs.offer >= 0 {
		n += len(cs.cats)
	}
	if cs.inform >= 0 {
		n += len(cs.cats)
	}
	return n
}

// cueHit is one cue found on a page.
type cueHit struct {
	group, phrase int
	field         int // index into pageTokens.fields
	first, last   int
}

// hits finds the cues of every group in a page's fields (title, meta,
// keywords, text: the order of features()).
func (cs *cueSet) hits(pt pageTokens) []cueHit {
	var out []cueHit
	owner := func(g string) string { return g }
	for fi, toks := range pt.fields {
		for _, h := range cs.m.findEach(toks, owner) {
			g := cs.index[cs.m.phrases[h.phrase].group]
			out = append(out, cueHit{group: g, phrase: h.phrase, field: fi, first: h.first, last: h.last})
		}
	}
	return out
}

// dense computes the dense features from a page's cue hits; textField is
// the index of the visible text among the fields (the rest are title and
// meta).
func (cs *cueSet) dense(hs []cueHit, pt pageTokens, textField int) []float32 {
	G := len(cs.groups)
	head := make([]map[int]bool, G)
	text := make([]map[int]bool, G)
	occ := make([]int, G)
	for _, h := range hs {
		set := head
		if h.field == textField {
			set = text
			occ[h.group]++
		}
		if set[h.group] == nil {
			set[h.group] = map[int]bool{}
		}
		set[h.group][h.phrase] = true
	}
	words := 0
	if textField < len(pt.fields) {
		words = len(pt.fields[textField])
	}
	words = max(words, cueDensityFloor)
	out := make([]float32, cs.denseLen())
	for g := 0; g < G; g++ {
		out[g*densePerGroup+denseHead] = float32(math.Log1p(float64(len(head[g]))))
		out[g*densePerGroup+denseText] = float32(math.Log1p(float64(len(text[g]))))
		out[g*densePerGroup+denseDensity] = float32(math.Log1p(100 * float64(occ[g]) / float64(words)))
	}
	k := G * densePerGroup
	cross := func(with int) {
		// how much of the page sells (or informs): 0 to 1 at 4 distinct cues
		amount := math.Min(1, float64(len(head[with])+len(text[with]))/4)
		for _, g := range cs.cats {
			out[k] = float32(amount * math.Log1p(float64(len(head[g])+len(text[g]))))
			k++
		}
	}
	if cs.offer >= 0 {
		cross(cs.offer)
	}
	if cs.inform >= 0 {
		cross(cs.inform)
	}
	return out
}

// denseGroup is the cue group a dense feature belongs to (for handing its
// contribution back to the cues found).
func (cs *cueSet) denseGroup(j int) int {
	G := len(cs.groups)
	if j < G*densePerGroup {
		return j / densePerGroup
	}
	j -= G * densePerGroup
	return cs.cats[j%len(cs.cats)]
}

// textFieldIndex is the visible text's place among the fields features()
// reads (title, meta description, meta keywords, text).
const textFieldIndex = 3

// Cues is a compiled cue-word file, for the trainer.
type Cues struct {
	text string
	cs   *cueSet
}

// CompileCues compiles a cue-word file (DefaultCues for a new model).
func CompileCues(text string) (*Cues, error) {
	cs, err := parseCues(text)
	if err != nil {
		return nil, err
	}
	return &Cues{text: text, cs: cs}, nil
}

// Text is the file the cues were compiled from (stored in the model).
func (c *Cues) Text() string { return c.text }

// PageFeatures returns a page's hashed features and, with cues, its dense
// cue features: what Train reads.
func PageFeatures(p Page, dim, maxText int, c *Cues) ([]Feature, []float32) {
	return PageFeaturesWith(p, DefaultFeatureSettings, dim, maxText, c)
}

// PageFeaturesWith is PageFeatures with other feature settings (what a
// model trained with them records in its header).
func PageFeaturesWith(p Page, set FeatureSettings, dim, maxText int, c *Cues) ([]Feature, []float32) {
	fs, _, pt := features(p, set, dim, maxText, false)
	if c == nil {
		return fs, nil
	}
	return fs, c.cs.dense(c.cs.hits(pt), pt, textFieldIndex)
}
