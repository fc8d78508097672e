package reports

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReadCTIT: one query bins every shown publisher's click-to-order
// times and the program's, within each finding's window, on the bin edges.
func TestReadCTIT(t *testing.T) {
	db := openStore(t)
	ws, we := "2026-11-08T00:00:00Z", "2026-11-22T00:00:00Z"
	for _, p := range []string{"PA", "PB"} {
		insertFindingRow(t, db, demoFinding{FindingID: "co-" + p, PublisherID: p, Detector: "cookie_stuffing", RuleID: "R", RuleStatus: "stable",
			Severity: "high", Score: 0.9, PolicyRef: "1.6", Summary: "s", Evidence: []byte(`{}`), WindowStart: ws, WindowEnd: we, Commission: "0"})
	}
	// PC has no finding: its orders count for the program only.
	click := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	n := 0
	add := func(pub string, clickAt time.Time, after time.Duration) {
		n++
		id := fmt.Sprintf("c%03d", n)
		execAll(t, db, `INSERT INTO clicks (click_id, ts, publisher_id, _file_id, _line) VALUES (?, ?, ?, 1, 1)`, id, clickAt, pub)
		execAll(t, db, `INSERT INTO orders (order_id, ts, click_id, _file_id, _line) VALUES (?, ?, ?, 2, 1)`, "o"+id, clickAt.Add(after), id)
	}
	add("PA", click, 9*time.Second)                 // bin 0: below 10 s
	add("PA", click, 10*time.Second)                // bin 1: an edge belongs to the bin above it
	add("PA", click, 2*time.Hour)                   // bin 5: 1–6 h
	add("PA", click, 40*24*time.Hour)               // bin 10: ≥ 30 d
	add("PA", click, -time.Minute)                  // an order before its click: not credited
	add("PA", click.AddDate(0, 0, -5), time.Minute) // a click before the window: not counted
	add("PB", click, 2*24*time.Hour)                // bin 7: 1–3 d
	add("PC", click, 20*time.Minute)                // bin 3: 5–30 min, program only
	d, err := readCTIT(context.Background(), db, testRun, []string{"PA", "PB"})
	if err != nil {
		t.Fatal(err)
	}
	start, _ := time.Parse(time.RFC3339, ws)
	end, _ := time.Parse(time.RFC3339, we)
	want := map[string][]int64{
		"PA":      {1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1},
		"PB":      {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0},
		"program": {1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1},
	}
	got := map[string][]int64{
		"PA":      d.pub[ctitKey{"PA", start, end}],
		"PB":      d.pub[ctitKey{"PB", start, end}],
		"program": d.pop[ctitWindow{start, end}],
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CTIT bins (-want +got):\n%s", diff)
	}
	if len(ctitLabels) != len(ctitEdges)+1 {
		t.Errorf("%d labels for %d edges", len(ctitLabels), len(ctitEdges))
	}
}

func TestCTITChart(t *testing.T) {
	if c := newCTITChart(make([]int64, 11), []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, ctitSummary{}); c != nil {
		t.Error("a histogram for a publisher without orders")
	}
	pub := []int64{0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0}
	pop := []int64{0, 10, 20, 40, 20, 10, 0, 0, 0, 0, 0}
	c := newCTITChart(pub, pop, ctitSummary{})
	// Tallest bar: the publisher's 50 % (bin 7) on an axis rounded up to
	// 60 %; the shares scale alike for both sides.
	h := func(r chartRect) float64 {
		var v float64
		fmt.Sscan(r.H, &v)
		return v
	}
	full := float64(ctitPlotH)
	for _, tc := range []struct {
		bar  chartRect
		want float64
	}{{c.Pub[7], full * 0.5 / 0.6}, {c.Pub[5], full * 0.25 / 0.6}, {c.Pop[3], full * 0.4 / 0.6}} {
		if got := h(tc.bar); got < tc.want-0.1 || got > tc.want+0.1 {
			t.Errorf("bar %q is %v high, want %.1f", tc.bar.Label, got, tc.want)
		}
	}
	if h(c.Pub[0]) != 0 || h(c.Pop[6]) != 0 {
		t.Error("an empty bin has a bar")
	}
	if c.Pub[7].Label != "publisher, 1–3 d: 2 of 4 orders (50 %)" || c.Pop[3].Label != "program, 5–30 min: 40 of 100 orders (40 %)" {
		t.Errorf("tooltips %q, %q", c.Pub[7].Label, c.Pop[3].Label)
	}
	if last := c.YTicks[len(c.YTicks)-1].Text; last != "60 %" {
		t.Errorf("top tick %q, want 60 %%", last)
	}
	// A single order among thousands stays visible.
	c = newCTITChart([]int64{1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, pop, ctitSummary{})
	if h(c.Pub[10]) < 1 {
		t.Errorf("a 0.1 %% bin is %s units high, want at least 1", c.Pub[10].H)
	}
	if !strings.HasPrefix(c.Title, "Click-to-order time: the publisher's 1,001 orders against the program's 100") {
		t.Errorf("title %q", c.Title)
	}
}
