package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestHTMLEscapesHostileInput(t *testing.T) {
	db := openStore(t)
	s := fullSeed()
	s.findings = append(s.findings, finding{id: "pr-<script>1</script>", publisher: "<script>alert('pub')</script>",
		detector: "prohibited_content", severity: "<b>high</b>", score: 0.8, policy: "D.7\"><script>x</script>",
		summary: "</p><script>alert(document.cookie)</script>", evidence: `{"<script>k</script>":"<script>v</script>",` +
			`"nested":{"a":"<img src=x onerror=alert(1)>"},"rows":[{"<th>":"<svg onload=alert(1)>"}],"list":["<iframe src=//evil>"]}`,
		start: "2026-11-21 00:00:00", end: "2026-11-22 00:00:00", orders: []string{"<script>order</script>"}, commission: "1"})
	insert(t, db, s)
	meta := testMeta()
	meta.RunID = `run"><script>alert('run')</script>`
	meta.RulesVersion = "<script>rules</script>"
	meta.Inputs[0].Path = "<script>path</script>.csv"
	s2 := seed{findings: nil}
	for i := range s.findings {
		f := s.findings[i]
		f.run = meta.RunID
		s2.findings = append(s2.findings, f)
	}
	insert(t, db, s2)
	dir, _ := writeRun(t, db, meta)
	html := string(readOut(t, dir, ReportFile))

	if n := strings.Count(strings.ToLower(html), "<script"); n != 0 {
		t.Errorf("report.html holds %d raw <script tags", n)
	}
	for _, bad := range []string{"<img src=x", "<svg onload", "<iframe", "<b>official</b>", "<i>Cure</i>", "<th>\""} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html holds unescaped %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(&#39;pub&#39;)&lt;/script&gt;", // publisher id
		"&lt;script&gt;v&lt;/script&gt;",                    // evidence value
		"&lt;script&gt;k&lt;/script&gt;",                    // evidence key
		"&lt;img src=x onerror=alert(1)&gt;",                // nested evidence
		"&lt;svg onload=alert(1)&gt;",                       // sub-table cell
		"&lt;script&gt;alert(2)&lt;/script&gt;",             // quarantined value
		"&lt;script&gt;order&lt;/script&gt;",                // order id
		"=HYPERLINK(&#34;http://evil.example/x&#34;,&#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;)",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks escaped %q", want)
		}
	}
	// Severity is attacker-influenced too: it must not reach a class name.
	if strings.Contains(html, `sev-&lt;b&gt;`) || strings.Contains(html, "sev-<b>") {
		t.Error("an unknown severity reached a class attribute")
	}
}

// TestHTMLSelfContained: no script, no external resource of any kind; the
// only pictures are PNGs the report encoded itself, inline.
func TestHTMLSelfContained(t *testing.T) {
	for _, tc := range []struct {
		name string
		seed func(*testing.T, *sql.DB) Meta
	}{
		{"hand-written seed", func(t *testing.T, db *sql.DB) Meta { insert(t, db, fullSeed()); return testMeta() }},
		{"demo run with every figure", seedDemo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openStore(t)
			meta := tc.seed(t, db)
			dir, _ := writeRun(t, db, meta)
			html := strings.ToLower(string(readOut(t, dir, ReportFile)))
			// Our own inline PNGs are the one allowed source (html/template
			// writes base64's "+" as "&#43;" in the attribute).
			imgs := regexp.MustCompile(`<img src="data:image/png;base64,(?:[a-z0-9/=]|&#43;)+" alt="[^"<>]*" width="128" height="128">`)
			rest := imgs.ReplaceAllString(html, "")
			for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "<base", "<form", "url(", "@import", "http-equiv", "<foreignobject", "<use", "<image"} {
				if strings.Contains(rest, bad) {
					t.Errorf("report.html contains %q", bad)
				}
			}
			// The seed's evidence holds `<img src=x …>`: as text, never as a tag.
			if m := regexp.MustCompile(`<[a-z][^<>]*\s(src|xlink:href|href|action|formaction|background|on[a-z]+)=`).FindAllString(rest, -1); len(m) > 0 {
				for _, x := range m {
					if !strings.HasPrefix(x, "<a href=") {
						t.Errorf("report.html has a tag loading a resource or running code: %s", x)
					}
				}
			}
			for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
				if !strings.HasPrefix(m[1], "#") {
					t.Errorf("report.html links outside itself: %s", m[0])
				}
			}
			for _, want := range []string{"@media print", "How to read this report", `id="index"`, `id="suppressed"`} {
				if !strings.Contains(html, strings.ToLower(want)) {
					t.Errorf("report.html lacks %q", want)
				}
			}
		})
	}
}

