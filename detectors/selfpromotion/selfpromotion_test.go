package selfpromotion

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/rules"
	"affwatch/store"
)

// world is a week (15–21 Nov 2026) of a small program:
//   - ENT        shares entity_id with S_OWN; 60 of its 100 clicks and 10 of its 12 orders go there
//   - PAYP       shares payout_hash with S_PAY; 50 of 100 clicks, 5 of 7 orders
//   - CONTACT    shares email_hash with S_MAIL; 70 of 100 clicks, 8 of 10 orders (contact-only link)
//   - CLICKSONLY shares entity_id with S_CO; 40 of 100 clicks, no orders at all
//   - OTHERS     shares entity_id with S_OTHER but sends nothing there (a seller promoting other stores)
//   - FAN        80 of 100 clicks and 8 of 10 orders to S_FAN, no identifier in common (a fan site)
//   - POOLED     shares a payout_hash held by six accounts (itself and S_P1..S_P5) and sends 60 of 100 clicks to S_P1
//   - BRANDLINK  shares phone_hash with S_BIG, a popular store that gets 18 % of the program's clicks,
//     and sends it 70 of 200 clicks: above min_share, but under 2× the program's share
//   - BG1..BG4   ordinary publishers, 200 clicks each: every third to S_BIG, the rest over stores X0..X19
//
// Half the clicks to a promoted store are on a product page ('prod-' || seller),
// mapped to the seller through the orders. Every order has a product of its seller.
const world = `
INSERT INTO publishers (publisher_id, name, kind, entity_id, email_hash, phone_hash, payout_hash, _file_id, _line) VALUES
  ('ENT', 'ent.example', 'publisher', 'E1', 'm-ent', 'ph-ent', 'pay-ent', 0, 1),
  ('PAYP', 'payp.example', 'publisher', 'E2', 'm-payp', NULL, 'PAY1', 0, 2),
  ('CONTACT', 'contact.example', 'publisher', 'E3', 'M1', NULL, 'pay-contact', 0, 3),
  ('CLICKSONLY', 'co.example', 'publisher', 'E5', 'm-co', NULL, 'pay-co', 0, 4),
  ('OTHERS', 'others.example', 'publisher', 'E4', 'm-others', NULL, 'pay-others', 0, 5),
  ('FAN', 'fan.example', 'publisher', 'E6', 'm-fan', NULL, 'pay-fan', 0, 6),
  ('POOLED', 'pooled.example', 'publisher', 'E7', 'm-pooled', NULL, 'POOL', 0, 7),
  ('BG1', 'bg1.example', 'publisher', 'EB1', 'm-bg1', NULL, 'pay-bg1', 0, 8),
  ('BG2', 'bg2.example', 'publisher', 'EB2', 'm-bg2', NULL, 'pay-bg2', 0, 9),
  ('BG3', 'bg3.example', 'publisher', 'EB3', 'm-bg3', NULL, 'pay-bg3', 0, 10),
  ('BG4', 'bg4.example', 'publisher', 'EB4', '', NULL, 'pay-bg4', 0, 11),
  ('BRANDLINK', 'brand.example', 'publisher', 'E8', 'm-brand', 'PH8', 'pay-brand', 0, 12);

INSERT INTO sellers (seller_id, name, entity_id, email_hash, phone_hash, payout_hash, _file_id, _line) VALUES
  ('S_OWN', 'Own Store', 'E1', 'ms1', NULL, 'ps1', 0, 1),
  ('S_PAY', 'Pay Store', 'ES2', 'ms2', NULL, 'PAY1', 0, 2),
  ('S_MAIL', 'Mail Store', 'ES3', 'M1', NULL, 'ps3', 0, 3),
  ('S_CO', 'Clicks Store', 'E5', 'ms5', NULL, 'ps5', 0, 4),
  ('S_OTHER', 'Other Store', 'E4', 'ms4', NULL, 'ps4', 0, 5),
  ('S_FAN', 'Fan Store', 'ES6', 'ms6', NULL, 'ps6', 0, 6),
  ('S_P1', 'Pool 1', 'EP1', 'mp1', NULL, 'POOL', 0, 7),
  ('S_P2', 'Pool 2', 'EP2', 'mp2', NULL, 'POOL', 0, 8),
  ('S_P3', 'Pool 3', 'EP3', 'mp3', NULL, 'POOL', 0, 9),
  ('S_P4', 'Pool 4', 'EP4', 'mp4', NULL, 'POOL', 0, 10),
  ('S_P5', 'Pool 5', 'EP5', 'mp5', NULL, 'POOL', 0, 11),
  ('S_BG', 'Blank mail store', 'ESB', '', NULL, 'psb', 0, 12),
  ('S_BIG', 'Big Brand Official Store', 'ES8', 'ms8', 'PH8', 'ps8', 0, 13);

INSERT INTO clicks (click_id, ts, publisher_id, target_type, target_id, _file_id, _line)
SELECT pub || '-c' || lpad(i::VARCHAR, 3, '0'),
       TIMESTAMP '2026-11-15 00:00:00' + to_minutes(((i * 97) % 10080)::INTEGER), pub,
       CASE WHEN i < own AND i % 2 = 1 THEN 'product' ELSE 'store' END,
       CASE WHEN i < own AND i % 2 = 1 THEN 'prod-' || seller WHEN i < own THEN seller
            WHEN pub LIKE 'BG%' AND i % 3 = 0 THEN 'S_BIG' ELSE 'X' || (i % 20) END,
       0, i
FROM (VALUES ('ENT', 'S_OWN', 60, 100), ('BRANDLINK', 'S_BIG', 70, 200), ('PAYP', 'S_PAY', 50, 100), ('CONTACT', 'S_MAIL', 70, 100),
             ('CLICKSONLY', 'S_CO', 40, 100), ('OTHERS', 'S_OTHER', 0, 100), ('FAN', 'S_FAN', 80, 100),
             ('POOLED', 'S_P1', 60, 100), ('BG1', '', 0, 200), ('BG2', '', 0, 200), ('BG3', '', 0, 200), ('BG4', '', 0, 200)
     ) v(pub, seller, own, total), range(0, 200) r(i)
WHERE i < total;

INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, click_id, seller_id, product_id, status, commission_usd, _file_id, _line)
SELECT pub || '-o' || lpad(i::VARCHAR, 2, '0'), TIMESTAMP '2026-11-15 12:00:00' + to_days((i % 7)::INTEGER),
       'b-' || pub || i, 30, pub, pub || '-c' || lpad((2 * i)::VARCHAR, 3, '0'),
       CASE WHEN i < own THEN seller ELSE 'X' || (i % 20) END,
       CASE WHEN i < own THEN 'prod-' || seller ELSE 'px' || i END, 'paid', 1.5, 0, i
FROM (VALUES ('ENT', 'S_OWN', 10, 12), ('PAYP', 'S_PAY', 5, 7), ('CONTACT', 'S_MAIL', 8, 10),
             ('FAN', 'S_FAN', 8, 10), ('POOLED', 'S_P1', 6, 8),
             ('BG1', '', 0, 6), ('BG2', '', 0, 6), ('BG3', '', 0, 6), ('BG4', '', 0, 6)
     ) v(pub, seller, own, total), range(0, 20) r(i)
WHERE i < total;

-- A second line of ENT's first order: the order still counts once.
INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, click_id, seller_id, product_id, status, commission_usd, _file_id, _line)
VALUES ('ENT-o00', TIMESTAMP '2026-11-15 12:00:00', 'b-ENT0', 12, 'ENT', 'ENT-c000', 'S_OWN', 'prod-S_OWN-2', 'paid', 1.5, 0, 99);

-- Organic orders: the stores' products are known, S_CO's and S_OTHER's too.
INSERT INTO orders (order_id, ts, buyer_id, amount_usd, seller_id, product_id, status, _file_id, _line)
SELECT 'org-' || s, TIMESTAMP '2026-11-16 10:00:00', 'b-org', 10, s, 'prod-' || s, 'paid', 0, 1
FROM (VALUES ('S_CO'), ('S_OTHER'), ('S_P1'), ('S_BIG')) v(s);
`

