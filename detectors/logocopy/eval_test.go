package logocopy

import (
	"context"
	"testing"

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
