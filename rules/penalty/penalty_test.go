package penalty

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/rules"
	"affwatch/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func defaultPack(t *testing.T) *rules.Pack {
	t.Helper()
	p, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var night = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) // a Saturday: G.12 counts from Monday

// finding builds a finding of night's window.
func finding(id, pub, detector, status, severity string, score float64, single bool, orders ...string) detectors.Finding {
	return detectors.Finding{
		FindingID: id, PublisherID: pub, Detector: detector, RuleID: "R-" + detector, RuleStatus: status,
		Severity: severity, Score: score, PolicyRef: "X", Summary: "s",
		Evidence:    json.RawMessage(fmt.Sprintf(`{"single_signal": %v}`, single)),
		WindowStart: night.Add(-13 * 24 * time.Hour), WindowEnd: night.Add(24*time.Hour - time.Second),
		OrderIDs: orders,
	}
}

// correction builds an invalid_commission finding whose evidence carries
// the publisher's and the program's order counts.
func correction(id string, invalid, orders, programInvalid, programOrders int, orderIDs ...string) detectors.Finding {
	f := finding(id, "P", "invalid_commission", "stable", "low", 0.2, false, orderIDs...)
	f.Evidence = json.RawMessage(fmt.Sprintf(`{"single_signal": false, "orders_disqualified": %d, "orders_attributed": %d,
		"program": {"orders_disqualified": %d, "orders_attributed": %d}}`, invalid, orders, programInvalid, programOrders))
	return f
}

