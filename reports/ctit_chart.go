package reports

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"affwatch/detectors"
)

// ctitEdges bound the click-to-order time bins, in seconds: roughly
// logarithmic from seconds to a month, so that a forced click (orders days
// later) and a real one (minutes) land in different bars. Bin 0 is below
// the first edge, bin len(ctitEdges) at or above the last.
var ctitEdges = []float64{10, 60, 300, 1800, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400}

// ctitLabels name the bins, one per bin.
var ctitLabels = []string{"<10 s", "10 s–1 min", "1–5 min", "5–30 min", "30 min–1 h", "1–6 h", "6–24 h", "1–3 d", "3–7 d", "7–30 d", "≥ 30 d"}

// ctitDetectors are the detectors whose findings get a CTIT histogram:
// cookie stuffing's forced clicks are credited with orders placed long
// after them, which the histogram shows against the program's.
var ctitDetectors = []string{detectors.CookieStuffing}

// ctitKey is one publisher's window (a finding's).
type ctitKey struct {
	publisher  string
	start, end time.Time
}

// ctitWindow is the program's counts for one window.
type ctitWindow struct{ start, end time.Time }

// ctitData holds the binned counts CTITHistograms returns.
type ctitData struct {
	pub map[ctitKey][]int64
	pop map[ctitWindow][]int64
}

// readCTIT runs CTITHistograms once for every publisher shown.
func readCTIT(ctx context.Context, db *sql.DB, runID string, publishers []string) (*ctitData, error) {
	d := &ctitData{pub: map[ctitKey][]int64{}, pop: map[ctitWindow][]int64{}}
	if len(publishers) == 0 {
		return d, nil
	}
	args := []any{runID, ctitDetectors, publishers, ctitEdges}
	err := eachHTMLRow(ctx, db, "CTITHistograms", args, func(rows *sql.Rows) error {
		var (
			side       string
			pub        sql.NullString
			start, end time.Time
			bin, n     int64
		)
		if err := rows.Scan(&side, &pub, &start, &end, &bin, &n); err != nil {
			return err
		}
		if bin < 0 || bin > int64(len(ctitEdges)) {
			return fmt.Errorf("CTIT bin %d out of range", bin)
		}
		var counts []int64
		if side == "pop" {
			w := ctitWindow{start.UTC(), end.UTC()}
			if d.pop[w] == nil {
				d.pop[w] = make([]int64, len(ctitLabels))
			}
			counts = d.pop[w]
		} else {
			k := ctitKey{pub.String, start.UTC(), end.UTC()}
			if d.pub[k] == nil {
				d.pub[k] = make([]int64, len(ctitLabels))
			}
			counts = d.pub[k]
		}
		counts[bin] += n
		return nil
	})
	return d, err
}

// ctitSummary is what the detector's evidence["ctit"] says, for the
// caption (zero values when absent).
type ctitSummary struct {
	MedianHours, PopulationMedian float64
	LongShare, PopulationLong     float64
	ThresholdHours, KS            float64
	Known                         bool
}

func ctitSummaryOf(v *jsonValue) ctitSummary {
	c := v.get("ctit")
	if c == nil || c.kind != jsonObject {
		return ctitSummary{}
	}
	f := func(k string) float64 {
		x := c.get(k)
		if x == nil || x.kind != jsonNumber {
			return math.NaN()
		}
		var v float64
		if _, err := fmt.Sscan(x.text, &v); err != nil {
			return math.NaN()
		}
		return v
	}
	s := ctitSummary{MedianHours: f("median_hours"), PopulationMedian: f("population_median_hours"),
		LongShare: f("share_above_threshold"), PopulationLong: f("population_share_above_threshold"),
		ThresholdHours: f("threshold_hours"), KS: f("ks_statistic")}
	s.Known = !math.IsNaN(s.MedianHours) && !math.IsNaN(s.PopulationMedian)
	return s
}

// ctitChart is the CTIT histogram laid out for the template: per bin, the
// publisher's share of its orders beside the program's.
type ctitChart struct {
	Title, Caption string
	Width, Height  int
	Axes, Grid     string
	Pub, Pop       []chartRect
	YTicks         []chartText
	XTicks         []chartText // bin labels
	YLabel         chartText
	Legend         []legendItem
}

type legendItem struct {
	X, Y, TX, TY string
	Class, Text  string
}

// CTIT chart geometry: the timeline's frame with room for two-line bin
// labels.
const (
	ctitW, ctitH           = 760, 270
	ctitLeft, ctitRight    = 64, 16
	ctitTop, ctitBottom    = 34, 48
	ctitPlotW, ctitPlotH   = ctitW - ctitLeft - ctitRight, ctitH - ctitTop - ctitBottom
	ctitYDivs              = 4
	ctitBarShare, ctitGapX = 0.36, 0.12
)

