package detectors

// CorpusScore is a detector's quality on a labeled corpus (not generated
// traffic): site detectors are measured on domains, pages and images whose
// truth is known (issue 6).
type CorpusScore struct {
	Detector       string // detector code
	Class          string // a slice of the corpus ("all", a typo class, a category…)
	TP, FP, FN, TN int
	Notes          []string // the worst misses and false positives, at most 10
}

// Precision is TP/(TP+FP); 1 when nothing was flagged.
func (s CorpusScore) Precision() float64 { return corpusRatio(s.TP, s.TP+s.FP, 1) }

// Recall is TP/(TP+FN); 1 when there was nothing to find.
func (s CorpusScore) Recall() float64 { return corpusRatio(s.TP, s.TP+s.FN, 1) }

// FPR is the false-positive rate FP/(FP+TN); 0 without negatives.
func (s CorpusScore) FPR() float64 { return corpusRatio(s.FP, s.FP+s.TN, 0) }

func corpusRatio(a, b int, empty float64) float64 {
	if b == 0 {
		return empty
	}
	return float64(a) / float64(b)
}
