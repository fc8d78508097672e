package selfpurchase

import (
	_ "embed"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/eval/evaltest"
)

// TestPartitions: four partitions with a baselines pass find what a whole
// run finds (affwatch run --partition, issue 8).
func TestPartitions(t *testing.T) { evaltest.CheckPartitions(t, Detector{}) }

//go:embed testdata/partition.sql
var partitionWorld string

// TestPartitionsAcrossPartitions: links whose identifiers come from the
// orders and clicks of a publisher in another partition still tie XP's
// buyers to it, and a value that buyers of another partition make a crowd
// value still links nobody to CROWD (judged on its partition's orders
// alone, CROWD would be flagged).
func TestPartitionsAcrossPartitions(t *testing.T) {
	for _, pub := range []string{"XP", "CROWD"} {
		if detectors.PartitionOf(pub, 4) == detectors.PartitionOf("SHOP", 4) {
			t.Fatalf("%s and SHOP fall in one partition of four: the case tests nothing", pub)
		}
	}
	st := detectortest.Store(t, world, partitionWorld)
	pack := detectortest.Pack(t)
	for _, night := range []time.Time{time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)} {
		whole := detectortest.PartitionsAgree(t, Detector{}, st, pack, detectors.NightOf(night), 4)
		if night.Day() != 21 {
			continue
		}
		got := byPublisher(t, whole)
		if _, ok := got["CROWD"]; ok {
			t.Error("CROWD flagged through a crowd-shared IP")
		}
		xp, ok := got["XP"]
		if !ok {
			t.Fatalf("XP not flagged; findings %v", got)
		}
		type link struct {
			Buyer, Link string
			Hops        int
		}
		var links []link
		ev := decode(t, xp)
		for _, b := range ev.LinkedBuyers {
			links = append(links, link{b.BuyerID, b.Link, b.Hops})
		}
		if diff := cmp.Diff([]link{{"Y", "hard", 1}, {"Z", "soft", 2}}, links); diff != "" {
			t.Errorf("XP linked buyers (-want +got):\n%s", diff)
		}
		// PAY, CHAIN, IPPUB, XP (partitions 1, 3, 3, 2) have linked orders that night.
		if ev.Population.WithLinked != 4 {
			t.Errorf("population with linked orders = %d, want 4", ev.Population.WithLinked)
		}
	}
}
