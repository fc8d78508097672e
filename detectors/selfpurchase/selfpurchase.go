// Package selfpurchase finds publishers whose links are bought through by
// the publisher itself or by its associates: buyers tied to the publisher
// by shared identifiers (legal entity, email, phone, payout account used as
// a payment instrument, address, registration IP, device), directly or
// through a short chain of other buyers. It enforces clause E.10.j
// (dishonest transactions "by yourself or together with your associates
// … making purchases … on designated links").
//
// An identifier value shared by a crowd (a carrier-grade NAT address, an
// office gateway, a parcel locker) links nobody; the others count with
// specificity 1/(holders − 1), multiplied along a path. Identity, contact,
// money and address identifiers are hard evidence; IP and device are soft:
// a finding resting on soft links only is capped at medium (review, not
// block). A linked person who never buys through the publisher's links
// makes no finding, whatever they share with it.
package selfpurchase

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

//go:embed selfpurchase.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// Detector is the self_purchase detector.
type Detector struct{}

// Code implements detectors.Detector.
func (Detector) Code() string { return detectors.SelfPurchase }

// Thresholds are self_purchase's tunable values
// (rules.self_purchase.thresholds in the pack).
type Thresholds struct {
	LookbackDays        int     `yaml:"lookback_days" range:"[1,3660]"`
	OrderHistoryDays    int     `yaml:"order_history_days" range:"[0,3660]"`
	MaxIdentifierBuyers int     `yaml:"max_identifier_buyers" range:"[1,]"`
	MaxHops             int     `yaml:"max_hops" range:"[1,6]"` // the graph search grows with each hop: 6 is far beyond any household
	HopDecay            float64 `yaml:"hop_decay" range:"(0,1]"`
	MinLinkStrength     float64 `yaml:"min_link_strength" range:"(0,1]"`
	PerOrderEvidence    float64 `yaml:"per_order_evidence" range:"(0,1)"`
	MinScore            float64 `yaml:"min_score" range:"(0,1]"`
	SoftMaxScore        float64 `yaml:"soft_max_score" range:"(0,1]"`
	MaxExampleOrders    int     `yaml:"max_example_orders" range:"[1,1000]"`
}

var thresholds = rules.Declare[Thresholds](detectors.SelfPurchase)

// identifier columns whose absence removes a kind of link.
var optionalColumns = []struct{ table, column, reason string }{
	{"publishers", "entity_id", "publisher legal entity: links by shared entity are not used"},
	{"publishers", "email_hash", "publisher email: links by shared email are not used"},
	{"publishers", "phone_hash", "publisher phone: links by shared phone are not used"},
	{"publishers", "payout_hash", "publisher payout account: payout-as-payment links are not used"},
	{"publishers", "address_hash", "publisher address: links by shared address are not used"},
	{"publishers", "ip", "publisher registration IP: links by IP to the publisher are not used"},
	{"orders", "buyer_ip", "checkout IP: IP links from orders are not used"},
	{"orders", "buyer_device_id", "checkout device: device links from orders are not used"},
	{"orders", "address_hash", "shipping address: address links from orders are not used"},
	{"orders", "payment_hash", "payment instrument: payment links from orders are not used"},
	{"orders", "commission_usd", "commission at stake is reported as 0"},
	{"clicks", "buyer_id", "logged-in clicks: IP and device links from clicks are not used"},
}

var buyerColumns = []string{"email_hash", "phone_hash", "payment_hash", "address_hash", "device_id", "ip"}

// plan is what one run judges: the pack's thresholds and the time ranges.
type plan struct {
	rule rules.Rule
	p    Thresholds
	// identStart: identifiers of orders and clicks from here to scopeEnd
	// make the graph; historyStart: a linked buyer's earlier orders from
	// here weigh in; the orders judged are those of [scopeStart, scopeEnd).
	identStart, historyStart, scopeStart, scopeEnd time.Time
}

