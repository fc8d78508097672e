package prohibited

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"affwatch/fixtures/pages"
	"affwatch/rules"
)

// Targets of issue 6 for prohibited_content, per category present.
const (
	targetPrecision = 0.95
	targetRecall    = 0.90
	minCorpusPages  = 100
)

func TestCorpusQuality(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := pages.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(corpus) < minCorpusPages {
		t.Errorf("corpus has %d pages, want at least %d", len(corpus), minCorpusPages)
	}
	scores, err := Evaluate(context.Background(), pack, labeledPages(corpus))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-20s %4s %4s %4s %4s %9s %7s\n", "category", "TP", "FP", "FN", "TN", "precision", "recall")
	var failed []string
	for _, s := range scores {
		fmt.Fprintf(&b, "%-20s %4d %4d %4d %4d %9.3f %7.3f\n", s.Class, s.TP, s.FP, s.FN, s.TN, s.Precision(), s.Recall())
		if s.TP+s.FN == 0 {
			if s.Class != "all" {
				failed = append(failed, s.Class+": no labeled page in the corpus")
			}
			continue
		}
		if s.Precision() < targetPrecision || s.Recall() < targetRecall {
			failed = append(failed, fmt.Sprintf("%s: precision %.3f recall %.3f", s.Class, s.Precision(), s.Recall()))
		}
	}
	for _, s := range scores {
		if s.Class == "all" {
			for _, n := range s.Notes {
				fmt.Fprintf(&b, "  %s\n", n)
			}
		}
	}
	t.Log(b.String())
	for _, f := range failed {
		t.Errorf("target missed (precision ≥ %.2f, recall ≥ %.2f): %s", targetPrecision, targetRecall, f)
	}
}

// labeledPages hands the hand-written corpus to Evaluate.
func labeledPages(ps []pages.Page) []LabeledPage {
	out := make([]LabeledPage, len(ps))
	for i, p := range ps {
		out[i] = LabeledPage{File: p.File, Categories: p.Categories, HTML: p.HTML}
	}
	return out
}
