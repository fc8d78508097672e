package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"affwatch/fixtures"
	"affwatch/store"
)

// TestHistoryAndAppeals runs two nights eight days apart on one database:
// publishers flagged on both escalate on the second (one strike); a
// publisher cleared on appeal is not escalated, and a finding cleared by id
// is suppressed when the same input produces it again — listed, not lost.
func TestHistoryAndAppeals(t *testing.T) {
	ctx := context.Background()
	in := t.TempDir()
	if _, err := fixtures.Generate(ctx, fixtures.Config{Seed: 3, Clicks: 1, Out: in, Format: "parquet"}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	db := filepath.Join(t.TempDir(), "a.duckdb")
	run := func(date string) {
		t.Helper()
		if code, _, errs := runCLI(t, "run", "--in", in, "--out", filepath.Join(out, date), "--db", db, "--date", date, "--no-crawl", "--log-level", "error"); code != 0 {
			t.Fatalf("run --date %s: exit %d: %s", date, code, errs)
		}
	}
	query := func(q string, args ...any) []string {
		t.Helper()
		st, err := store.Open(ctx, db, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		rows, err := st.DB.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		return got
	}
	run("2026-11-13")
	run("2026-11-21")
	// Publishers with a stable, non-correction finding on both nights.
	repeat := query(`SELECT DISTINCT f.publisher_id FROM findings f JOIN findings g USING (publisher_id)
		WHERE f.night = DATE '2026-11-13' AND g.night = DATE '2026-11-21'
		  AND f.rule_status = 'stable' AND f.detector <> 'invalid_commission' AND g.rule_status = 'stable' AND g.detector <> 'invalid_commission'
		ORDER BY 1`)
	if len(repeat) < 2 {
		t.Fatalf("want at least two publishers flagged on both nights, have %v", repeat)
	}
	strikes := query(`SELECT publisher_id || ':' || strikes FROM recommendations WHERE night = DATE '2026-11-21' AND publisher_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1`, repeat)
	for _, s := range strikes {
		if !strings.HasSuffix(s, ":1") {
			t.Errorf("repeat offender %s: want 1 strike", s)
		}
	}
	if len(strikes) != len(repeat) {
		t.Errorf("recommendations for %v, want one each for %v", strikes, repeat)
	}

	// Clear the first publisher of everything up to the 20th; clear one
	// finding of the second publisher by id.
	cleared, byID := repeat[0], repeat[1]
	fid := query(`SELECT finding_id FROM findings WHERE night = DATE '2026-11-21' AND publisher_id = ? ORDER BY finding_id LIMIT 1`, byID)[0]
	if code, stdout, errs := runCLI(t, "appeal", "--db", db, "--publisher", cleared, "--detector", "*", "--outcome", "cleared",
		"--by", "j.doe", "--note", "proxy of a school", "--date", "2026-11-20"); code != 0 || !strings.Contains(stdout, "1 decision(s) recorded") {
		t.Fatalf("appeal: exit %d: %s %s", code, stdout, errs)
	}
	if code, stdout, errs := runCLI(t, "appeal", "--db", db, "--publisher", byID, "--finding", fid, "--outcome", "cleared",
		"--by", "j.doe", "--note", "evidence was a test campaign", "--date", "2026-11-20"); code != 0 {
		t.Fatalf("appeal by finding: exit %d: %s %s", code, stdout, errs)
	}
	// The same decision again is a no-op.
	if _, stdout, _ := runCLI(t, "appeal", "--db", db, "--publisher", byID, "--finding", fid, "--outcome", "cleared",
		"--by", "j.doe", "--note", "evidence was a test campaign", "--date", "2026-11-20"); !strings.Contains(stdout, "0 decision(s) recorded, 1 already there") {
		t.Errorf("second recording: %s", stdout)
	}
	run("2026-11-21")
	if got := query(`SELECT CAST(strikes AS VARCHAR) FROM recommendations WHERE night = DATE '2026-11-21' AND publisher_id = ?`, cleared); len(got) != 1 || got[0] != "0" {
		t.Errorf("cleared publisher %s: strikes %v, want 0", cleared, got)
	}
	if got := query(`SELECT suppressed_by || ' ' || (suppression->>'decided_by') FROM suppressed_findings WHERE night = DATE '2026-11-21' AND finding_id = ?`, fid); len(got) != 1 || got[0] != "appeal j.doe" {
		t.Errorf("finding %s cleared by id: suppressed rows %v", fid, got)
	}
	ndjson, err := os.ReadFile(filepath.Join(out, "2026-11-21", "findings.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ndjson), fid) {
		t.Errorf("suppressed finding %s is still in findings.ndjson", fid)
	}
	if _, stdout, _ := runCLI(t, "appeal", "--db", db, "--list", "--publisher", byID); !strings.Contains(stdout, fid) || !strings.Contains(stdout, "evidence was a test campaign") {
		t.Errorf("appeal --list:\n%s", stdout)
	}
}

func TestAppealUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.duckdb")
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	csvPath := filepath.Join(t.TempDir(), "appeals.csv")
	os.WriteFile(csvPath, []byte("publisher_id,detector,finding_id,outcome,decided_on,decided_by,note\nP1,click_burst,,cleared,2026-11-20,j.doe,ok\nP2,,,maybe,20.11.2026,,\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no database", []string{"appeal", "--publisher", "P1"}, "--db (or --out) is required"},
		{"missing database", []string{"appeal", "--db", filepath.Join(t.TempDir(), "none.duckdb"), "--publisher", "P1"}, "no such file"},
		{"bad outcome", []string{"appeal", "--db", db, "--publisher", "P1", "--detector", "click_burst", "--outcome", "maybe", "--by", "x", "--note", "y"}, `outcome "maybe" must be cleared or upheld`},
		{"unknown finding", []string{"appeal", "--db", db, "--publisher", "P1", "--finding", "cl-0", "--outcome", "cleared", "--by", "x", "--note", "y"}, "is not in the database: give --detector"},
		{"bad csv line", []string{"appeal", "--db", db, "--from", csvPath}, "appeals.csv:3: decided_on \"20.11.2026\" is not YYYY-MM-DD"},
		{"misspelt detector", []string{"appeal", "--db", db, "--publisher", "P1", "--detector", "click_brust", "--outcome", "cleared", "--by", "x", "--note", "y"}, `detector "click_brust" is not a detector of the program (brand_domain, brand_misuse, click_burst,`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tc.args...)
			if code != 2 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, tc.want)
			}
		})
	}
}
