package eval

import (
	"context"

	"affwatch/detectors"
	"affwatch/detectors/branddomain"
	"affwatch/detectors/brandmisuse"
	"affwatch/detectors/logocopy"
	"affwatch/detectors/prohibited"
	"affwatch/fixtures/pages"
	"affwatch/rules"
)

// Corpus measures a site detector on its labeled corpus (issue 6).
type Corpus struct {
	Code     string
	Evaluate func(ctx context.Context, pack *rules.Pack) ([]CorpusScore, error)
}

// Corpora returns the site detectors' corpus evaluations. The detectors
// score themselves; the corpora they are handed live here and in the
// fixtures, which no production package imports.
func Corpora() []Corpus {
	return []Corpus{
		{detectors.BrandDomain, branddomain.Evaluate},
		{detectors.ProhibitedContent, evaluateProhibited},
		{detectors.LogoCopy, logocopy.Evaluate},
		{detectors.BrandMisuse, brandmisuse.Evaluate},
	}
}

func evaluateProhibited(ctx context.Context, pack *rules.Pack) ([]CorpusScore, error) {
	corpus, err := pages.Load()
	if err != nil {
		return nil, err
	}
	labeled := make([]prohibited.LabeledPage, len(corpus))
	for i, p := range corpus {
		labeled[i] = prohibited.LabeledPage{File: p.File, Categories: p.Categories, HTML: p.HTML}
	}
	return prohibited.Evaluate(ctx, pack, labeled)
}
