package main

import (
	"context"
	"path/filepath"
	"testing"

	"affwatch/fixtures"
	"affwatch/store"
)

// TestRerunNightLeavesOneSetOfResults: re-running --date D replaces D's
// results in the database (no duplicated rows) and keeps other nights'.
func TestRerunNightLeavesOneSetOfResults(t *testing.T) {
	in := t.TempDir()
	if _, err := fixtures.Generate(context.Background(), fixtures.Config{Seed: 3, Clicks: 1, Out: in, Format: "parquet"}); err != nil {
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
	count := func(night string) (findings, recs, runs int64) {
		t.Helper()
		st, err := store.Open(context.Background(), db, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		q := `SELECT (SELECT count(*) FROM findings WHERE night = ?::DATE),
		             (SELECT count(*) FROM recommendations WHERE night = ?::DATE),
		             (SELECT count(DISTINCT run_id) FROM findings WHERE night = ?::DATE)`
		if err := st.DB.QueryRow(q, night, night, night).Scan(&findings, &recs, &runs); err != nil {
			t.Fatal(err)
		}
		return
	}
	run("2026-11-21")
	f1, r1, _ := count("2026-11-21")
	if f1 == 0 || r1 == 0 {
		t.Fatalf("the night of the last bursts has %d findings, %d recommendations", f1, r1)
	}
	run("2026-11-20")
	f20, _, _ := count("2026-11-20")
	run("2026-11-21")
	f2, r2, runs := count("2026-11-21")
	if f2 != f1 || r2 != r1 || runs != 1 {
		t.Errorf("after a re-run: %d findings, %d recommendations from %d runs; want %d, %d from 1", f2, r2, runs, f1, r1)
	}
	if g20, _, _ := count("2026-11-20"); g20 != f20 {
		t.Errorf("another night's findings changed: %d, want %d", g20, f20)
	}
}
