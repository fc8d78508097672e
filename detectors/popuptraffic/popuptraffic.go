// Package popuptraffic finds publishers whose clicks are pop-up or
// pop-under windows: windows a script opened (the landing page's beacon
// reports window.opener) that were hidden behind the page, closed within a
// second or two, or too small to read, typically fired from third-party
// pages the publisher bought traffic on. It enforces clause E.10.h
// ("Engaging in pop-up or pop-under advertisements in any form").
//
// A share widget or an "open in new window" link also sets opener, but its
// window is visible, full-size and read; its few quick bounces stay far
// below the share threshold. A publisher is flagged only when its share of
// pop-up-like clicks is far above the population's (a one-sided binomial
// test), above an absolute share, and above a count floor, so a handful of
// odd windows never accuse anyone.
package popuptraffic

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

//go:embed popuptraffic.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// phoneAgents matches the user agents of phones, whose browsers open every
// window full-screen: tablets (iPad, Android without "Mobile") are not phones.
const phoneAgents = `(?i)(iphone|ipod|android.*mobile|windows phone|mobi)`

// maxExamples caps the example click ids in the evidence.
const maxExamples = 10

// Detector is the popup_traffic detector.
type Detector struct{}

// Code implements detectors.Detector.
func (Detector) Code() string { return detectors.PopupTraffic }

// Thresholds are popup_traffic's tunable values
// (rules.popup_traffic.thresholds in the pack).
type Thresholds struct {
	LookbackDays       int     `yaml:"lookback_days" range:"[1,366]"`
	QuickCloseMS       int     `yaml:"quick_close_ms" range:"[0,]"`
	SmallMaxW          int     `yaml:"small_max_w" range:"[0,]"`
	SmallMaxH          int     `yaml:"small_max_h" range:"[0,]"`
	SmallMobileMaxH    int     `yaml:"small_mobile_max_h" range:"[0,]"`
	MinPopupClicks     int     `yaml:"min_popup_clicks" range:"[1,]"`
	MinShare           float64 `yaml:"min_share" range:"(0,1]"`
	MinRatio           float64 `yaml:"min_ratio" range:"[1,]"`
	PopulationFloor    float64 `yaml:"population_share_floor" range:"(0,1)"`
	MaxPValue          float64 `yaml:"max_p_value" range:"(0,1)"`
	MinSubSignalShare  float64 `yaml:"min_subsignal_share" range:"(0,1]"`
	MinThirdPartyShare float64 `yaml:"min_third_party_share" range:"(0,1]"`
	MinNightPopups     int     `yaml:"min_night_popups" range:"[0,]"`
}

var thresholds = rules.Declare[Thresholds](detectors.PopupTraffic)

// pub is one publisher's counts over the judged window.
type pub struct {
	id                                string
	clicks, known, popups             int64
	hidden, quick, small, nightPopups int64
	first, last                       sql.NullTime
}

// candidate is a publisher whose share passed the tests.
type candidate struct {
	pub
	share, log10P float64
	base          population
}

