package popuptraffic

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/rules"
	"affwatch/store"
)

// world is a small program, built in SQL so every number is exact:
//   - PU:       40 pop-unders (opener, hidden, dwell 200 ms) on 19–21 Nov from
//     third-party pages (10 + 10), the brand's own page (10) and no referrer
//     (10), plus 20 ordinary clicks from its own blog; orders o1 (listed
//     twice) and o2 on pop-unders, o3 on an ordinary click.
//   - SMALL:    30 small (300×250) script-opened windows read for 5 s, from its
//     own site, plus 30 ordinary clicks, all on 15 Nov.
//   - QUICK:    30 full-size script-opened windows closed in 0.5 s, no
//     referrer, plus 30 ordinary clicks, on 15 Nov.
//   - SHARE:    a share widget: 100 visible, full-size windows read for 40 s
//     (opener set), 5 of them bounced within 0.9 s.
//   - SHARE2:   the same with 400 windows and 30 quick bounces (7.5 %).
//   - NULLPUB:  40 script-opened windows whose visibility, size and dwell
//     are unknown (NULL): no evidence.
//   - SMALLPUB: 10 pop-unders among 12 clicks: under the count floor.
//   - C0…C9:    ordinary publishers, 200 clicks each: 2 quick bounces from a
//     chosen new window, 4 clicks whose beacon never fired (NULL).
const world = `
INSERT INTO clicks (click_id, ts, publisher_id, referrer, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'pu-pop-' || i, TIMESTAMP '2026-11-19 00:00:00' + to_minutes((i * 90)::INTEGER), 'PU',
       CASE i % 4 WHEN 0 THEN 'https://best.aliexpress.com/item/1.html' WHEN 1 THEN 'https://games-pop.example/t/' || i
                  WHEN 2 THEN 'https://www.files-pop.example/x' ELSE NULL END,
       true, true, false, 1920, 945, 200, 0, i
FROM range(0, 40) r(i);

INSERT INTO clicks (click_id, ts, publisher_id, referrer, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'pu-ord-' || i, TIMESTAMP '2026-11-19 01:00:00' + to_minutes((i * 150)::INTEGER), 'PU', 'https://blog.pu-site.com/post',
       true, false, true, 1920, 945, 30000, 0, 100 + i
FROM range(0, 20) r(i);

INSERT INTO clicks (click_id, ts, publisher_id, referrer, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT p || '-pop-' || i, TIMESTAMP '2026-11-15 00:00:00' + to_minutes((i * 20)::INTEGER), p,
       CASE p WHEN 'SMALL' THEN 'https://small-site.net/p' ELSE NULL END,
       true, true, true, CASE p WHEN 'SMALL' THEN 300 ELSE 412 END, CASE p WHEN 'SMALL' THEN 250 ELSE 839 END,
       CASE p WHEN 'SMALL' THEN 5000 ELSE 500 END, 0, 200 + i
FROM (VALUES ('SMALL'), ('QUICK')) v(p), range(0, 30) r(i);

INSERT INTO clicks (click_id, ts, publisher_id, referrer, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT p || '-ord-' || i, TIMESTAMP '2026-11-15 00:10:00' + to_minutes((i * 20)::INTEGER), p, NULL,
       true, false, true, 1536, 730, 25000, 0, 300 + i
FROM (VALUES ('SMALL'), ('QUICK')) v(p), range(0, 30) r(i);

INSERT INTO clicks (click_id, ts, publisher_id, referrer, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT p || '-' || i, TIMESTAMP '2026-11-16 00:00:00' + to_minutes((i * 7)::INTEGER), p, 'https://' || lower(p) || '.org/a',
       true, true, true, 1920, 945, CASE WHEN i < q THEN 900 ELSE 40000 END, 0, 400 + i
FROM (VALUES ('SHARE', 100, 5), ('SHARE2', 400, 30)) v(p, n, q), range(0, 400) r(i)
WHERE i < n;

INSERT INTO clicks (click_id, ts, publisher_id, referrer, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'null-' || i, TIMESTAMP '2026-11-17 00:00:00' + to_minutes((i * 11)::INTEGER), 'NULLPUB', 'https://elsewhere.example/',
       NULL, true, NULL, NULL, NULL, NULL, 0, 900 + i
FROM range(0, 40) r(i);

INSERT INTO clicks (click_id, ts, publisher_id, referrer, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'sp-' || i, TIMESTAMP '2026-11-18 00:00:00' + to_minutes((i * 13)::INTEGER), 'SMALLPUB', 'https://pop.example/',
       true, i < 10, i >= 10, 1920, 945, CASE WHEN i < 10 THEN 100 ELSE 30000 END, 0, 1000 + i
FROM range(0, 12) r(i);

INSERT INTO clicks (click_id, ts, publisher_id, referrer, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'C' || p || '-' || i, TIMESTAMP '2026-11-15 00:00:00' + to_minutes((i * 31 + p)::INTEGER), 'C' || p, 'https://c' || p || '.com/',
       CASE WHEN i % 50 = 7 THEN NULL ELSE true END,
       CASE WHEN i % 50 = 7 THEN NULL ELSE i % 100 = 0 END,
       CASE WHEN i % 50 = 7 THEN NULL ELSE true END,
       CASE WHEN i % 50 = 7 THEN NULL ELSE 1366 END, CASE WHEN i % 50 = 7 THEN NULL ELSE 641 END,
       CASE WHEN i % 50 = 7 THEN NULL WHEN i % 100 = 0 THEN 800 ELSE 20000 END, 0, 2000 + 1000 * p + i
FROM range(0, 10) s(p), range(0, 200) r(i);

INSERT INTO sites (publisher_id, url, kind, _file_id, _line) VALUES
    ('PU', 'https://www.pu-site.com/', 'website', 0, 1),
    ('SMALL', 'https://small-site.net/', 'website', 0, 2);

INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, click_id, status, commission_usd, _file_id, _line) VALUES
    ('o1', TIMESTAMP '2026-11-20 10:00:00', 'b1', 25, 'PU', 'pu-pop-1', 'paid', 1.50, 0, 1),
    ('o1', TIMESTAMP '2026-11-20 10:00:00', 'b1', 25, 'PU', 'pu-pop-1', 'paid', 1.50, 0, 2),
    ('o2', TIMESTAMP '2026-11-21 10:00:00', 'b2', 30, 'PU', 'pu-pop-2', 'paid', 2.25, 0, 3),
    ('o3', TIMESTAMP '2026-11-20 12:00:00', 'b3', 90, 'PU', 'pu-ord-0', 'paid', 9.00, 0, 4);
`

