package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/store"
)

// TestFindingsStoredInBatches stores more findings than one INSERT holds
// and reads back every field of every one, in order, with the night and
// the sites.
func TestFindingsStoredInBatches(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	var want []Finding
	n := 2*findingsPerInsert + 44
	for i := range n {
		f := Finding{
			FindingID: fmt.Sprintf("F%05d", i), PublisherID: fmt.Sprintf("P%03d", i%17), Detector: []string{"click_burst", "self_purchase"}[i%2],
			RuleID: "r", RuleStatus: "stable", Severity: "high", Score: float64(i) / 1000,
			PolicyRef: "E.10.c", Summary: fmt.Sprintf("finding %d, with \"quotes\" and ünïcode", i),
			Evidence:    json.RawMessage(fmt.Sprintf(`{"i":%d,"note":"=cmd|' /C calc'!A0"}`, i)),
			WindowStart: t0.Add(time.Duration(i) * time.Minute), WindowEnd: t0.Add(time.Duration(i+60) * time.Minute),
			OrderIDs: []string{}, CommissionUSD: float64(i) + 0.1234,
		}
		for k := range i % 3 {
			f.OrderIDs = append(f.OrderIDs, fmt.Sprintf("O%d-%d", i, k))
		}
		f.Sites = []string{}
		if i%4 == 1 {
			f.Sites = SiteHosts(fmt.Sprintf("https://www.Site%d.example/page", i), fmt.Sprintf("shop%d.example", i))
		}
		want = append(want, f)
	}
	tx, err := st.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := insertFindings(ctx, tx, "run-1", "2026-11-28", want); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFindings(ctx, st.DB, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	SortFindings(want)
	if len(got) != n {
		t.Fatalf("read %d findings back, stored %d", len(got), n)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings read back differ (-stored +read):\n%s", diff)
	}
	var nights, distinct int
	if err := st.DB.QueryRow(`SELECT count(*) FILTER (WHERE night = DATE '2026-11-28'), count(DISTINCT finding_id) FROM findings`).Scan(&nights, &distinct); err != nil {
		t.Fatal(err)
	}
	if nights != n || distinct != n {
		t.Errorf("%d rows carry the night and %d distinct ids, want %d each", nights, distinct, n)
	}
}

func TestSiteHosts(t *testing.T) {
	got := SiteHosts("https://www.Shop.Example/a?b", "shop.example:8080/x", "deals@Mail.Example", "mailto:x@mail.example", "", "https://[::1]:8443/", "Shop.Example.")
	want := []string{"::1", "mail.example", "shop.example", "www.shop.example"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SiteHosts (-want +got):\n%s", d)
	}
}