// newPlan reads the rule and the scope; ok is false when a backfill finds
// no orders at all.
func newPlan(ctx context.Context, env detectors.Env) (plan, bool, error) {
	rule, err := env.Pack.Rule(detectors.SelfPurchase)
	if err != nil {
		return plan{}, false, err
	}
	p, err := thresholds.From(rule)
	if err != nil {
		return plan{}, false, err
	}
	scopeStart, scopeEnd, ok, err := env.Night.Days()
	if err != nil {
		return plan{}, false, fmt.Errorf("self_purchase: %w", err)
	}
	if !ok {
		return plan{rule: rule, p: p}, false, nil
	}
	identStart := scopeEnd.AddDate(0, 0, -p.LookbackDays)
	historyStart := scopeStart.AddDate(0, 0, -p.OrderHistoryDays)
	if !env.Night.IsNight() {
		// Backfill: every identifier in the tables, every order judged.
		identStart, historyStart = time.Time{}, scopeStart
	}
	if identStart.After(historyStart) {
		identStart = historyStart
	}
	return plan{rule: rule, p: p, identStart: identStart, historyStart: historyStart, scopeStart: scopeStart, scopeEnd: scopeEnd}, true, nil
}

// globalTables is the program-wide state a publisher's judgement reads, in
// the order they are made (the links are searched over the identifiers).
func (pl plan) globalTables() []detectors.GlobalTable {
	p := pl.p
	return []detectors.GlobalTable{
		{Name: "self_purchase_identifiers", Prepare: pl.prepareIdentifiers, Build: pl.searchIdentifiers},
		{Name: "self_purchase_links", Query: queries["GlobalLinks"],
			Args: []any{pl.scopeStart, pl.scopeEnd, pl.historyStart, int64(p.MaxIdentifierBuyers), p.MinLinkStrength, p.HopDecay, int64(p.MaxHops)}},
		{Name: "self_purchase_population", Query: queries["GlobalPopulation"], Args: []any{pl.scopeStart, pl.scopeEnd}},
	}
}

// prepareIdentifiers brings the buyer identifiers up to date: per day of
// the look-back (a night computes its own day, and any day whose orders or
// clicks changed, and reads the others from the state), and the buyers
// dataset's whenever it changed.
func (pl plan) prepareIdentifiers(ctx context.Context, db *sql.DB) error {
	start := pl.identStart
	if start.IsZero() {
		start = pl.scopeStart // a backfill: every day it holds
	}
	err := detectors.DayState{
		Days: "self_purchase_ident_days", State: "self_purchase_ident_state",
		Clicks: true, Orders: true,
		Compute: queries["IdentDays"],
	}.Update(ctx, db, start, pl.scopeEnd)
	if err != nil {
		return err
	}
	return updateBuyerIdents(ctx, db)
}

