// Package evaltest holds a detector's own tests to issue 4's targets on
// generated data with ground truth. Wider sweeps (more seeds, bigger
// scales, nightly operation, a tuned pack) are `affwatch eval --detector
// CODE`, not test flags.
package evaltest

import (
	"context"
	"strings"
	"testing"

	"affwatch/detectors"
	"affwatch/eval"
)

// Seeds are the data sets every detector's test runs on, at the
// generator's smallest scale (about a second each).
var Seeds = []int64{1, 2, 3}

// Check runs d as a backfill on each seed and fails the test when a target
// is missed, printing the eval table either way.
func Check(t *testing.T, d detectors.Detector) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the eval generates and loads three data sets")
	}
	res, err := eval.Run(context.Background(), eval.Config{Seeds: Seeds, Scales: []int{1}, Detectors: []detectors.Detector{d}})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	ok := eval.Print(&out, res)
	t.Log(out.String())
	if !ok {
		t.Errorf("%s misses the targets (precision ≥ %.2f, recall ≥ %.2f, no hard negative flagged)", d.Code(), eval.TargetPrecision, eval.TargetRecall)
	}
}