// TestLadder walks the pack's ladder: severity × confidence, strikes,
// caps, shadow mode, commission corrections, and what takes money.
func TestLadder(t *testing.T) {
	pen := defaultPack(t).Penalties
	orders := map[string]orderFacts{
		"O1": {status: "paid", commission: 35000},      // 3.50 pending
		"O2": {status: "completed", commission: 12500}, // 1.25 paid
	}
	for _, tc := range []struct {
		name        string
		fs          []detectors.Finding
		strikes     int
		action      string
		confidence  string
		review      bool
		withhold    float64
		clawback    float64
		shadow      []string
		disqualify  int
		noteContain string
	}{
		{name: "low severity is a warning and takes no money",
			fs:     []detectors.Finding{finding("f1", "P", "popup_traffic", "stable", "low", 0.3, false, "O1")},
			action: "warning", confidence: "low", shadow: []string{}, noteContain: "low severity, low confidence: warning"},
		{name: "high severity, high confidence withholds",
			fs:     []detectors.Finding{finding("f1", "P", "click_burst", "stable", "high", 0.9, false, "O1", "O2")},
			action: "withhold_payment", confidence: "high", review: true, withhold: 3.5, clawback: 1.25, shadow: []string{}, disqualify: 2},
		{name: "one signal only is low confidence and needs review",
			fs:     []detectors.Finding{finding("f1", "P", "cookie_stuffing", "stable", "critical", 0.95, true, "O1")},
			action: "cure_period", confidence: "low", review: true, shadow: []string{}},
		{name: "two strikes escalate two rungs",
			fs:      []detectors.Finding{finding("f1", "P", "click_burst", "stable", "high", 0.9, false, "O1")},
			strikes: 2, action: "terminate", confidence: "high", review: true, withhold: 3.5, shadow: []string{}, disqualify: 1,
			noteContain: "2 rungs up for 2 earlier strike(s)"},
		{name: "strikes stop at the severity's max_action",
			fs:      []detectors.Finding{finding("f1", "P", "self_promotion", "stable", "medium", 0.6, false)},
			strikes: 5, action: "withhold_payment", confidence: "medium", review: true, shadow: []string{},
			noteContain: "capped at withhold_payment for medium severity"},
		{name: "a test rule stays at a warning, takes no money and is reviewed",
			fs:     []detectors.Finding{finding("f1", "P", "brand_domain", "test", "critical", 0.99, false, "O1")},
			action: "warning", confidence: "high", review: true, shadow: []string{"f1"}, noteContain: "shadow mode"},
		{name: "a test rule beside a stable one: the stable one acts",
			fs: []detectors.Finding{
				finding("f1", "P", "brand_domain", "experimental", "critical", 0.99, false, "O2"),
				finding("f2", "P", "popup_traffic", "stable", "high", 0.7, false, "O1"),
			},
			action: "cure_period", confidence: "medium", review: true, shadow: []string{"f1"}},
		{name: "a correction of paid commission deducts, whatever its severity",
			fs:     []detectors.Finding{finding("f1", "P", "invalid_commission", "stable", "low", 0.2, false, "O1", "O2")},
			action: "deduct", confidence: "low", withhold: 3.5, clawback: 1.25, shadow: []string{}, disqualify: 2,
			noteContain: "no breach of the Rules alleged"},
		{name: "a routine correction of pending commission withholds without review",
			fs:     []detectors.Finding{finding("f1", "P", "invalid_commission", "stable", "low", 0.2, false, "O1")},
			action: "withhold_payment", confidence: "low", withhold: 3.5, shadow: []string{}, disqualify: 1},
		{name: "corrections at the program's rate are routine",
			fs:     []detectors.Finding{correction("f1", 12, 100, 1000, 10000, "O1")},
			action: "withhold_payment", confidence: "low", withhold: 3.5, shadow: []string{}, disqualify: 1,
			noteContain: "12 of 100 orders invalid (12.0 %) against the program's 10.0 %: routine, under 2.0× the program's share"},
		{name: "too few invalid orders are routine whatever the share",
			fs:     []detectors.Finding{correction("f1", 4, 4, 1000, 10000, "O1")},
			action: "withhold_payment", confidence: "low", withhold: 3.5, shadow: []string{}, disqualify: 1,
			noteContain: "fewer than 5 invalid orders"},
		{name: "an anomalous rate of invalid orders is reviewed",
			fs:     []detectors.Finding{correction("f1", 30, 60, 1000, 10000, "O1")},
			action: "withhold_payment", confidence: "low", review: true, withhold: 3.5, shadow: []string{}, disqualify: 1,
			noteContain: "anomalous (5.1× the program's share"},
		{name: "a correction on a single ground withholds pending money only",
			fs:     []detectors.Finding{finding("f1", "P", "invalid_commission", "stable", "low", 0.2, true, "O1", "O2")},
			action: "withhold_payment", confidence: "low", review: true, withhold: 3.5, shadow: []string{}, disqualify: 1,
			noteContain: "until a reviewer sets the cut"},
		{name: "a correction on a single ground with nothing pending is a notice",
			fs:     []detectors.Finding{finding("f1", "P", "invalid_commission", "stable", "low", 0.2, true, "O2")},
			action: "warning", confidence: "low", shadow: []string{}},
		{name: "corrections never escalate",
			fs:      []detectors.Finding{finding("f1", "P", "invalid_commission", "stable", "low", 0.2, false, "O1")},
			strikes: 3, action: "withhold_payment", confidence: "low", withhold: 3.5, shadow: []string{}, disqualify: 1},
		{name: "a warning-level finding beside a correction adds no money",
			fs: []detectors.Finding{
				finding("f1", "P", "invalid_commission", "stable", "low", 0.2, false, "O1"),
				finding("f2", "P", "popup_traffic", "stable", "low", 0.3, false, "O2"),
			},
			action: "withhold_payment", confidence: "low", withhold: 3.5, shadow: []string{}, disqualify: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, dq, err := decide(pen, "P", tc.fs, tc.strikes, orders, "2026-11-27")
			if err != nil {
				t.Fatal(err)
			}
			got := []any{r.Action, r.PolicyRef, r.Confidence, r.ReviewRequired, r.WithholdUSD, r.ClawbackUSD, r.ShadowFindingIDs, len(dq)}
			want := []any{tc.action, rules.ActionClause(tc.action), tc.confidence, tc.review, tc.withhold, tc.clawback, tc.shadow, tc.disqualify}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("action, clause, confidence, review, withhold, clawback, shadow, disqualified (-want +got):\n%s\nsummary: %s", diff, r.Summary)
			}
			if tc.noteContain != "" {
				var notes []string
				for _, s := range r.Basis {
					notes = append(notes, s.Note)
				}
				if !strings.Contains(strings.Join(notes, " | "), tc.noteContain) {
					t.Errorf("basis notes %q lack %q", notes, tc.noteContain)
				}
			}
			if !strings.Contains(r.Summary, "(G.12)") || !strings.HasPrefix(r.Summary, actionWords[tc.action]) {
				t.Errorf("summary %q", r.Summary)
			}
		})
	}
}

