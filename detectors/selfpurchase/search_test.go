package selfpurchase

import (
	"context"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/store"
)

//go:embed testdata/whole_graph.sql
var wholeGraph string

// householdWorld writes a program of households: buyers grouped in homes
// of 1–4 people sharing addresses, payment cards, devices and home IPs,
// some behind crowd addresses (a carrier NAT that 25–60 buyers show), some
// publishers living in one of the homes or sharing a card or an address
// with a buyer, hashes in mixed case and with blanks around them, and
// orders and logged-in clicks over ten days that carry identifiers the
// buyers dataset does not.
func householdWorld(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	hash := func(prefix string, n int) string {
		v := fmt.Sprintf("%s%04x", prefix, n)
		switch r.IntN(10) {
		case 0:
			return strings.ToUpper(v)
		case 1:
			return " " + v + " "
		}
		return v
	}
	type home struct {
		addr, card, device, ip string
		buyers                 []string
	}
	var homes []home
	buyer := 0
	for h := 0; len(homes) < 300; h++ {
		hm := home{addr: hash("ad", h), card: hash("ca", h), device: fmt.Sprintf("dev-%d", h), ip: fmt.Sprintf("10.%d.%d.%d", h/65536, (h/256)%256, h%256)}
		for range 1 + r.IntN(4) {
			hm.buyers = append(hm.buyers, fmt.Sprintf("B%05d", buyer))
			buyer++
		}
		homes = append(homes, hm)
	}
	crowd := []string{"100.64.0.1", "100.64.0.2", "2001:DB8::1"}
	var rows []string
	for i, hm := range homes {
		for k, id := range hm.buyers {
			email := fmt.Sprintf("'%s'", hash("em", buyer*10+i*7+k))
			card, device, ip := "NULL", "NULL", "NULL"
			if r.IntN(3) > 0 {
				card = "'" + hm.card + "'"
			}
			if r.IntN(2) == 0 {
				device = "'" + hm.device + "'"
			}
			switch r.IntN(8) {
			case 0:
				ip = "'" + crowd[r.IntN(len(crowd))] + "'"
			case 1, 2, 3:
				ip = "'" + hm.ip + "'"
			}
			rows = append(rows, fmt.Sprintf("('%s', %s, NULL, %s, '%s', %s, %s, 0, %d)", id, email, card, hm.addr, device, ip, len(rows)+1))
		}
	}
	b.WriteString("INSERT INTO buyers (buyer_id, email_hash, phone_hash, payment_hash, address_hash, device_id, ip, _file_id, _line) VALUES\n")
	b.WriteString(strings.Join(rows, ",\n") + ";\n")

	rows = rows[:0]
	// pubOf: the publisher living in a home or paid through its card;
	// relative: a home one of whose buyers also pays with another home's
	// card (a path of two hops from that home's publisher).
	pubOf := map[int]string{}
	relative := map[int]int{}
	for h := range homes {
		if r.IntN(2) == 0 {
			relative[h] = r.IntN(len(homes))
		}
	}
	for p := range 40 {
		h := r.IntN(len(homes))
		hm := homes[h]
		id := fmt.Sprintf("P%02d", p)
		addr, payout, ip := hash("pa", p), hash("po", p), fmt.Sprintf("192.0.2.%d", p)
		switch p % 5 {
		case 0, 3: // lives in one of the homes
			addr, ip, pubOf[h] = hm.addr, hm.ip, id
		case 1, 4: // pays itself: its payout account is a home's card
			payout, pubOf[h] = hm.card, id
		case 2: // behind the crowd address
			ip = crowd[r.IntN(len(crowd))]
		}
		rows = append(rows, fmt.Sprintf("('%s', 'ent-%d', '%s', NULL, '%s', '%s', '%s', 0, %d)", id, p%37, hash("pe", p), payout, addr, ip, p+1))
	}
	b.WriteString("INSERT INTO publishers (publisher_id, entity_id, email_hash, phone_hash, payout_hash, address_hash, ip, _file_id, _line) VALUES\n")
	b.WriteString(strings.Join(rows, ",\n") + ";\n")

	day0 := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)
	var orders, clicks []string
	for o := range 4000 {
		h := r.IntN(len(homes))
		hm := homes[h]
		id := hm.buyers[r.IntN(len(hm.buyers))]
		ts := day0.Add(time.Duration(r.IntN(10*86400)) * time.Second).Format("2006-01-02 15:04:05")
		pub := fmt.Sprintf("'P%02d'", r.IntN(40))
		for x, y := range relative {
			if y == h && pubOf[x] != "" && r.IntN(2) == 0 {
				pub = "'" + pubOf[x] + "'"
			}
		}
		if pubOf[h] != "" && r.IntN(2) == 0 {
			pub = "'" + pubOf[h] + "'"
		}
		if r.IntN(6) == 0 {
			pub = "NULL" // organic
		}
		ip, device, card := "'"+hm.ip+"'", "'"+hm.device+"'", hm.card
		if r.IntN(4) == 0 { // on the road: a device and address of its own
			ip, device = fmt.Sprintf("'172.16.%d.%d'", o/256, o%256), fmt.Sprintf("'mob-%d'", o)
		}
		if y, ok := relative[h]; ok && r.IntN(3) == 0 {
			card = homes[y].card
		}
		orders = append(orders, fmt.Sprintf("('o%05d', TIMESTAMP '%s', '%s', 10, %s, %s, %s, '%s', '%s', 'paid', 1, 0, %d)",
			o, ts, id, pub, ip, device, hm.addr, card, o+1))
		if r.IntN(3) == 0 {
			clicks = append(clicks, fmt.Sprintf("('c%05d', TIMESTAMP '%s', %s, %s, %s, '%s', 0, %d)", o, ts, pub, ip, device, id, o+1))
		}
	}
	b.WriteString("INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, buyer_ip, buyer_device_id, address_hash, payment_hash, status, commission_usd, _file_id, _line) VALUES\n")
	b.WriteString(strings.Join(orders, ",\n") + ";\n")
	b.WriteString("INSERT INTO clicks (click_id, ts, publisher_id, ip, device_id, buyer_id, _file_id, _line) VALUES\n")
	b.WriteString(strings.Join(clicks, ",\n") + ";\n")
	return b.String()
}

