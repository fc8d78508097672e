// Package invalidcommission audits, order by order, the commission the
// platform booked on attributed orders against the program's commission
// terms (the rule pack's `commission:` section, from epn-commission-table.txt
// and epn-rates-and-rules.txt): the cookie window of the delivery region,
// the delivery country against the click's IP country, refunded, disputed
// and cancelled orders (clause 1.12: not Qualifying Purchases), 0 %
// categories, coupon orders where the pack disqualifies them, the per-order
// cap and the commission Table 1 allows. It feeds clause 7.8's
// Disqualified Purchases Report: every order carries its reason codes and
// the money at stake on it (the whole booked commission when the order is
// disqualified, only the excess when it is merely overpaid), which the
// penalty engine withholds or claws back (7.9).
//
// Most of what it finds is no one's fault (refunds, gifts shipped abroad,
// a tab reopened a day late), so a finding is low unless a large share of
// the publisher's orders, well above the program's share, is disqualified
// and real money is at stake.
package invalidcommission

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/rules"
)

//go:embed invalidcommission.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// Detector is the invalid_commission detector.
type Detector struct{}

// Code implements detectors.Detector.
func (Detector) Code() string { return detectors.InvalidCommission }

// Reason codes, in the order an order lists them.
const (
	OrderBeforeClick    = "order_before_click"
	CookieWindowExpired = "cookie_window_expired"
	CountryMismatch     = "country_mismatch"
	Refunded            = "refunded"
	Disputed            = "disputed"
	Cancelled           = "cancelled"
	ZeroRateCategory    = "zero_rate_category"
	Coupon              = "coupon"
	OverCap             = "over_cap"
	Overpaid            = "overpaid"
)

// Reasons lists every reason code in that order.
var Reasons = []string{OrderBeforeClick, CookieWindowExpired, CountryMismatch, Refunded, Disputed, Cancelled,
	ZeroRateCategory, Coupon, OverCap, Overpaid}

// Clauses say, per reason, which term the order breaks, quoted from
// ../shared/policy/ so a reviewer can defend it (G.12).
var Clauses = map[string]string{
	OrderBeforeClick: `1.12: Qualifying Purchases are purchases "via Participants advertisement"; a click after the payment did not lead to it (7.8)`,
	CookieWindowExpired: `cookie window: epn-rates-and-rules.txt "15 days - for the CIS countries; 3 days - for other countries" ` +
		`(epn-commission-table.txt: 14 days for the CIS; the longer applies, docs/DECISIONS.md); 1.12, 7.8`,
	CountryMismatch: `epn-rates-and-rules.txt: "in order to calculate the commission in full, it is necessary that the country of ` +
		`delivery of the order matches the country according to the click IP address"`,
	Refunded: `1.12: "transactions on the AliExpress Site that are refunded by Buyer shall not be deemed as a Qualifying Purchase"; 7.8`,
	Disputed: `epn-commission-table.txt: "Commission will be rejected if there is opened dispute for the order"; epn-rates-and-rules.txt: ` +
		`"In case of opening a dispute on the order, the amount of the commission on it will be deducted from your balance"`,
	Cancelled: `1.12: a purchase counts only when "completed" by the Buyer, which a cancelled order never is; 7.8`,
	ZeroRateCategory: `epn-commission-table.txt Table 1: "special category * 0%" (virtual products, gift cards, coupons, books, travel services); ` +
		`epn-rates-and-rules.txt: "Transportation costs / mobile payments / any kind of virtual goods and services 0%"`,
	Coupon: `epn-commission-table.txt: "AliExpress can cancel orders on its end if the buyer uses one of the AliExpress coupons" ` +
		`(the pack's coupon_orders: disqualify)`,
	OverCap: `epn-commission-table.txt: "The limitation of your total commission for each order is $38.5"; epn-rates-and-rules.txt: ` +
		`"no more than $ 38.5 per order"`,
	Overpaid: `epn-commission-table.txt Table 1 (category rates, 0.8% for the listed brand stores, Hot Sale "up to 70%" only via a ` +
		`link "that leads directly to this product"); "The commission is always 'cut off' to downwards" (1-2 cents tolerated)`,
}

