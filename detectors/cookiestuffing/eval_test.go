package cookiestuffing

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"affwatch/detectors"
	"affwatch/eval"
)

// TestEval scores the detector against the generator's ground truth. The
// tuning sweep (more seeds, larger scales) runs with
// COOKIESTUFFING_EVAL="seeds=1-8 scales=20000,200000".
func TestEval(t *testing.T) {
	if testing.Short() {
		t.Skip("eval generates data sets")
	}
	cfg := eval.Config{Seeds: []int64{1, 2, 3}, Scales: []int{20000}, Detectors: []detectors.Detector{Detector{}}}
	if spec := os.Getenv("COOKIESTUFFING_EVAL"); spec != "" {
		cfg.DataDir = "/work/main/.cache/eval-cookiestuffing"
		for _, f := range strings.Fields(spec) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "seeds":
				lo, hi, _ := strings.Cut(v, "-")
				a, _ := strconv.ParseInt(lo, 10, 64)
				b := a
				if hi != "" {
					b, _ = strconv.ParseInt(hi, 10, 64)
				}
				cfg.Seeds = nil
				for s := a; s <= b; s++ {
					cfg.Seeds = append(cfg.Seeds, s)
				}
			case "scales":
				cfg.Scales = nil
				for _, x := range strings.Split(v, ",") {
					n, _ := strconv.Atoi(x)
					cfg.Scales = append(cfg.Scales, n)
				}
			case "night":
				cfg.Night = v == "1"
			}
		}
	}
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	ok := eval.Print(&b, res)
	t.Log("\n" + b.String())
	for _, r := range res {
		for _, s := range r.Scores {
			if s.Precision() < 0.95 || s.Recall() < 0.90 || len(s.HardNegativeFlagged) > 0 {
				t.Errorf("seed %d clicks %d: precision %.3f recall %.3f hard negatives %v", r.Seed, r.Clicks, s.Precision(), s.Recall(), s.HardNegativeFlagged)
			}
		}
	}
	if !ok {
		t.Error("eval targets not met")
	}
}