// TestSearchEqualsWholeGraph checks the rounds that find the part of the
// identifier graph the links' search can walk: the links found over that
// part equal the links found over the whole graph of the look-back, for
// nights and a backfill and for thresholds that reach further or less far
// than the pack's, while the part holds fewer rows than the whole.
func TestSearchEqualsWholeGraph(t *testing.T) {
	st := detectortest.Store(t, householdWorld(1))
	ctx := context.Background()
	first := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)
	night := func(d time.Time, p Thresholds) plan {
		end := d.AddDate(0, 0, 1)
		return plan{p: p, identStart: end.AddDate(0, 0, -p.LookbackDays), historyStart: d.AddDate(0, 0, -p.OrderHistoryDays), scopeStart: d, scopeEnd: end}
	}
	backfill := func(p Thresholds) plan {
		return plan{p: p, historyStart: first, scopeStart: first, scopeEnd: first.AddDate(0, 0, 10)}
	}
	pack := Thresholds{LookbackDays: 90, OrderHistoryDays: 30, MaxIdentifierBuyers: 20, MaxHops: 3, HopDecay: 0.9, MinLinkStrength: 0.25}
	far := pack
	far.MaxHops, far.MinLinkStrength, far.MaxIdentifierBuyers = 5, 0.02, 40
	near := pack
	near.MaxHops, near.LookbackDays = 1, 3
	cases := []struct {
		name      string
		plan      plan
		minLinks  int
		wantMulti bool // links over two or more hops must be among them
	}{
		{"night, the pack's thresholds", night(first.AddDate(0, 0, 9), pack), 10, false},
		{"backfill, the pack's thresholds", backfill(pack), 50, true},
		{"night, far reach", night(first.AddDate(0, 0, 9), far), 20, true},
		{"backfill, far reach", backfill(far), 120, true},
		{"earlier night, one hop, short look-back", night(first.AddDate(0, 0, 4), near), 10, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pl := tc.plan
			env := detectors.Env{DB: st.DB}
			if err := detectors.PrepareGlobals(ctx, env, pl.globalTables()); err != nil {
				t.Fatal(err)
			}
			searched, partRows := links(t, st), count(t, st, "globals.self_purchase_identifiers")

			if _, err := st.DB.ExecContext(ctx, wholeGraph, pl.identStart, pl.scopeEnd, int64(pl.p.MaxIdentifierBuyers)); err != nil {
				t.Fatal(err)
			}
			whole := pl.globalTables()[1]
			if _, err := st.DB.ExecContext(ctx, "CREATE OR REPLACE TABLE globals."+whole.Name+" AS "+whole.Query, whole.Args...); err != nil {
				t.Fatal(err)
			}
			want, wholeRows := links(t, st), count(t, st, "globals.self_purchase_identifiers")

			if diff := cmp.Diff(want, searched); diff != "" {
				t.Errorf("links over the searched part differ from links over the whole graph (-whole +searched):\n%s", diff)
			}
			multi := 0
			for _, l := range want {
				if !strings.Contains(l, " hops=1 ") {
					multi++
				}
			}
			t.Logf("%d links (%d over two or more hops); graph rows: searched %d, whole %d", len(want), multi, partRows, wholeRows)
			if len(want) < tc.minLinks {
				t.Errorf("%d links, want at least %d: the world no longer tests the search", len(want), tc.minLinks)
			}
			if tc.wantMulti && multi == 0 {
				t.Error("no link over two or more hops: the world no longer tests the rounds")
			}
			if partRows >= wholeRows {
				t.Errorf("the searched part has %d rows, the whole graph %d: the search no longer narrows", partRows, wholeRows)
			}
		})
	}
}

