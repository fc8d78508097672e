package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"affwatch/reports"
	"affwatch/store"

	"github.com/google/go-cmp/cmp"
)

// TestExplainSample runs the batch on the committed sample and explains the
// publisher with the most findings: the output must show its
// recommendation and every finding as recommendations.json and
// findings.ndjson have them (read from there, so that the test follows the
// detectors and the penalty engine when they change).
func TestExplainSample(t *testing.T) {
	out := t.TempDir()
	if code, _, errs := runCLI(t, "run", "--in", filepath.Join("..", "..", "fixtures", "sample"), "--out", out,
		"--no-crawl", "--log-level", "error"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	var recs []reports.Recommendation
	b, err := os.ReadFile(filepath.Join(out, reports.RecommendationsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatal("the sample run recommends nothing")
	}
	rec := recs[0]
	for _, r := range recs {
		if len(r.FindingIDs) > len(rec.FindingIDs) {
			rec = r
		}
	}
	type finding struct {
		FindingID, Detector, Severity, PolicyRef, Summary string
		OrderIDs                                          []string `json:"order_ids"`
	}
	findings := map[string]finding{}
	b, err = os.ReadFile(filepath.Join(out, reports.FindingsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var f struct {
			FindingID string   `json:"finding_id"`
			Detector  string   `json:"detector"`
			Severity  string   `json:"severity"`
			PolicyRef string   `json:"policy_ref"`
			Summary   string   `json:"summary"`
			OrderIDs  []string `json:"order_ids"`
		}
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatal(err)
		}
		findings[f.FindingID] = finding(f)
	}

	code, text, errs := runCLI(t, "explain", rec.PublisherID, "--out", out)
	if code != 0 {
		t.Fatalf("explain: exit %d: %s", code, errs)
	}
	want := []string{
		"Publisher " + rec.PublisherID + " — run ",
		"Recommendation: " + rec.Action + " (" + rec.PolicyRef + ")",
		"appeal deadline " + rec.AppealDeadline,
		"withhold " + rec.WithholdUSD.Dollars() + " (pending), claw back " + rec.ClawbackUSD.Dollars() + " (paid)",
		rec.Summary,
	}
	for _, id := range rec.FindingIDs {
		f, ok := findings[id]
		if !ok {
			t.Fatalf("recommendation rests on %s, not in findings.ndjson", id)
		}
		want = append(want,
			"Finding "+id+"  "+f.Detector+"  "+f.Severity+"  score ",
			"clause "+f.PolicyRef,
			f.Summary,
		)
		if len(f.OrderIDs) > 0 {
			want = append(want, "orders at stake: "+strconv.Itoa(len(f.OrderIDs))+", commission $")
		}
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("explain output lacks %q", w)
		}
	}
	if n := strings.Count(text, "\n  evidence:\n"); n != len(rec.FindingIDs) {
		t.Errorf("%d evidence trees, want one per finding (%d):\n%s", n, len(rec.FindingIDs), text)
	}

	// --format json: the same findings, their evidence objects whole.
	code, js, errs := runCLI(t, "explain", rec.PublisherID, "--out", out, "--format", "json")
	if code != 0 {
		t.Fatalf("explain --format json: exit %d: %s", code, errs)
	}
	var e reports.Explanation
	if err := json.Unmarshal([]byte(js), &e); err != nil {
		t.Fatalf("explain --format json: %v\n%s", err, js)
	}
	if len(e.Runs) != 1 || e.Runs[0].Recommendation == nil {
		t.Fatalf("explain --format json: %d runs, want 1 with a recommendation", len(e.Runs))
	}
	var got []string
	for _, f := range e.Runs[0].Findings {
		got = append(got, f.FindingID)
		if len(f.Evidence) == 0 || f.Evidence[0] != '{' {
			t.Errorf("finding %s: evidence %.40s is not an object", f.FindingID, f.Evidence)
		}
	}
	wantIDs := append([]string(nil), rec.FindingIDs...)
	sort.Strings(got)
	sort.Strings(wantIDs)
	if diff := cmp.Diff(wantIDs, got); diff != "" {
		t.Errorf("explain --format json findings (-recommendation +explain):\n%s", diff)
	}
}

// explainDB builds a database of two nights for publisher hostile (ids and
// texts with terminal escapes), with an appeal and a suppressed finding.
func explainDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "affwatch.duckdb")
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ids []string
	for i := 0; i < 25; i++ {
		ids = append(ids, "o-"+strconv.Itoa(i))
	}
	idList, _ := json.Marshal(ids)
	for _, q := range []string{
		`INSERT INTO runs (run_id, command, night, started_at, finished_at, status) VALUES
			('run-20', 'run', DATE '2026-11-20', TIMESTAMP '2026-11-21 02:00:00', TIMESTAMP '2026-11-21 02:10:00', 'succeeded'),
			('run-21', 'run', DATE '2026-11-21', TIMESTAMP '2026-11-22 02:00:00', TIMESTAMP '2026-11-22 02:10:00', 'succeeded'),
			('run-22-failed', 'run', DATE '2026-11-22', TIMESTAMP '2026-11-23 02:00:00', NULL, 'failed'),
			('crawl-1', 'crawl', NULL, TIMESTAMP '2026-11-23 03:00:00', TIMESTAMP '2026-11-23 03:10:00', 'succeeded')`,
		// The night of the 21st: a finding whose texts try to drive the
		// terminal, and a long list of order ids.
		`INSERT INTO findings VALUES ('cl-00000000000000a1', 'run-21', DATE '2026-11-21', 'P' || chr(27) || '[2Jevil', 'click_burst', 'AW-CB-001', 'stable',
			'high', 0.82, 'E.10.c', 'Bursts' || chr(27) || ']0;pwned' || chr(7) || ' and' || chr(13) || 'overwritten ' || chr(8238) || 'txet desrever',
			json_object('user_agent', 'curl' || chr(27) || '[31mred', 'k' || chr(27) || 'ey', 1, 'order_ids', ` + "'" + string(idList) + "'" + `::JSON,
			            'rows', json_array(json_object('a', 1), json_object('a', 2))),
			TIMESTAMP '2026-11-21 07:00:00', TIMESTAMP '2026-11-21 09:00:00', ` + "'" + string(idList) + "'" + `::VARCHAR[], 12.5)`,
		`INSERT INTO recommendations (run_id, night, publisher_id, action, policy_ref, finding_ids, withhold_usd, clawback_usd,
			appeal_deadline, review_required, summary, severity, confidence, strikes, shadow_finding_ids, basis)
			VALUES ('run-21', DATE '2026-11-21', 'P' || chr(27) || '[2Jevil', 'cure_period', 'F.11.b', ['cl-00000000000000a1'], 12.5, 0,
			DATE '2026-11-28', true, 'Cure period' || chr(27) || '[1A', 'high', 'medium', 1, [], '[{"finding_id":"cl-00000000000000a1","action":"cure_period"}]')`,
		`INSERT INTO suppressed_findings VALUES ('br-00000000000000b1', 'run-21', DATE '2026-11-21', 'P' || chr(27) || '[2Jevil', 'brand_misuse', 'AW-BM-001', 'test',
			'low', 0.41, 'C.6.a', 'Title claims official store', '{}', TIMESTAMP '2026-11-21 00:00:00', TIMESTAMP '2026-11-22 00:00:00', [], 0,
			'allowlist', '{"reason":"agreed"}')`,
		// The night of the 20th: one earlier finding and its warning.
		`INSERT INTO findings VALUES ('cl-00000000000000a0', 'run-20', DATE '2026-11-20', 'P' || chr(27) || '[2Jevil', 'click_burst', 'AW-CB-001', 'stable',
			'medium', 0.61, 'E.10.c', 'Earlier bursts', '{"clicks":90}', TIMESTAMP '2026-11-20 07:00:00', TIMESTAMP '2026-11-20 08:00:00', [], 0)`,
		`INSERT INTO recommendations (run_id, night, publisher_id, action, policy_ref, finding_ids, withhold_usd, clawback_usd,
			appeal_deadline, review_required, summary)
			VALUES ('run-20', DATE '2026-11-20', 'P' || chr(27) || '[2Jevil', 'warning', 'F.11.a', ['cl-00000000000000a0'], 0, 0, DATE '2026-11-27', false, 'Warning')`,
		// A failed run's partial rows: never shown as history.
		`INSERT INTO findings VALUES ('cl-00000000000000ff', 'run-22-failed', DATE '2026-11-22', 'P' || chr(27) || '[2Jevil', 'click_burst', 'AW-CB-001', 'stable',
			'high', 0.9, 'E.10.c', 'Partial', '{}', TIMESTAMP '2026-11-22 07:00:00', TIMESTAMP '2026-11-22 08:00:00', [], 0)`,
		`INSERT INTO appeals VALUES ('A1', 'P' || chr(27) || '[2Jevil', 'click_burst', 'cl-00000000000000a0', 'upheld', DATE '2026-11-24', 'j.doe',
			'bot traffic confirmed' || chr(27) || '[0m', TIMESTAMP '2026-11-24 10:00:00')`,
	} {
		if _, err := st.DB.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

const hostilePublisher = "P\x1b[2Jevil"

// TestExplainHostileText: texts from the logs reach the terminal escaped.
func TestExplainHostileText(t *testing.T) {
	db := explainDB(t)
	code, out, errs := runCLI(t, "explain", hostilePublisher, "--db", db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, bad := range []string{"\x1b", "\r", "\a", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("output holds a raw %q", bad)
		}
	}
	for _, want := range []string{
		`Publisher P\x1b[2Jevil — run run-21 (night 2026-11-21)`,
		`Bursts\x1b]0;pwned\x07 and\x0doverwritten \u202etxet desrever`,
		`user_agent: curl\x1b[31mred`,
		`k\x1bey: 1`,
		`Cure period\x1b[1A`,
		`bot traffic confirmed\x1b[0m`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// JSON output escapes control characters by itself.
	code, js, errs := runCLI(t, "explain", hostilePublisher, "--db", db, "--format", "json")
	if code != 0 || strings.ContainsAny(js, "\x1b\r\a") {
		t.Errorf("--format json: exit %d, raw control characters: %v (%s)", code, strings.ContainsAny(js, "\x1b\r\a"), errs)
	}
}

// TestExplainRunsAndHistory: which run is shown, the lists cut, the
// history of other nights, suppressed findings and appeals.
func TestExplainRunsAndHistory(t *testing.T) {
	db := explainDB(t)
	tests := []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{"latest succeeded run", nil,
			[]string{
				"run run-21 (night 2026-11-21)",
				"Recommendation: cure_period (F.11.b), review required before acting",
				"severity high, confidence medium, 1 earlier strike(s)",
				"withhold $12.50 (pending), claw back $0.00 (paid)",
				"appeal deadline 2026-11-28",
				"Finding cl-00000000000000a1  click_burst  high  score 0.82  clause E.10.c",
				"window 2026-11-21T07:00:00Z → 2026-11-21T09:00:00Z",
				"orders at stake: 25, commission $12.50: o-0, o-1, o-2, o-3, o-4, o-5, o-6, o-7, o-8, o-9 … 15 more",
				"    order_ids: o-0, o-1, o-2, o-3, o-4, o-5, o-6, o-7, o-8, o-9 … 15 more",
				"    rows: (2)\n      [1]:\n        a: 1\n      [2]:\n        a: 2",
				"  basis:\n    [1]:\n      finding_id: cl-00000000000000a1\n      action: cure_period",
				"Suppressed findings (not acted on):\n  br-00000000000000b1  brand_misuse  low  score 0.41, by allowlist: Title claims official store",
				"Other nights (newest first):\n  2026-11-20  recommendation warning (F.11.a), 1 finding(s), withhold $0.00, claw back $0.00\n" +
					"  2026-11-20  finding cl-00000000000000a0 click_burst medium 0.61 (E.10.c): Earlier bursts",
				"Appeals (G.12), newest first:\n  2026-11-24  upheld  click_burst cl-00000000000000a0  by j.doe: bot traffic confirmed",
			},
			[]string{"Partial", "run-22-failed", "crawl-1", "o-10"}},
		{"--date of an earlier night", []string{"--date", "2026-11-20"},
			[]string{"run run-20 (night 2026-11-20)", "Recommendation: warning (F.11.a), no review required",
				"Finding cl-00000000000000a0", "Other nights (newest first):\n  2026-11-21  recommendation cure_period"},
			[]string{"severity ", "Suppressed findings"}},
		{"--run", []string{"--run", "run-20"}, []string{"run run-20 (night 2026-11-20)"}, nil},
		{"--run of a failed run warns", []string{"--run", "run-22-failed"},
			[]string{"Warning: this run failed; its rows may be incomplete.", "Finding cl-00000000000000ff"}, nil},
		{"--all-nights", []string{"--all-nights"},
			[]string{"run run-21 (night 2026-11-21)", "run run-20 (night 2026-11-20)", "Finding cl-00000000000000a0", "Finding cl-00000000000000a1"},
			[]string{"Other nights", "Partial"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"explain", hostilePublisher, "--db", db}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output shows %q", w)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
	// --all-nights lists the nights newest first.
	_, out, _ := runCLI(t, "explain", hostilePublisher, "--db", db, "--all-nights")
	if i, j := strings.Index(out, "run run-21"), strings.Index(out, "run run-20"); i < 0 || j < i {
		t.Errorf("--all-nights: run-21 at %d, run-20 at %d; want the newest first", i, j)
	}
}

func TestExplainErrors(t *testing.T) {
	db := explainDB(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no publisher", []string{"explain", "--db", db}, "which publisher?"},
		{"two publishers", []string{"explain", "P1", "P2", "--db", db}, `unexpected argument "P2"`},
		{"no database flag", []string{"explain", "P1"}, "--db or --out is required"},
		{"database missing", []string{"explain", "P1", "--db", filepath.Join(t.TempDir(), "none.duckdb")}, "none.duckdb: stat"},
		{"publisher without findings", []string{"explain", "P-unknown", "--db", db}, "publisher P-unknown has no findings in run run-21 (night 2026-11-21)"},
		{"findings only on other nights", []string{"explain", hostilePublisher, "--db", db, "--date", "2026-11-22"}, "no succeeded run of the night 2026-11-22"},
		{"unknown run", []string{"explain", "P1", "--db", db, "--run", "nope"}, "run nope: no such run"},
		{"bad date", []string{"explain", "P1", "--db", db, "--date", "21.11.2026"}, "want YYYY-MM-DD"},
		{"bad format", []string{"explain", "P1", "--db", db, "--format", "yaml"}, "--format must be text or json"},
		{"two selectors", []string{"explain", "P1", "--db", db, "--run", "run-20", "--all-nights"}, "at most one of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stdout %q)", code, out)
			}
			if !strings.Contains(errs, tc.want) {
				t.Errorf("stderr %q lacks %q", errs, tc.want)
			}
		})
	}
	// The hint when the findings are on another night than the one shown.
	code, _, errs := runCLI(t, "explain", hostilePublisher, "--db", db, "--run", "crawl-1")
	if code != 2 || !regexp.MustCompile(`has no findings in run crawl-1 .*it has 2 on other nights: try --all-nights`).MatchString(errs) {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