var reasonText = map[string]string{
	OrderBeforeClick: "paid before the click", CookieWindowExpired: "paid after the cookie window",
	CountryMismatch: "delivered to another country than the click's", Refunded: "refunded", Disputed: "disputed",
	Cancelled: "cancelled", ZeroRateCategory: "in a 0 % category", Coupon: "paid with a coupon",
	OverCap: "booked above the per-order cap", Overpaid: "booked above the category rate",
}

// unit is money in US$0.0001, the store's DECIMAL(18,4) as an integer:
// sums of units never drift.
type unit int64

func (u unit) usd() float64 { return float64(u) / 1e4 }

// Thresholds are invalid_commission's tunable values
// (rules.invalid_commission.thresholds in the pack).
type Thresholds struct {
	MaxExamples int     `yaml:"max_examples" range:"[0,1000]"`
	Tolerance   float64 `yaml:"overpaid_tolerance_usd" range:"[0,]"`
	MedOrders   int     `yaml:"medium_min_orders" range:"[0,]"`
	MedShare    float64 `yaml:"medium_min_share" range:"[0,1]"`
	MedRatio    float64 `yaml:"medium_min_ratio" range:"[0,]"`
	MedUSD      float64 `yaml:"medium_min_usd" range:"[0,]"`
	HighOrders  int     `yaml:"high_min_orders" range:"[0,]"`
	HighShare   float64 `yaml:"high_min_share" range:"[0,1]"`
	HighRatio   float64 `yaml:"high_min_ratio" range:"[0,]"`
	HighUSD     float64 `yaml:"high_min_usd" range:"[0,]"`
}

var thresholds = rules.Declare[Thresholds](detectors.InvalidCommission)

// terms are the pack's commission terms as the query binds them; a nil
// `any` binds SQL NULL (the check it feeds is skipped).
type terms struct {
	cis                []string
	cisMS, otherMS     any
	cats               []string
	bps                []int64
	defaultBP, brandBP any
	hotBP, cisMaxBP    any
	zero, brands       []string
	capU               int64
	couponDisqualified bool
	cookieDays         map[string]int
	inSession          []string
	sessionMinutes     int
	perOrderCapUSD     float64
	couponPolicy       string
}

func bp(pct *float64) any {
	if pct == nil {
		return nil
	}
	v, _ := rules.RateBP(*pct)
	return v
}

func loadTerms(c rules.Commission) terms {
	t := terms{cookieDays: c.CookieDays, inSession: c.InSession, sessionMinutes: c.SessionMinutes,
		perOrderCapUSD: c.PerOrderCapUSD, couponPolicy: c.CouponOrders}
	if t.couponPolicy == "" {
		t.couponPolicy = rules.CouponAllow
	}
	for _, cc := range c.CISCountries {
		t.cis = append(t.cis, strings.ToUpper(cc))
	}
	window := func(region string) any {
		for _, r := range c.InSession {
			if r == region {
				return int64(c.SessionMinutes) * int64(time.Minute/time.Millisecond)
			}
		}
		d, ok := c.CookieDays[region]
		if !ok {
			return nil
		}
		return int64(d) * int64(24*time.Hour/time.Millisecond)
	}
	t.cisMS, t.otherMS = window(rules.RegionCIS), window(rules.RegionOther)
	names := make([]string, 0, len(c.CategoryRates))
	for k := range c.CategoryRates {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v, _ := rules.RateBP(c.CategoryRates[k])
		t.cats = append(t.cats, rules.NormalizeCategory(k))
		t.bps = append(t.bps, v)
	}
	for _, z := range c.ZeroRateCategories {
		t.zero = append(t.zero, rules.NormalizeCategory(z))
	}
	for _, b := range c.BrandStores {
		t.brands = append(t.brands, strings.ToLower(strings.TrimSpace(b)))
	}
	t.defaultBP, t.brandBP, t.hotBP, t.cisMaxBP = bp(c.DefaultRate), bp(c.BrandStoreRate), bp(c.HotSaleMaxRate), bp(c.CISMaxRate)
	t.capU = int64(math.Round(c.PerOrderCapUSD * 1e4))
	t.couponDisqualified = c.CouponOrders == rules.CouponDisqualify
	if t.cats == nil {
		t.cats, t.bps = []string{}, []int64{}
	}
	if t.zero == nil {
		t.zero = []string{}
	}
	if t.brands == nil {
		t.brands = []string{}
	}
	if t.cis == nil {
		t.cis = []string{}
	}
	return t
}

