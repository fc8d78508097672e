// Package clickburst finds hours in which a publisher's clicks far exceed
// its own baseline and the surplus looks machine-made: few IPs or user
// agents, general invalid traffic (declared bots and automation agents,
// data-centre addresses: the maintained lists of the rule pack's
// reference_lists, labeled by loaders/reflists), metronomic timing, no
// engagement, no orders. It enforces clause E.10.c (programs or scripts generating abnormal
// clicks). Volume alone never makes a finding: an organic viral spike brings
// many different people who stay and buy, so at least min_machine_signals
// independent signs of automation are required.
package clickburst

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

//go:embed clickburst.sql
var sqlText string

var queries = detectors.MustQueries(sqlText)

// Detector is the click_burst detector.
type Detector struct{}

// Code implements detectors.Detector.
func (Detector) Code() string { return detectors.ClickBurst }

// Thresholds are click_burst's tunable values (rules.click_burst.thresholds
// in the pack), decoded and range-checked when the pack loads.
type Thresholds struct {
	BucketMinutes         int     `yaml:"bucket_minutes" range:"[1,1440]"`        // width of a counting bucket; must divide a day
	BaselineDays          int     `yaml:"baseline_days" range:"[1,366]"`          // look-back of the publisher's own baseline
	MinModifiedZ          float64 `yaml:"min_modified_z" range:"(0,]"`            // Iglewicz–Hoaglin modified z-score a bucket must exceed
	SeasonalMinDays       int     `yaml:"seasonal_min_days" range:"[1,366]"`      // same-slot days the seasonal test needs
	ColdStartExtraSignals int     `yaml:"cold_start_extra_signals" range:"[0,6]"` // machine signals added when it is skipped
	MinBucketClicks       int     `yaml:"min_bucket_clicks" range:"[1,]"`
	MinExcessRatio        float64 `yaml:"min_excess_ratio" range:"[1,]"` // multiple of the median a bucket must reach
	MaxIPDiversity        float64 `yaml:"max_ip_diversity" range:"[0,1]"`
	MaxUADiversity        float64 `yaml:"max_ua_diversity" range:"[0,1]"`
	MinGIVTShare          float64 `yaml:"min_givt_share" range:"(0,1]"` // share of a burst's clicks the reference lists call general invalid traffic
	MaxIntervalCV         float64 `yaml:"max_interval_cv" range:"[0,]"`
	MaxEngagedShare       float64 `yaml:"max_engaged_share" range:"[0,1]"`
	EngagedDwellMS        int     `yaml:"engaged_dwell_ms" range:"[0,]"`
	MinMachineSignals     int     `yaml:"min_machine_signals" range:"[1,6]"` // signals needed beyond the volume itself
}

// Validate implements rules.Validator.
func (t Thresholds) Validate() error {
	if 1440%t.BucketMinutes != 0 {
		return &rules.FieldError{Key: "bucket_minutes", Msg: fmt.Sprintf("%d does not divide a day (1440 minutes): try 5, 10, 15, 30 or 60", t.BucketMinutes)}
	}
	return nil
}

var thresholds = rules.Declare[Thresholds](detectors.ClickBurst)

// bucket is one candidate bucket with its metrics.
type bucket struct {
	publisher                    string
	start                        time.Time
	n                            int64
	median, mad, mean, threshold float64
	baselineBuckets              int64
	seasonalMedian, seasonalMAD  float64
	seasonalDays                 int64
	ips, ipKnown, uas, uaKnown   int64
	givt, botUA, dc              int64
	engaged, dwellKnown          int64
	gapMean, gapSD               sql.NullFloat64
	orders                       int64
	commission                   float64
	signals                      []string
}

// span is the stretch a run reads: the judged days and the look-back
// before them that the baselines come from.
type span struct {
	scopeStart, scopeEnd, baselineStart time.Time
	ok                                  bool
}

func spanOf(ctx context.Context, env detectors.Env, p Thresholds) (span, error) {
	start, end, ok, err := env.Night.Days()
	if err != nil || !ok {
		return span{}, err
	}
	baselineStart := start.AddDate(0, 0, -p.BaselineDays)
	if !env.Night.IsNight() {
		baselineStart = start
	}
	return span{start, end, baselineStart, true}, nil
}

// GlobalTables implements detectors.GlobalStater. A publisher's own
// baselines, windows and orders are its own rows (its orders are found
// through its own clicks and carry its id), so they stay in its partition;
// what the judgement reads of the rest of the program is the conversion
// that makes "no orders" a sign, and which optional columns the input
// carries.
func (d Detector) GlobalTables(ctx context.Context, env detectors.Env) ([]detectors.GlobalTable, error) {
	_, _, sp, err := plan(ctx, env)
	if err != nil {
		return nil, err
	}
	return globalTables(sp), nil
}