// updateBuyerIdents brings self_purchase_buyer_idents up to date with the
// buyers dataset: when its fingerprint changed (a new snapshot), the
// buyers whose identifier columns changed, came or went are read again,
// not the whole dataset.
func updateBuyerIdents(ctx context.Context, db *sql.DB) error {
	var now string
	if err := db.QueryRowContext(ctx, queries["BuyerIdentsFingerprint"]).Scan(&now); err != nil {
		return fmt.Errorf("buyer identifiers: %w", err)
	}
	var was sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT max(fingerprint) FROM self_purchase_buyer_idents_of`).Scan(&was); err != nil {
		return fmt.Errorf("buyer identifiers: %w", err)
	}
	if was.Valid && was.String == now {
		return nil
	}
	// Nothing kept yet (a first night): every buyer is new, without
	// finding out.
	all := !was.Valid
	type step struct {
		query string
		args  []any
	}
	steps := []step{{queries["ChangedBuyers"], nil}, {queries["DropChangedBuyers"], nil}}
	if all {
		steps = []step{{`CREATE OR REPLACE TEMP TABLE sp_changed_buyers (buyer_id VARCHAR)`, nil},
			{`DELETE FROM self_purchase_buyer_idents`, nil}, {`DELETE FROM self_purchase_buyer_rows`, nil}}
	}
	steps = append(steps,
		step{queries["BuyerIdents"], []any{all}}, step{queries["BuyerRows"], []any{all}},
		step{`DROP TABLE sp_changed_buyers`, nil}, step{`DELETE FROM self_purchase_buyer_idents_of`, nil},
		step{`INSERT INTO self_purchase_buyer_idents_of VALUES (?)`, []any{now}})
	// One connection: the changed buyers are a temporary table.
	return detectors.InTx(ctx, db, func(tx *sql.Tx) error {
		for _, st := range steps {
			if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
				return fmt.Errorf("buyer identifiers: %w", err)
			}
		}
		return nil
	})
}

// searchIdentifiers makes globals.self_purchase_identifiers: the part of
// the identifier graph the links' search can walk, found by rounds from
// the publishers with orders in scope (see SearchStart). A round counts
// the holders of every value its frontier holds, so the counts are the
// whole program's; only nodes a path of at least min_link_strength can
// reach within max_hops are looked at, which on a program of millions of
// buyers is a few hundred.
func (pl plan) searchIdentifiers(ctx context.Context, conn *sql.Conn) error {
	p := pl.p
	exec := func(name string, args ...any) error {
		if _, err := conn.ExecContext(ctx, queries[name], args...); err != nil {
			return fmt.Errorf("identifier search, %s: %w", name, err)
		}
		return nil
	}
	// The rounds' tables live on this connection only; they go with it
	// back to the pool, so they are dropped here.
	defer conn.ExecContext(context.WithoutCancel(ctx), queries["SearchDone"])
	if err := exec("SearchStart", pl.scopeStart, pl.scopeEnd); err != nil {
		return err
	}
	if err := exec("SearchTables"); err != nil {
		return err
	}
	for hop := 1; hop <= p.MaxHops; hop++ {
		for _, step := range []struct {
			name string
			args []any
		}{
			{"FrontierValues", []any{pl.identStart, pl.scopeEnd}},
			{"NewValues", nil},
			{"CountHolders", []any{pl.identStart, pl.scopeEnd}},
			{"CountValues", nil},
		} {
			if err := exec(step.name, step.args...); err != nil {
				return err
			}
		}
		if hop == p.MaxHops {
			break
		}
		if err := exec("NextFrontier", int64(p.MaxIdentifierBuyers), p.MinLinkStrength, p.HopDecay); err != nil {
			return err
		}
		var next int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sp_frontier`).Scan(&next); err != nil {
			return fmt.Errorf("identifier search: %w", err)
		}
		if next == 0 {
			break
		}
		if err := exec("MoveBound"); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TABLE globals.self_purchase_identifiers AS "+queries["GlobalIdentifiers"], int64(p.MaxIdentifierBuyers), pl.identStart, pl.scopeEnd); err != nil {
		return fmt.Errorf("identifier search: %w", err)
	}
	return nil
}

// GlobalTables implements detectors.GlobalStater: the identifier graph
// (buyers' identifiers come from their orders and clicks through every
// publisher, holders are counted over the whole program), the search over
// it from every publisher with orders in scope, kept for the buyers who
// ordered through the publisher, and the population count.
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
	if err := recordSignals(ctx, env); err != nil || !ok {
		return nil, err
	}
	if err := detectors.PrepareGlobals(ctx, env, pl.globalTables()); err != nil {
		return nil, fmt.Errorf("self_purchase: %w", err)
	}
	rule, p, historyStart, scopeStart, scopeEnd := pl.rule, pl.p, pl.historyStart, pl.scopeStart, pl.scopeEnd
	links, err := linkedOrders(ctx, env.DB, scopeStart, scopeEnd, historyStart)
	if err != nil {
		return nil, err
	}
	excluded, err := excludedIdentifiers(ctx, env.DB, p)
	if err != nil {
		return nil, err
	}
	totals, err := publisherOrders(ctx, env.DB, scopeStart, scopeEnd)
	if err != nil {
		return nil, err
	}
	var pop population
	if err := env.DB.QueryRowContext(ctx, queries["Population"]).Scan(&pop.publishersWithOrders, &pop.publishersWithLinked); err != nil {
		return nil, fmt.Errorf("self_purchase: population: %w", err)
	}
	byPub := map[string][]link{}
	var pubs []string
	for _, l := range links {
		if _, seen := byPub[l.pub]; !seen {
			pubs = append(pubs, l.pub)
		}
		byPub[l.pub] = append(byPub[l.pub], l)
	}
	sort.Strings(pubs)
	var out []detectors.Finding
	for _, pub := range pubs {
		f, ok, err := finding(env, rule, p, pub, byPub[pub], totals[pub], excluded[pub], pop, historyStart, scopeStart, scopeEnd)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, f)
		}
	}
	return out, nil
}

