package selfpurchase

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"affwatch/detectors"
	"affwatch/eval"
)

// TestEval scores the detector against the generator's ground truth
// (issue 4 targets). SP_EVAL_SEEDS / SP_EVAL_SCALES (comma-separated) widen
// the run while tuning; data is then kept in .cache/eval-selfpurchase.
func TestEval(t *testing.T) {
	if testing.Short() {
		t.Skip("eval generates data sets; skipped with -short")
	}
	cfg := eval.Config{Seeds: []int64{1, 2, 3}, Scales: []int{20000}, Detectors: []detectors.Detector{Detector{}}}
	if s := os.Getenv("SP_EVAL_SEEDS"); s != "" {
		cfg.Seeds = nil
		for _, x := range strings.Split(s, ",") {
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Seeds = append(cfg.Seeds, n)
		}
		cfg.DataDir = "../../.cache/eval-selfpurchase"
	}
	if s := os.Getenv("SP_EVAL_SCALES"); s != "" {
		cfg.Scales = nil
		for _, x := range strings.Split(s, ",") {
			n, err := strconv.Atoi(x)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Scales = append(cfg.Scales, n)
		}
		cfg.DataDir = "../../.cache/eval-selfpurchase"
	}
	cfg.Night = os.Getenv("SP_EVAL_NIGHT") != ""
	results, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	ok := eval.Print(&b, results)
	t.Log("\n" + b.String())
	for _, r := range results {
		for _, s := range r.Scores {
			if !s.Meets() {
				t.Errorf("seed %d, %d clicks: %s precision %.2f recall %.2f, FP %v, FN %v, hard negatives flagged %v",
					r.Seed, r.Clicks, s.Detector, s.Precision(), s.Recall(), s.FalsePositives, s.FalseNegatives, s.HardNegativeFlagged)
			}
		}
	}
	if !ok {
		t.Error("eval.Print reports a target missed")
	}
}
