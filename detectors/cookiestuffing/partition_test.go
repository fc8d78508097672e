package cookiestuffing

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/eval/evaltest"
)

// TestPartitions: four partitions with a baselines pass find what a whole
// run finds (affwatch run --partition, issue 8).
func TestPartitions(t *testing.T) { evaltest.CheckPartitions(t, Detector{}) }

// TestPartitionsAcrossPublishers judges the hand-built week's last night in
// four partitions, where each finding leans on another partition's rows:
// OVER re-stamps clicks of C1…C5 (the overwritten publishers), CAP's buyers
// ordered organically before (an organic order is stored with the empty
// publisher id), and an order booked to C2 is credited to OVER's last
// re-stamp (the click's partition does not hold it).
func TestPartitionsAcrossPublishers(t *testing.T) {
	st, pack := setup(t)
	if _, err := st.DB.Exec(`INSERT INTO orders (order_id, ts, buyer_id, publisher_id, click_id, status, commission_usd, _file_id, _line)
		SELECT 'o-booked-C2', ts + INTERVAL 30 MINUTE, 'b-booked-C2', 'C2', click_id, 'paid', 5, 0, 0
		FROM clicks WHERE click_id = 'OVER-29'`); err != nil {
		t.Fatal(err)
	}
	const n = 4
	part := func(pub string) int { return detectors.PartitionOf(pub, n) }
	// The case is only a cross-partition one while the ids hash apart.
	if part("OVER") == part("C2") || part("CAP") == part("") ||
		!slices.ContainsFunc([]string{"C1", "C3", "C4", "C5"}, func(p string) bool { return part(p) != part("OVER") }) {
		t.Fatalf("publishers hash into one partition: OVER %d, C2 %d, CAP %d, organic %d", part("OVER"), part("C2"), part("CAP"), part(""))
	}
	whole := detectortest.PartitionsAgree(t, Detector{}, st, pack, detectors.NightOf(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)), n)
	got := byPublisher(t, whole)
	over, ok := got["OVER"]
	if !ok || !slices.Contains(over.OrderIDs, "o-booked-C2") || len(over.OrderIDs) != 7 {
		t.Errorf("OVER's finding %v orders %v, want o-booked-C2 among 7", ok, over.OrderIDs)
	}
	var ev evidence
	if err := json.Unmarshal(over.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Mechanisms) != 1 || ev.Mechanisms[0].Victims == nil || *ev.Mechanisms[0].Victims != 5 {
		t.Errorf("OVER mechanisms %+v, want 5 publishers overwritten", ev.Mechanisms)
	}
	if cap, ok := got["CAP"]; !ok || len(cap.OrderIDs) != 8 {
		t.Errorf("CAP finding %v orders %v, want 8 captured", ok, cap.OrderIDs)
	}
}
