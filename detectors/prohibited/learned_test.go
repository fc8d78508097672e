package prohibited

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"affwatch/crawler"
	"affwatch/detectors"
	"affwatch/fixtures/pages/real"
	"affwatch/rules"
)

func learnedPage(t *testing.T, name string) Page {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "learned", name))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://test.example/" + name)
	info := crawler.Extract(u, b)
	return Page{URL: u.String(), Title: info.Title, Description: info.Description, Keywords: info.Keywords, Text: info.Text}
}

func defaultModel(t testing.TB) *Model {
	t.Helper()
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(pack.Rules[RuleName])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The committed model loads, matches the committed manifest and covers
// every category the rule sets a probability threshold for.
func TestDefaultLearnedLoads(t *testing.T) {
	l, err := DefaultLearned()
	if err != nil {
		t.Fatal(err)
	}
	h := l.Header
	// The shipped model reads the URL path's words (the eighth round's
	// comparison), so its header records its settings.
	if set := h.Settings(); h.Version != learnedVersionSettings || h.Dim != DefaultDim || !set.URLPath ||
		set.CharMin != DefaultFeatureSettings.CharMin || set.CharMax != DefaultFeatureSettings.CharMax {
		t.Errorf("version %d dim %d settings %+v, want %d, %d and the URL path with the default character n-grams", h.Version, h.Dim, set, learnedVersionSettings, DefaultDim)
	}
	if h.ManifestSHA256 != real.ManifestSHA256() {
		t.Errorf("model trained from manifest %s, the committed manifest is %s: run make train-content", h.ManifestSHA256, real.ManifestSHA256())
	}
	if len(embeddedModel) > 20<<20 {
		t.Errorf("model file is %d bytes, want ≤ 20 MB", len(embeddedModel))
	}
	m := defaultModel(t)
	if m.Learned() == nil {
		t.Fatal("the default rule sets no <category>_min_probability: the learned path is off")
	}
	for _, c := range m.Categories() {
		if _, ok := l.index[c.Name]; !ok {
			t.Errorf("category %s has no learned model", c.Name)
		}
	}
	// the default pack uses the threshold the trainer chose
	if h.Threshold <= 0 || h.Threshold > 1 {
		t.Fatalf("the model records threshold %v", h.Threshold)
	}
	for cat, v := range m.minProb {
		if v != h.Threshold {
			t.Errorf("%s = %v in the default pack, the model chose %v: set every <category>_min_probability to it", MinProbabilityKey(cat), v, h.Threshold)
		}
	}
	if h.Cues == "" {
		t.Error("the committed model has no cue words")
	}
}

func TestReadLearnedRejects(t *testing.T) {
	good := func() (LearnedHeader, [][]int8) {
		h := LearnedHeader{Dim: 16, Categories: []LearnedCategory{{Name: "gambling", Scale: 0.01, PlattA: -1}}}
		return h, [][]int8{make([]int8, 16)}
	}
	write := func(h LearnedHeader, w [][]int8) []byte {
		var b bytes.Buffer
		if err := WriteLearned(&b, h, w); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	// rewrite the header of a valid file, keeping its weights
	patch := func(f func(*LearnedHeader)) []byte {
		h, w := good()
		zr, _ := gzip.NewReader(bytes.NewReader(write(h, w)))
		var all bytes.Buffer
		all.ReadFrom(zr)
		line, rest, _ := bytes.Cut(all.Bytes(), []byte("\n"))
		var hh LearnedHeader
		json.Unmarshal(line, &hh)
		f(&hh)
		nl, _ := json.Marshal(hh)
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(append(nl, '\n'))
		zw.Write(rest)
		zw.Close()
		return out.Bytes()
	}
	h, w := good()
	ok := write(h, w)
	if _, err := ReadLearned(bytes.NewReader(ok)); err != nil {
		t.Fatalf("a valid file: %v", err)
	}
	flipped := patch(func(h *LearnedHeader) { h.WeightsSHA256 = strings.Repeat("0", 64) })
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("hello"), "invalid"},
		{"truncated", ok[:len(ok)-12], ""},
		{"other version", patch(func(h *LearnedHeader) { h.Version = 99 }), "version 99"},
		{"dimension not a power of two", patch(func(h *LearnedHeader) { h.Dim = 15 }), "power of two"},
		{"weights hash", flipped, "weights hash"},
		{"other n-grams", patch(func(h *LearnedHeader) { h.CharMax = 7 }), "character n-grams"},
		{"dimension larger than the weights", patch(func(h *LearnedHeader) { h.Dim = 32 }), "weights of gambling"},
		{"cue weights without cues", patch(func(h *LearnedHeader) { h.Categories[0].Dense = []float64{1} }), "cue weights"},
		{"cues without their weights", patch(func(h *LearnedHeader) { h.Cues = "[gambling]\ncasino*\n" }), "cue weights"},
		{"cues that do not parse", patch(func(h *LearnedHeader) { h.Cues = "casino*\n" }), "before any [group]"},
		{"cues in a version-1 file", patch(func(h *LearnedHeader) { h.Version = 1; h.Cues = "[gambling]\ncasino*\n" }), "carries no cue words"},
		{"url path in a version-2 file", patch(func(h *LearnedHeader) { h.URLPath = true }), "version 2 records"},
		{"other n-grams in a version-2 file", patch(func(h *LearnedHeader) { h.CharMin = 2 }), "version 2 records"},
		{"n-grams out of range in a version-3 file", patch(func(h *LearnedHeader) { h.Version = 3; h.CharMin = 1 }), "character n-grams 1–5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadLearned(bytes.NewReader(tc.data))
			if !errors.Is(err, ErrBadModel) {
				t.Fatalf("err = %v, want ErrBadModel", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// A model records the feature settings it was trained with: the default
// ones write version 2, others version 3, and the model reads a page with
// its own settings (the URL path's words only when it was trained so).
func TestFeatureSettingsRecorded(t *testing.T) {
	write := func(set FeatureSettings) *Learned {
		t.Helper()
		h := LearnedHeader{Dim: 1 << 10, CharMin: set.CharMin, CharMax: set.CharMax, URLPath: set.URLPath,
			Categories: []LearnedCategory{{Name: "weapons", Scale: 1, PlattA: -1}}}
		w := make([]int8, 1<<10)
		for _, f := range Features(Page{Text: "pistols"}, 1<<10, 65536) {
			w[f.Index] = -1 // the words of the text pull the score down
		}
		var b bytes.Buffer
		if err := WriteLearned(&b, h, [][]int8{w}); err != nil {
			t.Fatal(err)
		}
		l, err := ReadLearned(&b)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	def := write(DefaultFeatureSettings)
	if def.Header.Version != 2 || def.Header.Settings() != DefaultFeatureSettings {
		t.Errorf("default settings: version %d, settings %+v; want 2, %+v", def.Header.Version, def.Header.Settings(), DefaultFeatureSettings)
	}
	withURL := write(FeatureSettings{CharMin: 3, CharMax: 5, URLPath: true})
	if withURL.Header.Version != 3 || !withURL.Header.Settings().URLPath {
		t.Errorf("url path: version %d, settings %+v; want 3 with the url path", withURL.Header.Version, withURL.Header.Settings())
	}
	if got := urlPathText("https://shop.example/guns/pistols-9mm.html?id=4#top"); strings.Fields(got)[0] != "guns" || strings.Contains(got, "shop") || strings.Contains(got, "id") {
		t.Errorf("url path words %q: want the path's words only", got)
	}
	page := Page{URL: "https://shop.example/pistols", Text: strings.Repeat("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega one two three ", 2)}
	d, u := def.Probabilities(page, 65536)["weapons"], withURL.Probabilities(page, 65536)["weapons"]
	if !(u < d) {
		t.Errorf("a model reading the url path scores %.3f, one that does not %.3f: the path's words must count only for the first", u, d)
	}
}

// Training is deterministic: the same pages give the same file, byte for
// byte, whatever the number of cores.
func TestTrainDeterministic(t *testing.T) {
	var ps []TrainPage
	for i, name := range []string{"escort-en.html", "casino-pt.html", "piracy-ru.html", "prize-en.html", "news-gambling-law-en.html", "quit-smoking-es.html", "pharmacy-rx-en.html", "hardware-ru.html", "blog-sidebar-en.html"} {
		p := learnedPage(t, name)
		labels := map[string]bool{}
		switch {
		case strings.HasPrefix(name, "escort"):
			labels["adult"] = true
		case strings.HasPrefix(name, "casino"):
			labels["gambling"] = true
		case strings.HasPrefix(name, "piracy"):
			labels["piracy"] = true
		case strings.HasPrefix(name, "prize"):
			labels["misleading"] = true
		}
		ps = append(ps, TrainPage{Features: Features(p, 1<<12, 65536), Labels: labels, Group: string(rune('a' + i))})
	}
	opt := TrainOptions{Dim: 1 << 12, Epochs: 4, CalibFolds: 2}
	file := func() []byte {
		h, w, err := Train(ps, []string{"adult", "gambling", "piracy", "misleading", "weapons"}, opt)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteLearned(&b, h, w); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := file(), file()
	if !bytes.Equal(a, b) {
		t.Fatal("two trainings on the same pages differ")
	}
	l, err := ReadLearned(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Categories(); strings.Join(got, ",") != "adult,gambling,piracy,misleading" {
		t.Errorf("categories %v: weapons has no positive page and must be left out", got)
	}
}

// Pages written for this test (never trained on): each violating page is
// flagged for its category, with the phrases that pushed it quoted; each
// hard negative is flagged for nothing.
func TestLearnedOnWrittenPages(t *testing.T) {
	m := defaultModel(t)
	cases := []struct {
		file string
		want []string
	}{
		{"escort-en.html", []string{"adult"}},
		{"casino-pt.html", []string{"gambling"}},
		{"piracy-ru.html", []string{"piracy"}},
		{"prize-en.html", []string{"misleading"}},
		{"hack-es.html", []string{"hacking"}},
		{"vape-fr.html", []string{"tobacco"}},
		// hard negatives
		{"news-gambling-law-en.html", nil},
		{"quit-smoking-es.html", nil},
		{"pharmacy-rx-en.html", nil},
		{"hardware-ru.html", nil},
		{"blog-sidebar-en.html", nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			res := m.Classify(learnedPage(t, tc.file))
			var got []string
			probs := map[string]float64{}
			for _, cr := range res.Categories {
				probs[cr.Category] = cr.Probability
				if !cr.Flagged {
					continue
				}
				got = append(got, cr.Category)
				var ls []string
				for _, mt := range cr.Matches {
					ls = append(ls, mt.Tier+":"+mt.Phrase)
				}
				t.Logf("%s p=%.3f basis %s: %s", cr.Category, cr.Probability, cr.Basis, strings.Join(ls, " | "))
				if len(cr.Matches) == 0 {
					t.Errorf("%s flagged without a quoted phrase", cr.Category)
				}
				for _, mt := range cr.Matches {
					if mt.Tier != "learned" {
						continue // a lexicon pattern, quoted around its match
					}
					if mt.Snippet == "" || !strings.Contains(strings.ToLower(mt.Snippet), strings.ToLower(mt.Phrase)) {
						t.Errorf("%s: match %q has snippet %q that does not quote it", cr.Category, mt.Phrase, mt.Snippet)
					}
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("flagged %v, want %v (probabilities %v)", got, tc.want, probs)
			}
		})
	}
}

// Platt scaling recovers a known calibration and stays finite on
// separated and on uninformative scores.
func TestFitPlatt(t *testing.T) {
	var raw []float64
	var y []bool
	// p(y) = 1/(1+e^(−2r+1)): a = −2, b = 1, on a grid of scores
	for i := 0; i < 4000; i++ {
		r := -3 + 6*float64(i%400)/400
		p := 1 / (1 + math.Exp(-2*r+1))
		raw = append(raw, r)
		y = append(y, float64((i*7919)%1000)/1000 < p)
	}
	a, b := fitPlatt(raw, y)
	if math.Abs(a+2) > 0.2 || math.Abs(b-1) > 0.2 {
		t.Errorf("a %.3f b %.3f, want about −2 and 1", a, b)
	}
	// perfectly separated: finite, increasing
	a, b = fitPlatt([]float64{-2, -1, 1, 2}, []bool{false, false, true, true})
	if !(a < 0) || math.IsInf(a, 0) || math.IsNaN(a) || math.IsNaN(b) || math.Abs(a) > 100 {
		t.Errorf("separated: a %v b %v", a, b)
	}
	// every score equal: no slope to learn, nothing blows up
	a, b = fitPlatt([]float64{1, 1, 1, 1, 1}, []bool{false, true, false, false, false})
	if math.IsNaN(a) || math.IsNaN(b) || math.Abs(a) > 100 || math.Abs(b) > 100 {
		t.Errorf("constant scores: a %v b %v", a, b)
	}
}

// A site is flagged by one clear page among clean ones, and its evidence
// names the probability and quotes the model's words; a site whose only
// hint is one word in a sidebar is not flagged.
func TestRunLearnedSite(t *testing.T) {
	env := newEnv(t)
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	withURL := func(p Page, u string) Page { p.URL = u; return p }
	crawl(t, env, "r/1", "P1", "https://velvet.example/", at,
		withURL(learnedPage(t, "blog-sidebar-en.html"), "https://velvet.example/blog"),
		withURL(learnedPage(t, "escort-en.html"), "https://velvet.example/girls"),
		withURL(learnedPage(t, "pharmacy-rx-en.html"), "https://velvet.example/about"))
	crawl(t, env, "r/2", "P2", "https://dinners.example/", at,
		withURL(learnedPage(t, "blog-sidebar-en.html"), "https://dinners.example/"),
		withURL(learnedPage(t, "news-gambling-law-en.html"), "https://dinners.example/news"))
	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].PublisherID != "P1" {
		t.Fatalf("findings %+v, want one for P1", fs)
	}
	var ev struct {
		Category     string `json:"category"`
		PagesFlagged int    `json:"pages_flagged"`
		Pages        []struct {
			URL         string  `json:"url"`
			Probability float64 `json:"probability"`
			Matches     []Match `json:"matches"`
		} `json:"pages"`
	}
	if err := json.Unmarshal(fs[0].Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Category != "adult" || ev.PagesFlagged != 1 || len(ev.Pages) != 1 || ev.Pages[0].URL != "https://velvet.example/girls" {
		t.Fatalf("evidence %s", fs[0].Evidence)
	}
	if ev.Pages[0].Probability < 0.5 {
		t.Errorf("probability %v", ev.Pages[0].Probability)
	}
	learned := 0
	for _, m := range ev.Pages[0].Matches {
		if m.Tier == "learned" && m.Snippet != "" && strings.Contains(strings.ToLower(m.Snippet), strings.ToLower(m.Phrase)) {
			learned++
		}
	}
	if learned == 0 {
		t.Errorf("no learned phrase quoted with its snippet: %s", fs[0].Evidence)
	}
}

// A feature only one site's pages carry (its name, its template's labels)
// is not learned: MinGroups counts the groups, not the pages.
func TestSharedFeatures(t *testing.T) {
	page := func(group string, idx ...uint32) TrainPage {
		var fs []Feature
		for _, i := range idx {
			fs = append(fs, Feature{Index: i, Value: 1})
		}
		return TrainPage{Features: fs, Group: group}
	}
	ps := []TrainPage{page("a", 1, 2), page("b", 1, 3), page("a", 1, 3, 4), page("c", 1, 2), page("a", 4)}
	for _, tc := range []struct {
		min  int
		want []bool // features 0..4
	}{
		{1, []bool{true, true, true, true, true}},
		{2, []bool{false, true, true, true, false}}, // 4 is on three pages of one site
		{3, []bool{false, true, false, false, false}},
	} {
		got := sharedFeatures(ps, 5, tc.min)
		if !slices.Equal(got, tc.want) {
			t.Errorf("min %d: %v, want %v", tc.min, got, tc.want)
		}
	}
	// group weights average 1 and a page of a big group weighs less
	w := groupWeights(ps, 1)
	var sum float64
	for _, x := range w {
		sum += x
	}
	if math.Abs(sum/float64(len(w))-1) > 1e-9 || !(w[0] < w[1]) {
		t.Errorf("group weights %v", w)
	}
}

// TestRepeatedSentenceIsNotAPage: the model scores pages of at least
// minLearnedWords different words. One line repeated down a template is
// one line (a benign newsletter box over a repeated filler scored 0.77
// adult when repeats counted); a page of as many different words is
// scored.
func TestRepeatedSentenceIsNotAPage(t *testing.T) {
	m, err := DefaultLearned()
	if err != nil {
		t.Fatal(err)
	}
	repeated := Page{Title: "Blog", Text: strings.Repeat("Hands-on notes on budget gadgets, updated weekly by people who use them. ", 12) + "Subscribe!"}
	for c, p := range m.Probabilities(repeated, 20000) {
		if p != 0 {
			t.Errorf("%s: probability %.3f for one sentence repeated twelve times; want it unscored (0)", c, p)
		}
	}
	varied := Page{Title: "Blog", Text: "Hands-on notes on budget gadgets, updated weekly by people who use them. " +
		"This week we tried three folding keyboards, a travel charger with four ports, two pairs of wireless earbuds " +
		"and a desk lamp that dims itself at sunset; prices checked on Monday. Subscribe!"}
	scored := 0
	for _, p := range m.Probabilities(varied, 20000) {
		if p > 0 {
			scored++
		}
	}
	if scored == 0 {
		t.Error("a short page of different words was not scored by the model")
	}
}

// A topic-adjacent clean page weighed more in training (AdjacentWeight)
// pulls the model's score for its neighbouring category down on it.
func TestAdjacentWeightLowersAdjacentScore(t *testing.T) {
	var ps []TrainPage
	adjacent := -1
	for i, name := range []string{"casino-pt.html", "escort-en.html", "piracy-ru.html", "news-gambling-law-en.html", "quit-smoking-es.html", "hardware-ru.html"} {
		labels := map[string]bool{}
		switch {
		case strings.HasPrefix(name, "casino"):
			labels["gambling"] = true
		case strings.HasPrefix(name, "escort"):
			labels["adult"] = true
		case strings.HasPrefix(name, "piracy"):
			labels["piracy"] = true
		}
		if strings.HasPrefix(name, "news-gambling") {
			adjacent = i
		}
		ps = append(ps, TrainPage{Features: Features(learnedPage(t, name), 1<<12, 65536), Labels: labels, Group: string(rune('a' + i)), Adjacent: strings.HasPrefix(name, "news-gambling")})
	}
	score := func(weight float64) float64 {
		opt := TrainOptions{Dim: 1 << 12, Epochs: 4, CalibFolds: 2, AdjacentWeight: weight}
		opt.defaults()
		return fitOne(ps, "gambling", opt).raw(ps[adjacent])
	}
	plain, heavy := score(1), score(5)
	if !(heavy < plain) {
		t.Errorf("gambling score of the gambling-law news page: %.3f weighed 5 times, %.3f weighed once; want lower when weighed more", heavy, plain)
	}
}