func setup(t *testing.T) (*store.Store, *rules.Pack) {
	t.Helper()
	return detectortest.Store(t, world), detectortest.Pack(t)
}

func run(t *testing.T, st *store.Store, pack *rules.Pack, scope detectors.Night) ([]detectors.Finding, *detectors.Signals) {
	t.Helper()
	return detectortest.Run(t, Detector{}, st, pack, scope)
}

type evidence struct {
	Popups     int64   `json:"popup_clicks"`
	Clicks     int64   `json:"clicks"`
	Known      int64   `json:"clicks_beacon_known"`
	Share      float64 `json:"popup_share"`
	PopShare   float64 `json:"population_share"`
	Population struct {
		Publishers int   `json:"publishers"`
		Known      int64 `json:"clicks_beacon_known"`
		Popups     int64 `json:"popup_clicks"`
	} `json:"population"`
	Log10P  float64 `json:"binomial_log10_p"`
	Fired   []string
	Signals []string `json:"signals_fired"`
	Sub     map[string]struct {
		Clicks int64   `json:"clicks"`
		Share  float64 `json:"share_of_popup_clicks"`
		Fired  bool    `json:"fired"`
	} `json:"sub_signals"`
	RefKnown int64       `json:"referrer_known"`
	Hosts    []hostCount `json:"top_third_party_hosts"`
	Examples []string    `json:"example_click_ids"`
	Orders   int         `json:"orders_credited"`
	Window   map[string]string
}