// Run implements detectors.Detector.
func (d Detector) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	rule, err := env.Pack.Rule(detectors.PopupTraffic)
	if err != nil {
		return nil, err
	}
	p, err := thresholds.From(rule)
	if err != nil {
		return nil, err
	}
	code := detectors.PopupTraffic
	start, end, night, ok, err := scope(ctx, env, p.LookbackDays)
	if err != nil {
		return nil, err
	}
	// The counts this run's own publishers are judged by come from the
	// per-day state of this database, also in a partition that reads the
	// population from a baselines pass.
	if err := countState(p).Update(ctx, env.DB, start, end); err != nil {
		return nil, fmt.Errorf("popup_traffic: %w", err)
	}
	if err := detectors.PrepareGlobals(ctx, env, globalTables(p, start, end, night, false)); err != nil {
		return nil, fmt.Errorf("popup_traffic: %w", err)
	}
	have, err := readColumns(ctx, env.DB)
	if err != nil {
		return nil, err
	}
	if !have["opener"] {
		// Without opener nothing tells a script-opened window from one the
		// visitor chose to open; every other sign alone is an ordinary
		// background tab or bounce.
		env.Signals.Add(code, "clicks.opener", "column absent or empty in the input: pop-up windows cannot be told from chosen ones, detector not run")
		return nil, nil
	}
	reasons := map[string]string{
		"visible":    "column absent or empty: hidden (pop-under) windows are not counted",
		"dwell_ms":   "column absent or empty: windows closed within seconds are not counted",
		"viewport_w": "column absent or empty: small windows are not counted",
		"viewport_h": "column absent or empty: small windows are not counted",
		"referrer":   "column absent or empty: third-party origin is not judged",
	}
	for _, c := range []string{"visible", "dwell_ms", "viewport_w", "viewport_h", "referrer"} {
		if !have[c] {
			env.Signals.Add(code, "clicks."+c, reasons[c])
		}
	}
	siteCols, err := detectors.Columns(ctx, env.DB, "sites", "url")
	if err != nil {
		return nil, err
	}
	if !siteCols["url"] && have["referrer"] {
		env.Signals.Add(code, "sites.url", "no publisher sites in the input: every referrer outside the brand's domains counts as third-party")
	}
	if !ok {
		return nil, nil
	}
	rows, err := env.DB.QueryContext(ctx, queries["PublisherCounts"], publisherCountsArgs(start, end, night)...)
	if err != nil {
		return nil, fmt.Errorf("popup_traffic: publisher counts: %w", err)
	}
	var pubs []pub
	for rows.Next() {
		var x pub
		if err := rows.Scan(&x.id, &x.clicks, &x.known, &x.popups, &x.hidden, &x.quick, &x.small,
			&x.nightPopups, &x.first, &x.last); err != nil {
			rows.Close()
			return nil, err
		}
		pubs = append(pubs, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	base, err := readPopulation(ctx, env.DB, p)
	if err != nil {
		return nil, err
	}
	var cands []candidate
	for _, x := range pubs {
		if c, ok := judge(x, base, p, env.Night.IsNight()); ok {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil, nil
	}
	brand := brandDomains(env.Pack)
	dets, err := details(ctx, env.DB, cands, start, end, p, brand)
	if err != nil {
		return nil, err
	}
	out := make([]detectors.Finding, 0, len(cands))
	for _, c := range cands {
		f, err := finding(rule, p, c, dets[c.id], start, end, have)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// population is the reference the publishers are compared with.
type population struct {
	publishers    int
	known, popups int64
	share         float64 // popups / known, at least population_share_floor
}

// readPopulation reads the reference the publishers are compared with
// (globals.popup_traffic_population): the pooled clicks of the program's
// publishers whose own pop-up-like share is below min_share, its ordinary
// traffic. Publishers at or above it are the ones under test and are left
// out, so a few heavy pop-up publishers do not raise the bar for each
// other. The share is floored so a spotless population does not turn
// noise into significance.
func readPopulation(ctx context.Context, db *sql.DB, p Thresholds) (population, error) {
	var b population
	if err := db.QueryRowContext(ctx, queries["ReadPopulation"]).Scan(&b.publishers, &b.known, &b.popups); err != nil {
		return b, fmt.Errorf("popup_traffic: population: %w", err)
	}
	b.share = p.PopulationFloor
	if b.known > 0 {
		b.share = math.Max(b.share, float64(b.popups)/float64(b.known))
	}
	return b, nil
}

// GlobalTables implements detectors.GlobalStater. A publisher's counts,
// referrers and credited orders are its own rows (its orders are found
// through its own clicks and carry its id; sites are whole in every
// partition); what its judgement reads of the rest of the program is the
// population share it is tested against and which optional columns the
// input carries.
func (d Detector) GlobalTables(ctx context.Context, env detectors.Env) ([]detectors.GlobalTable, error) {
	rule, err := env.Pack.Rule(detectors.PopupTraffic)
	if err != nil {
		return nil, err
	}
	p, err := thresholds.From(rule)
	if err != nil {
		return nil, err
	}
	start, end, night, _, err := scope(ctx, env, p.LookbackDays)
	if err != nil {
		return nil, err
	}
	return globalTables(p, start, end, night, true), nil
}

// globalTables are popup_traffic's program-wide tables for the window (a
// backfill without clicks pools an empty range). prepare: the population
// brings the per-day counts up to date first (a baselines pass, which runs
// no detector); Run has done so already.
func globalTables(p Thresholds, start, end, night time.Time, prepare bool) []detectors.GlobalTable {
	population := detectors.GlobalTable{Name: "popup_traffic_population", Query: fmt.Sprintf(queries["Population"], queries["PublisherCounts"]),
		Args: append(publisherCountsArgs(start, end, night), p.MinShare)}
	if prepare {
		population.Prepare = func(ctx context.Context, db *sql.DB) error { return countState(p).Update(ctx, db, start, end) }
	}
	return []detectors.GlobalTable{population, {Name: "popup_traffic_columns", Query: queries["Columns"]}}
}

func publisherCountsArgs(start, end, night time.Time) []any {
	return []any{start, end, night}
}

// countState keeps popup_traffic_counts: each day's clicks counted per
// publisher once, so a night counts its own day and sums the rest of its
// window. The pop-up-like test's thresholds are the state's parameters: a
// pack that changes them recomputes every day of the window.
func countState(p Thresholds) detectors.DayState {
	return detectors.DayState{
		Days: "popup_traffic_days", State: "popup_traffic_counts", Clicks: true,
		Params:  fmt.Sprintf("quick=%d;w=%v;h=%v;mh=%v;phone=%s", p.QuickCloseMS, p.SmallMaxW, p.SmallMaxH, p.SmallMobileMaxH, phoneAgents),
		Compute: queries["CountDays"],
		Args:    []any{float64(p.QuickCloseMS), p.SmallMaxW, p.SmallMaxH, p.SmallMobileMaxH, phoneAgents},
	}
}

// readColumns reads which optional click columns the input carries
// (globals.popup_traffic_columns).
func readColumns(ctx context.Context, db *sql.DB) (map[string]bool, error) {
	cols := []string{"opener", "visible", "dwell_ms", "viewport_w", "viewport_h", "referrer"}
	vals := make([]bool, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := db.QueryRowContext(ctx, queries["ReadColumns"]).Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("popup_traffic: columns: %w", err)
	}
	have := make(map[string]bool, len(cols))
	for i, c := range cols {
		have[c] = vals[i]
	}
	return have, nil
}

// judge applies the count floor, the absolute share, the ratio to the
// population and the binomial test.
func judge(x pub, base population, p Thresholds, nightly bool) (candidate, bool) {
	if x.known == 0 || x.popups < int64(p.MinPopupClicks) {
		return candidate{}, false
	}
	if nightly && x.nightPopups < int64(p.MinNightPopups) {
		return candidate{}, false
	}
	share := float64(x.popups) / float64(x.known)
	if share < p.MinShare || share < p.MinRatio*base.share {
		return candidate{}, false
	}
	lp := detectors.LogBinomialTail(x.popups, x.known, base.share)
	if lp > math.Log(p.MaxPValue) {
		return candidate{}, false
	}
	return candidate{pub: x, share: share, base: base, log10P: lp / math.Ln10}, true
}

// scope returns the clicks judged: for a night, the look-back ending with
// that night; for a backfill, every day with clicks. night is the start of
// the judged night (the window's start for a backfill).
func scope(ctx context.Context, env detectors.Env, lookbackDays int) (start, end, night time.Time, ok bool, err error) {
	start, end, ok, err = env.Night.Days()
	if !ok || err != nil || !env.Night.IsNight() {
		return start, end, start, ok, err
	}
	return env.Night.LookbackEnding(lookbackDays), end, start, true, nil
}

func brandDomains(pack *rules.Pack) []string {
	var out []string
	for _, b := range pack.Brands {
		for _, d := range b.Domains {
			out = append(out, strings.ToLower(strings.TrimPrefix(d, "www.")))
		}
	}
	sort.Strings(out)
	return out
}

// hostCount is one referrer host and its pop-up-like clicks.
type hostCount struct {
	Host   string `json:"host"`
	Clicks int64  `json:"clicks"`
}

type detail struct {
	thirdParty, refKnown int64
	topHosts             []hostCount
	examples, orderIDs   []string
	commission           float64
}

// details fetches, for all candidates in one query, the referrers, example
// clicks and credited orders of their pop-up-like clicks.
func details(ctx context.Context, db *sql.DB, cands []candidate, start, end time.Time, p Thresholds, brand []string) (map[string]detail, error) {
	values := make([]string, len(cands))
	args := []any{start, end, float64(p.QuickCloseMS), p.SmallMaxW, p.SmallMaxH, brand, maxExamples, p.SmallMobileMaxH, phoneAgents}
	for i, c := range cands {
		values[i] = fmt.Sprintf("($%d)", len(args)+1)
		args = append(args, c.id)
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(queries["Details"], strings.Join(values, ", ")), args...)
	if err != nil {
		return nil, fmt.Errorf("popup_traffic: details: %w", err)
	}
	defer rows.Close()
	out := map[string]detail{}
	for rows.Next() {
		var id string
		var d detail
		var hosts, examples, orders any
		if err := rows.Scan(&id, &d.thirdParty, &d.refKnown, &hosts, &examples, &orders, &d.commission); err != nil {
			return nil, err
		}
		for _, h := range anyList(hosts) {
			m, _ := h.(map[string]any)
			host, _ := m["host"].(string)
			n, _ := m["clicks"].(int64)
			d.topHosts = append(d.topHosts, hostCount{host, n})
		}
		d.examples = stringList(examples)
		d.orderIDs = stringList(orders)
		out[id] = d
	}
	return out, rows.Err()
}

func anyList(v any) []any {
	xs, _ := v.([]any)
	return xs
}

func stringList(v any) []string {
	out := []string{}
	for _, x := range anyList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// signalWeights say how strongly each sub-signal, seen on a good part of the
// publisher's pop-up-like clicks, points to pop-up advertising rather than a
// visitor's own new window. The score is 1 - Π(1 - w) over the signals that
// fired: a hidden window is the clearest (a visitor never opens a window
// they cannot see), a quick close alone is the weakest (people bounce).
var signalWeights = map[string]float64{
	"hidden": 0.5, "small_window": 0.45, "third_party_referrer": 0.4, "quickly_closed": 0.3,
}

// weakSignals alone make no more than a low finding.
var weakSignals = map[string]bool{"quickly_closed": true, "third_party_referrer": true}

type subSignal struct {
	Clicks int64   `json:"clicks"`
	Share  float64 `json:"share_of_popup_clicks"`
	Fired  bool    `json:"fired"`
}

func finding(rule rules.Rule, p Thresholds, c candidate, d detail, start, end time.Time, have map[string]bool) (detectors.Finding, error) {
	sub := map[string]subSignal{}
	var fired []string
	add := func(name string, n, of int64, min float64, available bool) {
		if !available {
			return
		}
		s := subSignal{Clicks: n}
		if of > 0 {
			s.Share = detectors.Round(float64(n)/float64(of), 3)
			s.Fired = float64(n)/float64(of) >= min && n > 0
		}
		sub[name] = s
		if s.Fired {
			fired = append(fired, name)
		}
	}
	add("hidden", c.hidden, c.popups, p.MinSubSignalShare, have["visible"])
	add("quickly_closed", c.quick, c.popups, p.MinSubSignalShare, have["dwell_ms"])
	add("small_window", c.small, c.popups, p.MinSubSignalShare, have["viewport_w"] && have["viewport_h"])
	add("third_party_referrer", d.thirdParty, d.refKnown, p.MinThirdPartyShare, have["referrer"])
	sort.Strings(fired)

	score := 1.0
	strong := false
	for _, s := range fired {
		score *= 1 - signalWeights[s]
		strong = strong || !weakSignals[s]
	}
	score = detectors.Round(1-score, 3)
	severity := detectors.SeverityFromScore(score)
	if len(fired) < 2 && !strong || len(fired) == 0 {
		severity = "low"
	}
	if d.topHosts == nil {
		d.topHosts = []hostCount{}
	}
	if d.examples == nil {
		d.examples = []string{}
	}
	orderIDs := d.orderIDs
	if orderIDs == nil {
		orderIDs = []string{}
	}
	window := map[string]string{"start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339)}
	if c.first.Valid {
		window["first_popup"] = c.first.Time.UTC().Format(time.RFC3339)
		window["last_popup"] = c.last.Time.UTC().Format(time.RFC3339)
	}
	evidence := map[string]any{
		"popup_clicks":          c.popups,
		"clicks":                c.clicks,
		"clicks_beacon_known":   c.known,
		"popup_share":           detectors.Round(c.share, 4),
		"population_share":      detectors.Round(c.base.share, 5),
		"population":            map[string]any{"publishers": c.base.publishers, "clicks_beacon_known": c.base.known, "popup_clicks": c.base.popups, "note": "pooled over publishers whose own share is below min_share, floored at population_share_floor"},
		"ratio_to_population":   detectors.Round(c.share/c.base.share, 1),
		"binomial_log10_p":      detectors.Round(c.log10P, 1), // log10 of P(X ≥ popup_clicks | clicks_beacon_known, population_share)
		"sub_signals":           sub,
		"signals_fired":         fired,
		"single_signal":         len(fired) < 2,
		"referrer_known":        d.refKnown,
		"top_third_party_hosts": d.topHosts,
		"example_click_ids":     d.examples,
		"orders_credited":       len(orderIDs),
		"commission_usd":        detectors.Round(d.commission, 2),
		"window":                window,
		"quick_close_ms":        float64(p.QuickCloseMS),
		"small_window_max":      fmt.Sprintf("%d×%d", p.SmallMaxW, p.SmallMaxH),
		"definition":            "click whose window a script opened (opener) and that was hidden, closed within quick_close_ms, or no larger than small_window_max; the share is over clicks whose landing beacon fired",
	}
	body, err := json.Marshal(evidence)
	if err != nil {
		return detectors.Finding{}, err
	}
	texts := make([]string, 0, len(fired))
	for _, s := range []string{"hidden", "small_window", "quickly_closed", "third_party_referrer"} {
		if x, ok := sub[s]; ok && x.Fired {
			texts = append(texts, fmt.Sprintf("%s %s", detectors.Thousands(x.Clicks), signalText[s]))
		}
	}
	how := ""
	if len(texts) > 0 {
		how = " (" + strings.Join(texts, ", ") + ")"
	}
	summary := fmt.Sprintf("%s of %s clicks (%s) were pop-up windows opened by script%s; program share %s.",
		detectors.Thousands(c.popups), detectors.Thousands(c.known), pct(c.share), how, pct(c.base.share))
	return detectors.Finding{
		PublisherID:   c.id,
		Severity:      severity,
		Score:         score,
		Summary:       summary,
		Evidence:      body,
		WindowStart:   start.UTC(),
		WindowEnd:     end.UTC(),
		OrderIDs:      orderIDs,
		CommissionUSD: detectors.Round(d.commission, 2),
	}, nil
}

var signalText = map[string]string{
	"hidden": "hidden behind the page", "small_window": "in small windows",
	"quickly_closed": "closed within seconds", "third_party_referrer": "from third-party pages",
}

func pct(x float64) string {
	switch {
	case x >= 0.1:
		return fmt.Sprintf("%.0f %%", 100*x)
	case x >= 0.01:
		return fmt.Sprintf("%.1f %%", 100*x)
	default:
		return fmt.Sprintf("%.2f %%", 100*x)
	}
}

// RawLookbackDays implements detectors.RawLookback: the look-back ends
// with the night.
func (Detector) RawLookbackDays(pack *rules.Pack) (int, error) {
	rule, err := pack.Rule(detectors.PopupTraffic)
	if err != nil {
		return 0, err
	}
	p, err := thresholds.From(rule)
	return p.LookbackDays, err
}