func setup(t *testing.T) (*store.Store, *rules.Pack) {
	t.Helper()
	return detectortest.Store(t, world), detectortest.Pack(t)
}

func run(t *testing.T, st *store.Store, pack *rules.Pack, scope detectors.Night) ([]detectors.Finding, *detectors.Signals) {
	t.Helper()
	return detectortest.Run(t, Detector{}, st, pack, scope)
}

type got struct {
	Severity   string
	Score      float64
	Kind       string
	Matched    []string
	Clicks     [2]int64
	Orders     [2]int64
	Signals    []string
	OrderIDs   int
	Commission float64
}

func digest(t *testing.T, fs []detectors.Finding) map[string]got {
	t.Helper()
	out := map[string]got{}
	for _, f := range fs {
		var ev evidence
		if err := json.Unmarshal(f.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		g := got{Severity: f.Severity, Score: f.Score, Kind: ev.Link.Kind, Matched: ev.Link.Matched, Signals: ev.Signals,
			OrderIDs: len(f.OrderIDs), Commission: f.CommissionUSD}
		if ev.Clicks != nil {
			g.Clicks = [2]int64{ev.Clicks.Count, ev.Clicks.Total}
		}
		if ev.Orders != nil {
			g.Orders = [2]int64{ev.Orders.Count, ev.Orders.Total}
		}
		if f.Detector != "self_promotion" || f.PolicyRef != "E.10.k" || f.RuleID != "AW-SE-001" {
			t.Errorf("%s: detector %s rule %s policy %s", f.PublisherID, f.Detector, f.RuleID, f.PolicyRef)
		}
		out[f.PublisherID] = g
	}
	return out
}

func TestLinkedPromotersFlaggedOthersNot(t *testing.T) {
	st, pack := setup(t)
	fs, _ := run(t, st, pack, detectors.BackfillNight())
	want := map[string]got{
		"ENT": {Severity: "high", Score: 0.9, Kind: "entity_or_payout", Matched: []string{"entity_id"}, Clicks: [2]int64{60, 100}, Orders: [2]int64{10, 12},
			Signals: []string{"clicks_to_own_store", "orders_from_own_store", "majority_to_own_store"}, OrderIDs: 10, Commission: 15},
		"PAYP": {Severity: "high", Score: 0.9, Kind: "entity_or_payout", Matched: []string{"payout_hash"}, Clicks: [2]int64{50, 100}, Orders: [2]int64{5, 7},
			Signals: []string{"clicks_to_own_store", "orders_from_own_store", "majority_to_own_store"}, OrderIDs: 5, Commission: 7.5},
		"CONTACT": {Severity: "high", Score: 0.81, Kind: "contact_only", Matched: []string{"email_hash"}, Clicks: [2]int64{70, 100}, Orders: [2]int64{8, 10},
			Signals: []string{"clicks_to_own_store", "orders_from_own_store", "majority_to_own_store"}, OrderIDs: 8, Commission: 12},
		// Clicks alone, no commission earned: one signal, low.
		"CLICKSONLY": {Severity: "low", Score: 0.35, Kind: "entity_or_payout", Matched: []string{"entity_id"}, Clicks: [2]int64{40, 100},
			Signals: []string{"clicks_to_own_store"}, Commission: 0},
	}
	if diff := cmp.Diff(want, digest(t, fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range fs {
		if f.PublisherID != "ENT" {
			continue
		}
		wantSummary := "Publisher shares entity_id with seller S_OWN (Own Store) and sends it 60 % of 100 clicks to a known store (program share 0 %) and 83 % of 12 attributed orders (program share 0 %)."
		if f.Summary != wantSummary {
			t.Errorf("summary = %q\nwant      %q", f.Summary, wantSummary)
		}
		if f.WindowStart != time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC) || f.WindowEnd != time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) {
			t.Errorf("window %s – %s", f.WindowStart, f.WindowEnd)
		}
		if f.OrderIDs[0] != "ENT-o00" || f.OrderIDs[9] != "ENT-o09" {
			t.Errorf("order ids %v", f.OrderIDs)
		}
		var ev evidence
		json.Unmarshal(f.Evidence, &ev)
		if ev.Clicks.PopulationTotal != 1600 || ev.Clicks.PopulationCount != 0 || ev.Orders.PopulationTotal != 59 {
			t.Errorf("population: clicks %d/%d, orders %d", ev.Clicks.PopulationCount, ev.Clicks.PopulationTotal, ev.Orders.PopulationTotal)
		}
		if len(ev.ExampleClickIDs) != 10 || ev.Seller.Name != "Own Store" || ev.UnmappedClicks != 0 {
			t.Errorf("examples %v, seller %+v, unmapped %d", ev.ExampleClickIDs, ev.Seller, ev.UnmappedClicks)
		}
		if f.FindingID != detectors.FindingID("self_promotion", "ENT", f.WindowStart, f.WindowEnd, "S_OWN") {
			t.Errorf("finding id %s not stable", f.FindingID)
		}
	}
	// Re-running gives byte-identical findings.
	again, _ := run(t, st, pack, detectors.BackfillNight())
	if diff := cmp.Diff(fs, again); diff != "" {
		t.Errorf("second run differs:\n%s", diff)
	}
}

func TestHardNegativesNotFlagged(t *testing.T) {
	st, pack := setup(t)
	fs, _ := run(t, st, pack, detectors.BackfillNight())
	for _, f := range fs {
		switch {
		case f.PublisherID == "POOLED", f.PublisherID == "FAN", f.PublisherID == "OTHERS", f.PublisherID == "BRANDLINK", strings.HasPrefix(f.PublisherID, "BG"):
			t.Errorf("%s flagged: %s", f.PublisherID, f.Summary)
		}
	}
	// Each negative is held back by one threshold: loosening it flags the
	// publisher, so the test world does test that threshold.
	for _, tc := range []struct {
		name, key string
		value     float64
		pub       string
	}{
		{"pooled payout account", "max_accounts_per_identifier", 6, "POOLED"},
		{"popular store", "min_lift", 1.5, "BRANDLINK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pack, err := rules.Default()
			if err != nil {
				t.Fatal(err)
			}
			pack, err = pack.WithThresholds("self_promotion", map[string]float64{tc.key: tc.value})
			if err != nil {
				t.Fatal(err)
			}
			fs, _ := run(t, st, pack, detectors.BackfillNight())
			if _, ok := digest(t, fs)[tc.pub]; !ok {
				t.Errorf("%s not flagged with %s=%v: the test world does not exercise the threshold", tc.pub, tc.key, tc.value)
			}
		})
	}
}

