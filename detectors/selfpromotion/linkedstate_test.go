package selfpromotion

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

var (
	//go:embed testdata/shares_from_clicks.sql
	sharesFromClicks string
	//go:embed testdata/product_sellers_from_clicks.sql
	productSellersFromClicks string
)

// TestLinkedClickStateEqualsClickScan checks the linked publishers'
// per-day click counts: the shares and the product-to-seller map made from
// them equal those made from every click of the look-back (the replaced
// queries, kept in testdata), night after night on one database, after a
// late file for an earlier day, after a new link (another list of linked
// publishers) and for a backfill.
func TestLinkedClickStateEqualsClickScan(t *testing.T) {
	ctx := context.Background()
	st, pack := setup(t)
	activeNights := 0
	check := func(label string, scope detectors.Night, wantPairs int) {
		t.Helper()
		env := detectors.Env{DB: st.DB, RunID: "t", Night: detectortest.ResolveNight(t, st, scope), Pack: pack, Signals: &detectors.Signals{}}
		pl, err := newPlan(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		if err := detectors.PrepareGlobals(ctx, env, pl.tables); err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		pubs := pl.linkedPubs
		reference := strings.TrimSuffix(strings.TrimSpace(productSellersFromClicks), ";")
		wantMap := detectortest.Rows(t, st, `SELECT * FROM (`+reference+`) ORDER BY ALL`, pl.lbStart, pl.lbEnd, pubs)
		gotMap := detectortest.Rows(t, st, `SELECT * FROM globals.self_promotion_product_sellers ORDER BY ALL`)
		if diff := cmp.Diff(wantMap, gotMap); diff != "" {
			t.Errorf("%s: product sellers from the state differ from those over the clicks (-clicks +state):\n%s", label, diff)
		}
		if len(wantMap) == 0 {
			t.Errorf("%s: no product maps to a seller: the world no longer tests the map", label)
		}
		if err := updateLinkedClicks(ctx, st.DB, pubs, pl.lbStart, pl.lbEnd); err != nil {
			t.Fatal(err)
		}
		got, err := measure(ctx, st.DB, queries["Shares"], pl.links, pl.lbStart, pl.lbEnd, pl.ws, pl.we)
		if err != nil {
			t.Fatal(err)
		}
		want, err := measure(ctx, st.DB, sharesFromClicks, pl.links, pl.lbStart, pl.lbEnd, pl.ws, pl.we)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(shares{})); diff != "" {
			t.Errorf("%s: shares from the state differ from shares over the clicks (-clicks +state):\n%s", label, diff)
		}
		active := 0
		for _, s := range want {
			if s.windowStoreClicks > 0 {
				active++
			}
		}
		if len(want) != wantPairs {
			t.Errorf("%s: %d pairs measured, want %d", label, len(want), wantPairs)
		}
		if active > 0 {
			activeNights++
		}
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for d := day("2026-11-15"); d.Before(day("2026-11-22")); d = d.AddDate(0, 0, 1) {
		check("night "+d.Format(time.DateOnly), detectors.NightOf(d), 6)
	}
	if activeNights < 4 {
		t.Errorf("%d nights with a pair's clicks to its store in the window: the world no longer tests the window's part", activeNights)
	}
	// A late file for 17 Nov: more of ENT's product clicks.
	exec := func(q string) {
		t.Helper()
		if _, err := st.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO clicks (click_id, ts, publisher_id, target_type, target_id, _file_id, _line)
SELECT 'late-' || i, TIMESTAMP '2026-11-17 09:00:00' + to_minutes(i::INTEGER), 'ENT', 'product', 'prod-S_OWN', 5, i FROM range(0, 30) r(i)`)
	check("21 Nov after a late file for 17 Nov", detectors.NightOf(day("2026-11-21")), 6)
	// A new link: FAN's owner turns out to own S_FAN (a new publishers snapshot).
	exec(`CREATE TEMP TABLE np AS SELECT * FROM publishers;
UPDATE np SET entity_id = 'ES6' WHERE publisher_id = 'FAN';
DELETE FROM publishers; INSERT INTO publishers SELECT * REPLACE (6 AS _file_id) FROM np; DROP TABLE np`)
	check("18 Nov after a new link", detectors.NightOf(day("2026-11-18")), 7)
	check("backfill", detectors.BackfillNight(), 7)
}
