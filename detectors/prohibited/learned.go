package prohibited

// The learned path (issue 18): a linear model per category over hashed
// word and character n-grams, trained on real public pages
// (fixtures/pages/real) and the hand-written corpus (fixtures/pages) by
// cmd/train-content. Lexicons written from imagination miss the wording
// of real sites (escort agencies never say "porn", carding shops never say
// "hacking"); character n-grams of folded words reach across languages
// and inflections, and the weights say which words pushed a page's score,
// so every finding still quotes its phrases.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"affwatch/rules"
)

// LearnedVersion is the format of the model file and of its features: a
// model trained with other features cannot be read.
const LearnedVersion = 2

// learnedVersionSettings is the format whose header also records feature
// settings other than the defaults (FeatureSettings: the character n-gram
// range, the URL path's words): written only when a setting differs, so a
// model of the default features stays version 2 and an older build
// refuses, rather than misreads, a model whose features it cannot compute.
const learnedVersionSettings = 3

// learnedVersionNoCues is the format before the cue features: the same
// hashed features, no dense ones; still read.
const learnedVersionNoCues = 1

// Feature constants: part of the model's format (recorded in its header
// and checked on load).
const (
	// DefaultDim is the number of hashed feature buckets (2^20, 1 MiB of
	// int8 weights per category). With 2^18 the character n-grams of
	// three thousand pages in a dozen languages shared buckets: on two
	// corpus rounds and three fold draws each, 2^20 found 0.004–0.028
	// more of the violating pages in grouped cross-validation at the same
	// or higher precision (docs/BENCHMARKS.md); training takes about four
	// times longer (cache misses on the larger weight arrays).
	DefaultDim = 1 << 20
	// charMin and charMax bound the character n-grams of a word (with its
	// boundaries "<" and ">") by default: 3–5 catch stems across
	// inflections. A model may record another range (FeatureSettings),
	// within minCharGram–maxCharGram.
	charMin, charMax         = 3, 5
	minCharGram, maxCharGram = 2, 6
	// maxCharWordRunes: longer "words" are hashes, URLs and base64, not
	// language; they get only their unigram.
	maxCharWordRunes = 24
	// maxFeatureTokens bounds the tokens read per page, so one huge page
	// costs as much as a long article (classification stays ≤ 5 ms).
	maxFeatureTokens = 6000
	// minLearnedWords: texts of fewer distinct words (a sentence, a
	// snippet, one sentence repeated down a template) are not scored by
	// the model. It learned from pages (the real ones have 60 words or
	// more, the shortest written ones 27), and on one sentence three
	// category words make its cue counts look like a whole page about the
	// category ("the app blocks porn and xxx sites for kids"); a
	// newsletter box over one filler line repeated twelve times scored
	// 0.77 adult from "updated", "people" and "subscribe" when the words
	// were counted with their repeats. The phrase and concept paths still
	// read such pages.
	minLearnedWords = 25
)

//go:embed model/content.model.gz
var embeddedModel []byte

// LearnedCategory is one category's calibrated linear model.
type LearnedCategory struct {
	Name string `json:"name"`
	// Bias and Scale: the raw score is Bias + Scale × Σ q_i·x_i over the
	// int8 weights q.
	Bias  float64 `json:"bias"`
	Scale float64 `json:"scale"`
	// PlattA and PlattB calibrate: p = 1 / (1 + e^(A·raw + B)), fitted on
	// out-of-fold scores of grouped cross-validation.
	PlattA float64 `json:"platt_a"`
	PlattB float64 `json:"platt_b"`
	// Positives is how many training pages carried the label.
	Positives int `json:"positives"`
	// Dense are the weights of the cue features (cues.go), in the order
	// the header's cue file gives them; added to the raw score unscaled.
	Dense []float64 `json:"dense,omitempty"`
}

