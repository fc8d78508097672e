package detectors

import (
	"fmt"

	"affwatch/rules"
)

// RawLookback is a detector that reads raw clicks or orders from days
// before the night it judges (its baseline, its look-back, an order's
// click). --retain-days may not drop a day one of them still reads: what a
// detector needs from further back it keeps as state (DayState).
type RawLookback interface {
	Detector
	// RawLookbackDays is how many whole days before the night's first day
	// the detector reads raw rows from, under pack's thresholds.
	RawLookbackDays(pack *rules.Pack) (int, error)
}

// LongestRawLookback is the most days before a night any of ds reads raw
// rows from, and the detector that reads them.
func LongestRawLookback(pack *rules.Pack, ds []Detector) (days int, by string, err error) {
	for _, d := range ds {
		l, ok := d.(RawLookback)
		if !ok {
			continue
		}
		n, err := l.RawLookbackDays(pack)
		if err != nil {
			return 0, "", fmt.Errorf("%s: look-back: %w", d.Code(), err)
		}
		if n > days {
			days, by = n, d.Code()
		}
	}
	return days, by, nil
}
