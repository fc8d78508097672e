package logocopy

import (
	"context"
	"testing"

	"affwatch/crawler"
	"affwatch/rules"
)

// TestQuality computes the test matrix and fails when a target is missed:
// recall ≥ 0.95 overall and per transformation, false-positive rate
// ≤ 0.5 % on the non-brand logos (at least 200 of them).
func TestQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("quality corpus: a few seconds")
	}
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	scores, err := Evaluate(context.Background(), pack)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%-10s %5s %4s %4s %5s %7s %6s", "class", "TP", "FN", "FP", "TN", "recall", "FPR")
	for _, s := range scores {
		t.Logf("%-10s %5d %4d %4d %5d %7.3f %5.2f%%", s.Class, s.TP, s.FN, s.FP, s.TN, s.Recall(), 100*s.FPR())
		for _, n := range s.Notes {
			t.Logf("    %s", n)
		}
		switch s.Class {
		case "negatives":
			if s.FP+s.TN < 200 {
				t.Errorf("only %d negatives", s.FP+s.TN)
			}
			if s.FPR() > 0.005 {
				t.Errorf("false-positive rate %.2f%% > 0.5%%", 100*s.FPR())
			}
		case "all":
			if s.Recall() < 0.95 || s.FPR() > 0.005 {
				t.Errorf("all: recall %.3f, FPR %.2f%%", s.Recall(), 100*s.FPR())
			}
		default:
			if s.TP+s.FN == 0 || s.Recall() < 0.95 {
				t.Errorf("%s: recall %.3f of %d", s.Class, s.Recall(), s.TP+s.FN)
			}
		}
	}
}

// TestAHashFallback measures the weak path for files over the crawler's
// storage cap (the crawler's 64-bit average hash only): its false-positive
// rate must stay ≤ 0.5 % on the negatives; its recall is reported.
func TestAHashFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("quality corpus")
	}
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParamsFrom(pack.Rules[RuleName])
	if err != nil {
		t.Fatal(err)
	}
	refs, err := LoadReferences(pack, p)
	if err != nil {
		t.Fatal(err)
	}
	m := &Matcher{Refs: refs, P: p}
	raw, _ := pack.ReadLogo(refs[0].Path)
	ds, _ := DecodeAll(raw, 0)
	perClass := map[string][2]int{}
	var classes []string
	for _, c := range PositiveCases(refs[0].Path, ds[0].Img) {
		am, ok := m.CompareAHash(crawler.InspectImage(c.Bytes, 0).AHash, refs[0])
		v, seen := perClass[c.Class]
		if !seen {
			classes = append(classes, c.Class)
		}
		v[1]++
		if ok && am.Matched {
			v[0]++
		}
		perClass[c.Class] = v
	}
	for _, cl := range classes {
		t.Logf("ahash only: %-10s found %d of %d", cl, perClass[cl][0], perClass[cl][1])
	}
	fp, n := 0, 0
	for _, c := range NegativeCases(ProceduralNegatives, MaxIconNegatives) {
		n++
		if am, ok := m.CompareAHash(crawler.InspectImage(c.Bytes, 0).AHash, refs[0]); ok && am.Matched {
			fp++
			t.Logf("ahash false positive %s: distance %d", c.Name, am.Distance)
		}
	}
	t.Logf("ahash only: %d false positives of %d negatives", fp, n)
	if float64(fp) > 0.005*float64(n) {
		t.Errorf("ahash fallback: FPR %.2f%% > 0.5%%", 100*float64(fp)/float64(n))
	}
}
