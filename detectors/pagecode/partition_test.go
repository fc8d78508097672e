package pagecode

import (
	"testing"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
)

// TestPartitions: page code judges each site's own crawl against the rule
// pack, and the crawl tables are whole in every partition's database, so
// four partitions find what a whole run finds with no program-wide table
// (affwatch run --partition, issue 8).
func TestPartitions(t *testing.T) {
	for _, d := range []detectors.Detector{Stuffing{}, Popup{}} {
		t.Run(d.Code(), func(t *testing.T) {
			st := detectortest.Store(t, detectortest.Files(t, "testdata/crawl.sql")...)
			night := detectors.NightOf(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
			whole := detectortest.PartitionsAgree(t, d, st, detectortest.Pack(t), night, 4)
			parts := map[int]bool{}
			for _, f := range whole {
				parts[detectors.PartitionOf(f.PublisherID, 4)] = true
			}
			if len(whole) == 0 {
				t.Fatal("no finding: the check compared nothing")
			}
			t.Logf("%d finding(s) over %d partition(s)", len(whole), len(parts))
		})
	}
}
