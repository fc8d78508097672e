package prohibited

import (
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
		ps[i] = CorpusPage(p)
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