func byPublisher(fs []detectors.Finding) map[string]detectors.Finding {
	m := map[string]detectors.Finding{}
	for _, f := range fs {
		m[f.PublisherID] = f
	}
	return m
}

func TestBackfill(t *testing.T) {
	st, pack := setup(t)
	fs, sig := run(t, st, pack, detectors.BackfillNight())
	got := byPublisher(fs)
	if len(fs) != 3 || got["PU"].PublisherID == "" || got["SMALL"].PublisherID == "" || got["QUICK"].PublisherID == "" {
		for _, f := range fs {
			t.Logf("%s: %s", f.PublisherID, f.Summary)
		}
		t.Fatalf("got %d findings, want PU, SMALL and QUICK only", len(fs))
	}
	if l := sig.List(); len(l) != 0 {
		t.Errorf("signals unavailable = %+v, want none", l)
	}
	// Population: publishers below min_share — C0…C9 (1,960 known, 20
	// pop-up-like), SHARE (100, 5), SHARE2 (400, 30), NULLPUB (40, 0).
	wantPop := 55.0 / 2500

	for _, tc := range []struct {
		pub                   string
		popups, known, clicks int64
		signals               []string
		score                 float64
		severity              string
		orders                []string
		commission            float64
		summary               string
	}{
		{"PU", 40, 60, 60, []string{"hidden", "quickly_closed", "third_party_referrer"}, 0.79, "high", []string{"o1", "o2"}, 3.75,
			"40 of 60 clicks (67 %) were pop-up windows opened by script (40 hidden behind the page, 40 closed within seconds, 20 from third-party pages); program share 2.2 %."},
		{"SMALL", 30, 60, 60, []string{"small_window"}, 0.45, "medium", []string{}, 0,
			"30 of 60 clicks (50 %) were pop-up windows opened by script (30 in small windows); program share 2.2 %."},
		{"QUICK", 30, 60, 60, []string{"quickly_closed"}, 0.3, "low", []string{}, 0,
			"30 of 60 clicks (50 %) were pop-up windows opened by script (30 closed within seconds); program share 2.2 %."},
	} {
		t.Run(tc.pub, func(t *testing.T) {
			f := got[tc.pub]
			var ev evidence
			if err := json.Unmarshal(f.Evidence, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Popups != tc.popups || ev.Known != tc.known || ev.Clicks != tc.clicks {
				t.Errorf("popups %d of %d known (%d clicks), want %d of %d (%d)", ev.Popups, ev.Known, ev.Clicks, tc.popups, tc.known, tc.clicks)
			}
			if math.Abs(ev.PopShare-wantPop) > 1e-5 || ev.Population.Publishers != 13 || ev.Population.Known != 2500 || ev.Population.Popups != 55 {
				t.Errorf("population %v %+v, want %v over 13 publishers, 55/2500", ev.PopShare, ev.Population, wantPop)
			}
			if ev.Log10P > -6 {
				t.Errorf("log10 p = %v, want below -6", ev.Log10P)
			}
			if !reflect.DeepEqual(ev.Signals, tc.signals) {
				t.Errorf("signals %v, want %v", ev.Signals, tc.signals)
			}
			if f.Score != tc.score || f.Severity != tc.severity {
				t.Errorf("score %v severity %s, want %v %s", f.Score, f.Severity, tc.score, tc.severity)
			}
			if !reflect.DeepEqual(f.OrderIDs, tc.orders) || f.CommissionUSD != tc.commission {
				t.Errorf("orders %v $%v, want %v $%v", f.OrderIDs, f.CommissionUSD, tc.orders, tc.commission)
			}
			if f.Summary != tc.summary {
				t.Errorf("summary\n got %q\nwant %q", f.Summary, tc.summary)
			}
			if f.Detector != "popup_traffic" || f.PolicyRef != "E.10.h" || f.RuleID != "AW-PU-001" || f.RuleStatus != "stable" {
				t.Errorf("finding header %s %s %s %s", f.Detector, f.PolicyRef, f.RuleID, f.RuleStatus)
			}
			ws, we := time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
			if !f.WindowStart.Equal(ws) || !f.WindowEnd.Equal(we) {
				t.Errorf("window %s – %s, want %s – %s", f.WindowStart, f.WindowEnd, ws, we)
			}
			if f.FindingID != detectors.FindingID("popup_traffic", tc.pub, ws, we, "") {
				t.Errorf("finding id %s is not the stable id", f.FindingID)
			}
		})
	}

	// PU's referrers: the brand's page and missing referrers are not
	// third-party; its own blog's subdomain would not be either.
	var ev evidence
	json.Unmarshal(got["PU"].Evidence, &ev)
	if ev.Sub["third_party_referrer"].Clicks != 20 || ev.RefKnown != 30 || ev.Sub["hidden"].Clicks != 40 || ev.Sub["small_window"].Clicks != 0 {
		t.Errorf("PU sub-signals %+v, referrer known %d", ev.Sub, ev.RefKnown)
	}
	if want := []hostCount{{"files-pop.example", 10}, {"games-pop.example", 10}}; !reflect.DeepEqual(ev.Hosts, want) {
		t.Errorf("top hosts %+v, want %+v", ev.Hosts, want)
	}
	if len(ev.Examples) != 10 || ev.Examples[0] != "pu-pop-0" || ev.Examples[9] != "pu-pop-9" || ev.Orders != 2 {
		t.Errorf("examples %v, orders %d", ev.Examples, ev.Orders)
	}
	// SMALL's windows come from its own site: pop-ups all the same, but not third-party.
	json.Unmarshal(got["SMALL"].Evidence, &ev)
	if s := ev.Sub["third_party_referrer"]; s.Clicks != 0 || s.Fired || ev.RefKnown != 30 {
		t.Errorf("SMALL third-party %+v, referrer known %d", s, ev.RefKnown)
	}
}

func TestNightScope(t *testing.T) {
	st, pack := setup(t)
	fs, _ := run(t, st, pack, detectors.NightOf(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)))
	// SMALL and QUICK had no pop-ups on the 21st: a nightly run leaves them
	// to the night they happened.
	if len(fs) != 1 || fs[0].PublisherID != "PU" {
		t.Fatalf("night findings = %d, want PU only", len(fs))
	}
	ws, we := time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	if !fs[0].WindowStart.Equal(ws) || !fs[0].WindowEnd.Equal(we) {
		t.Errorf("window %s – %s, want the 14-day look-back %s – %s", fs[0].WindowStart, fs[0].WindowEnd, ws, we)
	}
}