func TestHTMLContents(t *testing.T) {
	db := openStore(t)
	insert(t, db, fullSeed())
	dir, _ := writeRun(t, db, testMeta())
	html := string(readOut(t, dir, ReportFile))

	tests := []struct {
		name string
		want []string
	}{
		{"header", []string{"2026-11-21", testRun, "version 2026.11", "Generated at", "2026-11-22T02:01:35Z"}},
		{"money totals", []string{"$43.76", "$100.25"}}, // run.json totals: the sum of the cents shown
		{"detectors", []string{"<code>click_burst</code>", "Abnormal click bursts", "<code>self_purchase</code>"}},
		{"actions", []string{"withhold_payment", "cure_period", "warning"}},
		{"quarantine", []string{"bad timestamp", "clicks.csv:9:ts", "clicks.csv:40<", "wrong number of fields", "orders/date=2026-11-21/part-0.ndjson:3:amount_usd"}},
		{"signals", []string{"popup_traffic", "viewport_w", "clicks has no visible column"}},
		{"recommendation", []string{"Appeal deadline", "2026-11-28", "F.11.c", "Review required"}},
		{"finding", []string{"E.10.c", "score 0.82", "2026-11-21 07:00:00 UTC", "$30.00"}},
		{"evidence scalars and lists", []string{"publisher_clicks", "412", "curl/8.1, python-requests/2.31"}},
		{"evidence sub-table capped", []string{"<th>Click ID</th>", "c19", "… 5 more"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.want {
				if !strings.Contains(html, w) {
					t.Errorf("report.html lacks %q", w)
				}
			}
		})
	}
	if strings.Contains(html, ">c20<") {
		t.Error("sub-table shows more than 20 rows")
	}
	// Another run's rows and quarantine of other files stay out.
	for _, bad := range []string{"pub-z", "orders-old.ndjson", "cl-ffffffffffffffff"} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html shows %q from outside the run", bad)
		}
	}
	// Publishers by money at stake: pub-a (142.75), hostile (1.25), pub-b (0).
	a := strings.Index(html, `Publisher <span class="id">pub-a`)
	h := strings.Index(html, `Publisher <span class="id">=HYPERLINK`)
	b := strings.Index(html, `Publisher <span class="id">pub-b`)
	if a < 0 || h < 0 || b < 0 || !(a < h && h < b) {
		t.Errorf("publisher sections out of money order: pub-a@%d hostile@%d pub-b@%d", a, h, b)
	}
	// Within pub-a, the critical finding comes first.
	if c, hi := strings.Index(html, "se-00000000000000a2"), strings.Index(html, "cl-00000000000000a1"); c > hi {
		t.Error("pub-a's critical finding is not shown first")
	}
}