func TestApplyCountsEachOrderOnce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	exec(t, st.DB, `INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, status, commission_usd, _file_id, _line) VALUES
		('O1', TIMESTAMP '2026-11-21 10:00:00', 'B1', 100, 'P1', 'paid', 3.50, 0, 2),
		('O2', TIMESTAMP '2026-11-21 11:00:00', 'B2', 50, 'P1', 'completed', 1.25, 0, 3)`)
	findings := []detectors.Finding{
		finding("f1", "P1", "click_burst", "stable", "high", 0.9, false, "O1", "O2"),
		finding("f2", "P1", "cookie_stuffing", "stable", "critical", 0.95, true, "O1"),
	}
	saveFindings(t, st.DB, "run1", findings)
	res, err := Apply(ctx, st.DB, defaultPack(t), "run1", night, night, findings)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Recommendations[0]
	got := []any{len(res.Recommendations), r.Action, r.FindingIDs, r.WithholdUSD, r.ClawbackUSD, r.AppealDeadline, r.ReviewRequired}
	want := []any{1, "withhold_payment", []string{"f1", "f2"}, 3.5, 1.25, "2026-11-27", true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recommendation (-want +got):\n%s", diff)
	}
	wantSummary := "Withhold payment (F.11.c) for click_burst, cookie_stuffing: click_burst high severity, high confidence; 2 order(s) disqualified (2 new tonight), US$3.50 pending withheld tonight, US$1.25 paid to claw back tonight; a reviewer must confirm first; the publisher may object until 2026-11-27 (G.12)."
	if r.Summary != wantSummary {
		t.Errorf("summary\n got %q\nwant %q", r.Summary, wantSummary)
	}
	got2 := queryStrings(t, st.DB, `SELECT order_id || ' ' || array_to_string(reason_codes, ';') || ' ' || array_to_string(finding_ids, ';') || ' ' || commission_usd::VARCHAR FROM disqualified_orders ORDER BY order_id`)
	// cookie_stuffing's single-signal critical finding is a cure period: it
	// disqualifies nothing; click_burst's withholding takes both orders.
	if diff := cmp.Diff([]string{"O1 click_burst f1 3.5000", "O2 click_burst f1 1.2500"}, got2); diff != "" {
		t.Errorf("disqualified orders (-want +got):\n%s", diff)
	}
	stored := queryStrings(t, st.DB, `SELECT action || ' ' || severity || ' ' || confidence || ' ' || strikes || ' ' || json_array_length(basis) || ' ' || len(shadow_finding_ids) FROM recommendations`)
	if diff := cmp.Diff([]string{"withhold_payment high high 0 2 0"}, stored); diff != "" {
		t.Errorf("stored recommendation (-want +got):\n%s", diff)
	}
}

