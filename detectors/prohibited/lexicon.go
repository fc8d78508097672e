package prohibited

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Phrase syntax in the pack's lists: words separated by spaces, folded by
// the same normalizer as the text; a word ending in "*" matches any word
// it begins ("ставк*" → ставки, ставок); "..." lets up to maxGap words sit
// between its neighbours ("buy ... cigarettes" → "buy cheap menthol
// cigarettes"), within one clause. In the stemmed concept lists a plain
// word matches its inflected forms (stem.go) and "=word" only itself.
const (
	wildcard  = "*"
	gapWord   = "..."
	exactMark = "=" // "=nudes": this form only, where words otherwise match by stem
)

// elem is one word of a compiled phrase.
type elem struct {
	word   string
	prefix bool
	gap    bool // up to maxGap words may come before it
	stem   bool // word is a light stem, compared with the token's stem
}

// phrase is one compiled lexicon entry.
type phrase struct {
	text   string // as written in the pack, for the evidence
	group  string // category, "negation" or the context list's name
	tier   string // strong, medium, weak (categories) or "" (cues)
	weight float64
	elems  []elem
}

// matcher finds phrases in a token stream, leftmost-longest.
type matcher struct {
	phrases    []phrase
	exact      map[string][]int
	prefix     map[string][]int
	prefixLens []int // rune lengths present in prefix, ascending
	// heads are the first three letters of every prefix entry: most words
	// begin no entry, and one lookup tells
	heads  map[string]bool
	maxGap int
	// stemmed: words without "*" match every form with the same light
	// stem (stem.go): "ставка" also finds "ставки", "bet" finds "bets"
	stemmed bool
}

func newMatcher(maxGap int) *matcher {
	return &matcher{exact: map[string][]int{}, prefix: map[string][]int{}, heads: map[string]bool{}, maxGap: maxGap}
}

// newStemMatcher is a matcher whose plain words match by stem.
func newStemMatcher(maxGap int) *matcher {
	m := newMatcher(maxGap)
	m.stemmed = true
	return m
}

// add compiles one entry; an entry that folds to nothing is an error, so a
// typo in a tuned pack fails loudly.
func (m *matcher) add(text, group, tier string, weight float64) error {
	var elems []elem
	gap := false
	for _, w := range strings.Fields(text) {
		if w == gapWord {
			if len(elems) == 0 {
				return fmt.Errorf("phrase %q starts with %q", text, gapWord)
			}
			gap = true
			continue
		}
		star := strings.HasSuffix(w, wildcard)
		w = strings.TrimSuffix(w, wildcard)
		exact := strings.HasPrefix(w, exactMark) && len(w) > len(exactMark)
		w = strings.TrimPrefix(w, exactMark)
		toks := tokenize(w, 0)
		for i, t := range toks {
			e := elem{word: t.norm, gap: gap && i == 0}
			if star && i == len(toks)-1 {
				e.prefix = true
			} else if m.stemmed && !exact {
				e.word, e.stem = t.stem, true
			}
			elems = append(elems, e)
		}
		gap = false
	}
	if len(elems) == 0 || gap {
		return fmt.Errorf("phrase %q has no words to match", text)
	}
	if elems[0].prefix && utf8.RuneCountInString(elems[0].word) < 3 {
		return fmt.Errorf("phrase %q: a wildcard word needs at least 3 letters", text)
	}
	idx := len(m.phrases)
	m.phrases = append(m.phrases, phrase{text: text, group: group, tier: tier, weight: weight, elems: elems})
	first := elems[0]
	if first.prefix {
		m.prefix[first.word] = append(m.prefix[first.word], idx)
		if h, ok := runePrefix(first.word, 3); ok {
			m.heads[h] = true
		}
		n := utf8.RuneCountInString(first.word)
		if !containsInt(m.prefixLens, n) {
			m.prefixLens = insertSorted(m.prefixLens, n)
		}
	} else {
		m.exact[first.word] = append(m.exact[first.word], idx)
	}
	return nil
}

func containsInt(xs []int, n int) bool {
	for _, x := range xs {
		if x == n {
			return true
		}
	}
	return false
}

func insertSorted(xs []int, n int) []int {
	xs = append(xs, n)
	for i := len(xs) - 1; i > 0 && xs[i] < xs[i-1]; i-- {
		xs[i], xs[i-1] = xs[i-1], xs[i]
	}
	return xs
}

// hit is one phrase found: tokens [first, last].
type hit struct {
	phrase      int
	first, last int
}

func (e elem) matches(t token) bool {
	if e.prefix {
		return strings.HasPrefix(t.norm, e.word) || (t.alt != "" && strings.HasPrefix(t.alt, e.word))
	}
	if e.stem {
		return t.stem == e.word || (t.alt != "" && stem(t.alt) == e.word)
	}
	return t.norm == e.word || (t.alt != "" && t.alt == e.word)
}

