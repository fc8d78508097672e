// Package detectortest holds what every detector's tests need: a private
// in-memory store with the schema and a hand-built world, the default rule
// pack, and one call that runs a detector and fails the test on error.
package detectortest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"affwatch/detectors"
	"affwatch/rules"
	"affwatch/store"
)

// Store opens a private in-memory store, runs each SQL script in it, and
// closes it when the test ends.
func Store(t testing.TB, scripts ...string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for i, s := range scripts {
		if _, err := st.DB.ExecContext(ctx, s); err != nil {
			t.Fatalf("script %d: %v", i+1, err)
		}
	}
	return st
}

// Files reads SQL script files (testdata/…) for Store.
func Files(t testing.TB, paths ...string) []string {
	t.Helper()
	out := make([]string, len(paths))
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

// Pack returns the embedded default rule pack.
func Pack(t testing.TB) *rules.Pack {
	t.Helper()
	p, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Env is a store with the scripts run in it, the default pack and empty
// signals, for a backfill scope.
func Env(t testing.TB, runID string, scripts ...string) detectors.Env {
	t.Helper()
	st := Store(t, scripts...)
	return detectors.Env{DB: st.DB, RunID: runID, Night: Backfill(t, st), Pack: Pack(t), Signals: &detectors.Signals{}}
}

// ResolveNight resolves a backfill's days on st, as the pipeline does
// before the detectors run.
func ResolveNight(t testing.TB, st *store.Store, n detectors.Night) detectors.Night {
	t.Helper()
	n, err := detectors.ResolveNight(context.Background(), st.DB, n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Backfill is a backfill of everything st holds, resolved.
func Backfill(t testing.TB, st *store.Store) detectors.Night {
	t.Helper()
	return ResolveNight(t, st, detectors.BackfillNight())
}

// Run runs d on st with pack over scope and returns its findings and the
// signals it went without.
func Run(t testing.TB, d detectors.Detector, st *store.Store, pack *rules.Pack, scope detectors.Night) ([]detectors.Finding, *detectors.Signals) {
	t.Helper()
	sig := &detectors.Signals{}
	scope = ResolveNight(t, st, scope)
	fs, err := detectors.RunOne(context.Background(), detectors.Env{DB: st.DB, RunID: "t", Night: scope, Pack: pack, Signals: sig}, d)
	if err != nil {
		t.Fatal(err)
	}
	return fs, sig
}

// Rows runs query and returns each row as "column=value …" text, for
// comparing two queries' results with cmp.Diff.
func Rows(t testing.TB, st *store.Store, query string, args ...any) []string {
	t.Helper()
	rows, err := st.DB.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, c := range cols {
			fmt.Fprintf(&b, "%s=%v ", c, vals[i])
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
