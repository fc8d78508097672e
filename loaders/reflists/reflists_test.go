package reflists

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/rules"
	"affwatch/store"
)

func TestParseCIDR(t *testing.T) {
	in := "# data centres\n198.18.0.0/15   # bench\n\n192.0.2.7\n2001:db8:1::/48 eu-west\nnot-a-range\n10.0.0.300/8\n203.0.113.9/24\n"
	rs, rej, err := ParseCIDR(strings.NewReader(in), "dc.cidr")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Entry)
	}
	want := []string{"198.18.0.0/15", "192.0.2.7/32", "2001:db8:1::/48", "203.0.113.0/24"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ranges (-want +got):\n%s", d)
	}
	if rej.Count != 2 || rej.First[0].Line != 6 || rej.First[1].Line != 7 {
		t.Errorf("rejects = %+v, want lines 6 and 7", rej)
	}
	// Bounds of an IPv4 range in IPv6 space.
	lo, hi := netip.AddrFrom16(rs[0].Lo).Unmap(), netip.AddrFrom16(rs[0].Hi).Unmap()
	if lo.String() != "198.18.0.0" || hi.String() != "198.19.255.255" {
		t.Errorf("198.18.0.0/15 spans %s–%s", lo, hi)
	}
}

func TestParseCIDRLongLine(t *testing.T) {
	_, _, err := ParseCIDR(strings.NewReader("1.2.3.0/24\n"+strings.Repeat("x", MaxLineBytes+10)+"\n"), "f.cidr")
	if err == nil || !strings.Contains(err.Error(), "f.cidr:2:") {
		t.Errorf("err = %v, want one at f.cidr:2", err)
	}
}

func TestParseBotJSON(t *testing.T) {
	in := `[
  {"pattern": "Googlebot\\/", "url": "http://www.google.com/bot.html", "instances": ["Googlebot/2.1"]},
  {"pattern": "HeadlessChrome"},
  {"pattern": "(?i)python-requests|aiohttp"},
  {"pattern": "bad(("},
  {"url": "no pattern"}
]`
	ps, rej, err := ParseBotJSON(strings.NewReader(in), "list.json")
	if err != nil {
		t.Fatal(err)
	}
	got := make([][3]any, len(ps))
	for i, p := range ps {
		got[i] = [3]any{p.Entry, p.Literal, p.Fold}
	}
	want := [][3]any{{"Googlebot\\/", "Googlebot/", false}, {"HeadlessChrome", "HeadlessChrome", false}, {"(?i)python-requests|aiohttp", "", false}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("patterns (-want +got):\n%s", d)
	}
	if rej.Count != 2 {
		t.Errorf("rejects = %+v, want 2", rej)
	}
	if _, _, err := ParseBotJSON(strings.NewReader("{\n\"pattern\": 1"), "x.json"); err == nil || !strings.Contains(err.Error(), "x.json:") {
		t.Errorf("malformed list: err = %v", err)
	}
}

func TestParseIAB(t *testing.T) {
	in := "# IAB/ABC International Spiders & Bots List (licensed)\nbot|1|0\nmediapartners|1|1\nretired-crawler|0|0\nweird|x|0\nplainpattern\n"
	ps, rej, err := ParseIAB(strings.NewReader(in), "iab.txt")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Regexp+" lit="+p.Literal)
	}
	want := []string{"(?i)bot lit=bot", "(?i)^mediapartners lit=mediapartners", "(?i)plainpattern lit=plainpattern"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("patterns (-want +got):\n%s", d)
	}
	if rej.Count != 1 || rej.First[0].Line != 5 {
		t.Errorf("rejects = %+v, want line 5", rej)
	}
}

func TestRequiredLiteral(t *testing.T) {
	for _, tc := range []struct {
		re, lit string
		fold    bool
	}{
		{"Googlebot\\/", "Googlebot/", false},
		{"^curl", "curl", false},
		{"[wW]get", "get", false},
		{"[wW]g", "", false},
		{"(?i)HEADLESS", "headless", true},
		{"Mozilla.*(compatible; Yahoo! Slurp)", "compatible; Yahoo! Slurp", false},
		{"a|b", "", false},
		{"(bingbot)+x", "bingbot", false},
	} {
		lit, fold := requiredLiteral(tc.re)
		if lit != tc.lit || fold != tc.fold {
			t.Errorf("requiredLiteral(%q) = %q, %v; want %q, %v", tc.re, lit, fold, tc.lit, tc.fold)
		}
	}
}