// candidates are the phrases whose first word can match t.
func (m *matcher) candidates(t token, buf []int) []int {
	buf = buf[:0]
	if m.stemmed {
		// by stem, and by the word itself for "=word" entries
		buf = append(buf, m.exact[t.stem]...)
		if t.norm != t.stem {
			buf = append(buf, m.exact[t.norm]...)
		}
		if t.alt != "" {
			buf = append(buf, m.exact[stem(t.alt)]...)
		}
	} else {
		buf = append(buf, m.exact[t.norm]...)
		if t.alt != "" {
			buf = append(buf, m.exact[t.alt]...)
		}
	}
	for _, form := range []string{t.norm, t.alt} {
		if form == "" {
			continue
		}
		if h, ok := runePrefix(form, 3); !ok || !m.heads[h] {
			continue
		}
		for _, l := range m.prefixLens {
			if p, ok := runePrefix(form, l); ok {
				buf = append(buf, m.prefix[p]...)
			} else {
				break
			}
		}
	}
	return buf
}

func runePrefix(s string, n int) (string, bool) {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos], true
		}
		i++
	}
	if i == n {
		return s, true
	}
	return "", false
}

// matchAt tries phrase p at token i and returns the index of its last
// token, or -1.
func (m *matcher) matchAt(toks []token, i int, p *phrase) int {
	if !p.elems[0].matches(toks[i]) {
		return -1
	}
	j := i
	for _, e := range p.elems[1:] {
		limit := 1
		if e.gap {
			limit = 1 + m.maxGap
		}
		found := -1
		for k := j + 1; k <= j+limit && k < len(toks); k++ {
			// a gap stays within a clause; adjacent words may straddle
			// a comma ("congratulations, you have won")
			if toks[k].brk && k > j+1 {
				break
			}
			if e.matches(toks[k]) {
				found = k
				break
			}
		}
		if found < 0 {
			return -1
		}
		j = found
	}
	return j
}

// find returns the phrases in toks, leftmost-longest: at each token the
// longest phrase (then the heaviest, then the first listed) wins and the
// scan resumes after it, so "no deposit bonus" is not also "deposit bonus"
// negated by "no".
func (m *matcher) find(toks []token) []hit {
	var out []hit
	var buf []int
	for i := 0; i < len(toks); {
		buf = m.candidates(toks[i], buf)
		best := hit{phrase: -1}
		for _, pi := range buf {
			p := &m.phrases[pi]
			last := m.matchAt(toks, i, p)
			if last < 0 {
				continue
			}
			if best.phrase < 0 || better(last, p, best.last, &m.phrases[best.phrase]) || (last == best.last && p.weight == m.phrases[best.phrase].weight && len(p.elems) == len(m.phrases[best.phrase].elems) && pi < best.phrase) {
				best = hit{phrase: pi, first: i, last: last}
			}
		}
		if best.phrase < 0 {
			i++
			continue
		}
		out = append(out, best)
		i = best.last + 1
	}
	return out
}

func better(last int, p *phrase, bestLast int, b *phrase) bool {
	if last != bestLast {
		return last > bestLast
	}
	if len(p.elems) != len(b.elems) {
		return len(p.elems) > len(b.elems)
	}
	return p.weight > b.weight
}

// findEach is find for lists that several categories read (the concept
// lists): leftmost-longest per owner, so a word two categories share
// ("paypal" is a payment and a payout, "crack" an attack and a pirated
// copy) is found for each of them. owner maps a phrase's group to the one
// that reads it. The scan resumes after the longest match at a token.
func (m *matcher) findEach(toks []token, owner func(group string) string) []hit {
	var out []hit
	var buf []int
	best := map[string]hit{}
	var owners []string
	for i := 0; i < len(toks); {
		buf = m.candidates(toks[i], buf)
		clear(best)
		owners = owners[:0]
		longest := -1
		for _, pi := range buf {
			p := &m.phrases[pi]
			last := m.matchAt(toks, i, p)
			if last < 0 {
				continue
			}
			o := owner(p.group)
			b, ok := best[o]
			if !ok {
				owners = append(owners, o)
			}
			if !ok || better(last, p, b.last, &m.phrases[b.phrase]) || (last == b.last && len(p.elems) == len(m.phrases[b.phrase].elems) && p.weight == m.phrases[b.phrase].weight && pi < b.phrase) {
				best[o] = hit{phrase: pi, first: i, last: last}
			}
			if last > longest {
				longest = last
			}
		}
		if longest < 0 {
			i++
			continue
		}
		sort.Strings(owners) // a fixed order: results must not depend on map order
		for _, o := range owners {
			out = append(out, best[o])
		}
		i = longest + 1
	}
	return out
}