// LearnedHeader describes a model file.
type LearnedHeader struct {
	Version        int               `json:"version"`
	Dim            int               `json:"dim"`
	CharMin        int               `json:"char_min"`
	CharMax        int               `json:"char_max"`
	Categories     []LearnedCategory `json:"categories"`
	ManifestSHA256 string            `json:"manifest_sha256"` // fixtures/pages/real/manifest.csv trained from
	OwnSHA256      string            `json:"own_corpus_sha256"`
	TrainedPages   int               `json:"trained_pages"`
	WeightsSHA256  string            `json:"weights_sha256"`
	Trainer        string            `json:"trainer"` // how it was trained, for the reader
	// Threshold is the probability the trainer chose for every category
	// on its training pages' out-of-fold scores (train.go,
	// chooseThreshold): what the rule pack's <category>_min_probability
	// is set from
	Threshold float64 `json:"threshold,omitempty"`
	// Cues is the cue-word file the model was trained with (cues.go): a
	// model always reads the cues its dense weights belong to.
	Cues string `json:"cues,omitempty"`
	// URLPath: the words of the page's URL path are a field of their own
	// (version 3)
	URLPath bool `json:"url_path,omitempty"`
}

// FeatureSettings are the choices of features() that a model records:
// the page is read the way the model was trained.
type FeatureSettings struct {
	CharMin, CharMax int
	// URLPath reads the words of the URL's path ("/iptv-abonnement",
	// "/shop/pistols") as a field after the text, with the title's and
	// meta's extra head features: what a page's address says it offers
	URLPath bool
}

// DefaultFeatureSettings are the features of a version 2 model.
var DefaultFeatureSettings = FeatureSettings{CharMin: charMin, CharMax: charMax}

func (fs FeatureSettings) valid() error {
	if fs.CharMin < minCharGram || fs.CharMax > maxCharGram || fs.CharMin > fs.CharMax {
		return fmt.Errorf("character n-grams %d–%d, this build computes ranges within %d–%d", fs.CharMin, fs.CharMax, minCharGram, maxCharGram)
	}
	return nil
}

// Settings are the feature settings the header records.
func (h LearnedHeader) Settings() FeatureSettings {
	return FeatureSettings{CharMin: h.CharMin, CharMax: h.CharMax, URLPath: h.URLPath}
}

// Learned is a loaded model.
type Learned struct {
	Header  LearnedHeader
	weights [][]int8 // per category, Dim each
	index   map[string]int
	cues    *cueSet // nil when the model has no cue features
}

// ErrBadModel says a model file is not one this version can use.
var ErrBadModel = errors.New("content model is invalid")

// DefaultLearned loads the model committed with the detector.
func DefaultLearned() (*Learned, error) { return ReadLearned(bytes.NewReader(embeddedModel)) }

