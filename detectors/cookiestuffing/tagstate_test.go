package cookiestuffing

import (
	"context"
	_ "embed"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
)

//go:embed testdata/mechanisms_from_clicks.sql
var fromClicksText string

var fromClicks = detectors.MustQueries(fromClicksText)

// tagWorld is ten days of clicks of seven publishers on 400 devices that
// several of them share (overwrites, devices rendering through another
// publisher), every kind of landing (rendered, not, unknown; frames, tiny
// viewports, invisible short visits, pop-ups), referrers on and off the
// brand's site, orders credited within minutes and days (some booked to
// another publisher, some by buyers who ordered before) and a few clicks
// the reference lists label GIVT.
const tagWorld = `
INSERT INTO clicks (click_id, ts, publisher_id, device_id, landed, in_iframe, visible, viewport_w, viewport_h, dwell_ms, opener, referrer, _file_id, _line)
SELECT 'c' || i,
       TIMESTAMP '2026-11-01 00:00:00' + to_seconds(i * 29),
       'P' || (hash(i, 'pub') % 7),
       CASE WHEN hash(i, 'nodev') % 20 = 0 THEN NULL ELSE 'd' || (hash(i, 'dev') % 400) END,
       CASE hash(i, 'landed') % 10 WHEN 0 THEN false WHEN 1 THEN NULL WHEN 2 THEN false ELSE true END,
       CASE hash(i, 'frame') % 12 WHEN 0 THEN true WHEN 1 THEN NULL ELSE false END,
       CASE hash(i, 'vis') % 9 WHEN 0 THEN false WHEN 1 THEN NULL ELSE true END,
       CASE WHEN hash(i, 'tiny') % 15 = 0 THEN 1 ELSE 1280 END, 800,
       CASE WHEN hash(i, 'dwell') % 8 = 0 THEN 40 WHEN hash(i, 'dwell') % 8 = 1 THEN NULL ELSE 30000 END,
       hash(i, 'opener') % 25 = 0,
       CASE hash(i, 'ref') % 6 WHEN 0 THEN 'https://www.aliexpress.com/item/1.html' WHEN 1 THEN NULL ELSE 'https://blog.example/post' END,
       1, i
FROM range(0, 29800) t(i);
INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, click_id, commission_usd, buyer_device_id, _file_id, _line)
SELECT 'o' || i, c.ts + to_seconds(CASE WHEN hash(i, 'late') % 3 = 0 THEN 200000 ELSE 120 END),
       'b' || (hash(i, 'buyer') % 150), 20,
       CASE WHEN hash(i, 'foreign') % 15 = 0 THEN 'P9' ELSE c.publisher_id END, c.click_id, 1.5,
       CASE WHEN hash(i, 'bought') % 4 = 0 THEN c.device_id END, 2, i
FROM clicks c, range(0, 29800) t(i)
WHERE c.click_id = 'c' || i AND hash(i, 'order') % 9 = 0;
INSERT INTO click_traffic (click_id, publisher_id, ts, givt, ua_list)
SELECT click_id, publisher_id, ts, true, 'bots' FROM clicks WHERE hash(click_id, 'givt') % 40 = 0;
`

// TestTagStateEqualsClickScan checks the per-day mechanism counts against
// tagging every click of the window again (the query they replaced, kept
// in testdata): over nights one after the other, a re-run night whose
// clicks changed, a reference-list update, a device whose owner later
// shows up as a person, and a backfill.
func TestTagStateEqualsClickScan(t *testing.T) {
	ctx := context.Background()
	st := detectortest.Store(t, tagWorld)
	exec := execOn(t, st)
	pack := detectortest.Pack(t)
	rule, err := pack.Rule(detectors.CookieStuffing)
	if err != nil {
		t.Fatal(err)
	}
	p, err := thresholds.From(rule)
	if err != nil {
		t.Fatal(err)
	}
	p.LookbackDays = 4
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	table := func(name string) []string {
		t.Helper()
		return detectortest.Rows(t, st, `SELECT * FROM `+name+` ORDER BY publisher_id, mechanism`)
	}
	check := func(label string, pl plan) {
		t.Helper()
		if err := detectors.PrepareGlobals(ctx, detectors.Env{DB: st.DB}, pl.globalTables()); err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		got := table("globals.cookie_stuffing_mechanisms")
		if _, err := st.DB.ExecContext(ctx, fromClicks["RefShopperDevices"], pl.winStart, pl.winEnd); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB.ExecContext(ctx, fromClicks["RefMechanisms"], pl.mechanismArgs()...); err != nil {
			t.Fatal(err)
		}
		want := table("globals.ref_mechanisms")
		mechs := map[string]bool{}
		for _, r := range want {
			for _, m := range []string{mNotLanded, mFrame, mRedirect, mOverwrite, mCapture} {
				if strings.Contains(r, "mechanism="+m+" ") {
					mechs[m] = true
				}
			}
		}
		if len(mechs) < 5 {
			t.Fatalf("%s: the world shows only mechanisms %v: it no longer tests every count", label, mechs)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: mechanism rows from the state differ from tagging every click (-clicks +state):\n%s", label, diff)
		}
	}
	night := func(d string) plan {
		end := day(d).AddDate(0, 0, 1)
		return plan{p: p, winStart: end.AddDate(0, 0, -p.LookbackDays), winEnd: end, scopeStart: day(d)}
	}
	for _, d := range []string{"2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08"} {
		check("night "+d, night(d))
	}
	// Night 7 again after its delivery changed: clicks gone, a click just
	// after midnight overwriting one of the day before, and new orders.
	exec(`DELETE FROM clicks WHERE CAST(ts AS DATE) = DATE '2026-11-07' AND hash(click_id, 'gone') % 5 = 0`)
	exec(`INSERT INTO clicks (click_id, ts, publisher_id, device_id, landed, _file_id, _line) VALUES
		('late', TIMESTAMP '2026-11-06 23:59:50', 'P1', 'dz', true, 3, 1),
		('early', TIMESTAMP '2026-11-07 00:00:05', 'P2', 'dz', false, 3, 2)`)
	check("night 2026-11-07 re-run", night("2026-11-07"))
	// The reference lists now label more of an older day's clicks.
	exec(`INSERT INTO click_traffic (click_id, publisher_id, ts, givt, ua_list)
		SELECT click_id, publisher_id, ts, true, 'bots-2' FROM clicks
		WHERE CAST(ts AS DATE) = DATE '2026-11-06' AND hash(click_id, 'relabel') % 7 = 0
		  AND click_id NOT IN (SELECT click_id FROM click_traffic)`)
	check("after a list update", night("2026-11-08"))
	// Devices with non-rendered hits later render pages through two other
	// publishers: a person uses them after all.
	exec(`INSERT INTO clicks (click_id, ts, publisher_id, device_id, landed, _file_id, _line)
		SELECT 'person' || i || x, TIMESTAMP '2026-11-09 12:00:00', 'PX' || x, 'd' || i, true, 4, i * 2 + x
		FROM range(0, 400, 3) t(i), range(0, 2) u(x)`)
	check("night 2026-11-09, devices now a person's", night("2026-11-09"))
	check("backfill", plan{p: p, winStart: day("2026-11-01"), winEnd: day("2026-11-11"), scopeStart: day("2026-11-01")})
}