// row is one attributed order that breaks a term.
type row struct {
	publisher, order                  string
	ts                                time.Time
	clickTS                           sql.NullTime
	delayMS, windowMS, rateBP         sql.NullInt64
	region, ship, ipCountry, category sql.NullString
	status                            sql.NullString
	booked, atStake                   unit
	expected                          sql.NullInt64
	reasons                           []string
	disqualified                      bool
	pubOrders, pubAtStake             int64
	allOrders, allDisqualified        int64
}

// Global table names (detectors.GlobalTable): what a partition, holding
// only its publishers' clicks and orders, cannot see for itself.
const (
	// tableClicks holds the clicks of orders whose click id has rows of
	// another publisher than the order's.
	tableClicks = "invalid_commission_clicks"
	// tableOwners says which publisher's booking counts for an order id
	// booked to several.
	tableOwners = "invalid_commission_order_owners"
	// tableProgram holds the program's attributed and disqualified orders
	// of the window. Its query reads the two tables above, so it comes
	// after them.
	tableProgram = "invalid_commission_program"
)

// audit is what Run and GlobalTables both derive from the pack and the
// scope: the window and the audit query's arguments.
type audit struct {
	rule       rules.Rule
	p          Thresholds
	t          terms
	start, end time.Time
	ok         bool // the scope has days to judge
	args       []any
}

func newAudit(ctx context.Context, env detectors.Env) (audit, error) {
	var a audit
	var err error
	if a.rule, err = env.Pack.Rule(detectors.InvalidCommission); err != nil {
		return a, err
	}
	if a.p, err = thresholds.From(a.rule); err != nil {
		return a, err
	}
	a.t = loadTerms(env.Pack.Commission)
	if a.start, a.end, a.ok, err = env.Night.Days(); err != nil || !a.ok {
		return a, err
	}
	t := a.t
	tolU := int64(math.Round(a.p.Tolerance * 1e4))
	a.args = []any{a.start, a.end, t.cis, t.cisMS, t.otherMS, t.cats, t.bps,
		t.defaultBP, t.zero, t.brands, t.brandBP, t.hotBP, t.cisMaxBP, t.capU, t.couponDisqualified, tolU}
	return a, nil
}

func (a audit) tables() []detectors.GlobalTable {
	if !a.ok {
		return nil
	}
	return []detectors.GlobalTable{
		{Name: tableClicks, Query: queries["Clicks"], Args: []any{a.start, a.end}},
		{Name: tableOwners, Query: queries["OrderOwners"], Args: []any{a.start, a.end}},
		{Name: tableProgram, Query: queries["Audit"] + "\n" + queries["Program"], Args: a.args},
	}
}

// GlobalTables implements detectors.GlobalStater: an order's click may be
// another publisher's (so in another partition), an order id may be booked
// to publishers of several partitions, and the program's disqualified
// share is over every publisher's orders.
func (Detector) GlobalTables(ctx context.Context, env detectors.Env) ([]detectors.GlobalTable, error) {
	a, err := newAudit(ctx, env)
	return a.tables(), err
}