// ReadLearned reads and validates a model file: version, dimensions, the
// feature settings it was trained with, and the hash of its weights.
func ReadLearned(r io.Reader) (*Learned, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModel, err)
	}
	br := bufio.NewReader(zr)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrBadModel, err)
	}
	var h LearnedHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrBadModel, err)
	}
	switch {
	case h.Version != LearnedVersion && h.Version != learnedVersionNoCues && h.Version != learnedVersionSettings:
		return nil, fmt.Errorf("%w: version %d, this build reads version %d: retrain with make train-content", ErrBadModel, h.Version, LearnedVersion)
	case h.Dim <= 0 || h.Dim&(h.Dim-1) != 0 || h.Dim > 1<<22:
		return nil, fmt.Errorf("%w: dimension %d is not a power of two ≤ 2^22", ErrBadModel, h.Dim)
	case h.Version != learnedVersionSettings && (h.CharMin != charMin || h.CharMax != charMax || h.URLPath):
		return nil, fmt.Errorf("%w: version %d records character n-grams %d–%d (url path %v), its features are %d–%d", ErrBadModel, h.Version, h.CharMin, h.CharMax, h.URLPath, charMin, charMax)
	case h.Settings().valid() != nil:
		return nil, fmt.Errorf("%w: %v", ErrBadModel, h.Settings().valid())
	case len(h.Categories) == 0:
		return nil, fmt.Errorf("%w: no category", ErrBadModel)
	}
	m := &Learned{Header: h, index: map[string]int{}}
	nDense := 0
	if h.Version == learnedVersionNoCues && h.Cues != "" {
		return nil, fmt.Errorf("%w: version %d carries no cue words", ErrBadModel, h.Version)
	}
	if h.Cues != "" {
		if m.cues, err = parseCues(h.Cues); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadModel, err)
		}
		nDense = m.cues.denseLen()
	}
	hash := sha256.New()
	buf := make([]byte, h.Dim)
	for i, c := range h.Categories {
		if _, dup := m.index[c.Name]; dup || c.Name == "" {
			return nil, fmt.Errorf("%w: category %q repeated or empty", ErrBadModel, c.Name)
		}
		if math.IsNaN(c.Bias+c.Scale+c.PlattA+c.PlattB) || math.IsInf(c.Bias+c.Scale+c.PlattA+c.PlattB, 0) {
			return nil, fmt.Errorf("%w: category %s has a non-finite parameter", ErrBadModel, c.Name)
		}
		if len(c.Dense) != nDense {
			return nil, fmt.Errorf("%w: category %s has %d cue weights, its cue file gives %d features", ErrBadModel, c.Name, len(c.Dense), nDense)
		}
		for _, d := range c.Dense {
			if math.IsNaN(d) || math.IsInf(d, 0) {
				return nil, fmt.Errorf("%w: category %s has a non-finite cue weight", ErrBadModel, c.Name)
			}
		}
		m.index[c.Name] = i
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, fmt.Errorf("%w: weights of %s: %v (file truncated?)", ErrBadModel, c.Name, err)
		}
		hash.Write(buf)
		w := make([]int8, h.Dim)
		for j, b := range buf {
			w[j] = int8(b)
		}
		m.weights = append(m.weights, w)
	}
	// reading to the end checks gzip's CRC and length: a cut file fails here
	if n, err := io.Copy(io.Discard, br); err != nil || n != 0 {
		return nil, fmt.Errorf("%w: after the last category's weights: %d bytes more, %v", ErrBadModel, n, err)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != h.WeightsSHA256 {
		return nil, fmt.Errorf("%w: weights hash %s, header says %s", ErrBadModel, got, h.WeightsSHA256)
	}
	return m, nil
}

// WriteLearned writes a model file (the trainer's output): header line,
// then each category's int8 weights, gzip-compressed; the header's
// weights hash is computed here. Output is byte-for-byte deterministic.
func WriteLearned(w io.Writer, h LearnedHeader, weights [][]int8) error {
	if len(weights) != len(h.Categories) {
		return fmt.Errorf("%d weight vectors for %d categories", len(weights), len(h.Categories))
	}
	hash := sha256.New()
	var raw bytes.Buffer
	for _, ws := range weights {
		if len(ws) != h.Dim {
			return fmt.Errorf("weights of %d, want %d", len(ws), h.Dim)
		}
		for _, q := range ws {
			raw.WriteByte(byte(q))
		}
	}
	hash.Write(raw.Bytes())
	if h.CharMin == 0 && h.CharMax == 0 {
		h.CharMin, h.CharMax = charMin, charMax
	}
	if err := h.Settings().valid(); err != nil {
		return err
	}
	h.Version = LearnedVersion
	if h.Settings() != DefaultFeatureSettings {
		h.Version = learnedVersionSettings
	}
	h.WeightsSHA256 = hex.EncodeToString(hash.Sum(nil))
	head, err := json.Marshal(h)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	// no name or time in the gzip header: the file depends only on the data
	zw.Write(append(head, '\n'))
	zw.Write(raw.Bytes())
	return zw.Close()
}

// Feature is one hashed feature of a page with its value (after log
// scaling and L2 normalisation).
type Feature struct {
	Index uint32
	Value float32
}

// origin ties a feature occurrence to the words that produced it, so
// contributions can be handed back to phrases.
type origin struct {
	field     int // index into the page's fields
	tok, tok2 int // tokens (tok2 = tok for a single word)
	idx       uint32
}

type pageTokens struct {
	fields [][]token
	texts  []string
	names  []string
}

