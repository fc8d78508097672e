package popuptraffic

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/eval/evaltest"
)

// TestPartitions: four partitions with a baselines pass find what a whole
// run finds (affwatch run --partition, issue 8).
func TestPartitions(t *testing.T) { evaltest.CheckPartitions(t, Detector{}) }

// TestPartitionReadsProgramState: PU's partition holds only some of the
// population PU is tested against, and none of the input's window sizes
// (the beacon of its publishers' pages does not report them, the other
// partitions' does). Both must come from the whole program: the pooled
// share and count of publishers in PU's evidence, and its small_window
// sub-signal (measured, not fired), which a partition reading its own
// columns would leave out as unavailable.
func TestPartitionReadsProgramState(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: exports and reloads the store four times")
	}
	part := detectors.PartitionOf("PU", 4)
	noSizes := fmt.Sprintf(`UPDATE clicks SET viewport_w = NULL, viewport_h = NULL WHERE %s = %d`, detectors.PartitionSQL("publisher_id", 4), part)
	st, pack := detectortest.Store(t, world, noSizes), detectortest.Pack(t)
	var others int
	for _, p := range []string{"C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "SHARE", "SHARE2", "NULLPUB", "SMALL"} {
		if detectors.PartitionOf(p, 4) != part {
			others++
		}
	}
	if others == 0 {
		t.Fatal("the whole population hashes to PU's partition: the case tests nothing")
	}

	whole := detectortest.PartitionsAgree(t, Detector{}, st, pack, detectors.NightOf(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)), 4)
	if len(whole) != 1 || whole[0].PublisherID != "PU" {
		t.Fatalf("whole run found %d finding(s), want PU's only (the others have no pop-up on the night)", len(whole))
	}
	var ev evidence
	if err := json.Unmarshal(whole[0].Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	// C0…C9, SHARE, SHARE2, NULLPUB and SMALL, whose windows are no
	// longer known to be small: 55 pop-up-like of 2,560.
	if ev.Population.Publishers != 14 || ev.Population.Known != 2560 || ev.Population.Popups != 55 {
		t.Errorf("population %+v, want 55 of 2,560 over 14 publishers", ev.Population)
	}
	if s, ok := ev.Sub["small_window"]; !ok || s.Fired || s.Clicks != 0 {
		t.Errorf("sub-signals %+v: want small_window measured (the input has window sizes) and not fired", ev.Sub)
	}
}