// Run implements detectors.Detector.
func (Detector) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	a, err := newAudit(ctx, env)
	if err != nil {
		return nil, err
	}
	rule, p, t := a.rule, a.p, a.t
	ok, err := signals(ctx, env, t)
	if err != nil || !ok || !a.ok {
		return nil, err
	}
	if err := detectors.PrepareGlobals(ctx, env, a.tables()); err != nil {
		return nil, err
	}
	start, end := a.start, a.end
	rs, err := env.DB.QueryContext(ctx, queries["Audit"]+"\n"+queries["Orders"], a.args...)
	if err != nil {
		return nil, fmt.Errorf("invalid_commission: orders: %w", err)
	}
	defer rs.Close()
	var byPub [][]row
	for rs.Next() {
		var x row
		var reasons any
		var expected sql.NullInt64
		if err := rs.Scan(&x.publisher, &x.order, &x.ts, &x.clickTS, &x.delayMS, &x.windowMS, &x.region, &x.ship, &x.ipCountry,
			&x.category, &x.status, &x.rateBP, &x.booked, &expected, &x.atStake, &reasons, &x.disqualified,
			&x.pubOrders, &x.pubAtStake, &x.allOrders, &x.allDisqualified); err != nil {
			return nil, err
		}
		x.expected = expected
		if l, ok := reasons.([]any); ok {
			for _, v := range l {
				if s, ok := v.(string); ok {
					x.reasons = append(x.reasons, s)
				}
			}
		}
		if n := len(byPub); n == 0 || byPub[n-1][0].publisher != x.publisher {
			byPub = append(byPub, nil)
		}
		byPub[len(byPub)-1] = append(byPub[len(byPub)-1], x)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	out := make([]detectors.Finding, 0, len(byPub))
	for _, orders := range byPub {
		f, err := finding(rule, p, t, orders, start, end)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// signals records what the input lacks; ok is false when there is nothing
// to audit (no commission booked in the input).
func signals(ctx context.Context, env detectors.Env, t terms) (bool, error) {
	code := detectors.InvalidCommission
	o, err := detectors.Columns(ctx, env.DB, "orders", "commission_usd", "click_id", "ship_country", "status", "category",
		"coupon", "hot_sale", "product_id", "seller_id")
	if err != nil {
		return false, err
	}
	c, err := detectors.Columns(ctx, env.DB, "clicks", "ip_country", "target_type", "target_id")
	if err != nil {
		return false, err
	}
	s, err := detectors.Columns(ctx, env.DB, "sellers", "name")
	if err != nil {
		return false, err
	}
	if !o["commission_usd"] {
		env.Signals.Add(code, "orders.commission_usd", "column absent or empty: no booked commission to audit, detector not run")
		return false, nil
	}
	add := func(have bool, signal, reason string) {
		if !have {
			env.Signals.Add(code, signal, reason)
		}
	}
	add(o["click_id"], "orders.click_id", "column absent or empty: cookie_window_expired, order_before_click and country_mismatch unavailable; a Hot Sale rate is assumed possible")
	add(o["ship_country"], "orders.ship_country", "column absent or empty: country_mismatch unavailable; the longest region window and the CIS rate bound apply to every order")
	add(c["ip_country"], "clicks.ip_country", "column absent or empty: country_mismatch unavailable")
	add(o["status"], "orders.status", "column absent or empty: refunded, disputed and cancelled unavailable")
	add(o["category"], "orders.category", "column absent or empty: zero_rate_category unavailable; the expected commission uses the highest category rate")
	if t.couponDisqualified {
		add(o["coupon"], "orders.coupon", "column absent or empty: coupon unavailable")
	}
	add(o["hot_sale"], "orders.hot_sale", "column absent or empty: every order whose click led straight to its product may carry the Hot Sale rate")
	add(c["target_type"] && c["target_id"] && o["product_id"], "clicks.target_type", "clicks.target_type/target_id or orders.product_id absent or empty: a Hot Sale good may carry the Hot Sale rate whatever the link led to")
	add(s["name"] || o["seller_id"], "sellers.name", "no seller names or ids: brand stores (0.8 %) are not recognized, their orders are judged at the category rate")
	if t.defaultBP == nil {
		env.Signals.Add(code, "rules.commission.default_rate", "the pack has no category table: over_cap is checked, overpaid is not")
	}
	for _, region := range []string{rules.RegionCIS, rules.RegionOther} {
		if _, ok := t.cookieDays[region]; !ok {
			env.Signals.Add(code, "rules.commission.cookie_days."+region, "the pack gives no cookie window for this region: its orders' windows are not judged")
		}
	}
	return true, nil
}

// OrderStake is one order's entry in the evidence's order_reasons: what the
// penalty engine puts on the Disqualified Purchases Report (7.8).
type OrderStake struct {
	Reasons    []string `json:"reasons"`
	AtStakeUSD float64  `json:"at_stake_usd"`
}

type example struct {
	OrderID       string   `json:"order_id"`
	OrderTS       string   `json:"order_ts"`
	ClickTS       string   `json:"click_ts,omitempty"`
	DelayHours    *float64 `json:"delay_hours,omitempty"`
	WindowHours   *float64 `json:"window_hours,omitempty"`
	OverWindowSec *int64   `json:"over_window_seconds,omitempty"`
	Region        string   `json:"region,omitempty"`
	ShipCountry   string   `json:"ship_country,omitempty"`
	ClickCountry  string   `json:"click_ip_country,omitempty"`
	Category      string   `json:"category,omitempty"`
	Status        string   `json:"status,omitempty"`
	RatePct       *float64 `json:"expected_rate_pct,omitempty"`
	BookedUSD     float64  `json:"booked_usd"`
	ExpectedUSD   *float64 `json:"expected_usd,omitempty"`
	AtStakeUSD    float64  `json:"at_stake_usd"`
	Reasons       []string `json:"reasons"`
}

type reasonEvidence struct {
	Orders     int       `json:"orders"`
	AtStakeUSD float64   `json:"at_stake_usd"`
	Clause     string    `json:"clause"`
	Examples   []example `json:"examples"`
}

func exampleOf(x row) example {
	e := example{OrderID: x.order, OrderTS: x.ts.UTC().Format(time.RFC3339), Region: x.region.String,
		ShipCountry: x.ship.String, ClickCountry: x.ipCountry.String, Category: x.category.String, Status: x.status.String,
		BookedUSD: x.booked.usd(), AtStakeUSD: x.atStake.usd(), Reasons: x.reasons}
	if x.clickTS.Valid {
		e.ClickTS = x.clickTS.Time.UTC().Format(time.RFC3339)
	}
	hours := func(ms sql.NullInt64) *float64 {
		if !ms.Valid {
			return nil
		}
		h := detectors.Round(float64(ms.Int64)/3.6e6, 3)
		return &h
	}
	if x.clickTS.Valid {
		e.DelayHours = hours(x.delayMS)
		e.WindowHours = hours(x.windowMS)
		if x.delayMS.Valid && x.windowMS.Valid && x.delayMS.Int64 > x.windowMS.Int64 {
			over := (x.delayMS.Int64 - x.windowMS.Int64) / 1000
			e.OverWindowSec = &over
		}
	}
	if x.rateBP.Valid {
		r := float64(x.rateBP.Int64) / 100
		e.RatePct = &r
	}
	if x.expected.Valid {
		v := unit(x.expected.Int64).usd()
		e.ExpectedUSD = &v
	}
	return e
}

func finding(rule rules.Rule, p Thresholds, t terms, orders []row, start, end time.Time) (detectors.Finding, error) {
	pub := orders[0].publisher
	per := map[string]*reasonEvidence{}
	stakes := make(map[string]OrderStake, len(orders))
	ids := make([]string, 0, len(orders))
	var disq int
	var disqU, overU, bookedU unit
	singleSignal := true
	perU := map[string]unit{}
	for _, x := range orders {
		ids = append(ids, x.order)
		stakes[x.order] = OrderStake{Reasons: x.reasons, AtStakeUSD: x.atStake.usd()}
		bookedU += x.booked
		if x.disqualified {
			disq++
			disqU += x.atStake
		} else {
			overU += x.atStake
		}
		for _, r := range x.reasons {
			if r != CountryMismatch {
				singleSignal = false
			}
			e := per[r]
			if e == nil {
				e = &reasonEvidence{Clause: Clauses[r], Examples: []example{}}
				per[r] = e
			}
			e.Orders++
			perU[r] += x.atStake
			if len(e.Examples) < p.MaxExamples {
				e.Examples = append(e.Examples, exampleOf(x))
			}
		}
	}
	for r, e := range per {
		e.AtStakeUSD = perU[r].usd()
	}
	sort.Strings(ids)
	first := orders[0]
	share := float64(disq) / float64(first.pubOrders)
	popShare := 0.0
	if first.allOrders > 0 {
		popShare = float64(first.allDisqualified) / float64(first.allOrders)
	}
	level := func(minOrders int, minShare, minRatio, minUSD float64) bool {
		return disq >= minOrders && share >= minShare && share >= minRatio*popShare && disqU.usd() >= minUSD
	}
	severity := "low"
	switch {
	case level(p.HighOrders, p.HighShare, p.HighRatio, p.HighUSD):
		severity = "high"
	case level(p.MedOrders, p.MedShare, p.MedRatio, p.MedUSD):
		severity = "medium"
	}
	score := 0.0
	if p.HighShare > 0 && p.HighUSD > 0 {
		score = detectors.Round(0.5*math.Min(1, share/p.HighShare)+0.5*math.Min(1, disqU.usd()/p.HighUSD), 3)
	}
	total := unit(first.pubAtStake) // summed in SQL over the publisher's orders
	reasonCounts := map[string]int{}
	for r, e := range per {
		reasonCounts[r] = e.Orders
	}
	evidence := map[string]any{
		"orders_attributed":          first.pubOrders,
		"orders_flagged":             len(orders),
		"orders_disqualified":        disq,
		"orders_overpaid_only":       len(orders) - disq,
		"disqualified_share":         detectors.Round(share, 4),
		"program_disqualified_share": detectors.Round(popShare, 4),
		"program":                    map[string]any{"orders_attributed": first.allOrders, "orders_disqualified": first.allDisqualified},
		"commission_at_stake_usd":    total.usd(),
		"disqualified_usd":           disqU.usd(),
		"overpaid_usd":               overU.usd(),
		"booked_usd_of_flagged":      bookedU.usd(),
		"reason_counts":              reasonCounts,
		"reasons":                    per,
		"order_reasons":              stakes,
		"single_signal":              singleSignal,
		"window":                     map[string]string{"start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339)},
		"terms": map[string]any{
			"cookie_days": t.cookieDays, "cis_countries": t.cis, "in_session": nonNil(t.inSession), "session_minutes": t.sessionMinutes,
			"per_order_cap_usd": t.perOrderCapUSD, "coupon_orders": t.couponPolicy, "overpaid_tolerance_usd": p.Tolerance,
		},
		"definition": "attributed orders with commission booked, paid in the window; at stake: the whole booked commission of a " +
			"disqualified order, only the excess over the expected commission (Table 1, cut down to the cent, capped) of an " +
			"overpaid one; expected: the most any reading of the terms pays (unknown category, a possible Hot Sale, a CIS " +
			"order's seller-set rate take the highest rate); an order with several reasons counts once in the totals and in " +
			"each reason's count",
	}
	body, err := json.Marshal(evidence)
	if err != nil {
		return detectors.Finding{}, err
	}
	var parts []string
	for _, r := range Reasons {
		if e, ok := per[r]; ok {
			parts = append(parts, fmt.Sprintf("%d %s", e.Orders, reasonText[r]))
		}
	}
	summary := fmt.Sprintf("%d of %d attributed orders break the commission terms (US$%.2f at stake): %s.",
		len(orders), first.pubOrders, total.usd(), strings.Join(parts, ", "))
	return detectors.Finding{
		PublisherID:   pub,
		Severity:      severity,
		Score:         score,
		Summary:       summary,
		Evidence:      body,
		WindowStart:   start.UTC(),
		WindowEnd:     end.UTC(),
		OrderIDs:      ids,
		CommissionUSD: total.usd(),
	}, nil
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// RawLookbackDays implements detectors.RawLookback: an order's click is
// read whatever its age, and decides the order up to the longest cookie
// window; a click older than that decides it as expired, so one more day
// is kept.
func (Detector) RawLookbackDays(pack *rules.Pack) (int, error) {
	longest := 0
	for _, d := range pack.Commission.CookieDays {
		longest = max(longest, d)
	}
	return longest + 1, nil
}