// invalid_commission itemizes its orders (order_reasons): the penalty engine
// lists its reasons per order and puts at stake what it says, the most any
// finding puts on an order, never the sum.
func TestApplyUsesOrderReasons(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	exec(t, st.DB, `INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, status, commission_usd, _file_id, _line) VALUES
		('O1', TIMESTAMP '2026-11-21 10:00:00', 'B1', 100, 'P1', 'refunded', 3.50, 0, 2),
		('O2', TIMESTAMP '2026-11-21 11:00:00', 'B2', 1000, 'P1', 'completed', 50.00, 0, 3),
		('O3', TIMESTAMP '2026-11-21 12:00:00', 'B3', 10, 'P1', 'paid', 0.10, 0, 4),
		('O4', TIMESTAMP '2026-11-21 12:00:00', 'B3', 10, 'P1', 'paid', 0.20, 0, 5),
		('O5', TIMESTAMP '2026-11-21 12:00:00', 'B3', 10, 'P1', 'paid', 0.70, 0, 6)`)
	ic := finding("f1", "P1", "invalid_commission", "stable", "low", 0.2, false, "O1", "O2", "O3", "O4", "O5")
	ic.Evidence = json.RawMessage(`{"single_signal": false, "order_reasons": {
		"O1": {"reasons": ["cookie_window_expired", "refunded"], "at_stake_usd": 3.5},
		"O2": {"reasons": ["over_cap"], "at_stake_usd": 11.5},
		"O3": {"reasons": ["overpaid"], "at_stake_usd": 0.03},
		"O4": {"reasons": ["overpaid"], "at_stake_usd": 0.03},
		"O5": {"reasons": ["overpaid"], "at_stake_usd": 99}}}`)
	// the whole of O2 is at stake for cookie_stuffing: the larger amount counts, once
	cs := finding("f2", "P1", "cookie_stuffing", "stable", "critical", 0.9, false, "O1", "O2")
	findings := []detectors.Finding{ic, cs}
	saveFindings(t, st.DB, "run1", findings)
	res, err := Apply(ctx, st.DB, defaultPack(t), "run1", night, night, findings)
	if err != nil {
		t.Fatal(err)
	}
	// withheld (not completed): O1 3.50 + O3 0.03 + O4 0.03 + O5 0.70 (at
	// most what was booked) = 4.26; clawed back (completed): O2 50.00.
	if r := res.Recommendations; len(r) != 1 || r[0].WithholdUSD != 4.26 || r[0].ClawbackUSD != 50 || r[0].Action != "deduct" {
		t.Fatalf("recommendations = %+v", r)
	}
	got := queryStrings(t, st.DB, `SELECT order_id || ' ' || array_to_string(reason_codes, ';') || ' ' || commission_usd::VARCHAR FROM disqualified_orders ORDER BY order_id`)
	want := []string{
		"O1 cookie_stuffing;invalid_commission:cookie_window_expired;invalid_commission:refunded 3.5000",
		"O2 cookie_stuffing;invalid_commission:over_cap 50.0000",
		"O3 invalid_commission:overpaid 0.0300",
		"O4 invalid_commission:overpaid 0.0300",
		"O5 invalid_commission:overpaid 0.7000",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("disqualified orders (-want +got):\n%s", diff)
	}
}

// TestHistory: repeat offenders escalate one rung per strike; a strike is
// counted once per cure period and only once that period is over; failed
// runs, other rules' shadow findings, commission corrections and what a
// cleared appeal covers are not history.
func TestHistory(t *testing.T) {
	ctx := context.Background()
	day := func(d int) time.Time { return night.AddDate(0, 0, d) }
	type past struct {
		run      string
		status   string
		day      int
		detector string
		rule     string
	}
	earlier := []past{
		{"r-20", "succeeded", -20, "click_burst", "stable"},
		{"r-19", "succeeded", -19, "click_burst", "stable"}, // same incident as -20
		{"r-18", "succeeded", -18, "cookie_stuffing", "stable"},
		{"r-10", "succeeded", -10, "click_burst", "stable"}, // 10 days after -20: a second strike
		{"r-3", "succeeded", -3, "click_burst", "stable"},   // still inside the cure period
		{"r-12", "failed", -12, "click_burst", "stable"},
		{"r-14", "succeeded", -14, "brand_domain", "test"},
		{"r-15", "succeeded", -15, "invalid_commission", "stable"},
		{"r-400", "succeeded", -400, "click_burst", "stable"}, // forgotten
	}
	for _, tc := range []struct {
		name    string
		appeals string
		strikes int
		action  string
	}{
		{name: "two strikes", strikes: 2, action: "terminate"},
		{name: "cleared of click_burst until day -15: cookie_stuffing on -18 and click_burst on -10 remain",
			appeals: `('A1', 'P1', 'click_burst', NULL, 'cleared', DATE '2026-11-06', 'j.doe', 'proxy of a school, not a bot')`, strikes: 2, action: "terminate"},
		{name: "cleared of everything until day -10", appeals: `('A1', 'P1', '*', NULL, 'cleared', DATE '2026-11-11', 'j.doe', 'n')`,
			strikes: 0, action: "withhold_payment"},
		{name: "an upheld appeal changes nothing", appeals: `('A1', 'P1', '*', NULL, 'upheld', DATE '2026-11-11', 'j.doe', 'n')`,
			strikes: 2, action: "terminate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			for _, p := range earlier {
				exec(t, st.DB, `INSERT INTO runs (run_id, command, night, started_at, status) VALUES (?, 'run', ?::DATE, now(), ?)`, p.run, day(p.day).Format(time.DateOnly), p.status)
				f := finding("old-"+p.run, "P1", p.detector, p.rule, "high", 0.9, false)
				f.WindowEnd = day(p.day).Add(23 * time.Hour)
				saveFindingsNight(t, st.DB, p.run, day(p.day), []detectors.Finding{f})
			}
			if tc.appeals != "" {
				exec(t, st.DB, `INSERT INTO appeals VALUES `+strings.Replace(tc.appeals, ")", ", now())", 1))
			}
			fs := []detectors.Finding{finding("now", "P1", "click_burst", "stable", "high", 0.9, false)}
			saveFindings(t, st.DB, "tonight", fs)
			res, err := Apply(ctx, st.DB, defaultPack(t), "tonight", night, night, fs)
			if err != nil {
				t.Fatal(err)
			}
			r := res.Recommendations[0]
			if r.Strikes != tc.strikes || r.Action != tc.action {
				t.Errorf("strikes %d, action %s; want %d, %s (%s)", r.Strikes, r.Action, tc.strikes, tc.action, r.Summary)
			}
		})
	}
}

