package branddomain

import (
	"context"
	"testing"

	"affwatch/rules"
)

// Targets of issue 6 for brand_domain.
const (
	targetRecallAll   = 0.99
	targetRecallClass = 0.95
	targetFPR         = 0.001
	minRealDomains    = 5000
)

// TestQuality measures recall per permutation class and the false-positive
// rate on real domains, and fails when a target of issue 6 is missed.
func TestQuality(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	scores, err := Evaluate(context.Background(), pack)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%-14s %6s %5s %4s %6s %7s %8s", "class", "TP", "FN", "FP", "TN", "recall", "FPR")
	for _, s := range scores {
		t.Logf("%-14s %6d %5d %4d %6d %7.4f %8.5f", s.Class, s.TP, s.FN, s.FP, s.TN, s.Recall(), s.FPR())
		for _, n := range s.Notes {
			t.Logf("    %s", n)
		}
	}
	for _, s := range scores {
		switch s.Class {
		case "all":
			if s.Recall() < targetRecallAll {
				t.Errorf("overall recall %.4f < %.2f", s.Recall(), targetRecallAll)
			}
			if s.FPR() > targetFPR {
				t.Errorf("false-positive rate %.5f > %.3f", s.FPR(), targetFPR)
			}
		case "real_domains":
			if s.FP+s.TN < minRealDomains {
				t.Errorf("only %d real domains (want ≥ %d)", s.FP+s.TN, minRealDomains)
			}
		default:
			if s.TP+s.FN == 0 {
				t.Errorf("class %s has no generated hosts", s.Class)
			} else if s.Recall() < targetRecallClass {
				t.Errorf("recall of class %s %.4f < %.2f", s.Class, s.Recall(), targetRecallClass)
			}
		}
	}
	if len(scores) < len(PermutationClasses)+2 {
		t.Errorf("%d scores for %d classes", len(scores), len(PermutationClasses))
	}
}