func TestHTMLTimelineChart(t *testing.T) {
	db := openStore(t)
	insert(t, db, fullSeed())
	dir, _ := writeRun(t, db, testMeta())
	html := string(readOut(t, dir, ReportFile))

	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(html, -1)
	if len(svgs) != 1 {
		t.Fatalf("report.html has %d charts, want 1 (the click_burst timeline)", len(svgs))
	}
	svg := svgs[0]
	bars := regexp.MustCompile(`<path class="bar" d="([^"]*)"/>`).FindStringSubmatch(svg)
	if bars == nil || strings.Count(bars[1], "z") != 22 {
		t.Errorf("chart does not draw the 22 bars at or below the threshold as one path: %v", bars)
	}
	if n := strings.Count(svg, `<rect class="bar over"`); n != 2 {
		t.Errorf("chart marks %d bars above the threshold, want 2", n)
	}
	for _, want := range []string{
		`class="burst"`, `class="baseline"`, `class="threshold"`,
		"baseline 3.4", "threshold 40", "time (UTC), 2026-11-21", "clicks per hour",
		"burst 2026-11-21 07:00 – 2026-11-21 09:00 UTC", "2026-11-21 08:00 UTC: 201 clicks",
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	// The burst covers buckets 7 and 8 of 24 on a 680-unit plot from x=64.
	if !strings.Contains(svg, `<rect class="burst" x="262.3" y="20" width="56.7"`) {
		t.Errorf("burst shading misplaced:\n%s", svg)
	}
	if !strings.Contains(html, "24 buckets of 60 min from 2026-11-21 00:00 UTC, peak 201 clicks at 2026-11-21 08:00 UTC; drawn as the chart above") {
		t.Error("the timeline row does not point at the chart")
	}
}

func TestHTMLCaps(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	// MaxDetailPublishers+7 publishers, each with one finding, and
	// p-charts; p0000 has many more findings, p0001's has many orders.
	n := MaxDetailPublishers + 7
	if _, err := db.ExecContext(ctx, `
		INSERT INTO findings
		SELECT 'f-' || i, ?, NULL, printf('p%04d', i), 'click_burst', 'R', 'stable', 'low', 0.3, 'E.10.c', 's', '{}',
		       TIMESTAMP '2026-11-21 00:00:00', TIMESTAMP '2026-11-21 01:00:00',
		       CASE WHEN i = 1 THEN [printf('o%03d', j) FOR j IN range(100)] ELSE [] END, 0
		FROM range(?) t(i)`, testRun, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `
		INSERT INTO findings
		SELECT 'g-' || i, ?, NULL, 'p0000', 'popup_traffic', 'R', 'stable', 'medium', 0.5, 'E.10.h', 's', '{}',
		       TIMESTAMP '2026-11-21 00:00:00', TIMESTAMP '2026-11-21 01:00:00', [], 0
		FROM range(?) t(i)`, testRun, MaxFindingsPerPublisher+3); err != nil {
		t.Fatal(err)
	}
	// p-charts has two timelines more than a section draws.
	if _, err := db.ExecContext(ctx, `
		INSERT INTO findings
		SELECT 'h-' || i, ?, NULL, 'p-charts', 'click_burst', 'R', 'stable', 'high', 0.8, 'E.10.c', 's', ?,
		       TIMESTAMP '2026-11-21 00:00:00', TIMESTAMP '2026-11-21 01:00:00', [], 0
		FROM range(?) t(i)`, testRun, burstEvidence, MaxChartsPerPublisher+2); err != nil {
		t.Fatal(err)
	}
	dir, _ := writeRun(t, db, testMeta())
	html := string(readOut(t, dir, ReportFile))

	if got := strings.Count(html, `<section class="publisher"`); got != MaxDetailPublishers {
		t.Errorf("%d publisher sections, want %d", got, MaxDetailPublishers)
	}
	if want := fmt.Sprintf("the findings of the other %d are in", n+1-MaxDetailPublishers); !strings.Contains(html, want) {
		t.Errorf("report.html lacks the note %q", want)
	}
	if got := strings.Count(html, `<td class="n">`+fmt.Sprint(n+1)+`</td>`); got == 0 {
		t.Errorf("index does not list all %d publishers", n+1)
	}
	if want := fmt.Sprintf("… 4 more findings of this publisher (of %d)", MaxFindingsPerPublisher+4); !strings.Contains(html, want) {
		t.Error("per-publisher finding cap not noted")
	}
	if !strings.Contains(html, "100: ") || !strings.Contains(html, "… 80 more in findings.ndjson") || strings.Contains(html, ">o020<") {
		t.Error("order ids not capped at 20 with a count")
	}
	if got := strings.Count(html, "<svg "); got != MaxChartsPerPublisher {
		t.Errorf("%d charts, want %d", got, MaxChartsPerPublisher)
	}
	if got := strings.Count(html, fmt.Sprintf("not drawn: this section draws at most %d charts", MaxChartsPerPublisher)); got != 2 {
		t.Errorf("%d timelines noted as not drawn, want 2", got)
	}
	// Linked index rows are exactly the detailed publishers.
	if got := len(regexp.MustCompile(`<td class="id"><a href="#p[-\w]+">`).FindAllString(html, -1)); got != MaxDetailPublishers {
		t.Errorf("%d index links, want %d", got, MaxDetailPublishers)
	}
}

// demoFinding is one line of testdata/demo/findings.ndjson: real detector
// output of `affwatch demo` (one or two findings per detector).
type demoFinding struct {
	FindingID   string          `json:"finding_id"`
	PublisherID string          `json:"publisher_id"`
	Detector    string          `json:"detector"`
	RuleID      string          `json:"rule_id"`
	RuleStatus  string          `json:"rule_status"`
	Severity    string          `json:"severity"`
	Score       float64         `json:"score"`
	PolicyRef   string          `json:"policy_ref"`
	Summary     string          `json:"summary"`
	Evidence    json.RawMessage `json:"evidence"`
	WindowStart string          `json:"window_start"`
	WindowEnd   string          `json:"window_end"`
	OrderIDs    []string        `json:"order_ids"`
	Commission  string          `json:"commission_usd"`
}

// execAll runs statements against the test database.
func execAll(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// insertFindingRow stores one finding of the test run.
func insertFindingRow(t *testing.T, db *sql.DB, f demoFinding) {
	t.Helper()
	if f.OrderIDs == nil {
		f.OrderIDs = []string{}
	}
	execAll(t, db, `INSERT INTO findings (finding_id, run_id, night, publisher_id, detector, rule_id, rule_status, severity, score,
			policy_ref, summary, evidence, window_start, window_end, order_ids, commission_usd)
		VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS JSON), CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), ?, CAST(? AS DECIMAL(18,4)))`,
		f.FindingID, testRun, f.PublisherID, f.Detector, f.RuleID, f.RuleStatus, f.Severity, f.Score, f.PolicyRef, f.Summary,
		string(f.Evidence), f.WindowStart, f.WindowEnd, f.OrderIDs, f.Commission)
}

// insertRec stores a recommendation with the penalty engine's columns
// (migration 003); basis "" stores NULL, as on rows written before it.
func insertRec(t *testing.T, db *sql.DB, pub, action, policy string, findings []string, withhold, clawback string,
	severity, confidence string, strikes int, shadow []string, basis string) {
	t.Helper()
	var sev, conf, str, sh, bs any
	if basis != "" {
		sev, conf, str, bs = severity, confidence, strikes, basis
		if shadow == nil {
			shadow = []string{}
		}
		sh = shadow
	}
	execAll(t, db, `INSERT INTO recommendations (run_id, night, publisher_id, action, policy_ref, finding_ids, withhold_usd, clawback_usd,
			appeal_deadline, review_required, summary, severity, confidence, strikes, shadow_finding_ids, basis)
		VALUES (?, NULL, ?, ?, ?, ?, CAST(? AS DECIMAL(18,4)), CAST(? AS DECIMAL(18,4)), DATE '2026-11-28', true, ?, ?, ?, ?, CAST(? AS VARCHAR[]), CAST(? AS JSON))`,
		testRun, pub, action, policy, findings, withhold, clawback, "Recommended "+action+" for "+pub+".", sev, conf, str, sh, bs)
}

// ctitHours are the click-to-order times of the 11 orders the demo
// credited to P000813's forced clicks (its median is 4.29 h).
var ctitHours = []float64{0.05, 0.4, 1.2, 3.1, 4.0, 4.29, 5.5, 9, 26, 49, 80}

// seedDemo fills the database with a realistic run: the demo's findings
// (testdata/demo), the favicon bytes its crawler kept, clicks and orders
// behind the cookie-stuffing finding's CTIT (its 11 orders against 600 of
// the program, log-normal around 0.62 h as in the demo), recommendations
// with the penalty engine's reasons (one written before it kept them) and
// two suppressed findings.
func seedDemo(t *testing.T, db *sql.DB) Meta {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "demo", "findings.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var f demoFinding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatal(err)
		}
		insertFindingRow(t, db, f)
	}
	var assets []struct {
		CrawlID string `json:"crawl_id"`
		Role    string `json:"role"`
		URL     string `json:"url"`
		SHA256  string `json:"sha256"`
		File    string `json:"file"`
	}
	b, err = os.ReadFile(filepath.Join("testdata", "demo", "assets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &assets); err != nil {
		t.Fatal(err)
	}
	for _, a := range assets {
		data, err := os.ReadFile(filepath.Join("testdata", "demo", a.File))
		if err != nil {
			t.Fatal(err)
		}
		execAll(t, db, `INSERT INTO crawl_assets (crawl_id, role, url, http_status, content_type, size_bytes, sha256, bytes)
			VALUES (?, ?, ?, 200, 'image/png', ?, ?, ?)`, a.CrawlID, a.Role, a.URL, len(data), a.SHA256, data)
	}
	// Clicks and orders: P000813's 11 orders, then 600 of the program.
	start := time.Date(2026, 11, 8, 6, 0, 0, 0, time.UTC)
	var clickIDs, pubs, clickTS, orderIDs, orderTS []string
	add := func(pub string, i int, hours float64) {
		id := fmt.Sprintf("k-%s-%03d", pub, i)
		ts := start.Add(time.Duration(i%300) * 61 * time.Minute)
		clickIDs, pubs, clickTS = append(clickIDs, id), append(pubs, pub), append(clickTS, ts.Format(time.DateTime))
		orderIDs, orderTS = append(orderIDs, "o-"+id), append(orderTS, ts.Add(time.Duration(hours*float64(time.Hour))).Format(time.DateTime))
	}
	for i, h := range ctitHours {
		add("P000813", i, h)
	}
	for i := 0; i < 600; i++ {
		z := math.Sqrt2 * math.Erfinv(2*(float64(i)+0.5)/600-1)
		add(fmt.Sprintf("P%06d", 100+i%40), i, 0.62*math.Exp(1.6*z))
	}
	execAll(t, db, `INSERT INTO clicks (click_id, ts, publisher_id, _file_id, _line)
		SELECT unnest(CAST(? AS VARCHAR[])), CAST(unnest(CAST(? AS VARCHAR[])) AS TIMESTAMP), unnest(CAST(? AS VARCHAR[])), 1, 1`, clickIDs, clickTS, pubs)
	execAll(t, db, `INSERT INTO orders (order_id, ts, click_id, publisher_id, _file_id, _line)
		SELECT unnest(CAST(? AS VARCHAR[])), CAST(unnest(CAST(? AS VARCHAR[])) AS TIMESTAMP), unnest(CAST(? AS VARCHAR[])), unnest(CAST(? AS VARCHAR[])), 2, 1`,
		orderIDs, orderTS, clickIDs, pubs)

	step := func(id, det, status, sev string, score float64, conf, action, ref, note string) string {
		b, _ := json.Marshal(map[string]any{"finding_id": id, "detector": det, "rule_status": status, "severity": sev, "score": score,
			"confidence": conf, "action": action, "policy_ref": ref, "note": note})
		return string(b)
	}
	insertRec(t, db, "P000399", "terminate", "F.11.e", []string{"se-22173d4fc25b8a11"}, "19.67", "0", "critical", "high", 1, nil,
		"["+step("se-22173d4fc25b8a11", "self_purchase", "stable", "critical", 1, "high", "terminate", "F.11.e",
			"critical, high confidence: deduct (F.11.d); 1 earlier strike: one rung up to terminate (F.11.e)")+"]")
	insertRec(t, db, "P000813", "deduct", "F.11.d", []string{"co-c958dc2944ba49a4"}, "0", "8.32", "critical", "high", 0, nil,
		"["+step("co-c958dc2944ba49a4", "cookie_stuffing", "stable", "critical", 0.97, "high", "deduct", "F.11.d", "critical, high confidence: deduct (F.11.d)")+"]")
	insertRec(t, db, "P000121", "withhold_payment", "F.11.c", []string{"se-1eb4d71a8cd17337"}, "9.06", "0", "high", "high", 0, nil,
		"["+step("se-1eb4d71a8cd17337", "self_promotion", "stable", "high", 0.9, "high", "withhold_payment", "F.11.c", "high, high confidence: withhold payment (F.11.c)")+"]")
	insertRec(t, db, "PSITE05", "warning", "F.11.a", []string{"br-40134902e8c879ac", "br-e2c57ed6fe55ebc6", "lo-21bc6e0d98fa69e5"}, "0", "0", "high", "high", 0,
		[]string{"br-40134902e8c879ac", "br-e2c57ed6fe55ebc6", "lo-21bc6e0d98fa69e5"},
		"["+step("br-40134902e8c879ac", "brand_misuse", "test", "high", 0.8, "medium", "warning", "F.11.a", "test rule: a warning at most (shadow mode)")+","+
			step("br-e2c57ed6fe55ebc6", "brand_domain", "test", "high", 0.9, "high", "warning", "F.11.a", "test rule: a warning at most (shadow mode)")+","+
			step("lo-21bc6e0d98fa69e5", "logo_copy", "test", "medium", 0.53, "medium", "warning", "F.11.a", "test rule: a warning at most (shadow mode)")+"]")
	// Written before the penalty engine kept its reasons: NULLs.
	insertRec(t, db, "P000572", "withhold_payment", "F.11.c", []string{"se-31bac03a78d67024"}, "10.62", "0", "", "", 0, nil, "")

	suppressed := `INSERT INTO suppressed_findings VALUES (?, ?, NULL, ?, ?, 'R', 'stable', ?, 0.7, ?, ?, '{}', TIMESTAMP '2026-11-12 00:00:00',
		TIMESTAMP '2026-11-13 00:00:00', [], CAST(? AS DECIMAL(18,4)), ?, CAST(? AS JSON))`
	execAll(t, db, suppressed, "cl-allowlisted00001", testRun, "P000500", "click_burst", "high", "E.10.c",
		"212 clicks in 2 burst hours on 12 Nov 2026.", "3.5", "allowlist",
		`{"match":"publisher_id P000500","rule":"click_burst","reason":"TV campaign on 2026-11-12 agreed with the program (ticket CMP-88)","approved_by":"j.doe (compliance)","expires":"2026-12-15"}`)
	execAll(t, db, suppressed, "se-appealed0000001", testRun, "P000264", "self_purchase", "critical", "E.10.j",
		"11 of the publisher's 12 attributed orders were placed by 1 buyer tied to it by an address.", "11.62", "appeal",
		`{"appeal_id":"AP-2026-0042","decided_on":"2026-11-20","decided_by":"m.chen (compliance)","note":"the buyer is an unrelated tenant at the same address; lease provided"}`)
	meta := testMeta()
	meta.Night = time.Time{}
	meta.RulesSource = "default"
	meta.Inputs = nil
	return meta
}

// TestHTMLDemoFigures: every picture a reviewer looks at is drawn from a
// real run's evidence, with the data it claims.
func TestHTMLDemoFigures(t *testing.T) {
	db := openStore(t)
	meta := seedDemo(t, db)
	dir, _ := writeRun(t, db, meta)
	html := string(readOut(t, dir, ReportFile))

	count := func(s string) int { return strings.Count(html, s) }
	for _, tc := range []struct {
		what string
		got  int
		want int
	}{
		{"timelines (click_burst ×2)", count(`<figure class="chart">`), 2},
		{"CTIT histograms (the click-based cookie_stuffing finding)", count(`<figure class="chart ctit">`), 1},
		{"identifier diagrams (self_purchase ×2, self_promotion)", count(`<figure class="chart diagram">`), 3},
		{"logo pairs", count(`<div class="logo-pair">`), 2},
		{"embedded pictures (reference and found, twice)", count(`<img src="data:image/png;base64,`), 4},
		{"snippets", count(`<pre class="snippet">`), 3 + 4 + 4 + 4},
		{"publisher sections", count(`<section class="publisher"`), 11},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", tc.what, tc.got, tc.want)
		}
	}
	for _, want := range []string{
		// CTIT: the publisher's 11 orders against the program's 611, the
		// detector's own figures in the caption.
		"the publisher&#39;s 11 orders against the program&#39;s 611",
		"Median 4.29 h against the program&#39;s 0.62 h; 73 % of its orders came more than 3 h after the click, against 22 % (KS distance 0.66)",
		"publisher, 1–3 d: 2 of 11 orders (18 %)",
		// The three-hop chain of P000399: address, phone, then a device
		// (soft, dashed).
		">buyer B10351606</text>", ">phone_hash</text>", ">device_id</text>", `class="edge edge-soft"`,
		">31b849c9ff8e…</text>", ">2 holders</text>",
		// Self-promotion: the seller and the traffic it gets.
		">seller 1100240091</text>", ">Panda Factory Store</text>", "clicks 86 %, orders 100 %",
		// Logo pair: the distances, over-threshold ones marked.
		"<strong>Reference</strong>: AliExpress reference logo brand/aliexpress.png (256×256 px)",
		"<strong>Found</strong>: favicon http://brandcopy-shop.store:42343/apple-touch-icon.png (180×180 px)",
		"mean normalized distance 0.07 (a match is at most 0.25; 0 is the same picture)",
		// Snippets with the match marked, escaped.
		`&lt;iframe src=&#34;<mark>https://s.click.aliexpress.com/e/_gadgetStuff1</mark>&#34; width=&#34;1&#34;`,
		"<mark>Online casino</mark> bonus codes, <mark>sports betting</mark> tips",
		"<mark>AliExpress Official Deals — Aliexpress</mark> Sale Center", // two phrases overlapping: one mark,
		"window.open(&#39;<mark>https://s.click.aliexpress.com/e/_popunder2</mark>&#39;)",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// TestHTMLClausesQuoted: each finding quotes its clauses word for word;
// prohibited content is quoted by its category's clause, not its rule's
// whole range.
func TestHTMLClausesQuoted(t *testing.T) {
	db := openStore(t)
	meta := seedDemo(t, db)
	dir, _ := writeRun(t, db, meta)
	html := string(readOut(t, dir, ReportFile))
	for _, want := range []string{
		// E.10.j under self_purchase, with clause 10's opening words.
		"<p>10.Participants shall not engage in any of the following conduct: …</p><p>j.Engaging in any dishonest or fraudulent transactions",
		"Clause <strong>E.10.j</strong>, quoted from <cite>portals-rules-agreement-faq.txt</cite>",
		// 1.6 under cookie_stuffing.
		"1.6 “Fraud” means any action that intentionally attempts to create sales",
		// B.5.a and B.5.b share one quote of clause 5's opening words.
		"Clauses <strong>B.5.a</strong>, <strong>B.5.b</strong>, quoted from",
		// ePN rule 2 (logo and favicon) from the ePN rules.
		"The Aliexpress favicon cannot be copied as well.",
		// The gambling category's clause, C.6.h.
		"h.any content that relates to gambling or casino related materials;",
		// The recommended measure: F.11.e for P000399.
		"e.Terminating their account with the Site;",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// C.6.c–q is the rule's range; the finding names C.6.h only.
	if strings.Contains(html, "c.Any content that is defamatory or libelous;") {
		t.Error("prohibited_content quoted its rule's whole range instead of its category's clause")
	}
	if n := strings.Count(html, "<p>5.Participants shall refrain"); n != 1 {
		t.Errorf("clause 5's opening words quoted %d times, want once for B.5.a–b", n)
	}
}

// TestHTMLPenaltyReasons: why each action, findings of rules on trial
// marked, and every suppressed finding listed with what suppressed it.
func TestHTMLPenaltyReasons(t *testing.T) {
	db := openStore(t)
	meta := seedDemo(t, db)
	dir, _ := writeRun(t, db, meta)
	html := string(readOut(t, dir, ReportFile))

	section := func(pub string) string {
		i := strings.Index(html, `Publisher <span class="id">`+pub+`</span>`)
		if i < 0 {
			t.Fatalf("no section for %s", pub)
		}
		j := strings.Index(html[i:], "</section>")
		return html[i : i+j]
	}
	p399 := section("P000399")
	for _, want := range []string{
		"Why this action", "a <strong>critical</strong> finding of <strong>high</strong> confidence",
		"1 earlier offence(s) counted", "critical, high confidence: deduct (F.11.d); 1 earlier strike: one rung up to terminate (F.11.e)",
		`<td class="action">terminate</td>`,
	} {
		if !strings.Contains(p399, want) {
			t.Errorf("P000399's section lacks %q", want)
		}
	}
	// The basis links to the finding's card in the section.
	if !regexp.MustCompile(`<a href="#f-[0-9a-f]{16}"><code>self_purchase</code></a>`).MatchString(p399) {
		t.Error("the basis row does not link to its finding")
	}
	ps5 := section("PSITE05")
	if n := strings.Count(ps5, "test rule — shown, not acted on beyond a warning"); n != 6 {
		t.Errorf("PSITE05: %d test-rule badges, want 6 (3 finding cards, 3 basis rows)", n)
	}
	if !strings.Contains(ps5, "3 finding(s) of test or experimental rules") {
		t.Error("PSITE05: shadow findings not counted")
	}
	if p := section("P000813"); strings.Contains(p, "test rule —") {
		t.Error("a stable rule's finding is marked as a test rule")
	}
	// A recommendation stored before the engine kept its reasons.
	p572 := section("P000572")
	for _, want := range []string{"(severity not recorded)", "Strikes</dt><dd>not recorded", "No per-finding basis was recorded"} {
		if !strings.Contains(p572, want) {
			t.Errorf("P000572's section lacks %q", want)
		}
	}
	// Suppressed findings: both, with reason, approver, expiry or appeal.
	i := strings.Index(html, `<h3 id="suppressed">`)
	j := strings.Index(html, `<h3 id="inputs">`)
	if i < 0 || j < i {
		t.Fatal("no suppressed findings section")
	}
	sup := html[i:j]
	for _, want := range []string{
		"P000500", "cl-allowlisted00001", "allow-list entry", "TV campaign on 2026-11-12 agreed with the program (ticket CMP-88)",
		"j.doe (compliance)", "2026-12-15", "$3.50 commission",
		"P000264", "se-appealed0000001", "cleared appeal", "AP-2026-0042", "m.chen (compliance)", "2026-11-20", "lease provided",
	} {
		if !strings.Contains(sup, want) {
			t.Errorf("suppressed findings lack %q", want)
		}
	}
	// The reason comes before the approver, the approver before the expiry.
	if a, b, c := strings.Index(sup, "reason:</span>"), strings.Index(sup, "approved_by:</span>"), strings.Index(sup, "expires:</span>"); !(a >= 0 && a < b && b < c) {
		t.Errorf("allow-list details out of order: reason@%d approved_by@%d expires@%d", a, b, c)
	}
	if !strings.Contains(html, "<strong>2</strong> finding(s) were suppressed (1 by allow-list entry, 1 by cleared appeal)") {
		t.Error("the summary does not count the suppressed findings")
	}
	if !strings.Contains(html, "5 finding(s) come from rules on trial") {
		t.Error("the summary does not count the findings of rules on trial")
	}
}

// TestHTMLXSS: attacker-controlled text reaches every new surface of the
// report (a crawled title, a page snippet, a URL in evidence, labels of the
// SVG pictures, the penalty engine's notes, a suppression's reason) and
// arrives escaped: the raw strings are absent and their escaped forms
// present.
func TestHTMLXSS(t *testing.T) {
	db := openStore(t)
	hostile := func(f demoFinding) { insertFindingRow(t, db, f) }
	ws, we := "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"
	// A crawled title and an <img onerror> in a brand-misuse snippet.
	hostile(demoFinding{FindingID: "br-xss", PublisherID: "PX1", Detector: "brand_misuse", RuleID: "AW-BM-001", RuleStatus: "test",
		Severity: "high", Score: 0.8, PolicyRef: "C.6.a–b, E.10.i; ePN rule 3", Summary: "Title claims <script>alert(1)</script>.",
		Evidence: json.RawMessage(`{"matches":[{"field":"title","where":"javascript:alert(1)","phrase":"<script>alert(1)</script>",` +
			`"snippet":"<script>alert(1)</script> Official AliExpress <img src=x onerror=alert(1)>","kind":"claim"}]}`),
		WindowStart: ws, WindowEnd: we, Commission: "0"})
	// A javascript: URL as the target of a hidden frame.
	hostile(demoFinding{FindingID: "co-xss", PublisherID: "PX1", Detector: "cookie_stuffing", RuleID: "AW-CS-001", RuleStatus: "stable",
		Severity: "critical", Score: 0.9, PolicyRef: "1.6", Summary: "s",
		Evidence: json.RawMessage(`{"source":"page","items":[{"signal":"hidden_affiliate_frame","kind":"hidden_frame","hidden":"size_1x1",` +
			`"target_url":"javascript:alert(1)","document_url":"javascript:alert(2)","snippet":"<iframe src=\"javascript:alert(1)\" onload=alert(3)></iframe>"}]}`),
		WindowStart: ws, WindowEnd: we, Commission: "0"})
	// SVG labels: a buyer id closing a style element, an identifier value
	// closing a CDATA section, a seller's name with a script.
	hostile(demoFinding{FindingID: "se-xss", PublisherID: "</style>]]>", Detector: "self_purchase", RuleID: "AW-SP-001", RuleStatus: "stable",
		Severity: "critical", Score: 1, PolicyRef: "E.10.j", Summary: "s",
		Evidence: json.RawMessage(`{"linked_buyers":[{"buyer_id":"B1","link":"hard","hops":1,"orders":2,"commission_usd":1.5,"path":[` +
			`{"from":"publisher </style>]]>","via":"</style>→]]>","value":"]]><script>alert(2)</script>","hard":true,"holders":2,"to":"buyer </style><script>alert(3)</script>"}]}]}`),
		WindowStart: ws, WindowEnd: we, Commission: "0"})
	hostile(demoFinding{FindingID: "sp-xss", PublisherID: "PX2", Detector: "self_promotion", RuleID: "AW-SE-001", RuleStatus: "stable",
		Severity: "high", Score: 0.9, PolicyRef: "E.10.k", Summary: "s",
		Evidence: json.RawMessage(`{"seller":{"seller_id":"S1","name":"<svg onload=alert(4)>"},"link":{"matched_identifiers":["<b>payout</b>"],` +
			`"accounts_per_identifier":[{"identifier":"<b>payout</b>","accounts":2}]},"clicks":{"share":0.5}}`),
		WindowStart: ws, WindowEnd: we, Commission: "0"})
	// A logo finding whose asset URL is a javascript: URL and whose bytes
	// are an SVG with a script: never embedded.
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(5)"><script>alert(6)</script></svg>`)
	hostile(demoFinding{FindingID: "lo-xss", PublisherID: "PX2", Detector: "logo_copy", RuleID: "AW-LC-001", RuleStatus: "test",
		Severity: "high", Score: 0.9, PolicyRef: "8.4; ePN rule 2", Summary: "s",
		Evidence: json.RawMessage(`{"brand":"<script>alert(7)</script>","reference":{"path":"brand/aliexpress.png","sha256":"x","width":256,"height":256},` +
			`"best":{"crawl_id":"c1","asset_url":"javascript:alert(1)","kind":"favicon","sha256":"","width":16,"height":16,"distances":{"<i>dhash8</i>":3}}}`),
		WindowStart: ws, WindowEnd: we, Commission: "0"})
	execAll(t, db, `INSERT INTO crawl_assets (crawl_id, role, url, sha256, bytes) VALUES ('c1', 'icon', 'javascript:alert(1)', '', ?)`, svg)
	insertRec(t, db, "PX1", "warning", "F.11.a", []string{"br-xss", "co-xss"}, "0", "0", "<b>high</b>", "<i>x</i>", 0, []string{"<script>s</script>"},
		`[{"finding_id":"co-xss","detector":"<script>d</script>","rule_status":"stable","severity":"high","score":0.9,"confidence":"high",`+
			`"action":"warning","policy_ref":"F.11.a","note":"<img src=x onerror=alert(8)>"}]`)
	execAll(t, db, `INSERT INTO suppressed_findings VALUES ('cl-xss', ?, NULL, '<script>p</script>', 'click_burst', 'R', 'stable', 'high', 0.7,
		'E.10.c', '<script>alert(9)</script>', '{}', TIMESTAMP '2026-11-21 00:00:00', TIMESTAMP '2026-11-22 00:00:00', [], 0, 'allowlist',
		'{"reason":"<img src=x onerror=alert(10)>","approved_by":"</style>","expires":"]]>"}')`, testRun)
	meta := testMeta()
	meta.RulesSource = "default"
	dir, _ := writeRun(t, db, meta)
	html := string(readOut(t, dir, ReportFile))

	lower := strings.ToLower(html)
	if n := strings.Count(lower, "<script"); n != 0 {
		t.Errorf("report.html holds %d raw <script tags", n)
	}
	for _, bad := range []string{"<img src=x", "<iframe", "<svg onload", "<svg xmlns", "<b>payout", "<i>dhash8", "]]>"} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html holds unescaped %q", bad)
		}
	}
	if n := strings.Count(html, "</style>"); n != 1 {
		t.Errorf("report.html holds %d </style>, want only the one closing its stylesheet", n)
	}
	if m := regexp.MustCompile(`<[a-zA-Z][^<>]*\son[a-z]+\s*=`).FindString(html); m != "" {
		t.Errorf("a tag has an event handler: %s", m)
	}
	if m := regexp.MustCompile(`(?i)(href|src)="\s*javascript:`).FindString(html); m != "" {
		t.Errorf("a javascript: URL reached an attribute: %s", m)
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt; Official AliExpress &lt;img src=x onerror=alert(1)&gt;", // crawled title and snippet
		"<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>",                                           // the phrase marked, escaped
		"&lt;iframe src=&#34;<mark>javascript:alert(1)</mark>&#34; onload=alert(3)&gt;&lt;/iframe&gt;", // javascript: URL as text
		"— javascript:alert(2)</span>",                                                                 // where the snippet was
		"&lt;/style&gt;]]&gt;",                                                                         // publisher id in an SVG label
		"]]&gt;&lt;script&gt;alert(2)&lt;/script&gt;",                                                  // identifier value in an SVG label (cut)
		"&lt;svg onload=alert(4)&gt;",                                                                  // seller name
		"&lt;img src=x onerror=alert(8)&gt;",                                                           // basis note
		"&lt;img src=x onerror=alert(10)&gt;",                                                          // suppression reason
		"approved_by:</span> &lt;/style&gt;</div>",                                                     // approver
		"The picture could not be decoded safely",                                                      // the SVG bytes
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks escaped %q", want)
		}
	}
}