func TestMissingColumnsAreSignalsUnavailable(t *testing.T) {
	st, pack := setup(t)
	if _, err := st.DB.Exec(`UPDATE clicks SET visible = NULL, referrer = NULL`); err != nil {
		t.Fatal(err)
	}
	fs, sig := run(t, st, pack, detectors.BackfillNight())
	var names []string
	for _, s := range sig.List() {
		names = append(names, s.Signal)
	}
	if want := []string{"clicks.referrer", "clicks.visible"}; !reflect.DeepEqual(names, want) {
		t.Errorf("signals unavailable %v, want %v", names, want)
	}
	f := byPublisher(fs)["PU"]
	var ev evidence
	if err := json.Unmarshal(f.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	// Without visibility PU's windows still closed in 200 ms; one weak
	// signal is all that remains, so the finding is low.
	if !reflect.DeepEqual(ev.Signals, []string{"quickly_closed"}) || f.Severity != "low" {
		t.Errorf("PU signals %v severity %s", ev.Signals, f.Severity)
	}
	if _, ok := ev.Sub["hidden"]; ok {
		t.Errorf("hidden reported though visible is absent: %+v", ev.Sub)
	}

	if _, err := st.DB.Exec(`UPDATE clicks SET opener = NULL`); err != nil {
		t.Fatal(err)
	}
	fs, sig = run(t, st, pack, detectors.BackfillNight())
	if len(fs) != 0 || !strings.Contains(sig.List()[0].Signal, "clicks.opener") {
		t.Errorf("without opener: %d findings, signals %+v", len(fs), sig.List())
	}
}

func TestThresholdsComeFromThePack(t *testing.T) {
	for _, tc := range []struct {
		key  string
		val  float64
		want int
	}{
		{"min_popup_clicks", 41, 0}, // above PU's 40
		{"min_popup_clicks", 10, 4}, // SMALLPUB's 10 pop-unders now count
		{"min_share", 0.6, 1},       // only PU's 67 % remains
		{"quick_close_ms", 100, 2},  // QUICK's 500 ms windows no longer count
	} {
		st, pack := setup(t)
		pack, err := pack.WithThresholds("popup_traffic", map[string]float64{tc.key: tc.val})
		if err != nil {
			t.Fatal(err)
		}
		if fs, _ := run(t, st, pack, detectors.BackfillNight()); len(fs) != tc.want {
			t.Errorf("%s = %v: %d findings, want %d", tc.key, tc.val, len(fs), tc.want)
		}
	}
}

func TestLogBinomialTail(t *testing.T) {
	for _, tc := range []struct {
		k, n int64
		q    float64
		want float64
	}{
		{0, 10, 0.3, 0},
		{10, 10, 0.5, math.Log(1.0 / 1024)},
		{1, 1, 0.2, math.Log(0.2)},
		{2, 3, 0.5, math.Log(0.5)}, // (3 + 1) / 8
	} {
		if got := detectors.LogBinomialTail(tc.k, tc.n, tc.q); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("tail(%d, %d, %v) = %v, want %v", tc.k, tc.n, tc.q, got, tc.want)
		}
	}
	if got := detectors.LogBinomialTail(11, 10, 0.5); !math.IsInf(got, -1) {
		t.Errorf("k > n: %v", got)
	}
}