func recordSignals(ctx context.Context, env detectors.Env) error {
	byTable := map[string][]string{}
	for _, c := range optionalColumns {
		byTable[c.table] = append(byTable[c.table], c.column)
	}
	have := map[string]map[string]bool{}
	for _, t := range []string{"publishers", "orders", "clicks"} {
		h, err := detectors.Columns(ctx, env.DB, t, byTable[t]...)
		if err != nil {
			return err
		}
		have[t] = h
	}
	for _, c := range optionalColumns {
		if !have[c.table][c.column] {
			env.Signals.Add(detectors.SelfPurchase, c.table+"."+c.column, "column absent or empty in the input: "+c.reason)
		}
	}
	hb, err := detectors.Columns(ctx, env.DB, "buyers", buyerColumns...)
	if err != nil {
		return err
	}
	var missing []string
	for _, c := range buyerColumns {
		if !hb[c] {
			missing = append(missing, c)
		}
	}
	switch {
	case len(missing) == len(buyerColumns):
		env.Signals.Add(detectors.SelfPurchase, "buyers", "optional dataset absent or empty: buyer identifiers come from orders and clicks only (no buyer email or phone links)")
	default:
		for _, c := range missing {
			env.Signals.Add(detectors.SelfPurchase, "buyers."+c, "column absent or empty in the input: buyer links by "+c+" come from orders and clicks only, if at all")
		}
	}
	return nil
}

// hop is one link of a path: the identifier shared and the node reached.
type hop struct {
	Kind    string `json:"kind"`
	Value   string `json:"value"`
	Holders int64  `json:"holders"`
	Buyers  int64  `json:"buyers"`
	Node    string `json:"node"`
}

type order struct {
	ID         string
	TS         time.Time
	Amount     float64
	Commission float64
	Status     string
}

// link is one buyer reached from a publisher with orders through its links.
type link struct {
	pub, buyer string
	hard       bool
	strength   float64
	hops       int
	path       []hop
	orders     []order // in scope: the orders judged
	earlier    int     // nightly: orders of the same kind in the history before the night
}

// linkedOrders reads the links of globals.self_purchase_links whose
// publisher's orders are in this database, each with the buyer's orders
// through the publisher from historyStart to scopeEnd.
func linkedOrders(ctx context.Context, db *sql.DB, scopeStart, scopeEnd, historyStart time.Time) ([]link, error) {
	rows, err := db.QueryContext(ctx, queries["LinkedOrders"], scopeStart, scopeEnd, historyStart)
	if err != nil {
		return nil, fmt.Errorf("self_purchase: linked orders: %w", err)
	}
	defer rows.Close()
	var links []link
	for rows.Next() {
		var l link
		var path, ords any
		var hops int64
		if err := rows.Scan(&l.pub, &l.buyer, &l.hard, &l.strength, &hops, &path, &ords); err != nil {
			return nil, err
		}
		l.hops = int(hops)
		for _, x := range asList(path) {
			m, _ := x.(map[string]any)
			l.path = append(l.path, hop{Kind: str(m["kind"]), Value: str(m["val"]), Holders: num(m["holders"]), Buyers: num(m["buyers"]), Node: str(m["node"])})
		}
		for _, x := range asList(ords) {
			m, _ := x.(map[string]any)
			ts, _ := m["ts"].(time.Time)
			inScope, _ := m["in_scope"].(bool)
			o := order{ID: str(m["order_id"]), TS: ts.UTC(), Amount: flt(m["amount"]), Commission: flt(m["commission"]), Status: str(m["status"])}
			if inScope {
				l.orders = append(l.orders, o)
			} else {
				l.earlier++
			}
		}
		links = append(links, l)
	}
	return links, rows.Err()
}

