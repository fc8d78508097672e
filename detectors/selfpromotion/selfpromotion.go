// Package selfpromotion finds sellers who joined the affiliate program to
// advertise their own storefront (clause E.10.k): a publisher that shares an
// identity with a seller (the same legal entity, payout account, e-mail or
// phone) and whose clicks and attributed orders go to that seller's store at
// a share far above what the rest of the program sends there.
//
// Both halves are needed. A seller's publisher account that promotes other
// stores breaks no rule, and a fan site concentrated on one store it has no
// identifier link to is not E.10.k: concentration without a link is only
// taste. An identifier value that many accounts share (a pooled payout
// account, a placeholder e-mail) links nobody.
package selfpromotion

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/rules"
)

//go:embed selfpromotion.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// Detector is the self_promotion detector.
type Detector struct{}

// Code implements detectors.Detector.
func (Detector) Code() string { return detectors.SelfPromotion }

// identifiers are the columns, present in both publishers and sellers, that
// can tie the two accounts to one person; hard ones are about money or law.
var identifiers = []string{"entity_id", "payout_hash", "email_hash", "phone_hash"}

var hardIdentifiers = map[string]bool{"entity_id": true, "payout_hash": true}

// Thresholds are self_promotion's tunable values
// (rules.self_promotion.thresholds in the pack).
type Thresholds struct {
	LookbackDays        int     `yaml:"lookback_days" range:"[1,366]"`
	MaxAccounts         int     `yaml:"max_accounts_per_identifier" range:"[2,]"` // a link needs two accounts
	MinClicks           int     `yaml:"min_store_clicks" range:"[1,]"`
	MinOrders           int     `yaml:"min_store_orders" range:"[1,]"`
	MinShare            float64 `yaml:"min_share" range:"(0,1]"`
	MinLift             float64 `yaml:"min_lift" range:"[1,]"`
	MaxP                float64 `yaml:"max_p_value" range:"(0,1)"`
	StrongShare         float64 `yaml:"strong_share" range:"(0,1]"`
	ContactWeight       float64 `yaml:"contact_link_weight" range:"(0,1]"`
	MinWindowActivities int     `yaml:"min_window_activity" range:"[0,]"`
}

var thresholds = rules.Declare[Thresholds](detectors.SelfPromotion)

// link is one publisher–seller pair sharing identifiers.
type link struct {
	publisher, seller, sellerName string
	matched, ignored              []string
	holders                       []map[string]any
}

// shares is what Shares returns for one linked pair.
type shares struct {
	pubClicks, pubStoreClicks, windowStoreClicks, popClicks, popStoreClicks int64
	pubOrders, pubStoreOrders, windowStoreOrders, popOrders, popStoreOrders int64
	unmappedClicks                                                          int64
	exampleClicks, orderIDs                                                 []string
	commission                                                              float64
}

// Global table names (detectors.GlobalTable): what a partition cannot see
// in its own clicks and orders.
const (
	// tableProducts maps the products the linked publishers' clicks point
	// to onto their seller, from every publisher's (and organic) orders.
	tableProducts = "self_promotion_product_sellers"
	// tablePopulation holds everyone's clicks and orders to each linked
	// seller, and the program's totals, over the look-back.
	tablePopulation = "self_promotion_population"
	// tableInputs says which optional click and order columns the input
	// fills anywhere.
	tableInputs = "self_promotion_inputs"
)

// plan is what Run and GlobalTables both derive from the pack, the scope
// and the (whole, in every partition) publishers and sellers tables.
type plan struct {
	rule                   rules.Rule
	p                      Thresholds
	pubCols, selCols       map[string]bool
	ident                  map[string]bool
	lbStart, lbEnd, ws, we time.Time
	ok                     bool // the scope has days to judge
	links                  []link
	linkedPubs             []string // the publishers of links with a matched identifier
	tables                 []detectors.GlobalTable
}

