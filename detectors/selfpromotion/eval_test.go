package selfpromotion

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"affwatch/detectors"
	"affwatch/eval"
)

// TestEval scores the detector against the generator's labels on three
// seeds. SELFPROMOTION_EVAL="seeds:scale[:night]" (e.g. "1,2,3,4,5,6,7,8:20000")
// evaluates other seeds and scales, reusing data in .cache/eval-selfpromotion.
func TestEval(t *testing.T) {
	if testing.Short() {
		t.Skip("generates data sets; skipped with -short")
	}
	cfg := eval.Config{Seeds: []int64{1, 2, 3}, Scales: []int{20000}, Detectors: []detectors.Detector{Detector{}}}
	if spec := os.Getenv("SELFPROMOTION_EVAL"); spec != "" {
		parts := strings.Split(spec, ":")
		cfg.Seeds, cfg.Scales = nil, nil
		for _, s := range strings.Split(parts[0], ",") {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Seeds = append(cfg.Seeds, n)
		}
		n, err := strconv.Atoi(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		cfg.Scales = []int{n}
		cfg.Night = len(parts) > 2 && parts[2] == "night"
		cfg.DataDir = "../../.cache/eval-selfpromotion"
	}
	results, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	eval.Print(&buf, results)
	t.Log("\n" + buf.String())
	for _, r := range results {
		for _, s := range r.Scores {
			if !s.Meets() {
				t.Errorf("seed %d (%d clicks): precision %.2f recall %.2f, hard negatives flagged %v, false negatives %v, false positives %v",
					r.Seed, r.Clicks, s.Precision(), s.Recall(), s.HardNegativeFlagged, s.FalseNegatives, s.FalsePositives)
			}
		}
	}
}