// newCTITChart lays out pub against pop (counts per bin); nil when the
// publisher has no order to show.
func newCTITChart(pub, pop []int64, s ctitSummary) *ctitChart {
	share := func(xs []int64) ([]float64, int64) {
		var n int64
		for _, x := range xs {
			n += x
		}
		out := make([]float64, len(xs))
		for i, x := range xs {
			if n > 0 {
				out[i] = float64(x) / float64(n)
			}
		}
		return out, n
	}
	ps, pn := share(pub)
	qs, qn := share(pop)
	if pn == 0 {
		return nil
	}
	top := 0.0
	for i := range ps {
		top = math.Max(top, math.Max(ps[i], qs[i]))
	}
	step := niceStep(top / ctitYDivs)
	top = step * math.Max(1, math.Ceil(top/step-1e-9))
	left, base := float64(ctitLeft), float64(ctitTop+ctitPlotH)
	right := left + ctitPlotW
	y := func(v float64) float64 { return base - v/top*ctitPlotH }
	slot := float64(ctitPlotW) / float64(len(ctitLabels))
	c := &ctitChart{
		Title: fmt.Sprintf("Click-to-order time: the publisher's %s orders against the program's %s", thousands(pn), thousands(qn)),
		Width: ctitW, Height: ctitH,
		Axes:   fmt.Sprintf("M%s %sV%sH%s", num(left), num(ctitTop), num(base), num(right)),
		YLabel: chartText{X: num(16), Y: num(ctitTop + ctitPlotH/2), Text: "share of orders"},
	}
	var grid strings.Builder
	for i := 0.0; i*step <= top*(1+1e-9); i++ {
		v := i * step
		fmt.Fprintf(&grid, "M%s %sH%s", num(left), num(y(v)), num(right))
		c.YTicks = append(c.YTicks, chartText{X: num(left - 6), Y: num(y(v) + 4), Text: pctLabel(v)})
	}
	c.Grid = grid.String()
	w := slot * ctitBarShare
	for i, label := range ctitLabels {
		x0 := left + float64(i)*slot + slot*ctitGapX
		bar := func(v float64, n, of int64, x float64, who string) chartRect {
			h := math.Max(0, base-y(v))
			if v > 0 && h < 1 {
				h = 1 // a bin with any order stays visible
			}
			return chartRect{X: num(x), Y: num(base - h), W: num(w), H: num(h),
				Label: fmt.Sprintf("%s, %s: %s of %s orders (%s)", who, label, thousands(n), thousands(of), pctLabel(v))}
		}
		c.Pub = append(c.Pub, bar(ps[i], pub[i], pn, x0, "publisher"))
		c.Pop = append(c.Pop, bar(qs[i], pop[i], qn, x0+w, "program"))
		c.XTicks = append(c.XTicks, chartText{X: num(left + (float64(i)+0.5)*slot), Y: num(base + 16), Text: label})
	}
	c.Legend = []legendItem{
		{X: num(left), Y: "12", TX: num(left + 16), TY: "21", Class: "bar pub", Text: "publisher's orders"},
		{X: num(left + 170), Y: "12", TX: num(left + 186), TY: "21", Class: "bar pop", Text: "program's orders (same window)"},
	}
	c.Caption = "Share of orders per time from the click to the order (log-spaced bins)."
	if s.Known {
		c.Caption += fmt.Sprintf(" Median %s h against the program's %s h", qty(s.MedianHours), qty(s.PopulationMedian))
		if !math.IsNaN(s.LongShare) && !math.IsNaN(s.PopulationLong) && !math.IsNaN(s.ThresholdHours) {
			c.Caption += fmt.Sprintf("; %s of its orders came more than %s h after the click, against %s", pctLabel(s.LongShare), qty(s.ThresholdHours), pctLabel(s.PopulationLong))
		}
		if !math.IsNaN(s.KS) {
			c.Caption += fmt.Sprintf(" (KS distance %s)", qty(s.KS))
		}
		c.Caption += "."
	}
	return c
}

// pctLabel formats a share as a percentage for a label.
func pctLabel(v float64) string {
	p := 100 * v
	switch {
	case p == 0:
		return "0 %"
	case p < 1:
		return fmt.Sprintf("%.1f %%", p)
	default:
		return fmt.Sprintf("%.0f %%", p)
	}
}

// thousands writes n with thousands separators.
func thousands(n int64) string { return detectors.Thousands(n) }