// TestSmallPhoneIsNotAPopup is the hard case the generator lacks: an
// audience of 4" phones (320×460 viewports) opening a share link in a new
// window and reading it. On a phone that is a full-screen window; the same
// size on a desktop browser is a pop-up.
func TestSmallPhoneIsNotAPopup(t *testing.T) {
	st, pack := setup(t)
	if _, err := st.DB.Exec(`
INSERT INTO clicks (click_id, ts, publisher_id, referrer, user_agent, landed, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'old-' || i, TIMESTAMP '2026-11-17 00:00:00' + to_minutes((i * 17)::INTEGER), 'OLDPHONE', NULL,
       'Mozilla/5.0 (iPhone; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Mobile/15E148 Safari/604.1',
       true, true, true, 320, 460, 40000, 0, 5000 + i
FROM range(0, 40) r(i)`); err != nil {
		t.Fatal(err)
	}
	fs, _ := run(t, st, pack, detectors.BackfillNight())
	if f, ok := byPublisher(fs)["OLDPHONE"]; ok {
		t.Fatalf("small phones flagged: %s", f.Summary)
	}
	// The same clicks delivered again from desktop browsers: a new file
	// replaces the rows (the loader never changes a stored row in place).
	if _, err := st.DB.Exec(`UPDATE clicks SET user_agent = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', _file_id = 1 WHERE publisher_id = 'OLDPHONE'`); err != nil {
		t.Fatal(err)
	}
	fs, _ = run(t, st, pack, detectors.BackfillNight())
	if _, ok := byPublisher(fs)["OLDPHONE"]; !ok {
		t.Errorf("320×460 script-opened windows on a desktop browser not flagged")
	}
}
