// Package cookiestuffing finds publishers whose hits set the affiliate
// cookie although nobody chose to follow their link: links loaded by image
// tags (the landing page never rendered), pages in hidden or 1-pixel frames,
// invisible redirects left within a fraction of a second, extensions that
// re-stamp another publisher's fresh click on the same device, and links
// fired on the product page minutes before a returning buyer pays. It
// enforces "Fraud" 1.6 (robots, frames, iframes, scripts) and ePN's
// "cookie-stuffing is totally prohibited in any form".
//
// Stuffing is forced hits on shoppers' devices. Hits of automated agents
// are invalid clicks (E.10.c, the click_burst rule), not stuffing: clicks
// the reference lists label general invalid traffic are not counted, and
// a non-rendered hit on a device that never rendered a page through
// another publisher's link nor paid an order is set aside as automated;
// the evidence says how many of each.
//
// Every mechanism is its own signal, compared with the program's median
// rate by a binomial tail test behind a count floor and a share floor, so a
// small publisher is never accused on a handful of clicks and a large one
// never for a rate a little above the median. The click-to-order time of
// the orders credited to the publisher is compared with the population's
// (share above ctit_long_hours and the two-sample KS statistic); it only
// corroborates a mechanism, since a site whose readers buy days later is
// not stuffing by that alone.
//
// Whatever a publisher's judgement reads from other publishers (the
// program's medians and click-to-order times, the earlier click of another
// publisher on the device, a buyer's earlier orders, orders booked to
// someone else) is a global table (GlobalTables), so a partition of a night
// (affwatch run --partition) judges its publishers exactly as a whole run.
package cookiestuffing

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"affwatch/detectors"
	"affwatch/rules"
)

//go:embed cookiestuffing.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// The two queries that follow the shared Mechanisms CTEs: one publisher's
// rows (the partition's) and the program's medians (a global table).
var globalMechanisms = queries["Mechanisms"] + "\n" + queries["GlobalMechanisms"]

// selfReferrer matches a referrer on AliExpress itself: the link fired on
// the page the visitor was already on.
const selfReferrer = `(?i)^https?://([a-z0-9-]+\.)*aliexpress\.(com|ru|us)(/|$)`

// Detector is the cookie_stuffing detector.
type Detector struct{}

// Code implements detectors.Detector.
func (Detector) Code() string { return detectors.CookieStuffing }

// Thresholds are cookie_stuffing's tunable values
// (rules.cookie_stuffing.thresholds in the pack).
type Thresholds struct {
	LookbackDays           int     `yaml:"lookback_days" range:"[1,366]"`
	MinClicks              int     `yaml:"min_clicks" range:"[1,]"`
	MinHits                int     `yaml:"min_hits" range:"[1,]"`
	MaxPValue              float64 `yaml:"max_p_value" range:"(0,1)"`
	MinBaseRate            float64 `yaml:"min_base_rate" range:"[0,1)"`
	MaxExamples            int     `yaml:"max_examples" range:"[1,1000]"`
	NotLandedMinShare      float64 `yaml:"not_landed_min_share" range:"(0,1]"`
	FrameMinShare          float64 `yaml:"hidden_frame_min_share" range:"(0,1]"`
	TinyViewportPX         int     `yaml:"tiny_viewport_px" range:"[0,]"`
	RedirectMaxDwellMS     int     `yaml:"redirect_max_dwell_ms" range:"[0,]"`
	RedirectMinShare       float64 `yaml:"redirect_min_share" range:"(0,1]"`
	OverwriteGapSeconds    int     `yaml:"overwrite_gap_seconds" range:"[1,86400]"`
	OverwriteMinShare      float64 `yaml:"overwrite_min_share" range:"(0,1]"`
	OverwriteMinPublishers int     `yaml:"overwrite_min_publishers" range:"[1,]"`
	CaptureMinutes         int     `yaml:"capture_minutes" range:"[1,1440]"`
	CaptureMinOrders       int     `yaml:"capture_min_orders" range:"[1,]"`
	CaptureMinShare        float64 `yaml:"capture_min_share" range:"(0,1]"`
	CaptureSelfRef         float64 `yaml:"capture_min_self_referrer_share" range:"[0,1]"`
	CTITLongHours          float64 `yaml:"ctit_long_hours" range:"(0,]"`
	CTITMinOrders          int     `yaml:"ctit_min_orders" range:"[1,]"`
	CTITMinKS              float64 `yaml:"ctit_min_ks" range:"(0,1]"`
	CTITMaxPValue          float64 `yaml:"ctit_max_p_value" range:"(0,1)"`
}

