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
