package prohibited

import (
	"strings"
	"testing"

	"affwatch/fixtures/pages"
	"affwatch/rules"
)

// BenchmarkClassify classifies every corpus page once per iteration.
func BenchmarkClassify(b *testing.B) {
	pack, err := rules.Default()
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewModel(pack.Rules[RuleName])
	if err != nil {
		b.Fatal(err)
	}
	corpus, err := pages.Load()
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]Page, len(corpus))
	bytes := 0
	for i, p := range corpus {
		ps[i] = CorpusPage(p.File, p.HTML)
		bytes += len(ps[i].Text) + len(ps[i].Title) + len(ps[i].Description)
	}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range ps {
			m.Classify(p)
		}
	}
	b.ReportMetric(float64(b.N*len(ps))/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkClassifyLearned is one page through the whole classifier (the
// phrase and concept paths and the learned model, with its explanation
// for flagged categories), over the hand-written corpus; reported per
// page. `make bench-content` runs it on one core.
func BenchmarkClassifyLearned(b *testing.B) {
	m := defaultModel(b)
	corpus, err := pages.Load()
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]Page, len(corpus))
	for i, p := range corpus {
		ps[i] = CorpusPage(p.File, p.HTML)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Classify(ps[i%len(ps)])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/page")
}

// BenchmarkClassifyRulesOnly is the same pages through the phrase and
// concept paths alone: the cost before the learned path, side by side.
func BenchmarkClassifyRulesOnly(b *testing.B) {
	m := defaultModel(b)
	corpus, err := pages.Load()
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]Page, len(corpus))
	for i, p := range corpus {
		ps[i] = CorpusPage(p.File, p.HTML)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.ClassifyRules(ps[i%len(ps)])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/page")
}

// BenchmarkLearnedOnly is the learned path alone: features and twelve
// dot products, no explanation.
func BenchmarkLearnedOnly(b *testing.B) {
	m := defaultModel(b)
	corpus, err := pages.Load()
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]Page, len(corpus))
	for i, p := range corpus {
		ps[i] = CorpusPage(p.File, p.HTML)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Learned().Probabilities(ps[i%len(ps)], m.th.MaxTextChars)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/page")
}

// BenchmarkClassifyLongPage is the worst case the crawler can store: 64
// KiB of visible text.
func BenchmarkClassifyLongPage(b *testing.B) {
	m := defaultModel(b)
	words := strings.Fields("the quick brown fox jumps over the lazy dog while our casino reviews explain bonus terms and law news")
	var sb strings.Builder
	for i := 0; sb.Len() < 64<<10; i++ {
		sb.WriteString(words[i%len(words)])
		sb.WriteByte(' ')
	}
	p := Page{URL: "https://long.example/", Title: "A long page", Text: sb.String()}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Classify(p)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/page")
}
