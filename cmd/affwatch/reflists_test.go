package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"affwatch/fixtures"
	"affwatch/store"
)

// installedBotList is the crawler-user-agents list `make reflists` installs.
const installedBotList = "../../.cache/reflists/node_modules/crawler-user-agents/crawler-user-agents.json"

// TestReferenceListsEndToEnd runs the real pipeline on generated data with
// the real known-bot list and the synthetic world's CIDR files, then checks
// the click and order labels in the database, the findings' evidence and
// run.json's reference_lists.
func TestReferenceListsEndToEnd(t *testing.T) {
	if _, err := os.Stat(installedBotList); err != nil {
		t.Skipf("the known-bot list is not installed (%v): run `make reflists` (npm install of crawler-user-agents)", err)
	}
	ctx := context.Background()
	in := t.TempDir()
	if _, err := fixtures.Generate(ctx, fixtures.Config{Seed: 2, Clicks: 20_000, Out: in, Format: "parquet"}); err != nil {
		t.Fatal(err)
	}
	labels, err := fixtures.ReadLabels(filepath.Join(in, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	bots, _ := filepath.Abs(installedBotList)
	listDir := t.TempDir()
	pack, err := fixtures.WriteReferencePack(listDir, bots)
	if err != nil {
		t.Fatal(err)
	}
	// One buyer's checkout address in the office ranges: orders are
	// classed too.
	probe, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buyerIP string
	err = probe.DB.QueryRow(`SELECT buyer_ip FROM read_parquet(?) WHERE buyer_ip LIKE '%.%' ORDER BY order_id LIMIT 1`, filepath.Join(in, "orders.parquet")).Scan(&buyerIP)
	probe.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(listDir, "internal.cidr"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(buyerIP + "   # a test buyer's address\n")
	f.Close()

	out := filepath.Join(t.TempDir(), "out")
	code, _, errs := runCLI(t, "run", "--in", in, "--out", out, "--no-crawl", "--rules", pack, "--log-level", "error")
	if code != 0 {
		t.Fatalf("run exit %d:\n%s", code, errs)
	}

	// run.json names every list with its version and hash.
	var m struct {
		Lists []struct {
			Kind, Name, Path string
			Class, Version   *string
			SHA256           *string `json:"sha256"`
			Entries, Matched int64
		} `json:"reference_lists"`
		Signals []struct{ Signal string } `json:"signals_unavailable"`
	}
	b, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(bots)
	sum := sha256.Sum256(raw)
	got := map[string]bool{}
	for _, l := range m.Lists {
		got[l.Name] = true
		switch l.Name {
		case "crawler-user-agents":
			if l.Version == nil || *l.Version != "1.60.0" || l.SHA256 == nil || *l.SHA256 != hex.EncodeToString(sum[:]) || l.Entries < 1000 || l.Matched == 0 {
				t.Errorf("crawler-user-agents in run.json = %+v", l)
			}
		case "synthetic-hosting":
			if *l.Class != "datacenter" || l.Entries != 4 || l.Matched == 0 || l.SHA256 == nil || l.Version == nil {
				t.Errorf("hosting ranges in run.json = %+v", l)
			}
		case "synthetic-office":
			if l.Matched == 0 {
				t.Errorf("office ranges matched nothing (the buyer's checkout address %s)", buyerIP)
			}
		}
	}
	for _, want := range []string{"crawler-user-agents", "synthetic-hosting", "synthetic-tor-exits", "synthetic-office", "pack:reference_lists.bot_user_agents.extra_patterns"} {
		if !got[want] {
			t.Errorf("run.json reference_lists lacks %s", want)
		}
	}
	for _, s := range m.Signals {
		if strings.HasPrefix(s.Signal, "reference_lists") {
			t.Errorf("signal %s unavailable although every list is installed", s.Signal)
		}
	}

	// Labels in the database, per generated scenario.
	st, err := store.Open(ctx, filepath.Join(out, "affwatch.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	byVariant := map[string][]string{} // variant → publishers
	for _, l := range labels {
		if l.Label == "positive" && l.Detector == "click_burst" {
			byVariant[l.Variant] = append(byVariant[l.Variant], l.PublisherID)
		}
	}
	share := func(pub, cond string) float64 {
		t.Helper()
		var x float64
		if err := st.DB.QueryRow(`SELECT coalesce(avg((`+cond+`)::INT), 0) FROM clicks c LEFT JOIN click_traffic t USING (click_id) WHERE c.publisher_id = ? AND c.landed = false`, pub).Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	// A botnet of declared agents: its non-rendered hits are GIVT by the
	// maintained list; one on residential proxies: by no list.
	var declared, residential int
	for _, p := range byVariant["botnet_never_renders"] {
		switch g := share(p, "coalesce(t.givt, false) AND t.ua_list = 'crawler-user-agents' AND t.ua_version = '1.60.0'"); {
		case g > 0.9:
			declared++
		case g == 0:
			residential++
		default:
			t.Errorf("botnet %s: %.2f of its hits GIVT by the list", p, g)
		}
	}
	if declared == 0 || residential == 0 {
		t.Errorf("botnets: %d declared, %d residential; want both", declared, residential)
	}
	for _, p := range byVariant["few_ips_one_ua"] {
		if g := share(p, "t.ip_class = 'datacenter' AND t.ip_list = 'synthetic-hosting' AND t.givt"); g < 0.9 {
			t.Errorf("data-centre bot %s: %.2f of its hits GIVT by range", p, g)
		}
	}
	var classed int
	if err := st.DB.QueryRow(`SELECT count(*) FROM order_ip_class o JOIN orders USING (order_id) WHERE orders.buyer_ip = ? AND o.ip_class = 'internal' AND o.ip_range = ?`, buyerIP, buyerIP+"/32").Scan(&classed); err != nil || classed == 0 {
		t.Errorf("orders from %s classed internal: %d (%v)", buyerIP, classed, err)
	}
	var cleanGIVT float64
	if err := st.DB.QueryRow(`SELECT avg(givt::INT) FROM click_givt g JOIN publishers p USING (publisher_id)`).Scan(&cleanGIVT); err != nil || cleanGIVT > 0.2 {
		t.Errorf("GIVT share of all clicks %.3f (%v): the lists label far more than the bots", cleanGIVT, err)
	}

	// Findings: a burst finding names the list, its version and the entry
	// that matched; botnets are not cookie stuffers; a publisher doing both
	// gets both findings, the stuffing one setting the bot hits aside.
	type finding struct {
		Publisher string          `json:"publisher_id"`
		Detector  string          `json:"detector"`
		Evidence  json.RawMessage `json:"evidence"`
	}
	found := map[string]map[string]finding{}
	fh, err := os.Open(filepath.Join(out, "findings.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var f finding
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatal(err)
		}
		if found[f.Detector] == nil {
			found[f.Detector] = map[string]finding{}
		}
		found[f.Detector][f.Publisher] = f
	}
	fh.Close()
	namedList := 0
	for _, p := range byVariant["botnet_never_renders"] {
		f, ok := found["click_burst"][p]
		if !ok {
			t.Errorf("botnet %s: no click_burst finding", p)
			continue
		}
		if _, ok := found["cookie_stuffing"][p]; ok {
			t.Errorf("botnet %s reported as a cookie stuffer", p)
		}
		var ev struct {
			Matches []struct {
				Kind, List, Version, Entry string
				Clicks                     int64
			} `json:"givt_matches"`
			Signals []string `json:"machine_signals"`
			Pub     struct {
				Share float64 `json:"share"`
			} `json:"publisher_givt"`
		}
		if err := json.Unmarshal(f.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		for _, mt := range ev.Matches {
			if mt.Kind == "user_agent" && mt.List == "crawler-user-agents" && mt.Version == "1.60.0" && mt.Entry != "" && mt.Clicks > 0 {
				namedList++
				if !strings.Contains(strings.Join(ev.Signals, " "), "givt_traffic") || ev.Pub.Share <= 0 {
					t.Errorf("botnet %s: signals %v, publisher GIVT share %v", p, ev.Signals, ev.Pub.Share)
				}
				break
			}
		}
	}
	if namedList == 0 {
		t.Error("no click_burst finding names crawler-user-agents 1.60.0 and the matched entry")
	}
	both := 0
	for _, l := range labels {
		if l.Variant != "botnet_and_pixel_drop" || l.Detector != "cookie_stuffing" {
			continue
		}
		cs, ok1 := found["cookie_stuffing"][l.PublisherID]
		_, ok2 := found["click_burst"][l.PublisherID]
		if !ok1 || !ok2 {
			t.Errorf("%s does both: cookie_stuffing %v, click_burst %v", l.PublisherID, ok1, ok2)
			continue
		}
		var ev struct {
			Aside struct {
				GIVT      int64 `json:"givt_clicks"`
				Automated int64 `json:"automated_not_rendered"`
				Matches   []struct {
					List, Version, Entry string
				} `json:"givt_matches"`
			} `json:"set_aside"`
		}
		json.Unmarshal(cs.Evidence, &ev)
		if ev.Aside.GIVT+ev.Aside.Automated < 50 {
			t.Errorf("%s: stuffing evidence sets aside %+v, want its botnet's hits", l.PublisherID, ev.Aside)
		}
		if ev.Aside.GIVT > 0 && (len(ev.Aside.Matches) == 0 || ev.Aside.Matches[0].List == "" || ev.Aside.Matches[0].Version == "" || ev.Aside.Matches[0].Entry == "") {
			t.Errorf("%s: GIVT clicks set aside without the list entries that matched: %+v", l.PublisherID, ev.Aside)
		}
		both++
	}
	if both == 0 {
		t.Error("no publisher of variant botnet_and_pixel_drop")
	}

	// Without the list installed the run goes on and says so.
	out2 := filepath.Join(t.TempDir(), "out")
	code, _, errs = runCLI(t, "run", "--in", in, "--out", out2, "--no-crawl", "--bot-list", filepath.Join(t.TempDir(), "absent.json"), "--log-level", "error")
	if code != 0 {
		t.Fatalf("run without the list: exit %d:\n%s", code, errs)
	}
	b, _ = os.ReadFile(filepath.Join(out2, "run.json"))
	if !strings.Contains(string(b), `"signal": "reference_lists.bot_user_agents"`) || !strings.Contains(string(b), "not installed at") {
		t.Errorf("run.json without the list does not say the signal is unavailable")
	}
}