// distinctWords counts the different words of every field together.
func (pt pageTokens) distinctWords() int {
	seen := map[string]struct{}{}
	for _, f := range pt.fields {
		for _, t := range f {
			if t.norm != "" {
				seen[t.norm] = struct{}{}
			}
		}
	}
	return len(seen)
}

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func fnvString(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime
	}
	return h
}

// Features returns a page's hashed features, sorted by index, and the
// origins of each occurrence (nil unless withOrigins).
func Features(p Page, dim int, maxText int) []Feature {
	fs, _, _ := features(p, DefaultFeatureSettings, dim, maxText, false)
	return fs
}

// urlPathText is the words of a URL's path, for the URLPath field: the
// host is left out (the site's name tells that site apart, not what it
// offers), and so are query and fragment.
func urlPathText(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return ' '
	}, u.Path)
}

func features(p Page, set FeatureSettings, dim int, maxText int, withOrigins bool) ([]Feature, []origin, pageTokens) {
	mask := uint32(dim - 1)
	// indices are collected and sorted, not counted in a map: a page has
	// tens of thousands of occurrences and the map was most of the cost
	idxs := make([]uint32, 0, 4096)
	var origins []origin
	pt := pageTokens{}
	add := func(h uint32, f, t, t2 int) {
		idx := h & mask
		idxs = append(idxs, idx)
		if withOrigins {
			origins = append(origins, origin{field: f, tok: t, tok2: t2, idx: idx})
		}
	}
	budget := maxFeatureTokens
	fields := []struct{ name, text string }{{"title", p.Title}, {"meta_description", p.Description}, {"meta_keywords", p.Keywords}, {"text", p.Text}}
	if set.URLPath {
		fields = append(fields, struct{ name, text string }{"url", urlPathText(p.URL)})
	}
	for fi, fd := range fields {
		toks := tokenize(fd.text, maxText)
		if len(toks) > budget {
			toks = toks[:budget]
		}
		budget -= len(toks)
		pt.fields = append(pt.fields, toks)
		pt.texts = append(pt.texts, fd.text)
		pt.names = append(pt.names, fd.name)
		head := fi != textFieldIndex // title, meta and address say what the whole page is about
		for i, t := range toks {
			w := t.norm
			if w == "" {
				continue
			}
			add(fnvString(fnvString(fnvOffset, "w\x00"), w), fi, i, i)
			if head {
				add(fnvString(fnvString(fnvOffset, "t\x00"), w), fi, i, i)
			}
			if i+1 < len(toks) && !toks[i+1].brk && toks[i+1].norm != "" {
				h := fnvString(fnvString(fnvOffset, "b\x00"), w)
				h = fnvString(h, " ")
				add(fnvString(h, toks[i+1].norm), fi, i, i+1)
			}
			n := utf8.RuneCountInString(w)
			if n < 2 || n > maxCharWordRunes || t.sym {
				continue
			}
			// byte offsets of the runes of "<w>"
			padded := "<" + w + ">"
			var offs [maxCharWordRunes + 3]int
			k := 0
			for off := range padded {
				offs[k] = off
				k++
			}
			offs[k] = len(padded)
			for g := set.CharMin; g <= set.CharMax; g++ {
				for s := 0; s+g <= k; s++ {
					h := fnvString(fnvOffset, "c\x00")
					add(fnvString(h, padded[offs[s]:offs[s+g]]), fi, i, i)
				}
			}
		}
	}
	slices.Sort(idxs)
	out := make([]Feature, 0, len(idxs)/2)
	var norm float64
	for i := 0; i < len(idxs); {
		j := i
		for j < len(idxs) && idxs[j] == idxs[i] {
			j++
		}
		v := float32(math.Log1p(float64(j - i)))
		out = append(out, Feature{idxs[i], v})
		norm += float64(v) * float64(v)
		i = j
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range out {
			out[i].Value *= inv
		}
	}
	return out, origins, pt
}

