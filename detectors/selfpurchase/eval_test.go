package selfpurchase

import (
	"testing"

	"affwatch/eval/evaltest"
)

// TestEval holds the detector to issue 4's targets on generated data with
// ground truth (affwatch eval --detector for wider sweeps).
func TestEval(t *testing.T) { evaltest.Check(t, Detector{}) }