// excludedIdentifiers lists each publisher's crowd-shared identifier
// values (excluded from linking, reported).
func excludedIdentifiers(ctx context.Context, db *sql.DB, p Thresholds) (map[string][]map[string]any, error) {
	ex, err := db.QueryContext(ctx, queries["ExcludedIdentifiers"], int64(p.MaxIdentifierBuyers))
	if err != nil {
		return nil, fmt.Errorf("self_purchase: excluded identifiers: %w", err)
	}
	defer ex.Close()
	excluded := map[string][]map[string]any{}
	for ex.Next() {
		var pub, kind, val string
		var buyers int64
		if err := ex.Scan(&pub, &kind, &val, &buyers); err != nil {
			return nil, err
		}
		excluded[pub] = append(excluded[pub], map[string]any{"kind": kindName(kind, true), "value": show(kind, val), "buyers": buyers})
	}
	return excluded, ex.Err()
}

func publisherOrders(ctx context.Context, db *sql.DB, start, end time.Time) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, queries["PublisherOrders"], start, end)
	if err != nil {
		return nil, fmt.Errorf("self_purchase: publisher orders: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var pub string
		var n int64
		if err := rows.Scan(&pub, &n); err != nil {
			return nil, err
		}
		out[pub] = n
	}
	return out, rows.Err()
}

// population is the program's side of the summary: publishers with
// attributed orders in scope, and those with any linked buyer's order.
type population struct {
	publishersWithOrders, publishersWithLinked int64
}

// kindName names an identifier kind as the reviewer knows the column; the
// first hop from a publisher through "payment" is its payout account.
func kindName(kind string, fromPublisher bool) string {
	switch kind {
	case "entity":
		return "entity_id"
	case "email", "phone", "address":
		return kind + "_hash"
	case "payment":
		if fromPublisher {
			return "payout_hash→payment_hash"
		}
		return "payment_hash"
	case "ip":
		return "ip"
	case "device":
		return "device_id"
	}
	return kind
}

// show truncates hashes (enough to find the row, not to spread the value);
// IPs, devices and entity ids are shown whole so a reviewer can look them up.
func show(kind, val string) string {
	switch kind {
	case "email", "phone", "payment", "address":
		if len(val) > 12 {
			return val[:12] + "…"
		}
	}
	return val
}

type hopEvidence struct {
	From    string `json:"from"`
	Via     string `json:"via"`
	Value   string `json:"value"`
	Hard    bool   `json:"hard"`
	Holders int64  `json:"holders"`
	Buyers  int64  `json:"buyers_sharing"`
	To      string `json:"to"`
}

type orderEvidence struct {
	OrderID       string  `json:"order_id"`
	TS            string  `json:"ts"`
	AmountUSD     float64 `json:"amount_usd"`
	CommissionUSD float64 `json:"commission_usd"`
	Status        string  `json:"status,omitempty"`
}

type buyerEvidence struct {
	BuyerID       string          `json:"buyer_id"`
	Link          string          `json:"link"` // hard or soft
	Hops          int             `json:"hops"`
	Strength      float64         `json:"strength"`
	Chain         string          `json:"chain"`
	Path          []hopEvidence   `json:"path"`
	Orders        int             `json:"orders"`
	EarlierOrders int             `json:"earlier_orders_in_history"`
	AmountUSD     float64         `json:"amount_usd"`
	CommissionUSD float64         `json:"commission_usd"`
	ExampleOrders []orderEvidence `json:"example_orders"`
	Evidence      float64         `json:"evidence"`
}