func newPlan(ctx context.Context, env detectors.Env) (plan, error) {
	var pl plan
	var err error
	if pl.rule, err = env.Pack.Rule(detectors.SelfPromotion); err != nil {
		return pl, err
	}
	if pl.p, err = thresholds.From(pl.rule); err != nil {
		return pl, err
	}
	if pl.pubCols, err = detectors.Columns(ctx, env.DB, "publishers", identifiers...); err != nil {
		return pl, err
	}
	if pl.selCols, err = detectors.Columns(ctx, env.DB, "sellers", identifiers...); err != nil {
		return pl, err
	}
	pl.ident = map[string]bool{}
	for _, c := range identifiers {
		pl.ident[c] = pl.pubCols[c] && pl.selCols[c]
	}
	pl.tables = []detectors.GlobalTable{{Name: tableInputs, Query: queries["Inputs"]}}
	if pl.lbStart, pl.lbEnd, pl.ws, pl.we, pl.ok, err = scope(ctx, env, pl.p); err != nil || !pl.ok {
		return pl, err
	}
	if pl.links, err = findLinks(ctx, env.DB, pl.p, pl.ident); err != nil {
		return pl, err
	}
	pubs, sellers := []string{}, []string{}
	for _, l := range pl.links {
		if len(l.matched) > 0 {
			pubs, sellers = append(pubs, l.publisher), append(sellers, l.seller)
		}
	}
	pl.linkedPubs = pubs
	pl.tables = append(pl.tables,
		detectors.GlobalTable{Name: tableProducts, Query: queries["ProductSellers"], Args: []any{pl.lbStart, pl.lbEnd, pubs},
			Prepare: func(ctx context.Context, db *sql.DB) error {
				if err := prepareProductPairs(ctx, db); err != nil {
					return err
				}
				return updateLinkedClicks(ctx, db, pubs, pl.lbStart, pl.lbEnd)
			}},
		detectors.GlobalTable{Name: tablePopulation, Query: queries["Population"], Args: []any{pl.lbStart, pl.lbEnd, sellers},
			Prepare: func(ctx context.Context, db *sql.DB) error {
				// The population's clicks per day and target, kept across
				// nights: a night counts its own day's clicks.
				return detectors.DayState{
					Days: "self_promotion_click_days", State: "self_promotion_click_counts",
					Clicks: true, Compute: queries["ClickCounts"],
				}.Update(ctx, db, pl.lbStart, pl.lbEnd)
			}})
	return pl, nil
}

// GlobalTables implements detectors.GlobalStater: which product belongs to
// which seller and the population's shares need every publisher's clicks
// and orders, and so does knowing whether the input fills a column.
func (Detector) GlobalTables(ctx context.Context, env detectors.Env) ([]detectors.GlobalTable, error) {
	pl, err := newPlan(ctx, env)
	return pl.tables, err
}

