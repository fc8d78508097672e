package selfpurchase

import (
	_ "embed"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/rules"
	"affwatch/store"
)

//go:embed testdata/world.sql
var world string

func setup(t *testing.T) (*store.Store, *rules.Pack) {
	t.Helper()
	return detectortest.Store(t, world), detectortest.Pack(t)
}

func run(t *testing.T, st *store.Store, pack *rules.Pack, scope detectors.Night) ([]detectors.Finding, *detectors.Signals) {
	t.Helper()
	return detectortest.Run(t, Detector{}, st, pack, scope)
}

type evidence struct {
	LinkedBuyers []struct {
		BuyerID  string  `json:"buyer_id"`
		Link     string  `json:"link"`
		Hops     int     `json:"hops"`
		Strength float64 `json:"strength"`
		Chain    string  `json:"chain"`
		Path     []struct {
			Via     string `json:"via"`
			Hard    bool   `json:"hard"`
			Holders int64  `json:"holders"`
		} `json:"path"`
		Orders        int     `json:"orders"`
		CommissionUSD float64 `json:"commission_usd"`
	} `json:"linked_buyers"`
	OrdersLinked     int      `json:"orders_linked"`
	OrdersAttributed int      `json:"orders_attributed"`
	Share            float64  `json:"share_of_attributed_orders"`
	CommissionUSD    float64  `json:"commission_usd"`
	SoftOnly         bool     `json:"soft_only"`
	SingleSignal     bool     `json:"single_signal"`
	Signals          []string `json:"signals"`
	Population       struct {
		WithOrders int `json:"publishers_with_orders"`
		WithLinked int `json:"publishers_with_linked_buyer_orders"`
	} `json:"population"`
}

func byPublisher(t *testing.T, fs []detectors.Finding) map[string]detectors.Finding {
	t.Helper()
	out := map[string]detectors.Finding{}
	for _, f := range fs {
		out[f.PublisherID] = f
	}
	return out
}