var thresholds = rules.Declare[Thresholds](detectors.CookieStuffing)

// Mechanisms, in report order.
const (
	mNotLanded = "not_landed"
	mFrame     = "hidden_frame"
	mRedirect  = "redirect"
	mOverwrite = "overwrite"
	mCapture   = "capture"
)

// signalNames are the evidence names of the mechanisms.
var signalNames = map[string]string{
	mNotLanded: "pixel_drop", mFrame: "hidden_iframe", mRedirect: "background_redirect",
	mOverwrite: "cookie_overwrite", mCapture: "buyer_capture",
}

var signalText = map[string]string{
	mNotLanded: "never rendered the landing page",
	mFrame:     "loaded the landing page in a hidden or 1-pixel frame",
	mRedirect:  "loaded the landing page invisibly and left it within a fraction of a second",
	mOverwrite: "re-stamped another publisher's click on the same device seconds later",
	mCapture:   "were paid within minutes of the click by buyers who had ordered before (link fired on the way to checkout)",
}

// units name what a mechanism's rate counts.
var units = map[string]string{mCapture: "credited orders"}

// weights say how strongly each mechanism, once significant, shows forced
// hits; score = 1 - Π(1 - w) over the signals present.
var weights = map[string]float64{
	mNotLanded: 0.75, mFrame: 0.8, mRedirect: 0.75, mOverwrite: 0.8, mCapture: 0.75,
	"orders_credited": 0.6, "late_orders": 0.3,
}

type creditedOrder struct {
	OrderID    string  `json:"order_id"`
	Commission float64 `json:"commission_usd"`
}

// row is one (publisher, mechanism) of PublisherMechanisms.
type row struct {
	publisher                                                string
	clicks, landedKnown, frameKnown, redirectKnown, devKnown int64
	selfRefClicks, referrerKnown, orders                     int64
	mechanism                                                string
	hits, hitsInScope                                        int64
	examples, devices                                        []string
	victims, selfRef                                         int64
	credited                                                 []creditedOrder
	first, last                                              time.Time
	// set aside: clicks the reference lists label GIVT, and non-rendered
	// hits on devices no person uses (automated agents, E.10.c)
	givtClicks, automatedHits int64
}

type population struct {
	rate       map[string]float64
	publishers int64
	ctitN      int64
	ctitLong   float64
	ctitQ      []float64 // percentiles 1..99, seconds
}

// plan is what one run judges: the pack's thresholds and the window.
type plan struct {
	rule                         rules.Rule
	p                            Thresholds
	winStart, winEnd, scopeStart time.Time
}

// newPlan reads the rule and the window; ok is false when a backfill finds
// no clicks at all.
func newPlan(ctx context.Context, env detectors.Env) (plan, bool, error) {
	rule, err := env.Pack.Rule(detectors.CookieStuffing)
	if err != nil {
		return plan{}, false, err
	}
	p, err := thresholds.From(rule)
	if err != nil {
		return plan{}, false, err
	}
	winStart, winEnd, scopeStart, ok, err := window(ctx, env, p)
	return plan{rule: rule, p: p, winStart: winStart, winEnd: winEnd, scopeStart: scopeStart}, ok, err
}