// TestKeyCollisionsNeverLinkStrangers checks what the search's 64-bit
// value keys may cost when two values share one (migration 012): made to
// collide by the thousand, the links found are a subset of the true ones,
// none stronger. The search only decides by key which nodes to visit; the
// links are walked over the values' strings.
func TestKeyCollisionsNeverLinkStrangers(t *testing.T) {
	st := detectortest.Store(t, householdWorld(2))
	ctx := context.Background()
	first := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)
	p := Thresholds{LookbackDays: 90, OrderHistoryDays: 30, MaxIdentifierBuyers: 40, MaxHops: 5, HopDecay: 0.9, MinLinkStrength: 0.02}
	pl := plan{p: p, historyStart: first, scopeStart: first, scopeEnd: first.AddDate(0, 0, 10)}
	env := detectors.Env{DB: st.DB}
	if err := detectors.PrepareGlobals(ctx, env, pl.globalTables()); err != nil {
		t.Fatal(err)
	}
	strength := map[string]float64{}
	for _, l := range linkStrengths(t, st) {
		strength[l.pair] = l.strength
	}
	var values int64
	if err := st.DB.QueryRow(`SELECT count(DISTINCT vkey) FROM (SELECT vkey FROM self_purchase_ident_state UNION ALL SELECT vkey FROM self_purchase_buyer_idents)`).Scan(&values); err != nil {
		t.Fatal(err)
	}
	// Fold every key into values/3 buckets: most values now share a key.
	buckets := values / 3
	for _, q := range []string{
		fmt.Sprintf(`CREATE OR REPLACE MACRO self_purchase_value_key(kind, val) AS CAST(md5_number(kind || ':' || val) >> 64 AS UBIGINT) %% %d`, buckets),
		fmt.Sprintf(`UPDATE self_purchase_ident_state SET vkey = vkey %% %d`, buckets),
		fmt.Sprintf(`UPDATE self_purchase_buyer_idents SET vkey = vkey %% %d`, buckets),
	} {
		if _, err := st.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := detectors.PrepareGlobals(ctx, env, pl.globalTables()); err != nil {
		t.Fatal(err)
	}
	collided := linkStrengths(t, st)
	for _, l := range collided {
		want, ok := strength[l.pair]
		if !ok {
			t.Errorf("with colliding keys the search linked %s, which share no value path", l.pair)
			continue
		}
		if l.strength > want+1e-12 {
			t.Errorf("%s: strength %.6g with colliding keys, %.6g without", l.pair, l.strength, want)
		}
	}
	t.Logf("%d values in %d key buckets: %d links, %d without collisions", values, buckets, len(collided), len(strength))
	if len(strength) < 50 {
		t.Errorf("%d links without collisions: the world no longer tests the search", len(strength))
	}
}

