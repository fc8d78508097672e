// Package all is the registry of detectors the pipeline runs, in order.
// Adding a detector is its folder plus one line here.
package all

import (
	"affwatch/detectors"
	"affwatch/detectors/clickburst"
	"affwatch/detectors/cookiestuffing"
	"affwatch/detectors/popuptraffic"
	"affwatch/detectors/selfpromotion"
	"affwatch/detectors/selfpurchase"
)

// Detectors returns every registered detector.
func Detectors() []detectors.Detector {
	return []detectors.Detector{
		cookiestuffing.Detector{},
		clickburst.Detector{},
		popuptraffic.Detector{},
		selfpurchase.Detector{},
		selfpromotion.Detector{},
	}
}