// Raw is a category's uncalibrated score of a page's features.
func (m *Learned) Raw(ci int, fs []Feature, dense []float32) float64 {
	w := m.weights[ci]
	var s float64
	for _, f := range fs {
		s += float64(w[f.Index]) * float64(f.Value)
	}
	c := m.Header.Categories[ci]
	raw := c.Bias + c.Scale*s
	for j, d := range c.Dense {
		if j < len(dense) {
			raw += d * float64(dense[j])
		}
	}
	return raw
}

// pageDense finds the model's cues on a page whose fields features()
// tokenized; nil without cues.
func (m *Learned) pageDense(pt pageTokens) ([]float32, []cueHit) {
	if m.cues == nil {
		return nil, nil
	}
	hs := m.cues.hits(pt)
	return m.cues.dense(hs, pt, textFieldIndex), hs
}

// Calibrated maps a raw score to a probability with the category's Platt
// parameters.
func (c LearnedCategory) Calibrated(raw float64) float64 {
	return 1 / (1 + math.Exp(c.PlattA*raw+c.PlattB))
}

// LearnedResult is the learned path's view of one category on a page.
type LearnedResult struct {
	Probability float64 `json:"probability"`
	Threshold   float64 `json:"threshold"`
	Flagged     bool    `json:"flagged"`
	// Phrases are the words and word pairs that pushed the score most,
	// quoted from the page.
	Phrases []Match `json:"phrases,omitempty"`
}

// Probabilities scores a page for every category of the model.
func (m *Learned) Probabilities(p Page, maxText int) map[string]float64 {
	fs, _, pt := features(p, m.Header.Settings(), m.Header.Dim, maxText, false)
	out := make(map[string]float64, len(m.Header.Categories))
	if pt.distinctWords() < minLearnedWords {
		for _, c := range m.Header.Categories {
			out[c.Name] = 0
		}
		return out
	}
	dense, _ := m.pageDense(pt)
	for i, c := range m.Header.Categories {
		out[c.Name] = c.Calibrated(m.Raw(i, fs, dense))
	}
	return out
}

// explain hands each category's score back to the words that produced it
// and quotes the strongest: a word collects its unigram, title and
// character n-gram weights, a word pair its bigram weight.
func (m *Learned) explain(ci int, fs []Feature, origins []origin, dense []float32, cues []cueHit, pt pageTokens, maxPhrases, maxSnippetChars int) []Match {
	val := map[uint32]float32{}
	for _, f := range fs {
		val[f.Index] = f.Value
	}
	occ := map[uint32]int{}
	for _, o := range origins {
		occ[o.idx]++
	}
	type agg struct {
		contrib          float64
		field, tok, tok2 int
	}
	w := m.weights[ci]
	scale := m.Header.Categories[ci].Scale
	phrases := map[string]*agg{}
	for _, o := range origins {
		c := scale * float64(w[o.idx]) * float64(val[o.idx]) / float64(occ[o.idx])
		toks := pt.fields[o.field]
		k := toks[o.tok].norm
		if o.tok2 != o.tok {
			k += " " + toks[o.tok2].norm
		}
		a := phrases[k]
		if a == nil {
			a = &agg{field: o.field, tok: o.tok, tok2: o.tok2}
			phrases[k] = a
		}
		a.contrib += c
	}
	// a cue group's features are handed back to the cues of that group
	// found on the page, in equal parts
	if len(cues) > 0 {
		groupContrib := map[int]float64{}
		for j, d := range m.Header.Categories[ci].Dense {
			if j < len(dense) {
				groupContrib[m.cues.denseGroup(j)] += d * float64(dense[j])
			}
		}
		perGroup := map[int]int{}
		for _, h := range cues {
			perGroup[h.group]++
		}
		for _, h := range cues {
			toks := pt.fields[h.field]
			words := make([]string, 0, h.last-h.first+1)
			for t := h.first; t <= h.last; t++ {
				words = append(words, toks[t].norm)
			}
			k := strings.Join(words, " ")
			a := phrases[k]
			if a == nil {
				a = &agg{field: h.field, tok: h.first, tok2: h.last}
				phrases[k] = a
			}
			a.contrib += groupContrib[h.group] / float64(perGroup[h.group])
		}
	}
	// each phrase is quoted where it stands first (title before text)
	type ranked struct {
		phrase string
		a      *agg
	}
	var rs []ranked
	for k, a := range phrases {
		if a.contrib > 0 {
			rs = append(rs, ranked{k, a})
		}
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].a.contrib != rs[j].a.contrib {
			return rs[i].a.contrib > rs[j].a.contrib
		}
		return rs[i].phrase < rs[j].phrase
	})
	var out []Match
	for _, r := range rs {
		if len(out) == maxPhrases {
			break
		}
		toks := pt.fields[r.a.field]
		text := pt.texts[r.a.field]
		s, e := toks[r.a.tok].start, toks[r.a.tok2].end
		if s < 0 || e > len(text) || s >= e {
			continue
		}
		out = append(out, Match{Phrase: collapse(text[s:e]), Tier: "learned", Field: pt.names[r.a.field], Weight: round3(r.a.contrib),
			Snippet: snippet(text, s, e, maxSnippetChars)})
	}
	return out
}

