package popuptraffic

import (
	"context"
	_ "embed"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/store"
)

//go:embed testdata/publisher_counts_from_clicks.sql
var countsFromClicks string

// phoneWorld adds small script-opened windows from phones and desktops,
// and clicks whose beacon never fired, on every day of 15–22 Nov, so each
// night's window holds days of every kind.
const phoneWorld = `
INSERT INTO clicks (click_id, ts, publisher_id, user_agent, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'ph-' || d || '-' || i, TIMESTAMP '2026-11-15 00:00:00' + to_days(d::INTEGER) + to_minutes((i * 37)::INTEGER), 'PHONES',
       CASE WHEN i % 3 = 0 THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 15_8 like Mac OS X) Mobile/15E148'
            WHEN i % 3 = 1 THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0' END,
       true, CASE WHEN i % 7 = 0 THEN NULL ELSE true END, true, 320, CASE WHEN i % 2 = 0 THEN 460 ELSE 700 END,
       CASE WHEN i % 5 = 0 THEN 300 ELSE 40000 END, 3, 10000 * d + i
FROM range(0, 8) s(d), range(0, 30) r(i);
`

// TestCountsStateEqualsClickScan checks popup_traffic's per-day counts:
// summed over a night's window they equal the counts read from every click
// of the window (the replaced query, kept in testdata), night after night
// on one database, after a late delivery for an earlier day, for other
// pop-up thresholds and for a backfill.
func TestCountsStateEqualsClickScan(t *testing.T) {
	ctx := context.Background()
	st := detectortest.Store(t, world+phoneWorld)
	pack := detectortest.Pack(t)
	rule, err := pack.Rule(detectors.PopupTraffic)
	if err != nil {
		t.Fatal(err)
	}
	p, err := thresholds.From(rule)
	if err != nil {
		t.Fatal(err)
	}
	check := func(label string, p Thresholds, start, end, night time.Time) {
		t.Helper()
		if err := countState(p).Update(ctx, st.DB, start, end); err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		got := countRows(t, st, queries["PublisherCounts"], publisherCountsArgs(start, end, night)...)
		want := countRows(t, st, countsFromClicks, start, end, night, float64(p.QuickCloseMS), p.SmallMaxW, p.SmallMaxH, p.SmallMobileMaxH, phoneAgents)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: counts from the per-day state differ from counts over the clicks (-clicks +state):\n%s", label, diff)
		}
		if len(want) < 3 {
			t.Errorf("%s: %d publishers in the window: the world no longer tests the sums", label, len(want))
		}
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	const lookback = 4
	for d := day("2026-11-15"); d.Before(day("2026-11-23")); d = d.AddDate(0, 0, 1) {
		check("night "+d.Format(time.DateOnly), p, d.AddDate(0, 0, 1-lookback), d.AddDate(0, 0, 1), d)
	}
	// A late file for 19 Nov: more pop-unders of PU and a new publisher.
	if _, err := st.DB.ExecContext(ctx, `
INSERT INTO clicks (click_id, ts, publisher_id, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'late-' || i, TIMESTAMP '2026-11-19 05:00:00' + to_minutes(i::INTEGER), CASE WHEN i < 10 THEN 'PU' ELSE 'LATE' END,
       true, true, false, 1920, 945, 100, 4, i
FROM range(0, 25) r(i)`); err != nil {
		t.Fatal(err)
	}
	check("re-run of 20 Nov after a late file for 19 Nov", p, day("2026-11-17"), day("2026-11-21"), day("2026-11-20"))
	other := p
	other.QuickCloseMS, other.SmallMaxH, other.SmallMobileMaxH = p.QuickCloseMS*3, p.SmallMaxH+300, p.SmallMobileMaxH/2
	check("20 Nov with other pop-up thresholds", other, day("2026-11-17"), day("2026-11-21"), day("2026-11-20"))
	check("backfill", p, day("2026-11-15"), day("2026-11-23"), day("2026-11-15"))
}

func countRows(t *testing.T, st *store.Store, query string, args ...any) []string {
	t.Helper()
	rows, err := st.DB.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var x pub
		if err := rows.Scan(&x.id, &x.clicks, &x.known, &x.popups, &x.hidden, &x.quick, &x.small, &x.nightPopups, &x.first, &x.last); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s clicks=%d known=%d popups=%d hidden=%d quick=%d small=%d night=%d first=%v last=%v",
			x.id, x.clicks, x.known, x.popups, x.hidden, x.quick, x.small, x.nightPopups, x.first.Time, x.last.Time))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