func TestNightJudgesTheNight(t *testing.T) {
	st, pack := setup(t)
	night := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	fs, _ := run(t, st, pack, detectors.NightOf(night))
	g := digest(t, fs)
	ent, ok := g["ENT"]
	if !ok {
		t.Fatalf("ENT not flagged on the night: %v", g)
	}
	// Shares over the look-back (the whole week), orders at stake only the night's: ENT-o06.
	if ent.Clicks != [2]int64{60, 100} || ent.OrderIDs != 1 || ent.Commission != 1.5 {
		t.Errorf("ENT on the night: %+v", ent)
	}
	for _, f := range fs {
		if !f.WindowStart.Equal(night) || !f.WindowEnd.Equal(night.AddDate(0, 0, 1)) {
			t.Errorf("%s window %s – %s", f.PublisherID, f.WindowStart, f.WindowEnd)
		}
	}
	// A night without activity has nothing to judge.
	fs, _ = run(t, st, pack, detectors.NightOf(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)))
	if len(fs) != 0 {
		t.Errorf("quiet night: %d findings", len(fs))
	}
}

func TestMissingColumnsAreSignalsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name, update string
		signal       string
		flagged      []string
	}{
		// Orders alone still show ENT, PAYP and CONTACT; CLICKSONLY had only clicks.
		{"no click targets", `UPDATE clicks SET target_type = NULL, target_id = NULL`, "clicks.target_type", []string{"CONTACT", "ENT", "PAYP"}},
		// Without e-mails the contact link is invisible.
		{"no publisher emails", `UPDATE publishers SET email_hash = NULL`, "publishers.email_hash", []string{"CLICKSONLY", "ENT", "PAYP"}},
		// Store clicks alone: ENT's 30 store clicks still reach the floor; PAYP's 25 do not, its orders do.
		{"no product ids", `UPDATE orders SET product_id = NULL`, "orders.product_id", []string{"CONTACT", "ENT", "PAYP"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, pack := setup(t)
			if _, err := st.DB.Exec(tc.update); err != nil {
				t.Fatal(err)
			}
			fs, signals := run(t, st, pack, detectors.BackfillNight())
			var names []string
			for _, f := range fs {
				names = append(names, f.PublisherID)
			}
			if diff := cmp.Diff(tc.flagged, names); diff != "" {
				t.Errorf("flagged (-want +got):\n%s", diff)
			}
			found := false
			for _, s := range signals.List() {
				found = found || s.Signal == tc.signal && s.Detector == "self_promotion"
			}
			if !found {
				t.Errorf("signal %s not recorded: %+v", tc.signal, signals.List())
			}
		})
	}
}

