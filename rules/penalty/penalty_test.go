package penalty

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/rules"
	"affwatch/store"
)

func TestApplyCountsEachOrderOnce(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DB.Exec(`INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, status, commission_usd, _file_id, _line) VALUES
		('O1', TIMESTAMP '2026-11-21 10:00:00', 'B1', 100, 'P1', 'paid', 3.50, 0, 2),
		('O2', TIMESTAMP '2026-11-21 11:00:00', 'B2', 50, 'P1', 'completed', 1.25, 0, 3)`); err != nil {
		t.Fatal(err)
	}
	pack, _ := rules.Default()
	ws := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	ev := json.RawMessage(`{"single_signal": false}`)
	findings := []detectors.Finding{
		{FindingID: "f1", PublisherID: "P1", Detector: "click_burst", Evidence: ev, WindowStart: ws, WindowEnd: ws, OrderIDs: []string{"O1", "O2"}},
		{FindingID: "f2", PublisherID: "P1", Detector: "cookie_stuffing", Evidence: json.RawMessage(`{"single_signal": true}`), WindowStart: ws, WindowEnd: ws, OrderIDs: []string{"O1"}},
	}
	night := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) // a Saturday
	recs, err := Apply(ctx, st.DB, pack, "run1", night, night, findings)
	if err != nil {
		t.Fatal(err)
	}
	want := []Recommendation{{
		PublisherID: "P1", Action: "warning", PolicyRef: "F.11.a", FindingIDs: []string{"f1", "f2"},
		WithholdUSD: 3.5, ClawbackUSD: 1.25, AppealDeadline: "2026-11-27", ReviewRequired: true,
		Summary: "Written warning (F.11.a) for click_burst, cookie_stuffing: 2 finding(s), 2 order(s) disqualified; the publisher may object until 2026-11-27 (G.12).",
	}}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("recommendations (-want +got):\n%s", diff)
	}
	rows, err := st.DB.Query(`SELECT order_id, array_to_string(reason_codes, ';'), array_to_string(finding_ids, ';'), commission_usd::DOUBLE FROM disqualified_orders ORDER BY order_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, codes, fids string
		var c float64
		rows.Scan(&id, &codes, &fids, &c)
		got = append(got, id+" "+codes+" "+fids+" "+jsonNum(c))
	}
	wantRows := []string{"O1 click_burst;cookie_stuffing f1;f2 3.5", "O2 click_burst f1 1.25"}
	if diff := cmp.Diff(wantRows, got); diff != "" {
		t.Errorf("disqualified orders (-want +got):\n%s", diff)
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// invalid_commission itemizes its orders (order_reasons): the penalty engine
// lists its reasons per order and puts at stake what it says, the most any
// finding puts on an order, never the sum.
func TestApplyUsesOrderReasons(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DB.Exec(`INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, status, commission_usd, _file_id, _line) VALUES
		('O1', TIMESTAMP '2026-11-21 10:00:00', 'B1', 100, 'P1', 'refunded', 3.50, 0, 2),
		('O2', TIMESTAMP '2026-11-21 11:00:00', 'B2', 1000, 'P1', 'completed', 50.00, 0, 3),
		('O3', TIMESTAMP '2026-11-21 12:00:00', 'B3', 10, 'P1', 'paid', 0.10, 0, 4),
		('O4', TIMESTAMP '2026-11-21 12:00:00', 'B3', 10, 'P1', 'paid', 0.20, 0, 5),
		('O5', TIMESTAMP '2026-11-21 12:00:00', 'B3', 10, 'P1', 'paid', 0.70, 0, 6)`); err != nil {
		t.Fatal(err)
	}
	pack, _ := rules.Default()
	ws := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	ic := json.RawMessage(`{"single_signal": false, "order_reasons": {
		"O1": {"reasons": ["cookie_window_expired", "refunded"], "at_stake_usd": 3.5},
		"O2": {"reasons": ["over_cap"], "at_stake_usd": 11.5},
		"O3": {"reasons": ["overpaid"], "at_stake_usd": 0.03},
		"O4": {"reasons": ["overpaid"], "at_stake_usd": 0.03},
		"O5": {"reasons": ["overpaid"], "at_stake_usd": 99}}}`)
	findings := []detectors.Finding{
		{FindingID: "f1", PublisherID: "P1", Detector: "invalid_commission", Evidence: ic, WindowStart: ws, WindowEnd: ws, OrderIDs: []string{"O1", "O2", "O3", "O4", "O5"}},
		// the whole of O2 is at stake for cookie_stuffing: the larger amount counts, once
		{FindingID: "f2", PublisherID: "P1", Detector: "cookie_stuffing", Evidence: json.RawMessage(`{}`), WindowStart: ws, WindowEnd: ws, OrderIDs: []string{"O1", "O2"}},
	}
	recs, err := Apply(ctx, st.DB, pack, "run1", ws, ws, findings)
	if err != nil {
		t.Fatal(err)
	}
	// withheld (not completed): O1 3.50 + O3 0.03 + O4 0.03 + O5 0.70 (at
	// most what was booked) = 4.26; clawed back (completed): O2 50.00.
	if len(recs) != 1 || recs[0].WithholdUSD != 4.26 || recs[0].ClawbackUSD != 50 {
		t.Fatalf("recommendations = %+v", recs)
	}
	rows, err := st.DB.Query(`SELECT order_id, array_to_string(reason_codes, ';'), commission_usd::VARCHAR FROM disqualified_orders ORDER BY order_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, codes, c string
		if err := rows.Scan(&id, &codes, &c); err != nil {
			t.Fatal(err)
		}
		got = append(got, id+" "+codes+" "+c)
	}
	want := []string{
		"O1 cookie_stuffing;invalid_commission:cookie_window_expired;invalid_commission:refunded 3.5000",
		"O2 cookie_stuffing;invalid_commission:over_cap 50.0000",
		"O3 invalid_commission:overpaid 0.0300",
		"O4 invalid_commission:overpaid 0.0300",
		"O5 invalid_commission:overpaid 0.7000",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("disqualified orders (-want +got):\n%s", diff)
	}
}

func TestUnitCents(t *testing.T) {
	for _, tc := range []struct {
		u    unit
		want float64
		dec  string
	}{{0, 0, "0.0000"}, {3, 0, "0.0003"}, {50, 0.01, "0.0050"}, {123456, 12.35, "12.3456"}, {-50, -0.01, "-0.0050"}} {
		if got := tc.u.cents(); got != tc.want {
			t.Errorf("unit(%d).cents() = %v, want %v", tc.u, got, tc.want)
		}
		if got := tc.u.decimal(); got != tc.dec {
			t.Errorf("unit(%d).decimal() = %q, want %q", tc.u, got, tc.dec)
		}
	}
	// 0.1 + 0.2 summed a thousand times in float64 drifts; in units it does not.
	var sum unit
	for i := 0; i < 1000; i++ {
		sum += usdUnits(0.1) + usdUnits(0.2)
	}
	if sum.cents() != 300 {
		t.Errorf("sum = %v", sum.cents())
	}
}
