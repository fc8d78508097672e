package selfpromotion

import (
	"testing"

	"affwatch/eval/evaltest"
)

// TestPartitions: four partitions with a baselines pass find what a whole
// run finds (affwatch run --partition, issue 8).
func TestPartitions(t *testing.T) { evaltest.CheckPartitions(t, Detector{}) }