func nodeLabel(node string) string {
	if rest, ok := strings.CutPrefix(node, "P:"); ok {
		return "publisher " + rest
	}
	return "buyer " + strings.TrimPrefix(node, "B:")
}

func finding(env detectors.Env, rule rules.Rule, p Thresholds, pub string, links []link, attributed int64,
	excluded []map[string]any, pop population, historyStart, scopeStart, scopeEnd time.Time) (detectors.Finding, bool, error) {
	var buyers []buyerEvidence
	seen := map[string]bool{}
	var orderIDs []string
	var commission, amount float64
	var first, last time.Time
	anyHard := false
	earlier := 0
	kinds := map[string]bool{}
	keep := 1.0 // Π(1 − evidence of each buyer)
	for _, l := range links {
		be := buyerEvidence{BuyerID: l.buyer, Link: "soft", Hops: l.hops, Strength: detectors.Round(l.strength, 3), Orders: len(l.orders), EarlierOrders: l.earlier}
		if l.hard {
			be.Link = "hard"
			anyHard = true
		}
		from := "P:" + pub
		chain := []string{nodeLabel(from)}
		for i, h := range l.path {
			hard := h.Kind != "ip" && h.Kind != "device"
			name := kindName(h.Kind, i == 0)
			kinds[name] = true
			be.Path = append(be.Path, hopEvidence{From: nodeLabel(from), Via: name, Value: show(h.Kind, h.Value), Hard: hard, Holders: h.Holders, Buyers: h.Buyers, To: nodeLabel(h.Node)})
			chain = append(chain, fmt.Sprintf("—%s %s (%d holders)→ %s", name, show(h.Kind, h.Value), h.Holders, nodeLabel(h.Node)))
			from = h.Node
		}
		be.Chain = strings.Join(chain, " ")
		for i, o := range l.orders {
			be.AmountUSD += o.Amount
			be.CommissionUSD += o.Commission
			if i < p.MaxExampleOrders {
				be.ExampleOrders = append(be.ExampleOrders, orderEvidence{OrderID: o.ID, TS: o.TS.Format(time.RFC3339), AmountUSD: detectors.Round(o.Amount, 2), CommissionUSD: detectors.Round(o.Commission, 2), Status: o.Status})
			}
			if !seen[o.ID] {
				seen[o.ID] = true
				orderIDs = append(orderIDs, o.ID)
				amount += o.Amount
				commission += o.Commission
				if first.IsZero() || o.TS.Before(first) {
					first = o.TS
				}
				if o.TS.After(last) {
					last = o.TS
				}
			}
		}
		be.AmountUSD, be.CommissionUSD = detectors.Round(be.AmountUSD, 2), detectors.Round(be.CommissionUSD, 2)
		// Each order through the links is further evidence, never certainty:
		// one order may be a relative following a shared link once.
		// Nightly, the buyer's earlier orders through the links in the
		// history weigh in too: a habit is stronger evidence than one order.
		be.Evidence = detectors.Round(l.strength*(1-math.Pow(1-p.PerOrderEvidence, float64(len(l.orders)+l.earlier))), 4)
		earlier += l.earlier
		keep *= 1 - be.Evidence
		buyers = append(buyers, be)
	}
	score := 1 - keep
	softOnly := !anyHard
	if softOnly {
		score = math.Min(score, p.SoftMaxScore)
	}
	score = detectors.Round(score, 4)
	if score < p.MinScore {
		return detectors.Finding{}, false, nil
	}
	sort.Strings(orderIDs)
	sort.Slice(buyers, func(i, j int) bool {
		if buyers[i].Evidence != buyers[j].Evidence {
			return buyers[i].Evidence > buyers[j].Evidence
		}
		return buyers[i].BuyerID < buyers[j].BuyerID
	})
	severity := detectors.SeverityFromScore(score)
	if softOnly && detectors.SeverityRank(severity) > detectors.SeverityRank("medium") {
		severity = "medium"
	}
	// A single weak signal: one soft identifier, one order.
	singleWeak := softOnly && len(orderIDs)+earlier == 1
	if singleWeak {
		severity = "low"
	}
	ws, we := scopeStart, scopeEnd
	if !env.Night.IsNight() {
		ws = first.Truncate(24 * time.Hour)
		we = last.Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	share := 0.0
	if attributed > 0 {
		share = float64(len(orderIDs)) / float64(attributed)
	}
	var kindList []string
	for k := range kinds {
		kindList = append(kindList, k)
	}
	sort.Strings(kindList)
	signals := []string{"soft_identifier_only"}
	note := "linked by IP or device only: an IP or device can be shared innocently (household, public Wi-Fi, resold phone); review before any block"
	if anyHard {
		signals = []string{"hard_identifier"}
		note = "linked by identity, contact, payment or address identifiers"
	}
	if excluded == nil {
		excluded = []map[string]any{}
	}
	evidence := map[string]any{
		"window_start":                ws.Format(time.RFC3339),
		"window_end":                  we.Format(time.RFC3339),
		"scope":                       map[string]any{"start": scopeStart.Format(time.RFC3339), "end": scopeEnd.Format(time.RFC3339), "night": env.Night.IsNight(), "history_start": historyStart.Format(time.RFC3339)},
		"earlier_orders_in_history":   earlier,
		"linked_buyers":               buyers,
		"linked_buyer_count":          len(buyers),
		"orders_linked":               len(orderIDs),
		"orders_attributed":           attributed,
		"share_of_attributed_orders":  detectors.Round(share, 4),
		"amount_usd":                  detectors.Round(amount, 2),
		"commission_usd":              detectors.Round(commission, 2),
		"identifier_kinds":            kindList,
		"signals":                     signals,
		"soft_only":                   softOnly,
		"single_signal":               singleWeak,
		"note":                        note,
		"excluded_shared_identifiers": excluded,
		"max_identifier_buyers":       p.MaxIdentifierBuyers,
		"population": map[string]any{
			"publishers_with_orders":              pop.publishersWithOrders,
			"publishers_with_linked_buyer_orders": pop.publishersWithLinked,
		},
	}
	body, err := json.Marshal(evidence)
	if err != nil {
		return detectors.Finding{}, false, err
	}
	how := "a hard identifier (" + strings.Join(hardKinds(kindList), ", ") + ")"
	if softOnly {
		how = "IP or device only (" + strings.Join(kindList, ", ") + "; review)"
	}
	summary := fmt.Sprintf("%d of the publisher's %d attributed orders (%s) were placed by %d buyer(s) tied to it by %s, US$%.2f commission; %d of %d publishers with orders have any such order.",
		len(orderIDs), attributed, pct(share), len(buyers), how, detectors.Round(commission, 2), pop.publishersWithLinked, pop.publishersWithOrders)
	return detectors.Finding{
		PublisherID:   pub,
		Severity:      severity,
		Score:         score,
		Summary:       summary,
		Evidence:      body,
		WindowStart:   ws,
		WindowEnd:     we,
		OrderIDs:      orderIDs,
		CommissionUSD: detectors.Round(commission, 2),
	}, true, nil
}

func hardKinds(kinds []string) []string {
	var out []string
	for _, k := range kinds {
		if k != "ip" && k != "device_id" {
			out = append(out, k)
		}
	}
	return out
}

func pct(x float64) string {
	if x >= 0.1 {
		return fmt.Sprintf("%.0f %%", 100*x)
	}
	return fmt.Sprintf("%.1f %%", 100*x)
}

func asList(v any) []any { xs, _ := v.([]any); return xs }

func str(v any) string { s, _ := v.(string); return s }

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

func flt(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return 0
}

// RawLookbackDays implements detectors.RawLookback: the buyers' order
// history reads order_history_days before the night. The identifiers of
// the longer lookback_days come from the per-day state, not raw rows.
func (Detector) RawLookbackDays(pack *rules.Pack) (int, error) {
	rule, err := pack.Rule(detectors.SelfPurchase)
	if err != nil {
		return 0, err
	}
	p, err := thresholds.From(rule)
	return p.OrderHistoryDays, err
}