// mechanismArgs are the parameters of the Mechanisms query and of what
// follows it.
func (pl plan) mechanismArgs() []any {
	p := pl.p
	return []any{pl.winStart, pl.winEnd, pl.scopeStart, int64(p.RedirectMaxDwellMS), int64(p.TinyViewportPX), float64(p.CaptureMinutes),
		selfReferrer, int64(p.MaxExamples), int64(p.MinClicks), int64(p.CaptureMinOrders)}
}

// globalTables is the program-wide state a publisher's judgement reads, in
// the order they are made (the mechanisms read the three before it).
func (pl plan) globalTables() []detectors.GlobalTable {
	return []detectors.GlobalTable{
		{Name: "cookie_stuffing_overwrites", Query: queries["GlobalOverwrites"], Args: []any{pl.winStart, pl.winEnd},
			Prepare: func(ctx context.Context, db *sql.DB) error {
				return prepareOverwrites(ctx, db, pl.winStart, pl.winEnd, pl.p.OverwriteGapSeconds)
			}},
		{Name: "cookie_stuffing_shopper_devices", Query: queries["GlobalShopperDevices"], Args: []any{pl.winStart, pl.winEnd},
			Prepare: func(ctx context.Context, db *sql.DB) error {
				if err := pl.prepareTags(ctx, db); err != nil {
					return err
				}
				return prepareDevices(ctx, db)
			}},
		{Name: "cookie_stuffing_repeat_buyers", Query: queries["GlobalRepeatBuyers"], Args: []any{pl.winEnd},
			Prepare: prepareBuyers},
		{Name: "cookie_stuffing_foreign_orders", Query: queries["GlobalForeignOrders"], Args: []any{pl.winStart, pl.winEnd}},
		{Name: "cookie_stuffing_mechanisms", Query: globalMechanisms, Args: pl.mechanismArgs()},
		{Name: "cookie_stuffing_ctit", Query: queries["GlobalCTIT"], Args: []any{pl.winStart, pl.winEnd, pl.p.CTITLongHours}},
	}
}

// GlobalTables implements detectors.GlobalStater: the overwrites (another
// publisher's earlier click on the device), the buyers' first orders
// (through anyone or organically), the orders credited to a click but
// booked to another publisher, every publisher's mechanism counts with the
// program's median rates (the medians need them all, so they are counted
// once, not again per partition) and its click-to-order distribution.
func (d Detector) GlobalTables(ctx context.Context, env detectors.Env) ([]detectors.GlobalTable, error) {
	pl, ok, err := newPlan(ctx, env)
	if err != nil || !ok {
		return nil, err
	}
	return pl.globalTables(), nil
}