// plan reads the rule, its thresholds and the span it judges: what
// GlobalTables and Run both start from.
func plan(ctx context.Context, env detectors.Env) (rules.Rule, Thresholds, span, error) {
	rule, err := env.Pack.Rule(detectors.ClickBurst)
	if err != nil {
		return rule, Thresholds{}, span{}, err
	}
	p, err := thresholds.From(rule)
	if err != nil {
		return rule, p, span{}, err
	}
	sp, err := spanOf(ctx, env, p)
	return rule, p, sp, err
}

// globalTables are click_burst's program-wide tables for the span (a
// backfill without clicks counts over an empty range).
func globalTables(sp span) []detectors.GlobalTable {
	return []detectors.GlobalTable{
		{Name: "click_burst_population", Query: queries["Population"], Args: []any{sp.baselineStart, sp.scopeEnd}},
		{Name: "click_burst_columns", Query: queries["Columns"]},
	}
}

// Run implements detectors.Detector.
func (d Detector) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	rule, p, sp, err := plan(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := detectors.PrepareGlobals(ctx, env, globalTables(sp)); err != nil {
		return nil, fmt.Errorf("click_burst: %w", err)
	}
	cols := []string{"ip", "user_agent", "dwell_ms"}
	have := make([]bool, len(cols))
	if err := env.DB.QueryRowContext(ctx, queries["ReadColumns"]).Scan(&have[0], &have[1], &have[2]); err != nil {
		return nil, fmt.Errorf("click_burst: columns: %w", err)
	}
	for i, c := range cols {
		if !have[i] {
			env.Signals.Add(detectors.ClickBurst, "clicks."+c, "column absent or empty in the input: the signals that need it are not used")
		}
	}
	if !sp.ok {
		return nil, nil
	}
	scopeStart, scopeEnd, baselineStart := sp.scopeStart, sp.scopeEnd, sp.baselineStart
	bucketDur := time.Duration(p.BucketMinutes) * time.Minute

	if err := bucketState(p).Update(ctx, env.DB, baselineStart, scopeEnd); err != nil {
		return nil, fmt.Errorf("click_burst: bucket counts: %w", err)
	}
	var conversion float64
	if err := env.DB.QueryRowContext(ctx, queries["PopulationConversion"]).Scan(&conversion); err != nil {
		return nil, fmt.Errorf("click_burst: population conversion: %w", err)
	}
	rows, err := env.DB.QueryContext(ctx, queries["CandidateBuckets"], scopeStart, scopeEnd, baselineStart,
		p.BucketMinutes, p.MinModifiedZ, p.MinBucketClicks, p.MinExcessRatio, p.EngagedDwellMS, p.SeasonalMinDays)
	if err != nil {
		return nil, fmt.Errorf("click_burst: candidate buckets: %w", err)
	}
	var flagged []bucket
	for rows.Next() {
		var b bucket
		if err := rows.Scan(&b.publisher, &b.start, &b.n, &b.median, &b.mad, &b.mean, &b.threshold, &b.baselineBuckets,
			&b.seasonalMedian, &b.seasonalMAD, &b.seasonalDays, &b.ips, &b.ipKnown, &b.uas, &b.uaKnown, &b.givt, &b.botUA, &b.dc, &b.engaged, &b.dwellKnown,
			&b.gapMean, &b.gapSD, &b.orders, &b.commission); err != nil {
			rows.Close()
			return nil, err
		}
		b.signals = machineSignals(b, p, conversion)
		// Without enough days at this hour the bucket cannot be told from
		// a regular daily peak (a new publisher, the first nights of
		// data), so the machine evidence must be stronger.
		need := p.MinMachineSignals
		if b.seasonalDays < int64(p.SeasonalMinDays) {
			need += p.ColdStartExtraSignals
		}
		if len(b.signals) >= need {
			flagged = append(flagged, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	groups := groupByDay(flagged)
	if len(groups) == 0 {
		return nil, nil
	}
	details, err := windowDetails(ctx, env.DB, groups, bucketDur)
	if err != nil {
		return nil, err
	}
	var out []detectors.Finding
	for _, g := range groups {
		f, err := finding(ctx, env, rule, p, g, details[key(g)], bucketDur, conversion)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// bucketState keeps click_burst_buckets: each day's clicks counted per
// publisher and bucket, so that a night reads its baseline's counts, not
// its clicks.
func bucketState(p Thresholds) detectors.DayState {
	return detectors.DayState{
		Days: "click_burst_days", State: "click_burst_buckets", Clicks: true,
		Params:  fmt.Sprintf("bucket_minutes=%d", p.BucketMinutes),
		Compute: queries["BucketDays"],
		Args:    []any{p.BucketMinutes},
	}
}

// machineSignals lists the signs of automation a bucket shows. Each needs
// its column to be present; "no orders" counts only when a normal bucket of
// that size would have expected several orders.
func machineSignals(b bucket, p Thresholds, conversion float64) []string {
	var s []string
	n := float64(b.n)
	if b.ipKnown > 0 && float64(b.ips)/float64(b.ipKnown) <= p.MaxIPDiversity {
		s = append(s, "few_ips")
	}
	if b.uaKnown > 0 && float64(b.uas)/float64(b.uaKnown) <= p.MaxUADiversity {
		s = append(s, "few_user_agents")
	}
	// General invalid traffic: the lists' declared bots and automation
	// agents, data-centre addresses. One signal, whichever list matched:
	// a script on a cloud host is one fact, not two.
	if n > 0 && float64(b.givt)/n >= p.MinGIVTShare {
		s = append(s, "givt_traffic")
	}
	if b.gapMean.Valid && b.gapSD.Valid && b.gapMean.Float64 > 0 && b.gapSD.Float64/b.gapMean.Float64 <= p.MaxIntervalCV {
		s = append(s, "metronomic_timing")
	}
	if b.dwellKnown > 0 && float64(b.engaged)/float64(b.dwellKnown) <= p.MaxEngagedShare {
		s = append(s, "no_engagement")
	}
	if b.orders == 0 && n*conversion >= 3 {
		s = append(s, "no_orders")
	}
	return s
}

type dayGroup struct {
	publisher string
	day       time.Time
	buckets   []bucket
}

func key(g dayGroup) string {
	return g.publisher + "\x00" + g.buckets[0].start.UTC().Format(time.RFC3339)
}

func groupByDay(bs []bucket) []dayGroup {
	var out []dayGroup
	for _, b := range bs {
		day := b.start.UTC().Truncate(24 * time.Hour)
		if n := len(out); n > 0 && out[n-1].publisher == b.publisher && out[n-1].day.Equal(day) {
			out[n-1].buckets = append(out[n-1].buckets, b)
			continue
		}
		out = append(out, dayGroup{publisher: b.publisher, day: day, buckets: []bucket{b}})
	}
	return out
}

type windowDetail struct {
	TopIPs        []map[string]any
	TopUAs        []map[string]any
	GIVTEntries   []map[string]any
	ExampleClicks []string
	OrderIDs      []string
}

// windowDetails fetches, for all flagged windows in one query, the
// examples a reviewer checks.
func windowDetails(ctx context.Context, db *sql.DB, groups []dayGroup, bucketDur time.Duration) (map[string]windowDetail, error) {
	values := make([]string, len(groups))
	args := make([]any, 0, 3*len(groups))
	for i, g := range groups {
		values[i] = "(?, ?::TIMESTAMP, ?::TIMESTAMP)"
		last := g.buckets[len(g.buckets)-1]
		args = append(args, g.publisher, g.buckets[0].start, last.start.Add(bucketDur))
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(queries["WindowDetails"], strings.Join(values, ", ")), args...)
	if err != nil {
		return nil, fmt.Errorf("click_burst: window details: %w", err)
	}
	defer rows.Close()
	out := map[string]windowDetail{}
	for rows.Next() {
		var pub string
		var ws time.Time
		var ips, uas, clicks, givt, orders any
		if err := rows.Scan(&pub, &ws, &ips, &uas, &clicks, &givt, &orders); err != nil {
			return nil, err
		}
		out[pub+"\x00"+ws.UTC().Format(time.RFC3339)] = windowDetail{
			TopIPs: structList(ips), TopUAs: structList(uas), GIVTEntries: structList(givt), ExampleClicks: detectors.StringList(clicks), OrderIDs: detectors.StringList(orders),
		}
	}
	return out, rows.Err()
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

// signalWeights say how strongly each sign points to automation; the score
// is 1 - Π(1 - w) over the signs present, so independent signs add up
// without ever reaching certainty from one.
var signalWeights = map[string]float64{
	"few_ips": 0.35, "few_user_agents": 0.3, "givt_traffic": 0.55,
	"metronomic_timing": 0.5, "no_engagement": 0.3, "no_orders": 0.15,
}

var signalText = map[string]string{
	"few_ips": "few distinct IPs", "few_user_agents": "few distinct user agents",
	"givt_traffic": "declared bots, automation agents or data-centre addresses (maintained lists)", "metronomic_timing": "metronomic timing",
	"no_engagement": "no engagement on the landing page", "no_orders": "no orders",
}

type burstEvidence struct {
	Start          string   `json:"start"`
	End            string   `json:"end"`
	Clicks         int64    `json:"clicks"`
	Threshold      float64  `json:"threshold"`
	ExcessRatio    float64  `json:"excess_ratio"`
	ModifiedZ      float64  `json:"modified_z"`
	SameSlotMedian float64  `json:"same_slot_median"`
	SameSlotDays   int64    `json:"same_slot_days"`
	IPDiversity    *float64 `json:"ip_diversity,omitempty"`
	UADiversity    *float64 `json:"ua_diversity,omitempty"`
	GIVTShare      float64  `json:"givt_share"`
	BotUAShare     float64  `json:"bot_user_agent_share"`
	DatacenterShr  float64  `json:"datacenter_share"`
	IntervalCV     *float64 `json:"interval_cv,omitempty"`
	EngagedShare   *float64 `json:"engaged_share,omitempty"`
	Orders         int64    `json:"orders"`
	MachineSignals []string `json:"machine_signals"`
}

func finding(ctx context.Context, env detectors.Env, rule rules.Rule, p Thresholds, g dayGroup, det windowDetail, bucketDur time.Duration, conversion float64) (detectors.Finding, error) {
	var total int64
	var commission float64
	signalSet := map[string]bool{}
	var bursts []burstEvidence
	for _, b := range g.buckets {
		total += b.n
		commission += b.commission
		for _, s := range b.signals {
			signalSet[s] = true
		}
		be := burstEvidence{
			Start: b.start.UTC().Format(time.RFC3339), End: b.start.Add(bucketDur).UTC().Format(time.RFC3339),
			Clicks: b.n, Threshold: detectors.Round(b.threshold, 1), ExcessRatio: detectors.Round(float64(b.n)/b.mean, 1),
			ModifiedZ:      detectors.Round(0.6745*(float64(b.n)-b.median)/math.Max(b.mad, 1), 1),
			SameSlotMedian: detectors.Round(b.seasonalMedian, 1), SameSlotDays: b.seasonalDays,
			Orders: b.orders, MachineSignals: b.signals,
		}
		if b.n > 0 {
			be.GIVTShare = detectors.Round(float64(b.givt)/float64(b.n), 3)
			be.BotUAShare = detectors.Round(float64(b.botUA)/float64(b.n), 3)
			be.DatacenterShr = detectors.Round(float64(b.dc)/float64(b.n), 3)
		}
		if b.ipKnown > 0 {
			be.IPDiversity = ptr(detectors.Round(float64(b.ips)/float64(b.ipKnown), 3))
		}
		if b.uaKnown > 0 {
			be.UADiversity = ptr(detectors.Round(float64(b.uas)/float64(b.uaKnown), 3))
		}
		if b.gapMean.Valid && b.gapSD.Valid && b.gapMean.Float64 > 0 {
			be.IntervalCV = ptr(detectors.Round(b.gapSD.Float64/b.gapMean.Float64, 3))
		}
		if b.dwellKnown > 0 {
			be.EngagedShare = ptr(detectors.Round(float64(b.engaged)/float64(b.dwellKnown), 3))
		}
		bursts = append(bursts, be)
	}
	signals := make([]string, 0, len(signalSet))
	for s := range signalSet {
		signals = append(signals, s)
	}
	sort.Strings(signals)
	score := 1.0
	for _, s := range signals {
		score *= 1 - signalWeights[s]
	}
	score = detectors.Round(1-score, 3)
	severity := detectors.SeverityFromScore(score)
	first, last := g.buckets[0], g.buckets[len(g.buckets)-1]
	ws, we := first.start.UTC(), last.start.Add(bucketDur).UTC()

	timeline, err := timelineFor(ctx, env.DB, g.publisher, g.day, bucketDur)
	if err != nil {
		return detectors.Finding{}, err
	}
	timeline["baseline"] = detectors.Round(first.median, 2)
	timeline["threshold"] = detectors.Round(first.threshold, 2)
	spans := make([]map[string]string, len(bursts))
	for i, b := range bursts {
		spans[i] = map[string]string{"start": b.Start, "end": b.End}
	}
	timeline["bursts"] = spans

	pubGIVT, err := publisherGIVT(ctx, env.DB, g.publisher, ws.Truncate(24*time.Hour).AddDate(0, 0, -p.BaselineDays), we)
	if err != nil {
		return detectors.Finding{}, err
	}
	texts := make([]string, len(signals))
	for i, s := range signals {
		texts[i] = signalText[s]
	}
	evidence := map[string]any{
		"clicks_in_bursts":      total,
		"baseline_median":       detectors.Round(first.median, 2),
		"baseline_mad":          detectors.Round(first.mad, 2),
		"baseline_buckets":      first.baselineBuckets,
		"bucket_minutes":        p.BucketMinutes,
		"population_conversion": detectors.Round(conversion, 4),
		"machine_signals":       signals,
		"bursts":                bursts,
		"top_ips":               det.TopIPs,
		"top_user_agents":       det.TopUAs,
		"example_click_ids":     det.ExampleClicks,
		// the list entries that matched, each naming its list and version
		"givt_matches":   det.GIVTEntries,
		"publisher_givt": pubGIVT,
		"single_signal":  len(signals) < 2,
		"timeline":       timeline,
	}
	body, err := json.Marshal(evidence)
	if err != nil {
		return detectors.Finding{}, err
	}
	orderIDs := det.OrderIDs
	if orderIDs == nil {
		orderIDs = []string{}
	}
	summary := fmt.Sprintf("%s clicks in %d burst hour(s) on %s, up to %s× the publisher's usual %s clicks per hour, with %s.",
		detectors.Thousands(total), len(g.buckets), g.day.Format("2 Jan 2006"), detectors.Thousands(int64(math.Round(maxRatio(bursts)))), trimFloat(first.mean), strings.Join(texts, ", "))
	return detectors.Finding{
		PublisherID:   g.publisher,
		Severity:      severity,
		Score:         score,
		Summary:       summary,
		Evidence:      body,
		WindowStart:   ws,
		WindowEnd:     we,
		OrderIDs:      orderIDs,
		CommissionUSD: detectors.Round(commission, 2),
	}, nil
}

func timelineFor(ctx context.Context, db *sql.DB, publisher string, day time.Time, bucketDur time.Duration) (map[string]any, error) {
	rows, err := db.QueryContext(ctx, queries["Timeline"], publisher, day, day.AddDate(0, 0, 1), int(bucketDur/time.Minute))
	if err != nil {
		return nil, fmt.Errorf("click_burst: timeline: %w", err)
	}
	defer rows.Close()
	counts := []int64{}
	for rows.Next() {
		var b time.Time
		var n int64
		if err := rows.Scan(&b, &n); err != nil {
			return nil, err
		}
		counts = append(counts, n)
	}
	return map[string]any{
		"bucket_minutes": int(bucketDur / time.Minute),
		"start":          day.UTC().Format(time.RFC3339),
		"counts":         counts,
	}, rows.Err()
}

// givtShare is a publisher's general invalid traffic over a stretch.
type givtShare struct {
	From   string  `json:"from"`
	To     string  `json:"to"`
	Clicks int64   `json:"clicks"`
	GIVT   int64   `json:"givt_clicks"`
	Share  float64 `json:"share"`
}

func publisherGIVT(ctx context.Context, db *sql.DB, publisher string, from, to time.Time) (givtShare, error) {
	g := givtShare{From: from.UTC().Format(time.RFC3339), To: to.UTC().Format(time.RFC3339)}
	if err := db.QueryRowContext(ctx, queries["PublisherGIVT"], publisher, from, to).Scan(&g.GIVT, &g.Clicks); err != nil {
		return g, fmt.Errorf("click_burst: GIVT share: %w", err)
	}
	if g.Clicks > 0 {
		g.Share = detectors.Round(float64(g.GIVT)/float64(g.Clicks), 3)
	}
	return g, nil
}

func maxRatio(bs []burstEvidence) float64 {
	m := 0.0
	for _, b := range bs {
		m = math.Max(m, b.ExcessRatio)
	}
	return m
}

func trimFloat(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.2g", x)
}

func ptr(x float64) *float64 { return &x }

// RawLookbackDays implements detectors.RawLookback: the publisher's own
// baseline reads baseline_days before the night.
func (Detector) RawLookbackDays(pack *rules.Pack) (int, error) {
	rule, err := pack.Rule(detectors.ClickBurst)
	if err != nil {
		return 0, err
	}
	p, err := thresholds.From(rule)
	return p.BaselineDays, err
}
