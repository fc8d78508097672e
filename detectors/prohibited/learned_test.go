package prohibited

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"affwatch/crawler"
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
	if h.Version != LearnedVersion || h.Dim != DefaultDim {
		t.Errorf("version %d dim %d, want %d and %d", h.Version, h.Dim, LearnedVersion, DefaultDim)
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
