package eval

import (
	"fmt"
	"io"

	"affwatch/detectors"
)

// CorpusScore is a detector's quality on a labeled corpus; the type lives
// with the detectors, which score themselves without importing eval.
type CorpusScore = detectors.CorpusScore

func ratio(a, b int, empty float64) float64 {
	if b == 0 {
		return empty
	}
	return float64(a) / float64(b)
}

// corpusTargets are issue 6's targets per detector and slice of its corpus.
var corpusTargets = map[string]func(s CorpusScore) (ok bool, target string){
	"brand_domain": func(s CorpusScore) (bool, string) {
		switch {
		case s.Class == "all":
			return s.Recall() >= 0.99 && s.FPR() <= 0.001, "recall ≥ 0.99, FPR ≤ 0.1 %"
		case s.TP+s.FN == 0: // negatives only (real domains)
			return s.FPR() <= 0.001, "FPR ≤ 0.1 %"
		default:
			return s.Recall() >= 0.95, "recall ≥ 0.95"
		}
	},
	"logo_copy": func(s CorpusScore) (bool, string) {
		return s.Recall() >= 0.95 && s.FPR() <= 0.005, "recall ≥ 0.95, FPR ≤ 0.5 %"
	},
	"prohibited_content": func(s CorpusScore) (bool, string) {
		return s.Precision() >= 0.95 && s.Recall() >= 0.90, "precision ≥ 0.95, recall ≥ 0.90"
	},
	"brand_misuse": func(s CorpusScore) (bool, string) {
		return s.Precision() >= 0.95 && s.Recall() >= 0.90, "precision ≥ 0.95, recall ≥ 0.90"
	},
}

// PrintCorpus writes the corpus scores as a table and reports whether
// every row met its target (a detector without targets passes).
func PrintCorpus(w io.Writer, scores []CorpusScore) bool {
	if len(scores) == 0 {
		return true
	}
	ok := true
	fmt.Fprintf(w, "\nsite detectors on labeled corpora\n")
	fmt.Fprintf(w, "  %-18s %-22s %5s %4s %4s %6s %9s %7s %7s  %s\n", "detector", "class", "TP", "FP", "FN", "TN", "precision", "recall", "FPR", "verdict")
	for _, s := range scores {
		verdict := "ok"
		if check, has := corpusTargets[s.Detector]; has {
			if met, target := check(s); !met {
				verdict = "MISSED (" + target + ")"
				ok = false
			}
		}
		fmt.Fprintf(w, "  %-18s %-22s %5d %4d %4d %6d %9.3f %7.3f %6.2f%%  %s\n", s.Detector, s.Class, s.TP, s.FP, s.FN, s.TN,
			s.Precision(), s.Recall(), 100*s.FPR(), verdict)
		for _, n := range s.Notes {
			fmt.Fprintf(w, "      %s\n", n)
		}
	}
	return ok
}