type linkStrength struct {
	pair     string
	strength float64
}

func linkStrengths(t *testing.T, st *store.Store) []linkStrength {
	t.Helper()
	rows, err := st.DB.Query(`SELECT pub || '→' || buyer_id, max(strength) FROM globals.self_purchase_links GROUP BY 1 ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []linkStrength
	for rows.Next() {
		var l linkStrength
		if err := rows.Scan(&l.pair, &l.strength); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func links(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, err := st.DB.Query(`SELECT pub, buyer_id, hard, strength, hops, path::VARCHAR FROM globals.self_purchase_links ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var pub, buyer, path string
		var hard bool
		var strength float64
		var hops int
		if err := rows.Scan(&pub, &buyer, &hard, &strength, &hops, &path); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s→%s hard=%v hops=%d strength=%.12g %s", pub, buyer, hard, hops, strength, path))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t *testing.T, st *store.Store, table string) int64 {
	t.Helper()
	var n int64
	if err := st.DB.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBuyerIdentsFollowTheDataset checks that the buyers dataset's
// identifiers, kept between nights and read again only for the buyers a
// new snapshot changed, equal identifiers read from the whole snapshot.
func TestBuyerIdentsFollowTheDataset(t *testing.T) {
	st := detectortest.Store(t, householdWorld(2))
	ctx := context.Background()
	idents := func() []string {
		t.Helper()
		rows, err := st.DB.Query(`SELECT buyer_id || ' ' || kind || ' ' || val FROM self_purchase_buyer_idents ORDER BY ALL`)
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
	exec := func(q string) {
		t.Helper()
		if _, err := st.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// Each change is a new snapshot, delivered as the loader delivers it:
	// every row replaced by a row of a new file (nb is the new file).
	for i, step := range []struct{ name, change string }{
		{"first snapshot", ``},
		{"same snapshot", ``},
		{"the same snapshot delivered again", `SELECT 1`},
		{"a buyer's card and address change", `UPDATE nb SET payment_hash = 'NEWCARD', address_hash = ' ad-new ' WHERE buyer_id = 'B00007'`},
		{"buyers leave, one comes", `DELETE FROM nb WHERE buyer_id IN ('B00001', 'B00002'); INSERT INTO nb (buyer_id, email_hash, ip, _line) VALUES ('B99999', 'EM-NEW', '10.9.9.9', 1)`},
		{"a buyer's identifiers all gone", `UPDATE nb SET email_hash = NULL, phone_hash = NULL, payment_hash = NULL, address_hash = NULL, device_id = NULL, ip = NULL WHERE buyer_id = 'B00010'`},
	} {
		if step.change != "" {
			exec(`CREATE OR REPLACE TEMP TABLE nb AS SELECT * FROM buyers`)
			exec(step.change)
			exec(fmt.Sprintf(`DELETE FROM buyers; INSERT INTO buyers SELECT * REPLACE (%d AS _file_id) FROM nb; DROP TABLE nb`, 100+i))
		}
		if err := updateBuyerIdents(ctx, st.DB); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		got := idents()
		exec(`DELETE FROM self_purchase_buyer_idents; DELETE FROM self_purchase_buyer_rows; DELETE FROM self_purchase_buyer_idents_of`)
		if err := updateBuyerIdents(ctx, st.DB); err != nil {
			t.Fatal(err)
		}
		want := idents()
		if len(want) < 1000 {
			t.Fatalf("%s: %d identifiers from the whole snapshot: the world is too small to test this", step.name, len(want))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: kept identifiers differ from the whole snapshot's (-whole +kept):\n%s", step.name, diff)
		}
	}
	if got := idents(); !slices.Contains(got, "B00007 payment newcard") || !slices.Contains(got, "B99999 email em-new") {
		t.Errorf("the changed and new buyers' identifiers are missing or not compared: %d rows", len(got))
	}
}