// Run implements detectors.Detector.
func (d Detector) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	pl, ok, err := newPlan(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := recordUnavailable(ctx, env); err != nil || !ok {
		return nil, err
	}
	if err := detectors.PrepareGlobals(ctx, env, pl.globalTables()); err != nil {
		return nil, fmt.Errorf("cookie_stuffing: %w", err)
	}
	rule, p, winStart, winEnd := pl.rule, pl.p, pl.winStart, pl.winEnd
	pop, err := loadCTIT(ctx, env.DB)
	if err != nil {
		return nil, err
	}
	rows, err := env.DB.QueryContext(ctx, queries["PublisherMechanisms"])
	if err != nil {
		return nil, fmt.Errorf("cookie_stuffing: publisher mechanisms: %w", err)
	}
	byPub := map[string][]row{}
	var pubs []string
	var nl, fr, rd, ow, cp float64
	for rows.Next() {
		var r row
		var ex, dev, cr any
		if err := rows.Scan(&r.publisher, &r.clicks, &r.landedKnown, &r.frameKnown, &r.redirectKnown, &r.devKnown,
			&r.selfRefClicks, &r.referrerKnown, &r.orders, &r.mechanism, &r.hits, &r.hitsInScope, &ex, &r.victims, &dev,
			&r.selfRef, &cr, &r.first, &r.last, &r.givtClicks, &r.automatedHits, &nl, &fr, &rd, &ow, &cp, &pop.publishers); err != nil {
			rows.Close()
			return nil, err
		}
		if !env.Part.Has(r.publisher) {
			continue // another partition judges it
		}
		r.examples, r.devices, r.credited = detectors.StringList(ex), detectors.StringList(dev), orderList(cr)
		if _, seen := byPub[r.publisher]; !seen {
			pubs = append(pubs, r.publisher)
		}
		byPub[r.publisher] = append(byPub[r.publisher], r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pop.rate[mNotLanded], pop.rate[mFrame], pop.rate[mRedirect], pop.rate[mOverwrite], pop.rate[mCapture] = nl, fr, rd, ow, cp
	sort.Strings(pubs)
	firedBy := map[string][]judged{}
	var flagged []string
	for _, pub := range pubs {
		for _, r := range byPub[pub] {
			if j, ok := judge(r, p, pop); ok {
				firedBy[pub] = append(firedBy[pub], j)
			}
		}
		if len(firedBy[pub]) > 0 {
			flagged = append(flagged, pub)
		}
	}
	ctits, err := publisherCTITs(ctx, env.DB, winStart, winEnd, flagged)
	if err != nil {
		return nil, err
	}
	var out []detectors.Finding
	for _, pub := range flagged {
		f, err := finding(ctx, env, rule, p, pop, pub, firedBy[pub], ctits[pub], winStart, winEnd)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// recordUnavailable notes the signals an absent column switches off.
func recordUnavailable(ctx context.Context, env detectors.Env) error {
	cols := []string{"landed", "in_iframe", "visible", "viewport_w", "dwell_ms", "device_id", "referrer"}
	have, err := detectors.Columns(ctx, env.DB, "clicks", cols...)
	if err != nil {
		return err
	}
	why := map[string]string{
		"landed":     "pixel drops (landing page never rendered) cannot be seen",
		"in_iframe":  "hidden frames cannot be seen",
		"visible":    "hidden frames and background redirects rely on visibility only where known",
		"viewport_w": "tiny frames are judged on visibility alone",
		"dwell_ms":   "background redirects cannot be seen",
		"device_id":  "cookie overwrites cannot be seen",
		"referrer":   "buyer capture is judged on timing and earlier orders alone",
	}
	for _, c := range cols {
		if !have[c] {
			env.Signals.Add(detectors.CookieStuffing, "clicks."+c, "column absent or empty in the input: "+why[c])
		}
	}
	ohave, err := detectors.Columns(ctx, env.DB, "orders", "click_id", "buyer_id")
	if err != nil {
		return err
	}
	if !ohave["click_id"] {
		env.Signals.Add(detectors.CookieStuffing, "orders.click_id", "column absent or empty in the input: no order can be tied to a click (no commission at stake, no CTIT, no buyer capture)")
	} else if !ohave["buyer_id"] {
		env.Signals.Add(detectors.CookieStuffing, "orders.buyer_id", "column absent or empty in the input: buyer capture (earlier orders of the buyer) cannot be seen")
	}
	return nil
}

// window returns the clicks judged: for a night, the look-back of
// lookback_days ending with the night (mechanisms must have a hit on the
// night itself); for a backfill, every day with clicks.
func window(ctx context.Context, env detectors.Env, p Thresholds) (start, end, scopeStart time.Time, ok bool, err error) {
	start, end, ok, err = env.Night.Days()
	if !ok || err != nil || !env.Night.IsNight() {
		return start, end, start, ok, err
	}
	return env.Night.LookbackEnding(p.LookbackDays), end, start, true, nil
}

// publisherCTITs reads the click-to-order times of the flagged
// publishers (PublisherCTIT), in one pass over the window's clicks rather
// than one per finding.
func publisherCTITs(ctx context.Context, db *sql.DB, winStart, winEnd time.Time, pubs []string) (map[string][]float64, error) {
	out := map[string][]float64{}
	if len(pubs) == 0 {
		return out, nil
	}
	rows, err := db.QueryContext(ctx, queries["PublisherCTIT"], winStart, winEnd, pubs)
	if err != nil {
		return nil, fmt.Errorf("cookie_stuffing: click-to-order times: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pub string
		var q any
		if err := rows.Scan(&pub, &q); err != nil {
			return nil, err
		}
		out[pub] = floatList(q)
	}
	return out, rows.Err()
}

// loadCTIT reads the population's click-to-order times (GlobalCTIT).
func loadCTIT(ctx context.Context, db *sql.DB) (population, error) {
	pop := population{rate: map[string]float64{}}
	var q any
	if err := db.QueryRowContext(ctx, queries["PopulationCTIT"]).Scan(&pop.ctitN, &pop.ctitLong, &q); err != nil {
		return pop, fmt.Errorf("cookie_stuffing: population CTIT: %w", err)
	}
	pop.ctitQ = floatList(q)
	return pop, nil
}

// judged is a mechanism that fired for a publisher.
type judged struct {
	row
	known    int64
	rate     float64
	popRate  float64
	pValue   float64
	minShare float64
}

// judge decides whether one mechanism of one publisher is significant: at
// least min_hits hits (one on the night for a nightly run), the mechanism's
// share floor, and a binomial tail below max_p_value against the population
// rate (floored at min_base_rate, so a mechanism the population never shows
// is not proven by a couple of odd hits).
func judge(r row, p Thresholds, pop population) (judged, bool) {
	j := judged{row: r, popRate: pop.rate[r.mechanism]}
	switch r.mechanism {
	case mNotLanded:
		j.known, j.minShare = r.landedKnown, p.NotLandedMinShare
	case mFrame:
		j.known, j.minShare = r.frameKnown, p.FrameMinShare
	case mRedirect:
		j.known, j.minShare = r.redirectKnown, p.RedirectMinShare
	case mOverwrite:
		j.known, j.minShare = r.devKnown, p.OverwriteMinShare
	case mCapture:
		j.known, j.minShare = r.orders, p.CaptureMinShare
	default:
		return j, false
	}
	floor := p.MinHits
	if r.mechanism == mCapture {
		floor = p.CaptureMinOrders
	}
	if j.known == 0 || r.hits < int64(floor) || r.hitsInScope == 0 {
		return j, false
	}
	if r.mechanism != mCapture && j.known < int64(p.MinClicks) {
		return j, false
	}
	if r.mechanism == mOverwrite && r.victims < int64(p.OverwriteMinPublishers) {
		return j, false
	}
	// Where referrers are known, a capture fires on the AliExpress page
	// itself; a coupon page the shopper chose is not a capture.
	if r.mechanism == mCapture && r.referrerKnown > 0 && float64(r.selfRef) < p.CaptureSelfRef*float64(r.hits) {
		return j, false
	}
	j.rate = float64(r.hits) / float64(j.known)
	if j.rate < j.minShare {
		return j, false
	}
	j.pValue = detectors.BinomialTail(r.hits, j.known, math.Max(j.popRate, p.MinBaseRate))
	return j, j.pValue <= p.MaxPValue
}

// ctitCompare is the click-to-order time of a publisher against the
// population's.
type ctitCompare struct {
	Orders           int     `json:"orders"`
	MedianHours      float64 `json:"median_hours"`
	PopulationMedian float64 `json:"population_median_hours"`
	LongShare        float64 `json:"share_above_threshold"`
	PopulationLong   float64 `json:"population_share_above_threshold"`
	ThresholdHours   float64 `json:"threshold_hours"`
	KS               float64 `json:"ks_statistic"`
	KSPValue         float64 `json:"ks_p_value"`
	BinomialPValue   float64 `json:"binomial_p_value"`
	PopulationOrders int64   `json:"population_orders"`
	Late             bool    `json:"late"`
}

func compareCTIT(xs []float64, p Thresholds, pop population) *ctitCompare {
	if len(xs) == 0 || len(pop.ctitQ) == 0 {
		return nil
	}
	n := len(xs)
	long := 0
	for _, x := range xs {
		if x > p.CTITLongHours*3600 {
			long++
		}
	}
	// KS: sup |F_pub − F_pop|, F_pop interpolated from its percentiles.
	d := 0.0
	for i, x := range xs {
		f := popCDF(pop.ctitQ, x)
		d = math.Max(d, math.Max(float64(i+1)/float64(n)-f, f-float64(i)/float64(n)))
	}
	m := float64(pop.ctitN)
	en := math.Sqrt(float64(n) * m / (float64(n) + m))
	c := &ctitCompare{
		Orders: n, MedianHours: detectors.Round(median(xs)/3600, 2), PopulationMedian: detectors.Round(pop.ctitQ[len(pop.ctitQ)/2]/3600, 2),
		LongShare: detectors.Round(float64(long)/float64(n), 3), PopulationLong: detectors.Round(pop.ctitLong, 3), ThresholdHours: p.CTITLongHours,
		KS: detectors.Round(d, 3), KSPValue: sig(ksPValue((en + 0.12 + 0.11/en) * d)), PopulationOrders: pop.ctitN,
		BinomialPValue: sig(detectors.BinomialTail(int64(long), int64(n), math.Max(pop.ctitLong, p.MinBaseRate))),
	}
	c.Late = n >= p.CTITMinOrders && d >= p.CTITMinKS && c.KSPValue <= p.CTITMaxPValue && c.BinomialPValue <= p.CTITMaxPValue &&
		float64(long)/float64(n) > pop.ctitLong
	return c
}

// popCDF is the population's CDF at x, linear between percentiles 1..99.
func popCDF(q []float64, x float64) float64 {
	k := len(q)
	i := sort.SearchFloat64s(q, x)
	switch {
	case i == 0:
		return 0.01 * math.Min(1, x/math.Max(q[0], 1e-9))
	case i >= k:
		return 0.99 + 0.01*math.Min(1, (x-q[k-1])/math.Max(q[k-1], 1e-9))
	}
	lo, hi := q[i-1], q[i]
	frac := 0.0
	if hi > lo {
		frac = (x - lo) / (hi - lo)
	}
	return (float64(i) + frac) / 100
}

// ksPValue is the Kolmogorov distribution's tail Q(λ).
func ksPValue(lambda float64) float64 {
	if lambda < 0.2 {
		return 1
	}
	s := 0.0
	for j := 1; j <= 100; j++ {
		t := 2 * math.Pow(-1, float64(j-1)) * math.Exp(-2*float64(j*j)*lambda*lambda)
		s += t
		if math.Abs(t) < 1e-12 {
			break
		}
	}
	return math.Min(math.Max(s, 0), 1)
}

func median(xs []float64) float64 {
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// signalEvidence is one fired mechanism as a reviewer checks it.
type signalEvidence struct {
	Signal           string   `json:"signal"`
	Hits             int64    `json:"hits"`
	Known            int64    `json:"known"`
	Rate             float64  `json:"rate"`
	PopulationRate   float64  `json:"population_rate"`
	MinShare         float64  `json:"min_share"`
	PValue           float64  `json:"p_value"`
	ExampleClickIDs  []string `json:"example_click_ids"`
	OrdersCredited   int      `json:"orders_credited"`
	CommissionUSD    float64  `json:"commission_usd"`
	FirstHit         string   `json:"first_hit"`
	LastHit          string   `json:"last_hit"`
	PublishersHit    *int64   `json:"publishers_overwritten,omitempty"`
	ExampleDevices   []string `json:"example_device_ids,omitempty"`
	SelfReferrerHits *int64   `json:"self_referrer_hits,omitempty"`
	SelfRefClicks    *int64   `json:"self_referrer_clicks,omitempty"`
}

func finding(ctx context.Context, env detectors.Env, rule rules.Rule, p Thresholds, pop population, pub string,
	fired []judged, xs []float64, winStart, winEnd time.Time) (detectors.Finding, error) {
	order := map[string]int{mNotLanded: 0, mFrame: 1, mRedirect: 2, mOverwrite: 3, mCapture: 4}
	sort.Slice(fired, func(i, j int) bool { return order[fired[i].mechanism] < order[fired[j].mechanism] })

	orders := map[string]float64{}
	var sigs []signalEvidence
	var names []string
	for _, j := range fired {
		comm := 0.0
		for _, o := range j.credited {
			orders[o.OrderID] = o.Commission
			comm += o.Commission
		}
		se := signalEvidence{
			Signal: signalNames[j.mechanism], Hits: j.hits, Known: j.known, Rate: detectors.Round(j.rate, 3),
			PopulationRate: detectors.Round(j.popRate, 4), MinShare: j.minShare, PValue: sig(j.pValue),
			ExampleClickIDs: j.examples, OrdersCredited: len(j.credited), CommissionUSD: detectors.Round(comm, 2),
			FirstHit: j.first.UTC().Format(time.RFC3339), LastHit: j.last.UTC().Format(time.RFC3339),
		}
		if j.mechanism == mOverwrite {
			v := j.victims
			se.PublishersHit, se.ExampleDevices = &v, j.devices
		}
		if j.mechanism == mCapture && j.referrerKnown > 0 {
			v, w := j.selfRef, j.selfRefClicks
			se.SelfReferrerHits, se.SelfRefClicks = &v, &w
		}
		sigs = append(sigs, se)
		names = append(names, signalNames[j.mechanism])
	}
	ctit := compareCTIT(xs, p, pop)

	score := 1.0
	for _, j := range fired {
		score *= 1 - weights[j.mechanism]
	}
	if len(orders) > 0 {
		score *= 1 - weights["orders_credited"]
		names = append(names, "orders_credited")
	}
	if ctit != nil && ctit.Late {
		score *= 1 - weights["late_orders"]
		names = append(names, "late_orders")
	}
	score = detectors.Round(1-score, 3)
	severity := detectors.SeverityFromScore(score)

	ids := make([]string, 0, len(orders))
	total := 0.0
	for id := range orders {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		total += orders[id]
	}
	top := fired[0]
	for _, j := range fired[1:] {
		if j.hits > top.hits {
			top = j
		}
	}
	// The list entries behind the GIVT clicks set aside: a finding that
	// used a list names it, its version and what matched.
	givtMatches := []any{}
	if top.givtClicks > 0 {
		var v any
		if err := env.DB.QueryRowContext(ctx, queries["PublisherGIVTMatches"], winStart, winEnd, pub).Scan(&v); err != nil {
			return detectors.Finding{}, fmt.Errorf("cookie_stuffing: GIVT matches of %s: %w", pub, err)
		}
		if xs, ok := v.([]any); ok {
			givtMatches = xs
		}
	}
	evidence := map[string]any{
		"window_start":          winStart.UTC().Format(time.RFC3339),
		"window_end":            winEnd.UTC().Format(time.RFC3339),
		"clicks":                top.clicks,
		"orders":                top.orders,
		"signals":               names,
		"mechanisms":            sigs,
		"ctit":                  ctit,
		"population_publishers": pop.publishers,
		"orders_at_stake":       len(ids),
		// Hits of automated agents are invalid clicks (E.10.c), judged by
		// click_burst, never counted as stuffing: what was set aside.
		"set_aside": map[string]any{
			"givt_clicks":            top.givtClicks,
			"givt_matches":           givtMatches,
			"automated_not_rendered": top.automatedHits,
			"why":                    "clicks the reference lists label general invalid traffic, and non-rendered hits on devices that never rendered a page through another publisher's link nor paid an order, are automated traffic (E.10.c), not stuffing of shoppers' cookies",
		},
		"single_signal": len(fired) == 1 && len(orders) == 0,
	}
	body, err := json.Marshal(evidence)
	if err != nil {
		return detectors.Finding{}, err
	}
	unit := units[top.mechanism]
	if unit == "" {
		unit = "clicks"
	}
	summary := fmt.Sprintf("%s of %s %s (%s) %s; program median %s", detectors.Thousands(top.hits), detectors.Thousands(top.known), unit,
		pct(top.rate), signalText[top.mechanism], pct(top.popRate))
	if len(fired) > 1 {
		summary += fmt.Sprintf(", plus %d other stuffing mechanism(s)", len(fired)-1)
	}
	if len(ids) > 0 {
		summary += fmt.Sprintf("; %d order(s) worth US$%.2f commission credited to the forced clicks", len(ids), total)
	}
	summary += "."
	return detectors.Finding{
		PublisherID:   pub,
		Severity:      severity,
		Score:         score,
		Summary:       summary,
		Evidence:      body,
		WindowStart:   winStart.UTC(),
		WindowEnd:     winEnd.UTC(),
		OrderIDs:      ids,
		CommissionUSD: detectors.Round(total, 2),
	}, nil
}

func floatList(v any) []float64 {
	xs, _ := v.([]any)
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if f, ok := x.(float64); ok {
			out = append(out, f)
		}
	}
	return out
}

func orderList(v any) []creditedOrder {
	xs, _ := v.([]any)
	out := make([]creditedOrder, 0, len(xs))
	for _, x := range xs {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		id, _ := m["order_id"].(string)
		c, _ := m["commission"].(float64)
		out = append(out, creditedOrder{OrderID: id, Commission: c})
	}
	return out
}

// sig keeps three significant digits of a p-value.
func sig(x float64) float64 {
	v, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 3, 64), 64)
	if err != nil || math.IsNaN(v) {
		return 0
	}
	return v
}

func pct(x float64) string {
	v := 100 * x
	if v > 0 && v < 1 {
		return fmt.Sprintf("%.1f %%", v)
	}
	return fmt.Sprintf("%.0f %%", v)
}

// RawLookbackDays implements detectors.RawLookback: the look-back ends
// with the night (lookback_days − 1 days before it), and the night's own
// overwrites reach up to a day further back, for clicks just after
// midnight.
func (Detector) RawLookbackDays(pack *rules.Pack) (int, error) {
	rule, err := pack.Rule(detectors.CookieStuffing)
	if err != nil {
		return 0, err
	}
	p, err := thresholds.From(rule)
	return p.LookbackDays + 1, err
}

// prepareDevices keeps, per day, the publishers through whose links each
// device rendered a landing page and the devices orders were paid from:
// whether a person uses a device is read over every click and order the
// program held.
func prepareDevices(ctx context.Context, db *sql.DB) error {
	return detectors.DayState{
		Days: "cookie_stuffing_device_days", State: "cookie_stuffing_device_state",
		Clicks: true, Orders: true,
		Compute: queries["DeviceDays"],
	}.UpdateHeld(ctx, db)
}

// prepareBuyers keeps each buyer's orders per day (count and first
// timestamp): a buyer's first order is read over every order held.
func prepareBuyers(ctx context.Context, db *sql.DB) error {
	return detectors.DayState{
		Days: "cookie_stuffing_buyer_days", State: "cookie_stuffing_buyer_state",
		Orders: true, Compute: queries["BuyerDays"],
	}.UpdateHeld(ctx, db)
}