func TestThresholdsComeFromThePack(t *testing.T) {
	st, pack := setup(t)
	pack, err := pack.WithThresholds("self_promotion", map[string]float64{"min_share": 0.9}) // above every publisher's share
	if err != nil {
		t.Fatal(err)
	}
	if fs, _ := run(t, st, pack, detectors.BackfillNight()); len(fs) != 0 {
		t.Errorf("got %d findings with min_share=0.9, want 0", len(fs))
	}
}

func TestBinomialTail(t *testing.T) {
	for _, tc := range []struct {
		k, n int64
		p    float64
		want float64
	}{
		{0, 10, 0.5, 1},
		{10, 10, 0.5, 1.0 / 1024},
		{6, 10, 0.5, 386.0 / 1024},
		{1, 1, 0.2, 0.2},
		{11, 10, 0.5, 0},
	} {
		if got := detectors.BinomialTail(tc.k, tc.n, tc.p); abs(got-tc.want) > 1e-12 {
			t.Errorf("P(X>=%d | %d, %v) = %v, want %v", tc.k, tc.n, tc.p, got, tc.want)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestPartitionsAgreeOnTheWorld splits the world over four partitions
// (affwatch run --partition): CLICKSONLY (partition 3) clicks on prod-S_CO,
// a product only the organic orders (partition 1, the empty publisher id)
// map to S_CO, and ENT's and BRANDLINK's population shares are everyone
// else's clicks and orders, most of them in other partitions. Without the
// global tables the partitions would count CLICKSONLY's product clicks as
// unmapped and see a fraction of the program's clicks.
func TestPartitionsAgreeOnTheWorld(t *testing.T) {
	st, pack := setup(t)
	night := time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC) // CLICKSONLY's last click night
	for _, id := range []string{"CLICKSONLY"} {
		if detectors.PartitionOf(id, 4) == detectors.PartitionOf("", 4) {
			t.Fatalf("%s shares a partition with the organic orders: the case tests nothing", id)
		}
	}
	whole := detectortest.PartitionsAgree(t, Detector{}, st, pack, detectors.NightOf(night), 4)
	g := digest(t, whole)
	// Half of CLICKSONLY's 40 clicks to S_CO are on prod-S_CO.
	if g["CLICKSONLY"].Clicks != [2]int64{40, 45} || g["ENT"].Clicks != [2]int64{45, 45} {
		t.Errorf("whole run on the night: %+v", g)
	}
}
