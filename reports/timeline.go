package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxTimelineBuckets is the longest timeline drawn as a chart (a month of
// 15-minute buckets is 2,976; 90 days of hours 2,160). Longer ones are
// left to findings.ndjson: thousands of bars would be unreadable.
const MaxTimelineBuckets = 3000

// maxTimelineBucketMinutes is a week: a coarser bucket is not a timeline.
const maxTimelineBucketMinutes = 7 * 24 * 60

// timelineEvidence is the shape a detector gives evidence["timeline"] to
// have report.html draw it: counts of clicks per bucket from start, the
// publisher's usual level (baseline), the level that flags (threshold) and
// the flagged windows (bursts).
type timelineEvidence struct {
	BucketMinutes int        `json:"bucket_minutes"`
	Start         string     `json:"start"`
	Counts        []float64  `json:"counts"`
	Baseline      *float64   `json:"baseline"`
	Threshold     *float64   `json:"threshold"`
	Bursts        []struct { // windows flagged as bursts
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"bursts"`
}

// Chart geometry, in SVG user units (the SVG scales to the page width).
const (
	chartW, chartH             = 760, 280
	chartLeft, chartRight      = 64, 16
	chartTop, chartBottom      = 20, 56
	chartPlotW, chartPlotH     = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartMaxXTicks, chartYDivs = 8, 4
)

// chart is an SVG bar chart laid out for the template; coordinates are
// preformatted so the template holds no arithmetic. A report may hold
// hundreds of charts, so repeated strokes (bars, grid, ticks) are one path
// each rather than one element per stroke.
type chart struct {
	Title         string
	Summary       string // the timeline in words, for the evidence table
	Width, Height int
	Axes          string // path of the two axes
	Grid          string // path of the horizontal grid lines
	XTickMarks    string // path of the x tick marks
	// Bars is the path of the bars at or below the threshold; Over are the
	// bars above it, each with its count as a tooltip.
	Bars                string
	Over                []chartRect
	Bursts              []chartRect
	Baseline, Threshold *chartLine
	LineX1, LineX2      string // baseline and threshold span the plot
	YTicks              []chartText
	XTicks              []chartText
	XLabel, YLabel      chartText
}

type chartRect struct {
	X, Y, W, H string
	Label      string
}

type chartLine struct {
	Y     string
	Label chartText
}

// chartText is a label at (X, Y).
type chartText struct {
	X, Y, Text string
}

// timelineChart lays out evidence["timeline"], or says why it cannot.
func timelineChart(v *jsonValue) (*chart, error) {
	raw := v.appendCompact(nil, 64*MaxTimelineBuckets)
	var tl timelineEvidence
	if err := json.Unmarshal(raw, &tl); err != nil {
		return nil, errors.New("not of the timeline shape")
	}
	start, err := time.Parse(time.RFC3339, tl.Start)
	if err != nil {
		return nil, fmt.Errorf("start %q is not an RFC 3339 time", truncateRunes(tl.Start, 40))
	}
	start = start.UTC()
	n := len(tl.Counts)
	switch {
	case tl.BucketMinutes <= 0 || tl.BucketMinutes > maxTimelineBucketMinutes:
		return nil, fmt.Errorf("bucket_minutes %d out of range", tl.BucketMinutes)
	case n == 0:
		return nil, errors.New("no counts")
	case n > MaxTimelineBuckets:
		return nil, fmt.Errorf("%d buckets, more than the %d drawn", n, MaxTimelineBuckets)
	}
	bucket := time.Duration(tl.BucketMinutes) * time.Minute
	end := start.Add(time.Duration(n) * bucket)

	top := 0.0
	for _, c := range tl.Counts {
		top = math.Max(top, c)
	}
	for _, p := range []*float64{tl.Baseline, tl.Threshold} {
		if p != nil {
			top = math.Max(top, *p)
		}
	}
	step := niceStep(top / chartYDivs)
	top = step * math.Max(1, math.Ceil(top/step-1e-9))
	plotLeft, plotTop := float64(chartLeft), float64(chartTop)
	plotBase := plotTop + chartPlotH
	y := func(v float64) float64 { return plotBase - math.Max(0, v)/top*chartPlotH }
	xAt := func(t time.Time) float64 {
		f := float64(t.Sub(start)) / float64(end.Sub(start))
		return plotLeft + math.Min(1, math.Max(0, f))*chartPlotW
	}
	slot := chartPlotW / float64(n)
	gap := 0.0
	if slot >= 4 {
		gap = slot * 0.1
	}

	dayFormat := "15:04"
	xLabel := "time (UTC), " + start.Format("2006-01-02")
	if end.Sub(start) > 24*time.Hour {
		dayFormat = "01-02 15:04"
		xLabel = "time (UTC)"
	}
	right := plotLeft + chartPlotW
	c := &chart{
		Title: fmt.Sprintf("Clicks per %s from %s to %s UTC", bucketName(tl.BucketMinutes),
			start.Format("2006-01-02 15:04"), end.Format("2006-01-02 15:04")),
		Width: chartW, Height: chartH,
		Axes:   fmt.Sprintf("M%s %sV%sH%s", num(plotLeft), num(plotTop), num(plotBase), num(right)),
		LineX1: num(plotLeft), LineX2: num(right),
		XLabel: chartText{X: num(plotLeft + chartPlotW/2), Y: num(chartH - 8), Text: xLabel},
		YLabel: chartText{X: num(16), Y: num(plotTop + chartPlotH/2), Text: "clicks per " + bucketName(tl.BucketMinutes)},
	}
	var bars strings.Builder
	peak := 0
	for i, v := range tl.Counts {
		if v > tl.Counts[peak] {
			peak = i
		}
		x, top, w := plotLeft+float64(i)*slot+gap, y(v), math.Max(0.5, slot-2*gap)
		if tl.Threshold != nil && v > *tl.Threshold {
			t0 := start.Add(time.Duration(i) * bucket)
			c.Over = append(c.Over, chartRect{X: num(x), Y: num(top), W: num(w), H: num(plotBase - top),
				Label: fmt.Sprintf("%s UTC: %s clicks", t0.Format("2006-01-02 15:04"), qty(v))})
			continue
		}
		if top < plotBase {
			fmt.Fprintf(&bars, "M%s %sh%sV%sh-%sz", num(x), num(top), num(w), num(plotBase), num(w))
		}
	}
	c.Bars = bars.String()
	c.Summary = fmt.Sprintf("%d buckets of %d min from %s UTC, peak %s clicks at %s UTC; drawn as the chart above", n, tl.BucketMinutes,
		start.Format("2006-01-02 15:04"), qty(tl.Counts[peak]), start.Add(time.Duration(peak)*bucket).Format("2006-01-02 15:04"))
	for _, b := range tl.Bursts {
		bs, err1 := time.Parse(time.RFC3339, b.Start)
		be, err2 := time.Parse(time.RFC3339, b.End)
		if err1 != nil || err2 != nil || !be.After(bs) {
			continue // a malformed window is not drawn rather than drawn wrong
		}
		x0, x1 := xAt(bs.UTC()), xAt(be.UTC())
		if x1 <= x0 {
			continue
		}
		c.Bursts = append(c.Bursts, chartRect{
			X: num(x0), Y: num(plotTop), W: num(x1 - x0), H: num(chartPlotH),
			Label: fmt.Sprintf("burst %s – %s UTC", bs.UTC().Format("2006-01-02 15:04"), be.UTC().Format("2006-01-02 15:04")),
		})
	}
	line := func(v float64, name string) *chartLine {
		return &chartLine{Y: num(y(v)), Label: chartText{X: num(right), Y: num(y(v) - 4), Text: name + " " + qty(v)}}
	}
	if tl.Baseline != nil {
		c.Baseline = line(*tl.Baseline, "baseline")
	}
	if tl.Threshold != nil {
		c.Threshold = line(*tl.Threshold, "threshold")
	}
	var grid, marks strings.Builder
	for i := 0.0; i*step <= top*(1+1e-9); i++ {
		v := i * step
		fmt.Fprintf(&grid, "M%s %sH%s", num(plotLeft), num(y(v)), num(right))
		c.YTicks = append(c.YTicks, chartText{X: num(plotLeft - 6), Y: num(y(v) + 4), Text: qty(v)})
	}
	every := (n + chartMaxXTicks - 1) / chartMaxXTicks
	for i := 0; i <= n; i += every {
		x := num(plotLeft + float64(i)*slot)
		fmt.Fprintf(&marks, "M%s %sv5", x, num(plotBase))
		c.XTicks = append(c.XTicks, chartText{X: x, Y: num(plotBase + 18), Text: start.Add(time.Duration(i) * bucket).Format(dayFormat)})
	}
	c.Grid, c.XTickMarks = grid.String(), marks.String()
	return c, nil
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten: the y axis has
// at most chartYDivs such steps, so its tick labels are round numbers.
func niceStep(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func bucketName(minutes int) string {
	switch {
	case minutes == 60:
		return "hour"
	case minutes%1440 == 0 && minutes > 1440:
		return strconv.Itoa(minutes/1440) + " days"
	case minutes == 1440:
		return "day"
	case minutes%60 == 0:
		return strconv.Itoa(minutes/60) + " hours"
	case minutes == 1:
		return "minute"
	default:
		return strconv.Itoa(minutes) + " min"
	}
}

// num formats an SVG coordinate to a tenth of a unit, without ".0".
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// qty formats a count or level for a label: no trailing zeros, at most two
// decimals.
func qty(v float64) string {
	if v != 0 && math.Abs(v) < 0.01 {
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
