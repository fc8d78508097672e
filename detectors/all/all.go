// Package all is the registry of detectors the pipeline runs, in order.
// Adding a detector is its folder plus one line here.
package all

import (
	"affwatch/detectors"
	"affwatch/detectors/branddomain"
	"affwatch/detectors/brandmisuse"
	"affwatch/detectors/clickburst"
	"affwatch/detectors/cookiestuffing"
	"affwatch/detectors/invalidcommission"
	"affwatch/detectors/logocopy"
	"affwatch/detectors/pagecode"
	"affwatch/detectors/popuptraffic"
	"affwatch/detectors/prohibited"
	"affwatch/detectors/selfpromotion"
	"affwatch/detectors/selfpurchase"
	"affwatch/rules"
)

// Every detector above has declared the thresholds of the rules it reads:
// from here on a pack's rule that no detector reads is an error.
func init() { rules.Seal() }

// Detectors returns every registered detector.
func Detectors() []detectors.Detector {
	return []detectors.Detector{
		cookiestuffing.Detector{},
		clickburst.Detector{},
		popuptraffic.Detector{},
		selfpurchase.Detector{},
		selfpromotion.Detector{},
		branddomain.Detector{},
		// Page code from the crawl (issue 5): the same codes, evidence.source = "page".
		pagecode.Stuffing{},
		pagecode.Popup{},
		prohibited.Detector{},
		logocopy.Detector{},
		brandmisuse.Detector{},
		// Commission corrections (7.8): the penalty ladder withholds or
		// deducts their orders without alleging a breach (pack: penalties.corrections).
		invalidcommission.Detector{},
	}
}