func decode(t *testing.T, f detectors.Finding) evidence {
	t.Helper()
	var ev evidence
	if err := json.Unmarshal(f.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestBackfill(t *testing.T) {
	st, pack := setup(t)
	fs, _ := run(t, st, pack, detectors.BackfillNight())
	got := byPublisher(t, fs)
	type want struct {
		severity   string
		score      float64
		orders     []string
		commission float64
		attributed int
		softOnly   bool
	}
	wants := map[string]want{
		"PAY":   {"high", 0.875, []string{"o-p1", "o-p2", "o-p3"}, 7.00, 5, false},
		"CHAIN": {"high", 1 - 0.5*0.55*(1-0.81*0.75), []string{"o-a1", "o-b1", "o-c1", "o-c2"}, 3.20, 4, false},
		"IPPUB": {"medium", 0.65, []string{"o-i1", "o-i2", "o-i3", "o-i4"}, 2.00, 4, true},
		"IPONE": {"low", 0.5, []string{"o-j1"}, 0.50, 1, true},
	}
	// Not flagged: CGNAT (crowd-shared IP), REL and OWN (never buy through
	// their own links), WEAK (a five-holder IP and one order), LOCKER (a
	// parcel locker's address, nine holders), OTHER.
	if len(got) != len(wants) {
		for _, f := range fs {
			t.Logf("%s %s %.3f %s", f.PublisherID, f.Severity, f.Score, f.Summary)
		}
		t.Fatalf("got %d findings, want %d", len(got), len(wants))
	}
	for pub, w := range wants {
		t.Run(pub, func(t *testing.T) {
			f, ok := got[pub]
			if !ok {
				t.Fatalf("%s not flagged", pub)
			}
			if f.Detector != "self_purchase" || f.PolicyRef != "E.10.j" || f.RuleID != "AW-SP-001" || f.RuleStatus != "stable" {
				t.Errorf("finding header = %s %s %s %s", f.Detector, f.PolicyRef, f.RuleID, f.RuleStatus)
			}
			if f.Severity != w.severity || math.Abs(f.Score-w.score) > 1e-3 {
				t.Errorf("severity %s score %.4f, want %s %.4f", f.Severity, f.Score, w.severity, w.score)
			}
			if diff := cmp.Diff(w.orders, f.OrderIDs); diff != "" {
				t.Errorf("order ids (-want +got):\n%s", diff)
			}
			if math.Abs(f.CommissionUSD-w.commission) > 1e-9 {
				t.Errorf("commission %.2f, want %.2f", f.CommissionUSD, w.commission)
			}
			ev := decode(t, f)
			if ev.OrdersLinked != len(w.orders) || ev.OrdersAttributed != w.attributed || ev.SoftOnly != w.softOnly {
				t.Errorf("evidence linked %d attributed %d soft %v", ev.OrdersLinked, ev.OrdersAttributed, ev.SoftOnly)
			}
			if ev.Population.WithOrders != 8 { // every publisher but REL and OWN has attributed orders
				t.Errorf("population with orders = %d, want 8", ev.Population.WithOrders)
			}
		})
	}
	pay := decode(t, got["PAY"])
	if pay.Share != 0.6 || len(pay.LinkedBuyers) != 1 || pay.LinkedBuyers[0].BuyerID != "BP" ||
		pay.LinkedBuyers[0].Path[0].Via != "payout_hash→payment_hash" || pay.LinkedBuyers[0].Path[0].Holders != 2 {
		t.Errorf("PAY evidence = %+v", pay)
	}
	wantStart := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if f := got["PAY"]; !f.WindowStart.Equal(wantStart) || !f.WindowEnd.Equal(wantStart.AddDate(0, 0, 2)) {
		t.Errorf("PAY window %s – %s", f.WindowStart, f.WindowEnd)
	}
	if s := got["PAY"].Summary; s != "3 of the publisher's 5 attributed orders (60 %) were placed by 1 buyer(s) tied to it by a hard identifier (payout_hash→payment_hash), US$7.00 commission; 5 of 8 publishers with orders have any such order." {
		t.Errorf("PAY summary = %q", s)
	}

	chain := decode(t, got["CHAIN"])
	type link struct {
		Buyer, Link string
		Hops        int
		Vias        []string
	}
	var links []link
	for _, b := range chain.LinkedBuyers {
		l := link{Buyer: b.BuyerID, Link: b.Link, Hops: b.Hops}
		for _, h := range b.Path {
			l.Vias = append(l.Vias, h.Via)
		}
		links = append(links, l)
	}
	wantLinks := []link{ // strongest evidence first
		{"C", "soft", 3, []string{"address_hash", "phone_hash", "device_id"}},
		{"A", "hard", 1, []string{"address_hash"}},
		{"B", "hard", 2, []string{"address_hash", "phone_hash"}},
	}
	if diff := cmp.Diff(wantLinks, links); diff != "" {
		t.Errorf("CHAIN links (-want +got):\n%s", diff)
	}
	if c := chain.LinkedBuyers[0].Chain; c != "publisher CHAIN —address_hash addr-2 (2 holders)→ buyer A —phone_hash ph-ab (2 holders)→ buyer B —device_id dev-b (2 holders)→ buyer C" {
		t.Errorf("chain text = %q", c)
	}
	ip := decode(t, got["IPPUB"])
	if !ip.SoftOnly || ip.Signals[0] != "soft_identifier_only" || ip.SingleSignal {
		t.Errorf("IPPUB evidence soft %v signals %v single %v", ip.SoftOnly, ip.Signals, ip.SingleSignal)
	}
	if !decode(t, got["IPONE"]).SingleSignal {
		t.Error("IPONE: one soft link and one order should be marked single_signal")
	}
}

func TestNight(t *testing.T) {
	st, pack := setup(t)
	st.DB.SetMaxOpenConns(1) // so the check below sees the detector's connection
	night := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	fs, _ := run(t, st, pack, detectors.NightOf(night))
	got := map[string][2]string{}
	for _, f := range fs {
		got[f.PublisherID] = [2]string{f.Severity, f.FindingID}
		if f.PublisherID == "PAY" {
			// Only the night's order is at stake; the earlier two weigh in.
			if diff := cmp.Diff([]string{"o-p3"}, f.OrderIDs); diff != "" || f.CommissionUSD != 1 || decode(t, f).LinkedBuyers[0].Orders != 1 {
				t.Errorf("PAY night: orders %v commission %.2f (-want +got):\n%s", f.OrderIDs, f.CommissionUSD, diff)
			}
		}
		if !f.WindowStart.Equal(night) || !f.WindowEnd.Equal(night.AddDate(0, 0, 1)) {
			t.Errorf("%s window %s – %s, want the night", f.PublisherID, f.WindowStart, f.WindowEnd)
		}
	}
	// PAY: one order that night and two the day before (hard, high);
	// CHAIN: only C bought that night, linked through B's device (soft);
	// IPPUB: two orders that night, two before (soft: medium at most).
	want := map[string]string{"PAY": "high", "CHAIN": "medium", "IPPUB": "medium"}
	if len(got) != len(want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	for pub, sev := range want {
		if got[pub][0] != sev {
			t.Errorf("%s severity %s, want %s", pub, got[pub][0], sev)
		}
	}
	var left int
	if err := st.DB.QueryRow(`SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'sp\_%' ESCAPE '\'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("working tables left behind: %d (%v)", left, err)
	}
	again, _ := run(t, st, pack, detectors.NightOf(night))
	for _, f := range again {
		if got[f.PublisherID][1] != f.FindingID {
			t.Errorf("finding id of %s changed between runs", f.PublisherID)
		}
	}
}

func TestAbsentColumnsAreSignalsUnavailable(t *testing.T) {
	st, pack := setup(t)
	if _, err := st.DB.Exec(`UPDATE publishers SET payout_hash = NULL; DELETE FROM buyers`); err != nil {
		t.Fatal(err)
	}
	fs, signals := run(t, st, pack, detectors.BackfillNight())
	got := map[string]bool{}
	for _, s := range signals.List() {
		got[s.Signal] = true
	}
	if !got["publishers.payout_hash"] || !got["buyers"] || got["orders.payment_hash"] {
		t.Errorf("signals unavailable = %+v", signals.List())
	}
	flagged := byPublisher(t, fs)
	if _, ok := flagged["PAY"]; ok {
		t.Error("PAY flagged without the payout column")
	}
	// Without the buyers table A and B no longer share a phone: only A
	// (address on A's orders) remains linked to CHAIN.
	c, ok := flagged["CHAIN"]
	if !ok {
		t.Fatal("CHAIN not flagged")
	}
	if ev := decode(t, c); len(ev.LinkedBuyers) != 1 || ev.LinkedBuyers[0].BuyerID != "A" {
		t.Errorf("CHAIN linked buyers = %+v", ev.LinkedBuyers)
	}
}

func TestThresholdsComeFromThePack(t *testing.T) {
	low := map[string]float64{"min_link_strength": 0.01, "min_score": 0.01}
	for _, tc := range []struct {
		name     string
		override map[string]float64
		pub      string
		flagged  bool
	}{
		// With every other bar lowered, only the crowd cap keeps the NAT address from linking.
		{"crowd cap holds", low, "CGNAT", false},
		{"crowd cap lifted", map[string]float64{"min_link_strength": 0.01, "min_score": 0.01, "max_identifier_buyers": 100}, "CGNAT", true},
		{"one hop only: C drops out", map[string]float64{"max_hops": 1}, "CHAIN", true},
		{"weak links admitted, score still too low", map[string]float64{"min_link_strength": 0.2}, "WEAK", false}, // 0.25 × 0.5 < min_score
		{"low bar: WEAK flagged", low, "WEAK", true},
		// The locker's address matches across case (hashes are hex); only its 1/8 weight keeps it out.
		{"low bar: LOCKER flagged", low, "LOCKER", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, pack := setup(t)
			pack, err := pack.WithThresholds("self_purchase", tc.override)
			if err != nil {
				t.Fatal(err)
			}
			fs, _ := run(t, st, pack, detectors.BackfillNight())
			f, ok := byPublisher(t, fs)[tc.pub]
			if ok != tc.flagged {
				t.Fatalf("%s flagged = %v, want %v", tc.pub, ok, tc.flagged)
			}
			if _, hops := tc.override["max_hops"]; hops {
				if ev := decode(t, f); len(ev.LinkedBuyers) != 1 || ev.LinkedBuyers[0].BuyerID != "A" {
					t.Errorf("with max_hops 1: linked %+v, want A only", ev.LinkedBuyers)
				}
			}
		})
	}
}

func TestBadThresholds(t *testing.T) {
	_, pack := setup(t)
	// The pack refuses them as it is built, long before a run could.
	_, err := pack.WithThresholds("self_purchase", map[string]float64{"max_hops": 0, "hop_decay": math.NaN()})
	for _, want := range []string{"rules.self_purchase.thresholds.max_hops: 0 is out of range: want an integer in [1, 6]",
		"rules.self_purchase.thresholds.hop_decay: required threshold is missing"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want it to contain %q", err, want)
		}
	}
}
