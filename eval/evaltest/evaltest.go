// Package evaltest holds a detector's own tests to issue 4's targets on
// generated data with ground truth. Wider sweeps (more seeds, bigger
// scales, nightly operation, a tuned pack) are `affwatch eval --detector
// CODE`, not test flags.
package evaltest

import (
	"sort"
	"time"

	"affwatch/detectors/detectortest"
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

// PartitionNights is how many nights CheckPartitions compares: the ones
// with the most findings in a whole run, so the comparison is never about
// empty nights only.
const PartitionNights = 3

// CheckPartitions runs d night by night on seed 1 at the smallest scale,
// whole and split into four partitions the way affwatch run --partition
// does (detectortest.PartitionsAgree), and fails the test unless the
// partitions find exactly what the whole run finds on the busiest nights.
func CheckPartitions(t *testing.T, d detectors.Detector) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the partition check generates and loads a data set")
	}
	ctx := context.Background()
	st, _, err := eval.Generated(ctx, t.TempDir(), 1, 1, "parquet", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pack := detectortest.Pack(t)
	var first, last time.Time
	if err := st.DB.QueryRowContext(ctx, `SELECT min(ts), max(ts) FROM clicks`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	type night struct {
		day      time.Time
		findings int
	}
	var nights []night
	for day := first.UTC().Truncate(24 * time.Hour); !day.After(last); day = day.AddDate(0, 0, 1) {
		fs, _ := detectortest.Run(t, d, st, pack, detectors.NightOf(day))
		nights = append(nights, night{day, len(fs)})
	}
	sort.SliceStable(nights, func(i, j int) bool { return nights[i].findings > nights[j].findings })
	total := 0
	for _, n := range nights[:min(PartitionNights, len(nights))] {
		whole := detectortest.PartitionsAgree(t, d, st, pack, detectors.NightOf(n.day), 4)
		t.Logf("night %s: %d finding(s) in the whole run", n.day.Format(time.DateOnly), len(whole))
		total += len(whole)
	}
	if total == 0 {
		t.Errorf("%s found nothing on any night of the generated data: the partition check compared nothing", d.Code())
	}
}
