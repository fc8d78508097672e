package clickburst

import (
	"context"
	_ "embed"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
)

//go:embed testdata/candidate_buckets_from_clicks.sql
var candidatesFromClicks string

// TestBucketStateEqualsClickScan checks click_burst's per-day bucket
// counts: the candidate buckets computed from them equal those computed
// from every click of the baseline (the replaced query, kept in testdata),
// night after night on one database, after a late delivery for an earlier
// day, for another bucket length and for a backfill.
func TestBucketStateEqualsClickScan(t *testing.T) {
	ctx := context.Background()
	st, pack := setup(t)
	rule, err := pack.Rule(detectors.ClickBurst)
	if err != nil {
		t.Fatal(err)
	}
	p, err := thresholds.From(rule)
	if err != nil {
		t.Fatal(err)
	}
	check := func(label string, p Thresholds, start, end, baseline time.Time, wantBuckets int) {
		t.Helper()
		if err := bucketState(p).Update(ctx, st.DB, baseline, end); err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		args := []any{start, end, baseline, p.BucketMinutes, p.MinModifiedZ, p.MinBucketClicks, p.MinExcessRatio, p.EngagedDwellMS, p.SeasonalMinDays}
		got := detectortest.Rows(t, st, queries["CandidateBuckets"], args...)
		want := detectortest.Rows(t, st, candidatesFromClicks, args...)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: candidate buckets from the per-day state differ from those over the clicks (-clicks +state):\n%s", label, diff)
		}
		if len(want) != wantBuckets {
			t.Errorf("%s: %d candidate buckets over the clicks, want %d: the world no longer tests the counts\n%s", label, len(want), wantBuckets, strings.Join(want, "\n"))
		}
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	const baselineDays = 4
	// 15–20 Nov are quiet; the BOT and VIRAL hours are on 21 Nov.
	for d := day("2026-11-16"); d.Before(day("2026-11-22")); d = d.AddDate(0, 0, 1) {
		want := 0
		if d.Equal(day("2026-11-21")) {
			want = 2
		}
		check("night "+d.Format(time.DateOnly), p, d, d.AddDate(0, 0, 1), d.AddDate(0, 0, -baselineDays), want)
	}
	// A late file for 20 Nov: a burst of LATE's and more clicks of QUIET's
	// at 03:00, which raise its baseline for that hour.
	if _, err := st.DB.ExecContext(ctx, `
INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, dwell_ms, _file_id, _line)
SELECT 'late-' || i, TIMESTAMP '2026-11-20 03:00:00' + to_seconds((i * 7)::INTEGER), CASE WHEN i < 40 THEN 'QUIET' ELSE 'LATE' END,
       '192.0.2.9', 'curl/8.0', 0, 4, i
FROM range(0, 400) r(i)`); err != nil {
		t.Fatal(err)
	}
	check("re-run of 20 Nov after its late file", p, day("2026-11-20"), day("2026-11-21"), day("2026-11-16"), 2)
	check("21 Nov after the late file", p, day("2026-11-21"), day("2026-11-22"), day("2026-11-17"), 2)
	other := p
	other.BucketMinutes = 30
	check("21 Nov with 30-minute buckets", other, day("2026-11-21"), day("2026-11-22"), day("2026-11-17"), 4)
	check("backfill", p, day("2026-11-15"), day("2026-11-22"), day("2026-11-15"), 4)
}