// MinProbabilityKey is the rule-pack threshold of a category's learned
// probability.
func MinProbabilityKey(category string) string { return category + "_min_probability" }

// learnedFor returns the learned results of a page for the categories
// whose threshold the rule sets.
func (m *Learned) classify(p Page, maxText int, min map[string]float64, maxPhrases, maxSnippetChars int) map[string]LearnedResult {
	fs, _, pt := features(p, m.Header.Settings(), m.Header.Dim, maxText, false)
	out := map[string]LearnedResult{}
	if pt.distinctWords() < minLearnedWords {
		return out
	}
	dense, cues := m.pageDense(pt)
	var origins []origin
	for i, c := range m.Header.Categories {
		th, ok := min[c.Name]
		if !ok {
			continue
		}
		prob := c.Calibrated(m.Raw(i, fs, dense))
		r := LearnedResult{Probability: round3(prob), Threshold: th, Flagged: prob >= th}
		if r.Flagged {
			if origins == nil {
				// the explanation needs to know which words made each
				// feature: only for the few flagged pages
				_, origins, pt = features(p, m.Header.Settings(), m.Header.Dim, maxText, true)
			}
			r.Phrases = m.explain(i, fs, origins, dense, cues, pt, maxPhrases, maxSnippetChars)
		}
		out[c.Name] = r
	}
	return out
}

// Categories names the model's categories.
func (m *Learned) Categories() []string {
	var out []string
	for _, c := range m.Header.Categories {
		out = append(out, c.Name)
	}
	return out
}

// loadLearned reads the committed model when the rule sets any
// <category>_min_probability, and checks that every such category has a
// trained model and a threshold in (0, 1].
func (m *Model) loadLearned(rule rules.Rule, perCategory map[string]float64) error {
	m.minProb = map[string]float64{}
	for _, c := range m.cats {
		if v, ok := perCategory[MinProbabilityKey(c.Name)]; ok {
			if !(v > 0 && v <= 1) {
				return fmt.Errorf("rule %s: thresholds.%s is %v, want a probability in (0, 1]", rule.ID, MinProbabilityKey(c.Name), v)
			}
			m.minProb[c.Name] = v
		}
	}
	if len(m.minProb) == 0 {
		return nil
	}
	l, err := DefaultLearned()
	if err != nil {
		return fmt.Errorf("rule %s: %w", rule.ID, err)
	}
	for name := range m.minProb {
		if _, ok := l.index[name]; !ok {
			return fmt.Errorf("rule %s: thresholds.%s is set but the content model has no %s category (retrain with make train-content)", rule.ID, MinProbabilityKey(name), name)
		}
	}
	m.learned = l
	return nil
}

// Learned returns the learned model in use, or nil.
func (m *Model) Learned() *Learned { return m.learned }

// MinProbabilities returns the rule's <category>_min_probability
// thresholds by category.
func MinProbabilities(rule rules.Rule) (map[string]float64, error) {
	th, err := thresholds.From(rule)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for k, v := range th.PerCategory {
		if cat, ok := strings.CutSuffix(k, "_min_probability"); ok {
			out[cat] = v
		}
	}
	return out, nil
}