// openStore is an in-memory store with the given clicks (id, ip, ua) and
// orders (id, buyer_ip).
func openStore(t *testing.T, clicks [][3]string, orders [][2]string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for i, c := range clicks {
		if _, err := st.DB.ExecContext(ctx, `INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, _file_id, _line) VALUES (?, TIMESTAMP '2026-11-20 10:00:00', 'P1', nullif(?, ''), nullif(?, ''), 1, ?)`, c[0], c[1], c[2], i+2); err != nil {
			t.Fatal(err)
		}
	}
	for i, o := range orders {
		if _, err := st.DB.ExecContext(ctx, `INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, buyer_ip, _file_id, _line) VALUES (?, TIMESTAMP '2026-11-20 12:00:00', 'B', 10, 'P1', ?, 2, ?)`, o[0], o[1], i+2); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIPNumbersMatchGo checks the SQL conversion of addresses against
// net/netip on the forms logs carry, through the whole labeling.
func TestIPClassesAgainstNetip(t *testing.T) {
	ips := []string{
		"198.18.0.1", "198.19.255.255", "198.20.0.0", "192.0.2.1", "10.1.2.3", "010.1.2.3", "256.1.1.1", "1.2.3",
		"2001:db8::1", "2001:DB8:0:0:0:0:0:2", "2001:db8:ffff::", "2001:db9::1", "::ffff:198.18.3.4", "::1", "::",
		"fe80::1%eth0", "2001:db8::1::2", "2001:db8:0:0:0:0:0:0:1", "1:2:3:4:5:6:7::", "2001:0db8:0000::00ff", "garbage", "",
	}
	dir := t.TempDir()
	dc := writeFile(t, dir, "dc.cidr", "198.18.0.0/15\n192.0.2.0/24\n2001:db8::/33\n")
	in := writeFile(t, dir, "office.cidr", "10.0.0.0/8\n2001:db8::/64\n")
	pack := packWith(t, rules.ReferenceLists{IPRanges: []rules.IPRangeFile{{Class: "datacenter", Path: dc}, {Class: "internal", Path: in}}})
	var clicks [][3]string
	for i, ip := range ips {
		clicks = append(clicks, [3]string{"c" + string(rune('a'+i)), ip, ""})
	}
	st := openStore(t, clicks, nil)
	if _, err := Label(context.Background(), st.DB, pack, "r1", Options{}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	rows, err := st.DB.Query(`SELECT c.ip, t.ip_class || ' ' || t.ip_range FROM click_traffic t JOIN clicks c USING (click_id)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ip, cls string
		rows.Scan(&ip, &cls)
		got[ip] = cls
	}
	rows.Close()
	dcR, inR := mustRanges(t, dc), mustRanges(t, in)
	want := map[string]string{}
	for _, ip := range ips {
		a, err := netip.ParseAddr(ip)
		if err != nil || a.Zone() != "" {
			continue
		}
		// the most specific range wins
		best, bestBits, cls := "", -1, ""
		for _, c := range []struct {
			name string
			rs   []netip.Prefix
		}{{"internal", inR}, {"datacenter", dcR}} {
			for _, p := range c.rs {
				if p.Contains(a.Unmap()) && p.Bits() > bestBits {
					best, bestBits, cls = p.String(), p.Bits(), c.name
				}
			}
		}
		if best != "" {
			want[ip] = cls + " " + best
		}
	}
	delete(want, "010.1.2.3") // netip refuses leading zeros; the SQL reads it as 10.1.2.3
	if got["010.1.2.3"] != "internal 10.0.0.0/8" {
		t.Errorf("010.1.2.3: got %q", got["010.1.2.3"])
	}
	delete(got, "010.1.2.3")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("classes (-netip +sql):\n%s", d)
	}
}

func mustRanges(t *testing.T, path string) []netip.Prefix {
	b, _ := os.ReadFile(path)
	var out []netip.Prefix
	for _, l := range strings.Fields(string(b)) {
		out = append(out, netip.MustParsePrefix(l))
	}
	return out
}

func packWith(t *testing.T, rl rules.ReferenceLists) *rules.Pack {
	t.Helper()
	p, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	p.ReferenceLists = rl
	return p
}

func TestLabel(t *testing.T) {
	dir := t.TempDir()
	list := writeFile(t, dir, "node_modules/crawler-user-agents/crawler-user-agents.json",
		`[{"pattern": "Googlebot\\/"}, {"pattern": "HeadlessChrome"}, {"pattern": "[wW]get"}]`)
	writeFile(t, dir, "node_modules/crawler-user-agents/package.json", `{"name": "crawler-user-agents", "version": "9.9.9"}`)
	dc := writeFile(t, dir, "dc.cidr", "198.18.0.0/15\n")
	tor := writeFile(t, dir, "tor.txt", "203.0.113.5\n")
	pack := packWith(t, rules.ReferenceLists{
		BotUserAgents: rules.BotUserAgents{Path: list, ExtraPatterns: []rules.BotPattern{{Pattern: "(?i)python-requests"}}},
		IPRanges:      []rules.IPRangeFile{{Class: "datacenter", Path: dc, Name: "cloud"}, {Class: "tor", Path: tor}},
	})
	st := openStore(t, [][3]string{
		{"c1", "240.1.2.3", "Mozilla/5.0 (compatible; Googlebot/2.1)"},
		{"c2", "198.18.9.9", "Mozilla/5.0 Chrome/154"},
		{"c3", "203.0.113.5", "Mozilla/5.0 Firefox"},
		{"c4", "240.1.2.4", "Mozilla/5.0 Firefox"},
		{"c5", "", "Python-Requests/2.3"},
		{"c6", "240.1.2.5", "Wget/1.2"},
	}, [][2]string{{"o1", "198.18.1.1"}, {"o2", "240.0.0.1"}})
	res, err := Label(context.Background(), st.DB, pack, "run-1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	type lab struct {
		ID, Givt, UA, UAVersion, Entry, Class, IPList, Range string
	}
	rows, err := st.DB.Query(`SELECT click_id, givt::VARCHAR, coalesce(ua_list, ''), coalesce(ua_version, ''), coalesce(ua_entry, ''),
		coalesce(ip_class, ''), coalesce(ip_list, ''), coalesce(ip_range, '') FROM click_traffic ORDER BY click_id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []lab
	for rows.Next() {
		var l lab
		if err := rows.Scan(&l.ID, &l.Givt, &l.UA, &l.UAVersion, &l.Entry, &l.Class, &l.IPList, &l.Range); err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	rows.Close()
	pk := "pack:reference_lists.bot_user_agents.extra_patterns"
	want := []lab{
		{"c1", "true", "crawler-user-agents", "9.9.9", "Googlebot\\/", "", "", ""},
		{"c2", "true", "", "", "", "datacenter", "cloud", "198.18.0.0/15"},
		{"c3", "false", "", "", "", "tor", "tor.txt", "203.0.113.5/32"},
		{"c5", "true", pk, pack.Version, "(?i)python-requests", "", "", ""},
		{"c6", "true", "crawler-user-agents", "9.9.9", "[wW]get", "", "", ""},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("click labels (-want +got):\n%s", d)
	}
	var oc string
	if err := st.DB.QueryRow(`SELECT string_agg(order_id || ' ' || ip_class || ' ' || ip_range, '; ') FROM order_ip_class`).Scan(&oc); err != nil || oc != "o1 datacenter 198.18.0.0/15" {
		t.Errorf("order classes = %q, %v", oc, err)
	}
	if res.GIVTClicks != 4 || len(res.Unavailable) != 0 {
		t.Errorf("result = %+v", res)
	}
	var n, matched int64
	var sum string
	if err := st.DB.QueryRow(`SELECT count(*), sum(matched) FILTER (WHERE name = 'crawler-user-agents'), max(sha256) FILTER (WHERE name = 'crawler-user-agents') FROM reference_lists WHERE run_id = 'run-1'`).Scan(&n, &matched, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 4 || matched != 2 || len(sum) != 64 {
		t.Errorf("reference_lists: %d rows, crawler list matched %d, sha %q", n, matched, sum)
	}
}

func TestLabelWithoutLists(t *testing.T) {
	pack := packWith(t, rules.ReferenceLists{BotUserAgents: rules.BotUserAgents{Path: "/nonexistent/crawler-user-agents.json"}})
	st := openStore(t, [][3]string{{"c1", "198.18.0.1", "HeadlessChrome"}}, nil)
	res, err := Label(context.Background(), st.DB, pack, "r", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var sig []string
	for _, u := range res.Unavailable {
		sig = append(sig, u.Signal)
	}
	if d := cmp.Diff([]string{"reference_lists.bot_user_agents", "reference_lists.ip_ranges.datacenter"}, sig); d != "" {
		t.Errorf("unavailable (-want +got):\n%s", d)
	}
	if !strings.Contains(res.Unavailable[0].Reason, "not installed at /nonexistent/crawler-user-agents.json") {
		t.Errorf("reason = %q", res.Unavailable[0].Reason)
	}
	var n, addresses int
	st.DB.QueryRow(`SELECT count(*) FROM click_traffic`).Scan(&n)
	st.DB.QueryRow(`SELECT count(*) FROM reflist_ip`).Scan(&addresses)
	if n != 0 || addresses != 0 {
		t.Errorf("%d clicks labeled and %d addresses remembered without lists", n, addresses)
	}
	// A range list configured later classes the addresses seen before.
	dc := writeFile(t, t.TempDir(), "dc.cidr", "198.18.0.0/15\n")
	withRanges := packWith(t, rules.ReferenceLists{BotUserAgents: rules.BotUserAgents{Path: "/nonexistent/crawler-user-agents.json"},
		IPRanges: []rules.IPRangeFile{{Class: "datacenter", Path: dc, Name: "cloud"}}})
	res, err = Label(context.Background(), st.DB, withRanges, "r2", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var class string
	st.DB.QueryRow(`SELECT ip_class FROM click_traffic WHERE click_id = 'c1'`).Scan(&class)
	if !res.Relabelled || class != "datacenter" {
		t.Errorf("with a range list added: relabelled %v, c1's class %q, want datacenter", res.Relabelled, class)
	}
}

func TestLabelBrokenList(t *testing.T) {
	dir := t.TempDir()
	list := writeFile(t, dir, "bots.json", "[{\"pattern\": \"x\"},\n oops]")
	pack := packWith(t, rules.ReferenceLists{BotUserAgents: rules.BotUserAgents{Path: list}})
	st := openStore(t, nil, nil)
	_, err := Label(context.Background(), st.DB, pack, "r", Options{})
	if err == nil || !strings.Contains(err.Error(), "reference_lists.bot_user_agents.path") || !strings.Contains(err.Error(), "bots.json:2") {
		t.Errorf("err = %v, want the pack key and bots.json:2", err)
	}
}

// A night labels only what its files brought, yet the stored labels equal
// those of labelling everything from scratch: across a new day, a re-run
// night whose rows replace the stored ones, and a changed list.
func TestLabelIncrementalEqualsFull(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	list := writeFile(t, dir, "node_modules/crawler-user-agents/crawler-user-agents.json", `[{"pattern": "Googlebot\\/"}, {"pattern": "[wW]get"}]`)
	writeFile(t, dir, "node_modules/crawler-user-agents/package.json", `{"name": "crawler-user-agents", "version": "1.0.0"}`)
	dc := writeFile(t, dir, "dc.cidr", "198.18.0.0/15\n")
	pack := packWith(t, rules.ReferenceLists{
		BotUserAgents: rules.BotUserAgents{Path: list},
		IPRanges:      []rules.IPRangeFile{{Class: "datacenter", Path: dc, Name: "cloud"}},
	})
	st := openStore(t, [][3]string{
		{"c1", "240.1.2.3", "Mozilla/5.0 (compatible; Googlebot/2.1)"},
		{"c2", "198.18.9.9", "Mozilla/5.0 Chrome/154"},
		{"c3", "240.1.2.4", "Mozilla/5.0 Firefox"},
	}, [][2]string{{"o1", "198.18.1.1"}})
	labels := func() string {
		t.Helper()
		var s string
		if err := st.DB.QueryRowContext(ctx, `SELECT coalesce(string_agg(x, '; ' ORDER BY x), '') FROM (
			SELECT click_id || ' ' || givt::VARCHAR || ' ' || coalesce(ua_entry, '-') || ' ' || coalesce(ip_range, '-') AS x FROM click_traffic
			UNION ALL SELECT order_id || ' ' || ip_class || ' ' || ip_range FROM order_ip_class)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	full := func() string {
		t.Helper()
		if _, err := st.DB.ExecContext(ctx, `DELETE FROM reflist_state`); err != nil {
			t.Fatal(err)
		}
		res, err := Label(ctx, st.DB, pack, "full", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Relabelled {
			t.Error("a database without stored state was not labelled from scratch")
		}
		return labels()
	}
	night := func(day string) {
		t.Helper()
		d, _ := time.Parse(time.DateOnly, day)
		res, err := Label(ctx, st.DB, pack, "night-"+day, Options{Night: d})
		if err != nil {
			t.Fatal(err)
		}
		if res.Relabelled {
			t.Errorf("night %s relabelled everything though the lists did not change", day)
		}
	}
	if _, err := Label(ctx, st.DB, pack, "first", Options{}); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := st.DB.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	// Night 21: a new file with a bot, a data-centre click, a late click of
	// the 20th, and an order from a known address.
	exec(`INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, _file_id, _line) VALUES
		('c4', TIMESTAMP '2026-11-21 01:00:00', 'P2', '198.19.0.1', 'Wget/1.2', 3, 2),
		('c5', TIMESTAMP '2026-11-21 02:00:00', 'P2', '240.9.9.9', 'Mozilla/5.0 Firefox', 3, 3),
		('c6', TIMESTAMP '2026-11-20 23:59:00', 'P2', '240.1.2.3', 'Mozilla/5.0 (compatible; Googlebot/2.1)', 3, 4)`)
	exec(`INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, buyer_ip, _file_id, _line) VALUES
		('o2', TIMESTAMP '2026-11-21 03:00:00', 'B', 10, 'P2', '198.18.1.1', 4, 2)`)
	night("2026-11-21")
	got := labels()
	if want := full(); got != want {
		t.Errorf("after a new night:\n incremental %s\n full        %s", got, want)
	}
	if !strings.Contains(got, "c4 true [wW]get") || !strings.Contains(got, "o2 datacenter") {
		t.Errorf("new night's rows not labelled: %s", got)
	}
	// Night 21 re-run: its rows replaced by a corrected file (c4 gone, c7 new).
	exec(`DELETE FROM clicks WHERE _file_id = 3 AND CAST(ts AS DATE) = DATE '2026-11-21'`)
	exec(`INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, _file_id, _line) VALUES
		('c7', TIMESTAMP '2026-11-21 05:00:00', 'P2', '198.18.7.7', 'Mozilla/5.0 Firefox', 5, 2)`)
	night("2026-11-21")
	got = labels()
	if want := full(); got != want {
		t.Errorf("after a re-run night:\n incremental %s\n full        %s", got, want)
	}
	if strings.Contains(got, "c4 ") || !strings.Contains(got, "c7 true") {
		t.Errorf("re-run night's labels are stale: %s", got)
	}
	// A list update: the stored labels are computed again.
	writeFile(t, dir, "node_modules/crawler-user-agents/crawler-user-agents.json", `[{"pattern": "Firefox"}]`)
	res, err := Label(ctx, st.DB, pack, "update", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Relabelled {
		t.Error("a changed list did not relabel the stored clicks")
	}
	got = labels()
	if want := full(); got != want || strings.Contains(got, "Googlebot") || !strings.Contains(got, "c3 true Firefox") {
		t.Errorf("after a list update:\n incremental %s\n full        %s", got, want)
	}
}
