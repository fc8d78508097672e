package cookiestuffing

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/rules"
	"affwatch/store"
)

// world is a week (15–21 Nov 2026) of clicks, generated in SQL so the
// numbers are exact:
//
//   - C1…C5   clean: 200 clicks each, 7 lost beacons (3.5 %), orders 30 min after 10 clicks
//   - BOUNCE  normal_bounces: 200 clicks, 15 lost beacons (7.5 %), 40 % quick bounces, background tabs
//   - SMALL   8 clicks, 6 lost beacons: a high share on a handful of clicks
//   - PIX     40 clicks, 30 never landed; 5 orders 6 h later credited to them
//   - FRAME   40 clicks, 25 in 0×0 invisible frames
//   - REDIR   40 clicks, 25 invisible and left within 100 ms
//   - POPUNDR 40 clicks, 25 invisible windows opened by script (popup_traffic's)
//   - WIDGET  40 clicks in a visible 300×250 frame
//   - OVER    30 clicks 10 s after a click of C1…C5 on the same device, 10 own; 6 orders
//   - CAP     8 returning buyers' orders 5 min after a click from the AliExpress page, 2 more clicks
//   - COUPON  the same timing from a coupon page the shopper chose
//   - BOTNET  40 clicks, 30 never landed, on devices no person uses
//
// Every device of a hit that never rendered, but BOTNET's, paid an order
// at some time: they are shoppers' devices.
const world = `
INSERT INTO clicks (click_id, ts, publisher_id, device_id, referrer, landed, in_iframe, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT p || '-' || i, TIMESTAMP '2026-11-15 00:00:00' + to_minutes((i * 50)::INTEGER), p, 'dev-' || p || '-' || i,
       'https://blog.example/' || p,
       i % 33 <> 0,
       CASE WHEN i % 33 <> 0 THEN false END, CASE WHEN i % 33 <> 0 THEN false END, CASE WHEN i % 33 <> 0 THEN true END,
       CASE WHEN i % 33 <> 0 THEN 1280 END, CASE WHEN i % 33 <> 0 THEN 720 END, CASE WHEN i % 33 <> 0 THEN 20000 END, 0, i
FROM (VALUES ('C1'), ('C2'), ('C3'), ('C4'), ('C5')) v(p), range(0, 200) r(i);

INSERT INTO orders (order_id, ts, buyer_id, publisher_id, click_id, status, commission_usd, _file_id, _line)
SELECT 'o-' || p || '-' || i, TIMESTAMP '2026-11-15 00:30:00' + to_minutes((i * 50)::INTEGER), 'b-' || p || '-' || i, p, p || '-' || i, 'paid', 1, 0, i
FROM (VALUES ('C1'), ('C2'), ('C3'), ('C4'), ('C5')) v(p), range(0, 200) r(i) WHERE i % 20 = 5;

INSERT INTO clicks (click_id, ts, publisher_id, device_id, referrer, landed, in_iframe, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'BOUNCE-' || i, TIMESTAMP '2026-11-15 00:10:00' + to_minutes((i * 50)::INTEGER), 'BOUNCE', 'dev-B-' || i, 'https://news.example/',
       i % 14 <> 0,
       CASE WHEN i % 14 <> 0 THEN false END, CASE WHEN i % 14 <> 0 THEN false END,
       CASE WHEN i % 14 = 0 THEN NULL WHEN i % 33 = 1 THEN false ELSE true END,
       CASE WHEN i % 14 <> 0 THEN 390 END, CASE WHEN i % 14 <> 0 THEN 844 END,
       CASE WHEN i % 14 = 0 THEN NULL WHEN i % 33 = 1 THEN 95000 WHEN i % 5 IN (1, 2) THEN 1500 ELSE 30000 END, 0, i
FROM range(0, 200) r(i);

INSERT INTO clicks (click_id, ts, publisher_id, device_id, landed, _file_id, _line)
SELECT 'SMALL-' || i, TIMESTAMP '2026-11-21 08:00:00' + to_minutes((i * 7)::INTEGER), 'SMALL', 'dev-S-' || i, i >= 6, 0, i
FROM range(0, 8) r(i);

-- Stuffers: 40 clicks every 4 h from the 15th to the 21st; the first 30 or 25 forced.
INSERT INTO clicks (click_id, ts, publisher_id, device_id, referrer, landed, in_iframe, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT p || '-' || i, TIMESTAMP '2026-11-15 01:00:00' + to_hours((i * 4)::INTEGER), p, 'dev-' || p || '-' || i, 'https://' || lower(p) || '.example/',
       CASE WHEN p = 'PIX' AND i < 30 THEN false ELSE true END,
       CASE WHEN p = 'PIX' AND i < 30 THEN NULL WHEN p = 'FRAME' AND i < 25 THEN true ELSE false END,
       CASE WHEN p = 'PIX' AND i < 30 THEN NULL WHEN p = 'POPUNDR' AND i < 25 THEN true ELSE false END,
       CASE WHEN p = 'PIX' AND i < 30 THEN NULL WHEN p IN ('FRAME', 'REDIR', 'POPUNDR') AND i < 25 THEN false ELSE true END,
       CASE WHEN p = 'PIX' AND i < 30 THEN NULL WHEN p = 'FRAME' AND i < 25 THEN 0 ELSE 1366 END,
       CASE WHEN p = 'PIX' AND i < 30 THEN NULL WHEN p = 'FRAME' AND i < 25 THEN 0 ELSE 768 END,
       CASE WHEN p = 'PIX' AND i < 30 THEN NULL WHEN p IN ('REDIR', 'POPUNDR') AND i < 25 THEN 100 ELSE 40000 END, 0, i
FROM (VALUES ('PIX'), ('FRAME'), ('REDIR'), ('POPUNDR')) v(p), range(0, 40) r(i);

-- WIDGET: a site shown inside a visible 300×250 frame (an app or widget), not hidden.
INSERT INTO clicks (click_id, ts, publisher_id, device_id, referrer, landed, in_iframe, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'WIDGET-' || i, TIMESTAMP '2026-11-15 02:00:00' + to_hours((i * 4)::INTEGER), 'WIDGET', 'dev-W-' || i, NULL, true, true, false, true, 300, 250, 15000, 0, i
FROM range(0, 40) r(i);

INSERT INTO orders (order_id, ts, buyer_id, publisher_id, click_id, status, commission_usd, _file_id, _line)
SELECT 'o-PIX-' || i, TIMESTAMP '2026-11-15 07:00:00' + to_hours((i * 4)::INTEGER), 'b-PIX-' || i, 'PIX', 'PIX-' || i, 'paid', 2.5, 0, i
FROM range(0, 15, 3) r(i);

-- OVER re-stamps clicks C1-(6j+1) … C5-(6j+1) ten seconds later on the same device.
INSERT INTO clicks (click_id, ts, publisher_id, device_id, referrer, landed, in_iframe, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'OVER-' || j, c.ts + INTERVAL 10 SECOND, 'OVER', c.device_id, 'https://www.aliexpress.com/', true, false, false, true, 1280, 720, 25000, 0, j
FROM range(0, 30) r(j) JOIN clicks c ON c.click_id = 'C' || (j % 5 + 1) || '-' || (6 * j + 1);
INSERT INTO clicks (click_id, ts, publisher_id, device_id, referrer, landed, in_iframe, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT 'OVER-own-' || i, TIMESTAMP '2026-11-16 12:00:00' + to_hours((i * 12)::INTEGER), 'OVER', 'dev-O-' || i, NULL, true, false, false, true, 1280, 720, 25000, 0, i
FROM range(0, 10) r(i);
INSERT INTO orders (order_id, ts, buyer_id, publisher_id, click_id, status, commission_usd, _file_id, _line)
SELECT 'o-OVER-' || j, c.ts + INTERVAL 20 MINUTE, 'b-OVER-' || j, 'OVER', c.click_id, 'paid', 3, 0, j
FROM range(0, 30, 5) r(j) JOIN clicks c ON c.click_id = 'OVER-' || j;

-- CAP and COUPON: shoppers who bought organically on the 15th, then a
-- click 5 min before their next order.
INSERT INTO orders (order_id, ts, buyer_id, _file_id, _line)
SELECT 'o-org-' || p || '-' || j, TIMESTAMP '2026-11-15 10:00:00' + to_hours(j::INTEGER), 'b-' || p || '-' || j, 0, j
FROM (VALUES ('CAP'), ('COUPON')) v(p), range(0, 8) r(j);
INSERT INTO clicks (click_id, ts, publisher_id, device_id, referrer, landed, in_iframe, opener, visible, viewport_w, viewport_h, dwell_ms, _file_id, _line)
SELECT p || '-' || j, TIMESTAMP '2026-11-19 06:00:00' + to_hours((j * 7)::INTEGER), p, 'dev-' || p || '-' || j,
       CASE p WHEN 'CAP' THEN 'https://www.aliexpress.com/item/100500' || j || '.html' ELSE 'https://coupons.example/deal-' || j END,
       true, false, false, true, 1280, 720, 240000, 0, j
FROM (VALUES ('CAP'), ('COUPON')) v(p), range(0, 10) r(j);
INSERT INTO orders (order_id, ts, buyer_id, publisher_id, click_id, status, commission_usd, _file_id, _line)
SELECT 'o-' || p || '-' || j, TIMESTAMP '2026-11-19 06:05:00' + to_hours((j * 7)::INTEGER), 'b-' || p || '-' || j, p, p || '-' || j, 'paid', 4, 0, j
FROM (VALUES ('CAP'), ('COUPON')) v(p), range(0, 8) r(j);

-- BOTNET: a script's hits that never render (30 of 40), on throw-away
-- cookies no person uses: invalid clicks (E.10.c), not stuffing.
INSERT INTO clicks (click_id, ts, publisher_id, device_id, landed, _file_id, _line)
SELECT 'BOTNET-' || i, TIMESTAMP '2026-11-20 03:00:00' + to_seconds((i * 20)::INTEGER), 'BOTNET', 'dev-BOTNET-' || i, i >= 30, 0, i
FROM range(0, 40) r(i);

-- Every other device whose hit never rendered is a shopper's: it paid an
-- order at some time (organic, credited to no one).
INSERT INTO orders (order_id, ts, buyer_id, buyer_device_id, _file_id, _line)
SELECT 'o-dev-' || device_id, TIMESTAMP '2026-11-21 20:00:00', 'shopper-' || device_id, device_id, 0, 0
FROM clicks WHERE landed = false AND publisher_id <> 'BOTNET';
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
	Signals    []string `json:"signals"`
	Mechanisms []struct {
		Signal         string   `json:"signal"`
		Hits           int64    `json:"hits"`
		Known          int64    `json:"known"`
		Rate           float64  `json:"rate"`
		PopulationRate float64  `json:"population_rate"`
		PValue         float64  `json:"p_value"`
		Examples       []string `json:"example_click_ids"`
		OrdersCredited int      `json:"orders_credited"`
		Commission     float64  `json:"commission_usd"`
		Victims        *int64   `json:"publishers_overwritten"`
		Devices        []string `json:"example_device_ids"`
		SelfRef        *int64   `json:"self_referrer_hits"`
		SelfRefClicks  *int64   `json:"self_referrer_clicks"`
	} `json:"mechanisms"`
	CTIT *struct {
		Orders      int     `json:"orders"`
		MedianHours float64 `json:"median_hours"`
		PopMedian   float64 `json:"population_median_hours"`
		KS          float64 `json:"ks_statistic"`
	} `json:"ctit"`
	SingleSignal bool `json:"single_signal"`
}

func byPublisher(t *testing.T, fs []detectors.Finding) map[string]detectors.Finding {
	t.Helper()
	out := map[string]detectors.Finding{}
	for _, f := range fs {
		out[f.PublisherID] = f
	}
	return out
}

func TestMechanismsFlaggedNegativesNot(t *testing.T) {
	st, pack := setup(t)
	fs, sig := run(t, st, pack, detectors.BackfillNight())
	got := byPublisher(t, fs)
	want := map[string]struct {
		signal           string
		hits, known      int64
		orders           int
		commission       float64
		severity         string
		summaryFragments []string
	}{
		"PIX":   {"pixel_drop", 30, 40, 5, 12.5, "critical", []string{"30 of 40 clicks (75 %) never rendered the landing page; program median 4 %", "5 order(s) worth US$12.50"}},
		"FRAME": {"hidden_iframe", 25, 40, 0, 0, "high", []string{"25 of 40 clicks (62 %) loaded the landing page in a hidden or 1-pixel frame; program median 0 %."}},
		"REDIR": {"background_redirect", 25, 40, 0, 0, "high", []string{"25 of 40 clicks (62 %) loaded the landing page invisibly"}},
		"OVER":  {"cookie_overwrite", 30, 40, 6, 18, "critical", []string{"30 of 40 clicks (75 %) re-stamped another publisher's click", "6 order(s) worth US$18.00"}},
		"CAP":   {"buyer_capture", 8, 8, 8, 32, "critical", []string{"8 of 8 credited orders (100 %)"}},
	}
	for pub := range got {
		if _, ok := want[pub]; !ok {
			t.Errorf("%s flagged: %s", pub, got[pub].Summary)
		}
	}
	for pub, w := range want {
		f, ok := got[pub]
		if !ok {
			t.Errorf("%s not flagged", pub)
			continue
		}
		var ev evidence
		if err := json.Unmarshal(f.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		if len(ev.Mechanisms) != 1 {
			t.Fatalf("%s mechanisms = %+v, want one", pub, ev.Mechanisms)
		}
		m := ev.Mechanisms[0]
		if m.Signal != w.signal || m.Hits != w.hits || m.Known != w.known || m.OrdersCredited != w.orders || m.Commission != w.commission {
			t.Errorf("%s evidence %+v, want %s %d/%d, %d orders US$%v", pub, m, w.signal, w.hits, w.known, w.orders, w.commission)
		}
		if len(f.OrderIDs) != w.orders || math.Abs(f.CommissionUSD-w.commission) > 1e-9 {
			t.Errorf("%s order_ids %v commission %v", pub, f.OrderIDs, f.CommissionUSD)
		}
		if len(m.Examples) == 0 || len(m.Examples) > 10 || m.PValue > 1e-6 {
			t.Errorf("%s examples %v p %v", pub, m.Examples, m.PValue)
		}
		if f.Severity != w.severity {
			t.Errorf("%s severity %s (score %v), want %s", pub, f.Severity, f.Score, w.severity)
		}
		for _, frag := range w.summaryFragments {
			if !strings.Contains(f.Summary, frag) {
				t.Errorf("%s summary %q lacks %q", pub, f.Summary, frag)
			}
		}
		if f.Detector != "cookie_stuffing" || f.RuleID != "AW-CS-001" || f.PolicyRef != "1.6" ||
			!f.WindowStart.Equal(time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)) || !f.WindowEnd.Equal(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s finding header %s %s %s %s–%s", pub, f.Detector, f.RuleID, f.PolicyRef, f.WindowStart, f.WindowEnd)
		}
		switch pub {
		case "PIX":
			// median lost-beacon rate over the 11 publishers with ≥ 20 known: C1…C5 3.5 %
			if math.Abs(m.PopulationRate-0.035) > 1e-9 {
				t.Errorf("PIX population rate %v, want 0.035", m.PopulationRate)
			}
			if ev.CTIT == nil || ev.CTIT.Orders != 5 || ev.CTIT.MedianHours != 6 || ev.CTIT.PopMedian != 0.5 {
				t.Errorf("PIX CTIT %+v, want 5 orders, median 6 h vs population 0.5 h", ev.CTIT)
			}
		case "OVER":
			if m.Victims == nil || *m.Victims != 5 || len(m.Devices) != 10 || !strings.HasPrefix(m.Devices[0], "dev-C") {
				t.Errorf("OVER victims %v devices %v", m.Victims, m.Devices)
			}
		case "CAP":
			if m.SelfRef == nil || *m.SelfRef != 8 || m.SelfRefClicks == nil || *m.SelfRefClicks != 10 {
				t.Errorf("CAP self-referrer hits %v of clicks %v, want 8 of 10", m.SelfRef, m.SelfRefClicks)
			}
		case "FRAME", "REDIR":
			if !ev.SingleSignal {
				t.Errorf("%s single_signal false with one mechanism and no orders", pub)
			}
		}
	}
	if len(sig.List()) != 0 {
		t.Errorf("signals unavailable %+v with every column present", sig.List())
	}
	// Determinism: a second run gives the same ids and evidence.
	again, _ := run(t, st, pack, detectors.BackfillNight())
	for i := range fs {
		if fs[i].FindingID != again[i].FindingID || string(fs[i].Evidence) != string(again[i].Evidence) {
			t.Errorf("run 2 differs at %d: %s", i, fs[i].PublisherID)
		}
	}
}

func TestNightNeedsAHitOnTheNight(t *testing.T) {
	st, pack := setup(t)
	// On the 21st only CAP (orders at 00:05 and 07:05) and OVER (its last
	// re-stamp at 01:50) have forced hits; PIX, FRAME and REDIR stopped on
	// the 19th, so a nightly run does not judge them again.
	fs, _ := run(t, st, pack, detectors.NightOf(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)))
	got := byPublisher(t, fs)
	if len(got) != 2 || got["CAP"].PublisherID == "" || got["OVER"].PublisherID == "" {
		for _, f := range fs {
			t.Logf("%s: %s", f.PublisherID, f.Summary)
		}
		t.Errorf("nightly findings %d, want CAP and OVER", len(fs))
	}
	for _, f := range fs {
		if !f.WindowEnd.Equal(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) || !f.WindowStart.Equal(time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s window %s–%s, want the 14-day look-back", f.PublisherID, f.WindowStart, f.WindowEnd)
		}
	}
}

func TestMissingColumnsAreSignalsUnavailable(t *testing.T) {
	st, pack := setup(t)
	if _, err := st.DB.Exec(`UPDATE clicks SET device_id = NULL, referrer = NULL`); err != nil {
		t.Fatal(err)
	}
	fs, sig := run(t, st, pack, detectors.BackfillNight())
	want := map[string]bool{"clicks.device_id": true, "clicks.referrer": true}
	for _, s := range sig.List() {
		if !want[s.Signal] || s.Detector != "cookie_stuffing" {
			t.Errorf("unexpected signal %+v", s)
		}
		delete(want, s.Signal)
	}
	if len(want) > 0 {
		t.Errorf("signals not recorded: %v", want)
	}
	got := byPublisher(t, fs)
	if _, ok := got["OVER"]; ok {
		t.Error("OVER flagged without device ids")
	}
	// Without referrers the coupon page cannot be told from a capture:
	// timing and earlier orders alone decide, and both fire.
	for _, pub := range []string{"PIX", "FRAME", "REDIR", "CAP", "COUPON"} {
		if _, ok := got[pub]; !ok {
			t.Errorf("%s not flagged with device_id and referrer absent", pub)
		}
	}
}

func TestThresholdsComeFromThePack(t *testing.T) {
	st, pack := setup(t)
	pack, err := pack.WithThresholds("cookie_stuffing", map[string]float64{"min_hits": 1000, "capture_min_orders": 1000})
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := run(t, st, pack, detectors.BackfillNight())
	if len(fs) != 0 {
		t.Errorf("got %d findings with min_hits=1000, want 0", len(fs))
	}
}

func TestBinomialTail(t *testing.T) {
	for _, tc := range []struct {
		k, n int64
		q    float64
		want float64
	}{
		{0, 10, 0.1, 1},
		{10, 10, 0.5, 1.0 / 1024},
		{1, 1, 0.03, 0.03},
		{2, 3, 0.5, 0.5},
	} {
		if got := detectors.BinomialTail(tc.k, tc.n, tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("P(X ≥ %d | %d, %v) = %v, want %v", tc.k, tc.n, tc.q, got, tc.want)
		}
	}
}