// TestSuppression: active allow-list entries (by publisher, by a domain of
// the sites a finding is about, by a domain of the publisher's registered
// sites) and cleared appeals naming the finding move it to
// suppressed_findings; expired entries, other rules, other domains and a
// domain the evidence names that is not the publisher's site do not.
func TestSuppression(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	exec(t, st.DB, `INSERT INTO sites (publisher_id, url, kind, _file_id, _line) VALUES ('P3', 'https://Shop.Example.org/deals', 'website', 0, 2), ('P4', 'https://other.net/', 'website', 0, 3)`)
	exec(t, st.DB, `INSERT INTO appeals VALUES ('A9', 'P5', 'click_burst', 'f5', 'cleared', DATE '2026-11-20', 'j.doe', 'school proxy', now())`)
	pack := defaultPack(t)
	pack.AllowList = []rules.AllowEntry{
		{PublisherID: "P1", Rule: "click_burst", Reason: "TV campaign", ApprovedBy: "a", Expires: "2026-11-21"},
		{Domain: "aliexpress-fans.example", Rule: "brand_domain", Reason: "licensed fan club", ApprovedBy: "b", Expires: "2027-01-01"},
		{Domain: "example.org", Rule: "*", Reason: "program's own test shop", ApprovedBy: "c", Expires: "2027-01-01"},
		{PublisherID: "P6", Rule: "click_burst", Reason: "expired", ApprovedBy: "d", Expires: "2026-11-20"},
		{PublisherID: "P7", Rule: "popup_traffic", Reason: "other rule", ApprovedBy: "e", Expires: "2027-01-01"},
	}
	f2 := finding("f2", "P2", "brand_domain", "test", "high", 0.9, false)
	f2.Sites = detectors.SiteHosts("https://www.AliExpress-Fans.example/")
	f4 := finding("f4", "P4", "brand_domain", "test", "high", 0.9, false)
	f4.Sites = detectors.SiteHosts("aliexpress-fans.example.evil.net")
	// A pop-up finding whose evidence names a referrer in the allowed
	// domain: the referrer is not the publisher's site, so it stands.
	f8 := finding("f8", "P8", "popup_traffic", "stable", "high", 0.9, false)
	f8.Evidence = json.RawMessage(`{"top_referrer_hosts": [{"host": "ads.example.org", "clicks": 40}]}`)
	fs := []detectors.Finding{
		finding("f1", "P1", "click_burst", "stable", "high", 0.9, false),
		f2,
		finding("f3", "P3", "cookie_stuffing", "stable", "critical", 0.9, false),
		f4,
		finding("f5", "P5", "click_burst", "stable", "high", 0.9, false),
		finding("f6", "P6", "click_burst", "stable", "high", 0.9, false),
		finding("f7", "P7", "click_burst", "stable", "high", 0.9, false),
		f8,
	}
	saveFindings(t, st.DB, "run1", fs)
	res, err := Apply(ctx, st.DB, pack, "run1", night, night, fs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range res.Suppressed {
		got = append(got, s.Finding.FindingID+" "+s.By+" "+s.Detail["reason"]+s.Detail["note"])
	}
	want := []string{"f1 allowlist TV campaign", "f2 allowlist licensed fan club", "f3 allowlist program's own test shop", "f5 appeal school proxy"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suppressed (-want +got):\n%s", diff)
	}
	var pubs []string
	for _, r := range res.Recommendations {
		pubs = append(pubs, r.PublisherID)
	}
	if diff := cmp.Diff([]string{"P4", "P6", "P7", "P8"}, pubs); diff != "" {
		t.Errorf("recommended publishers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"f4", "f6", "f7", "f8"}, queryStrings(t, st.DB, `SELECT finding_id FROM findings ORDER BY 1`)); diff != "" {
		t.Errorf("findings left (-want +got):\n%s", diff)
	}
	stored := queryStrings(t, st.DB, `SELECT finding_id || ' ' || suppressed_by || ' ' || coalesce(suppression->>'approved_by', suppression->>'decided_by') || ' ' || severity FROM suppressed_findings ORDER BY 1`)
	if diff := cmp.Diff([]string{"f1 allowlist a high", "f2 allowlist b high", "f3 allowlist c critical", "f5 appeal j.doe high"}, stored); diff != "" {
		t.Errorf("suppressed_findings (-want +got):\n%s", diff)
	}
}

func TestUnitCents(t *testing.T) {
	for _, tc := range []struct {
		u    unit
		want float64
		dec  string
	}{{0, 0, "0.0000"}, {3, 0, "0.0003"}, {50, 0.01, "0.0050"}, {123456, 12.35, "12.3456"}, {-50, -0.01, "-0.0050"}} {
		if got := tc.u.cents(); got != tc.want {
			t.Errorf("unit(%d).cents() = %v, want %v", tc.u, got, tc.want)
		}
		if got := tc.u.decimal(); got != tc.dec {
			t.Errorf("unit(%d).decimal() = %q, want %q", tc.u, got, tc.dec)
		}
	}
	for _, tc := range []struct{ u, want unit }{{123456, 123500}, {123449, 123400}, {50, 100}, {49, 0}, {-50, -100}, {-49, 0}} {
		if got := tc.u.roundCents(); got != tc.want {
			t.Errorf("unit(%d).roundCents() = %d, want %d", tc.u, got, tc.want)
		}
	}
	// 0.1 + 0.2 summed a thousand times in float64 drifts; in units it does not.
	var sum unit
	for i := 0; i < 1000; i++ {
		sum += usdUnits(0.1) + usdUnits(0.2)
	}
	if sum.cents() != 300 {
		t.Errorf("sum = %v", sum.cents())
	}
}

func saveFindings(t *testing.T, db *sql.DB, runID string, fs []detectors.Finding) {
	t.Helper()
	saveFindingsNight(t, db, runID, night, fs)
}

func saveFindingsNight(t *testing.T, db *sql.DB, runID string, n time.Time, fs []detectors.Finding) {
	t.Helper()
	for _, f := range fs {
		orders := f.OrderIDs
		if orders == nil {
			orders = []string{}
		}
		exec(t, db, `INSERT INTO findings VALUES (?, ?, ?::DATE, ?, ?, ?, ?, ?, ?, ?, ?, ?::JSON, ?, ?, ?, 0)`,
			f.FindingID, runID, n.Format(time.DateOnly), f.PublisherID, f.Detector, f.RuleID, f.RuleStatus, f.Severity, f.Score,
			f.PolicyRef, f.Summary, string(f.Evidence), f.WindowStart, f.WindowEnd, orders)
	}
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestMalformedEvidenceFailsTheDecision: the engine reads its facts
// typed; evidence that holds them in other types is an error naming the
// finding, not a finding judged as if the facts were absent.
func TestMalformedEvidenceFailsTheDecision(t *testing.T) {
	pen := defaultPack(t).Penalties
	orders := map[string]orderFacts{"O1": {commission: usdUnits(3.5), status: "approved"}}
	for _, ev := range []string{`{"single_signal": "yes"}`, `{"order_reasons": {"O1": {"at_stake_usd": "3.50"}}}`, `[1, 2]`} {
		f := finding("f-bad", "P", "popup_traffic", "stable", "high", 0.8, false, "O1")
		f.Evidence = json.RawMessage(ev)
		_, _, err := decide(pen, "P", []detectors.Finding{f}, 0, orders, "2026-11-27")
		if err == nil || !strings.Contains(err.Error(), "f-bad") {
			t.Errorf("evidence %s: err %v, want an error naming finding f-bad", ev, err)
		}
	}
	ok := finding("f-ok", "P", "popup_traffic", "stable", "high", 0.8, true, "O1")
	if _, _, err := decide(pen, "P", []detectors.Finding{ok}, 0, orders, "2026-11-27"); err != nil {
		t.Errorf("well-formed evidence: %v", err)
	}
}
