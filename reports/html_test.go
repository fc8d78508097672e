package reports

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
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

// TestHTMLSelfContained: no script, no external resource of any kind.
func TestHTMLSelfContained(t *testing.T) {
	db := openStore(t)
	insert(t, db, fullSeed())
	dir, _ := writeRun(t, db, testMeta())
	html := strings.ToLower(string(readOut(t, dir, ReportFile)))
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "<base", "<form", "url(", "@import", "http-equiv"} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
	// The seed's evidence holds `<img src=x …>`: as text, never as a tag.
	if m := regexp.MustCompile(`<[a-z][^<>]*\s(src|xlink:href|action|formaction|background)=`).FindString(html); m != "" {
		t.Errorf("report.html has a tag loading a resource: %s", m)
	}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if !strings.HasPrefix(m[1], "#") {
			t.Errorf("report.html links outside itself: %s", m[0])
		}
	}
	for _, want := range []string{"@media print", "How to read this report", `id="index"`} {
		if !strings.Contains(html, strings.ToLower(want)) {
			t.Errorf("report.html lacks %q", want)
		}
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
		{"finding", []string{"E.10.c", "score 0.82", "2026-11-21 07:00:00 UTC", "$30.0001"}},
		{"evidence scalars and lists", []string{"publisher_clicks", "412", "curl/8.1, python-requests/2.31"}},
		{"evidence sub-table capped", []string{"<th>click_id</th>", "c19", "… 5 more"}},
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
	if !strings.Contains(html, "24 buckets of 60 min from 2026-11-21 00:00 UTC, peak 201 clicks at 2026-11-21 08:00 UTC; drawn below") {
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
	if got := strings.Count(html, `<a href="#p-`); got != MaxDetailPublishers {
		t.Errorf("%d index links, want %d", got, MaxDetailPublishers)
	}
}