// maxReportBytes5k bounds report.html for 5,000+ flagged publishers. The
// index lists MaxIndexPublishers rows (about 0.35 KB each) and
// MaxDetailPublishers sections follow (about 2 KB each with a finding, its
// clause quoted and a recommendation): 2.7 MB measured, which Chromium
// opens and lays out in about a second on a laptop. 6 MiB leaves room for
// longer ids, summaries and evidence, and still fails if a cap stops
// working (5,025 sections would be about 10 MB).
const maxReportBytes5k = 6 << 20

// TestHTMLThousands: with 5,025 flagged publishers the report stays under
// maxReportBytes5k, every publisher is in the index or counted as left out,
// and sections stop at MaxDetailPublishers.
func TestHTMLThousands(t *testing.T) {
	db := openStore(t)
	const n = MaxIndexPublishers + 25
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `
		INSERT INTO findings
		SELECT printf('cl-%016x', i), ?, NULL, printf('P%06d', i), 'click_burst', 'AW-CB-001', 'stable', 'high', 0.8, 'E.10.c',
		       printf('%d clicks in 2 burst hours on 12 Nov 2026, up to 59× the publisher''s usual 1.6 clicks per hour.', 100 + i % 300),
		       '{"clicks_in_bursts":186,"bursts":[{"start":"2026-11-12T04:00:00Z","end":"2026-11-12T06:00:00Z","clicks":186}]}',
		       TIMESTAMP '2026-11-12 04:00:00', TIMESTAMP '2026-11-12 06:00:00', [printf('%016d', i)], 1.25
		FROM range(?) t(i)`, testRun, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `
		INSERT INTO recommendations (run_id, night, publisher_id, action, policy_ref, finding_ids, withhold_usd, clawback_usd,
			appeal_deadline, review_required, summary)
		SELECT ?, NULL, printf('P%06d', i), 'withhold_payment', 'F.11.c', [printf('cl-%016x', i)], (i % 997) + 0.25, 0,
		       DATE '2026-11-28', true, 'Withhold pending review.'
		FROM range(?) t(i)`, testRun, n); err != nil {
		t.Fatal(err)
	}
	dir, _ := writeRun(t, db, testMeta())
	b := readOut(t, dir, ReportFile)
	html := string(b)
	t.Logf("report.html for %d publishers: %d bytes", n, len(b))
	if len(b) > maxReportBytes5k {
		t.Errorf("report.html is %d bytes for %d publishers, above %d", len(b), n, maxReportBytes5k)
	}
	i := strings.Index(html, `<h2 id="index">`)
	j := strings.Index(html, `<h2 id="publishers">`)
	if i < 0 || j < i {
		t.Fatal("no index before the sections")
	}
	index := html[i:j]
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`<td class="id">(?:<a href="#P\d{6}">)?(P\d{6})<`).FindAllStringSubmatch(index, -1) {
		listed[m[1]] = true
	}
	omitted := 0
	if m := regexp.MustCompile(`… (\d+) more publishers are not listed here`).FindStringSubmatch(index); m != nil {
		fmt.Sscan(m[1], &omitted)
	}
	if len(listed) != MaxIndexPublishers || len(listed)+omitted != n {
		t.Errorf("index lists %d publishers and counts %d left out; want %d + %d = %d", len(listed), omitted, MaxIndexPublishers, n-MaxIndexPublishers, n)
	}
	// The index is by money at stake: the publishers left out are those
	// with the least (withhold (i % 997) + 0.25: the smallest remainders).
	if listed["P000996"] == false || listed["P000997"] {
		t.Errorf("index not by money at stake: P000996 listed %v, P000997 listed %v", listed["P000996"], listed["P000997"])
	}
	if got := strings.Count(html, `<section class="publisher"`); got != MaxDetailPublishers {
		t.Errorf("%d sections, want %d", got, MaxDetailPublishers)
	}
	if got := len(regexp.MustCompile(`<td class="id"><a href="#P\d{6}">`).FindAllString(index, -1)); got != MaxDetailPublishers {
		t.Errorf("%d index rows link to a section, want %d", got, MaxDetailPublishers)
	}
}
