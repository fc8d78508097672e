package pipeline

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"affwatch/fixtures"
	"affwatch/rules"
	"affwatch/store"
)

// TestCompactEveryDefersAndCompacts runs the same six nights on a database
// that compacts on every run and on one that compacts on every third: the
// second records a compaction on runs 3 and 6 only, and every night's
// outputs are byte-equal. A third database, also every third run, is
// compacted by hand (Compact, affwatch compact) after run 4, so its run 6
// does not compact. (What deferring does to the storage is
// store.TestDeferCompaction's: these nights are too small for DuckDB to
// merge their row groups either way.)
func TestCompactEveryDefersAndCompacts(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 3 × 6 nightly runs take about 40 s")
	}
	ctx := context.Background()
	const days = 6
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	gen := t.TempDir()
	if _, err := fixtures.Generate(ctx, fixtures.Config{Seed: 5, Clicks: 1, Days: days, End: end, Out: gen, Format: "parquet", PartitionByDate: true}); err != nil {
		t.Fatal(err)
	}
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	dbPath := func(variant string) string { return filepath.Join(work, variant+".duckdb") }
	run := func(variant, day string, every int) string {
		t.Helper()
		return runNight(t, gen, work, variant, day, pack, func(c *Config) { c.DB.CompactEvery = every })
	}
	// compactingRuns lists the runs (1-based) recorded as compacting.
	compactingRuns := func(variant string) (compacted []int) {
		t.Helper()
		st, err := store.Open(ctx, dbPath(variant), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		rows, err := st.DB.QueryContext(ctx, `SELECT r.n FROM (SELECT run_id, row_number() OVER (ORDER BY started_at) AS n FROM runs) r
			JOIN compactions c USING (run_id) ORDER BY r.n`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n sql.NullInt64
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			compacted = append(compacted, int(n.Int64))
		}
		return compacted
	}
	findings := 0
	for i, d := 1, end.AddDate(0, 0, 1-days); !d.After(end); i, d = i+1, d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		a, b := run("every", day, 1), run("third", day, 3)
		findings += compareNight(t, day, a, b, "the database compacted on every run and the one compacted on every third")
		// a third database, compacted by hand (affwatch compact) after
		// its fourth night, counts its every third run from there: run 6
		// does not compact
		c := run("manual", day, 3)
		compareNight(t, day, a, c, "the database compacted on every run and the one compacted by hand")
		if i == 4 {
			if _, err := Compact(ctx, DB{Path: dbPath("manual")}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if findings == 0 {
		t.Error("six nights without a finding compare nothing")
	}
	if c := compactingRuns("every"); !slices.Equal(c, []int{1, 2, 3, 4, 5, 6}) {
		t.Errorf("compacting runs with --compact-every 1: %v, want every run", c)
	}
	if c := compactingRuns("third"); !slices.Equal(c, []int{3, 6}) {
		t.Errorf("compacting runs with --compact-every 3: %v, want 3 and 6", c)
	}
	if c := compactingRuns("manual"); !slices.Equal(c, []int{3}) {
		t.Errorf("compacting runs with --compact-every 3 and affwatch compact after run 4: %v, want 3 only", c)
	}
}