// Run implements detectors.Detector.
func (d Detector) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	pl, err := newPlan(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := detectors.PrepareGlobals(ctx, env, pl.tables); err != nil {
		return nil, err
	}
	use, err := usable(ctx, env, pl)
	if err != nil || !pl.ok || len(pl.links) == 0 {
		return nil, err
	}
	p, links := pl.p, pl.links
	// A partition counts its own publishers' clicks (the globals' copy of
	// the state stayed in the baselines pass); a whole run finds it done.
	if err := updateLinkedClicks(ctx, env.DB, pl.linkedPubs, pl.lbStart, pl.lbEnd); err != nil {
		return nil, fmt.Errorf("self_promotion: linked publishers' clicks: %w", err)
	}
	sh, err := measure(ctx, env.DB, queries["Shares"], links, pl.lbStart, pl.lbEnd, pl.ws, pl.we)
	if err != nil {
		return nil, err
	}
	var out []detectors.Finding
	for _, l := range links {
		if len(l.matched) == 0 {
			continue
		}
		s, ok := sh[l.publisher+"\x00"+l.seller]
		if !ok {
			continue
		}
		f, ok, err := judge(pl.rule, p, use, l, s, pl.lbStart, pl.lbEnd, pl.ws, pl.we)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// usability says which identifier and traffic columns hold data.
type usability struct {
	ident                 map[string]bool
	clicks, orders, prods bool
}

// usable records the signals the input lacks. The click and order columns
// are judged over the whole input (globals), not the partition's rows.
func usable(ctx context.Context, env detectors.Env, pl plan) (usability, error) {
	u := usability{ident: pl.ident}
	for _, c := range identifiers {
		if !pl.pubCols[c] {
			env.Signals.Add(detectors.SelfPromotion, "publishers."+c, "column absent or empty in the input: links through it cannot be seen")
		}
		if !pl.selCols[c] {
			env.Signals.Add(detectors.SelfPromotion, "sellers."+c, "column absent or empty in the input: links through it cannot be seen")
		}
	}
	var targetType, targetID, sellerID, productID, commission bool
	if err := env.DB.QueryRowContext(ctx, "SELECT clicks_target_type, clicks_target_id, orders_seller_id, orders_product_id, orders_commission_usd FROM globals."+tableInputs).
		Scan(&targetType, &targetID, &sellerID, &productID, &commission); err != nil {
		return u, fmt.Errorf("self_promotion: inputs: %w", err)
	}
	cl := map[string]bool{"target_type": targetType, "target_id": targetID}
	or := map[string]bool{"seller_id": sellerID, "product_id": productID, "commission_usd": commission}
	for _, c := range []string{"target_type", "target_id"} {
		if !cl[c] {
			env.Signals.Add(detectors.SelfPromotion, "clicks."+c, "column absent or empty in the input: the share of clicks to the linked store is not used, only orders")
		}
	}
	u.clicks = cl["target_type"] && cl["target_id"]
	if !or["seller_id"] {
		env.Signals.Add(detectors.SelfPromotion, "orders.seller_id", "column absent or empty in the input: orders to the linked store and product clicks cannot be attributed to a seller")
	}
	if or["seller_id"] && !or["product_id"] {
		env.Signals.Add(detectors.SelfPromotion, "orders.product_id", "column absent or empty in the input: clicks on product pages cannot be mapped to a seller, only store clicks count")
	}
	if !or["commission_usd"] {
		env.Signals.Add(detectors.SelfPromotion, "orders.commission_usd", "column absent or empty in the input: commission at stake is reported as 0")
	}
	u.orders = or["seller_id"]
	u.prods = or["seller_id"] && or["product_id"]
	return u, nil
}

// scope returns the look-back the shares are measured over and the window
// judged: the night with lookback_days of history ending with it, or for a
// backfill every day in the input for both. A backfill's span reads the
// local clicks and orders: backfills are whole runs, never partitioned.
func scope(ctx context.Context, env detectors.Env, p Thresholds) (lbStart, lbEnd, ws, we time.Time, ok bool, err error) {
	ws, we, ok, err = env.Night.Days()
	if err != nil || !ok {
		return lbStart, lbEnd, ws, we, ok, err
	}
	if env.Night.IsNight() {
		return env.Night.LookbackEnding(p.LookbackDays), we, ws, we, true, nil
	}
	return ws, we, ws, we, true, nil
}

func findLinks(ctx context.Context, db *sql.DB, p Thresholds, ident map[string]bool) ([]link, error) {
	if !ident["entity_id"] && !ident["payout_hash"] && !ident["email_hash"] && !ident["phone_hash"] {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, queries["Links"], int64(p.MaxAccounts),
		ident["entity_id"], ident["payout_hash"], ident["email_hash"], ident["phone_hash"])
	if err != nil {
		return nil, fmt.Errorf("self_promotion: links: %w", err)
	}
	defer rows.Close()
	var out []link
	for rows.Next() {
		var l link
		var name sql.NullString
		var matched, ignored, holders any
		if err := rows.Scan(&l.publisher, &l.seller, &name, &matched, &ignored, &holders); err != nil {
			return nil, err
		}
		l.sellerName = name.String
		l.matched, l.ignored, l.holders = detectors.StringList(matched), detectors.StringList(ignored), structList(holders)
		out = append(out, l)
	}
	return out, rows.Err()
}

// measure runs the Shares query (its text passed, so a test can run the
// replaced one beside it) for the linked pairs.
func measure(ctx context.Context, db *sql.DB, sharesQuery string, links []link, lbStart, lbEnd, ws, we time.Time) (map[string]shares, error) {
	var values []string
	args := []any{lbStart, lbEnd, ws, we}
	for _, l := range links {
		if len(l.matched) == 0 {
			continue
		}
		values = append(values, fmt.Sprintf("($%d, $%d)", len(args)+1, len(args)+2))
		args = append(args, l.publisher, l.seller)
	}
	out := map[string]shares{}
	if len(values) == 0 {
		return out, nil
	}
	// The VALUES list holds only numbered placeholders ($5, $6, …), bound
	// after the query's own $1..$4.
	rows, err := db.QueryContext(ctx, fmt.Sprintf(sharesQuery, strings.Join(values, ", ")), args...)
	if err != nil {
		return nil, fmt.Errorf("self_promotion: shares: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pub, sel string
		var s shares
		var clicks, orders any
		if err := rows.Scan(&pub, &sel, &s.pubClicks, &s.pubStoreClicks, &s.windowStoreClicks, &s.popClicks, &s.popStoreClicks,
			&s.pubOrders, &s.pubStoreOrders, &s.windowStoreOrders, &s.popOrders, &s.popStoreOrders, &s.unmappedClicks,
			&clicks, &orders, &s.commission); err != nil {
			return nil, err
		}
		s.exampleClicks, s.orderIDs = detectors.StringList(clicks), detectors.StringList(orders)
		out[pub+"\x00"+sel] = s
	}
	return out, rows.Err()
}

// test is one comparison of the publisher's share with the population's.
type test struct {
	Count           int64   `json:"count"`
	Total           int64   `json:"total"`
	Share           float64 `json:"share"`
	PopulationCount int64   `json:"population_count"`
	PopulationTotal int64   `json:"population_total"`
	PopulationShare float64 `json:"population_share"`
	Lift            float64 `json:"lift"`
	PValue          float64 `json:"p_value"`
	Passed          bool    `json:"passed"`
}

// compare tests whether count of total is far above the population's share:
// a count floor, an absolute share, a lift over the population and a
// one-sided binomial test against the population's (Laplace-smoothed) share,
// so a store nobody else links to does not make every click significant
// through a zero baseline alone.
func compare(count, total, popCount, popTotal int64, floor int, p Thresholds) test {
	t := test{Count: count, Total: total, PopulationCount: popCount, PopulationTotal: popTotal}
	if total > 0 {
		t.Share = float64(count) / float64(total)
	}
	if popTotal > 0 {
		t.PopulationShare = float64(popCount) / float64(popTotal)
	}
	p0 := (float64(popCount) + 1) / (float64(popTotal) + 2)
	t.Lift = t.Share / p0
	t.PValue = detectors.BinomialTail(count, total, p0)
	t.Passed = count >= int64(floor) && t.Share >= p.MinShare && t.Lift >= p.MinLift && t.PValue <= p.MaxP
	t.Share, t.PopulationShare, t.Lift = detectors.Round(t.Share, 4), detectors.Round(t.PopulationShare, 4), detectors.Round(t.Lift, 1)
	t.PValue = roundSig(t.PValue)
	return t
}

type evidence struct {
	Seller struct {
		ID   string `json:"seller_id"`
		Name string `json:"name"`
	} `json:"seller"`
	Link struct {
		Matched []string         `json:"matched_identifiers"`
		Kind    string           `json:"kind"`
		Ignored []string         `json:"ignored_identifiers,omitempty"`
		Holders []map[string]any `json:"accounts_per_identifier"`
	} `json:"link"`
	Clicks            *test    `json:"clicks,omitempty"`
	UnmappedClicks    int64    `json:"clicks_without_known_seller"`
	Orders            *test    `json:"orders,omitempty"`
	WindowStoreClicks int64    `json:"window_store_clicks"`
	WindowStoreOrders int64    `json:"window_store_orders"`
	LookbackStart     string   `json:"lookback_start"`
	LookbackEnd       string   `json:"lookback_end"`
	ExampleClickIDs   []string `json:"example_click_ids"`
	ExampleOrderIDs   []string `json:"example_order_ids"`
	CommissionUSD     float64  `json:"commission_usd"`
	Signals           []string `json:"signals"`
	SingleSignal      bool     `json:"single_signal"`
}

func judge(rule rules.Rule, p Thresholds, u usability, l link, s shares, lbStart, lbEnd, ws, we time.Time) (detectors.Finding, bool, error) {
	var ct, ot *test
	if u.clicks {
		t := compare(s.pubStoreClicks, s.pubClicks, s.popStoreClicks, s.popClicks, p.MinClicks, p)
		ct = &t
	}
	if u.orders {
		t := compare(s.pubStoreOrders, s.pubOrders, s.popStoreOrders, s.popOrders, p.MinOrders, p)
		ot = &t
	}
	clicksOK, ordersOK := ct != nil && ct.Passed, ot != nil && ot.Passed
	if !clicksOK && !ordersOK {
		return detectors.Finding{}, false, nil
	}
	// A nightly run judges the night: the pair must have been active in it.
	if s.windowStoreClicks+s.windowStoreOrders < int64(p.MinWindowActivities) {
		return detectors.Finding{}, false, nil
	}

	var signals []string
	score := 0.0
	if clicksOK {
		signals = append(signals, "clicks_to_own_store")
		score += 0.35
	}
	if ordersOK {
		signals = append(signals, "orders_from_own_store")
		score += 0.45
	} else if s.pubStoreOrders > 0 {
		// Some commission was earned on the store, too few orders to test.
		signals = append(signals, "some_orders_from_own_store")
		score += 0.1
	}
	top := 0.0
	if clicksOK {
		top = ct.Share
	}
	if ordersOK {
		top = math.Max(top, ot.Share)
	}
	if top >= p.StrongShare {
		signals = append(signals, "majority_to_own_store")
		score += 0.1
	}
	hard := false
	for _, m := range l.matched {
		hard = hard || hardIdentifiers[m]
	}
	linkKind := "entity_or_payout"
	if !hard {
		// E-mail and phone are contact details: still the seller's, but a
		// shared family phone or an agency's mailbox is possible.
		linkKind = "contact_only"
		score *= p.ContactWeight
	}
	score = detectors.Round(math.Min(score, 1), 3)
	severity := detectors.SeverityFromScore(score)
	if len(signals) < 2 && detectors.SeverityRank(severity) > detectors.SeverityRank("low") {
		severity = "low"
	}

	var ev evidence
	ev.Seller.ID, ev.Seller.Name = l.seller, l.sellerName
	ev.Link.Matched, ev.Link.Kind, ev.Link.Ignored, ev.Link.Holders = l.matched, linkKind, l.ignored, l.holders
	ev.Clicks, ev.Orders, ev.UnmappedClicks = ct, ot, s.unmappedClicks
	ev.WindowStoreClicks, ev.WindowStoreOrders = s.windowStoreClicks, s.windowStoreOrders
	ev.LookbackStart, ev.LookbackEnd = lbStart.Format(time.RFC3339), lbEnd.Format(time.RFC3339)
	ev.ExampleClickIDs = nonNil(s.exampleClicks)
	ev.ExampleOrderIDs = nonNil(s.orderIDs)
	if len(ev.ExampleOrderIDs) > 10 {
		ev.ExampleOrderIDs = ev.ExampleOrderIDs[:10]
	}
	ev.CommissionUSD = detectors.Round(s.commission, 2)
	ev.Signals = signals
	ev.SingleSignal = len(signals) < 2
	body, err := json.Marshal(ev)
	if err != nil {
		return detectors.Finding{}, false, err
	}
	orderIDs := nonNil(s.orderIDs)
	sort.Strings(orderIDs)
	return detectors.Finding{
		Discriminator: l.seller,
		PublisherID:   l.publisher,
		Severity:      severity,
		Score:         score,
		Summary:       summary(l, ct, ot, clicksOK, ordersOK),
		Evidence:      body,
		WindowStart:   ws,
		WindowEnd:     we,
		OrderIDs:      orderIDs,
		CommissionUSD: detectors.Round(s.commission, 2),
	}, true, nil
}

// summary is one sentence: the link, the share and the population's share.
func summary(l link, ct, ot *test, clicksOK, ordersOK bool) string {
	seller := l.seller
	if l.sellerName != "" {
		seller = fmt.Sprintf("%s (%s)", l.seller, l.sellerName)
	}
	var parts []string
	if clicksOK {
		parts = append(parts, fmt.Sprintf("%s of %s clicks to a known store (program share %s)", pct(ct.Share), detectors.Thousands(ct.Total), pct(ct.PopulationShare)))
	}
	if ordersOK {
		parts = append(parts, fmt.Sprintf("%s of %s attributed orders (program share %s)", pct(ot.Share), detectors.Thousands(ot.Total), pct(ot.PopulationShare)))
	} else if ot != nil && ot.Count > 0 {
		parts = append(parts, fmt.Sprintf("%d of %s attributed orders", ot.Count, detectors.Thousands(ot.Total)))
	}
	return fmt.Sprintf("Publisher shares %s with seller %s and sends it %s.",
		strings.Join(l.matched, " and "), seller, strings.Join(parts, " and "))
}

func pct(x float64) string {
	v := x * 100
	switch {
	case v == 0:
		return "0 %"
	case v < 0.1:
		return "<0.1 %"
	case v < 10:
		return fmt.Sprintf("%.1f %%", v)
	default:
		return fmt.Sprintf("%.0f %%", v)
	}
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return append([]string(nil), xs...)
}

func structList(v any) []map[string]any {
	xs, _ := v.([]any)
	out := make([]map[string]any, 0, len(xs))
	for _, x := range xs {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// roundSig keeps three significant digits, so tiny p-values stay readable.
func roundSig(x float64) float64 {
	if x < 1e-300 {
		return 0 // below what JSON readers reliably parse; "zero" to any reviewer
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 3, 64), 64)
	return v
}

// RawLookbackDays implements detectors.RawLookback: the shares' look-back
// ends with the night (its clicks are kept per day as state; the orders
// that map products to sellers are read raw).
func (Detector) RawLookbackDays(pack *rules.Pack) (int, error) {
	rule, err := pack.Rule(detectors.SelfPromotion)
	if err != nil {
		return 0, err
	}
	p, err := thresholds.From(rule)
	return p.LookbackDays, err
}

// linkedClickState keeps self_promotion_linked_clicks: the linked
// publishers' clicks per day and target, so that a night reads the shares'
// look-back from counts, not clicks. The list of publishers is the state's
// parameter: a new link computes the look-back again.
func linkedClickState(pubs []string) detectors.DayState {
	pubs = append([]string{}, slices.Compact(slices.Sorted(slices.Values(pubs)))...)
	h := sha256.Sum256([]byte(strings.Join(pubs, "\x00")))
	return detectors.DayState{
		Days: "self_promotion_linked_days", State: "self_promotion_linked_clicks", Clicks: true,
		Params:  fmt.Sprintf("linked=%d:%x", len(pubs), h[:8]),
		Compute: queries["LinkedClickDays"],
		Args:    []any{pubs},
	}
}

// updateLinkedClicks brings linkedClickState up to date for [start, end);
// without linked publishers nothing reads it.
func updateLinkedClicks(ctx context.Context, db *sql.DB, pubs []string, start, end time.Time) error {
	if len(pubs) == 0 {
		return nil
	}
	return linkedClickState(pubs).Update(ctx, db, start, end)
}

// prepareProductPairs keeps, per day of orders, which seller sold which
// product: the mapping of a product to its one seller reads every order
// the program ever held, and --retain-days drops the raw ones.
func prepareProductPairs(ctx context.Context, db *sql.DB) error {
	return detectors.DayState{
		Days: "self_promotion_pair_days", State: "self_promotion_product_pairs",
		Orders: true, Compute: queries["ProductPairs"],
	}.UpdateHeld(ctx, db)
}
