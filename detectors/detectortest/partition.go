package detectortest

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/rules"
	"affwatch/store"
)

// partitionedTables are split by publisher in a partitioned run (the input
// arrives as hive partitions of them); every other table is whole in each
// partition's database.
var partitionedTables = map[string]bool{"clicks": true, "orders": true}

// PartitionsAgree checks a detector's program-wide state (GlobalTable):
// it runs d over st whole, then over each of n partitions of st's data as
// affwatch run --partition i/n does (clicks and orders of the partition's
// publishers, every other table whole, the global tables read from the
// Parquet files of a baselines pass over st), and fails the test unless
// the partitions together find exactly what the whole run found. It
// returns the whole run's findings, for the caller to check the case is
// not an empty one.
func PartitionsAgree(t testing.TB, d detectors.Detector, st *store.Store, pack *rules.Pack, scope detectors.Night, n int) []detectors.Finding {
	t.Helper()
	ctx := context.Background()
	scope = ResolveNight(t, st, scope)
	env := detectors.Env{DB: st.DB, RunID: "whole", Night: scope, Pack: pack, Signals: &detectors.Signals{}}
	whole, err := detectors.RunOne(ctx, env, d)
	if err != nil {
		t.Fatalf("whole run: %v", err)
	}
	detectors.SortFindings(whole)

	baselines := t.TempDir()
	tables, err := detectors.AllGlobalTables(ctx, env, []detectors.Detector{d})
	if err != nil {
		t.Fatal(err)
	}
	if err := detectors.PrepareGlobals(ctx, env, tables); err != nil {
		t.Fatal(err)
	}
	if _, err := detectors.ExportGlobals(ctx, st.DB, baselines, tables); err != nil {
		t.Fatal(err)
	}

	data := t.TempDir()
	names := exportTables(t, st, data)
	var parts []detectors.Finding
	for i := 0; i < n; i++ {
		part := detectors.Partition{Index: i, Count: n}
		pst, err := store.Open(ctx, store.InMemory, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			q := "INSERT INTO " + name + " SELECT * FROM read_parquet(" + store.QuoteLiteral(filepath.Join(data, name+".parquet")) + ")"
			if partitionedTables[name] {
				q += fmt.Sprintf(" WHERE %s = %d", detectors.PartitionSQL("publisher_id", n), i)
			}
			if _, err := pst.DB.ExecContext(ctx, q); err != nil {
				pst.Close()
				t.Fatalf("partition %s, table %s: %v", part, name, err)
			}
		}
		penv := detectors.Env{DB: pst.DB, RunID: "part", Night: scope, Pack: pack, Signals: &detectors.Signals{},
			Part: part, Baselines: baselines}
		fs, err := detectors.RunOne(ctx, penv, d)
		pst.Close()
		if err != nil {
			t.Fatalf("partition %s: %v", part, err)
		}
		parts = append(parts, part.Keep(fs)...)
	}
	detectors.SortFindings(parts)
	if diff := cmp.Diff(findingTexts(t, whole), findingTexts(t, parts)); diff != "" {
		t.Errorf("%s: %d partitions found other findings than the whole run (-whole +partitions):\n%s", d.Code(), n, diff)
	}
	return whole
}

// exportTables copies st's filled tables of schema main to dir as Parquet
// and returns their names.
func exportTables(t testing.TB, st *store.Store, dir string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := st.DB.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'main' AND table_type = 'BASE TABLE' AND table_name <> 'schema_version' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := st.DB.ExecContext(ctx, "COPY "+n+" TO "+store.QuoteLiteral(filepath.Join(dir, n+".parquet"))+" (FORMAT parquet)"); err != nil {
			t.Fatalf("export %s: %v", n, err)
		}
	}
	return names
}

// findingTexts renders findings one JSON line each, evidence compacted, so
// a difference shows as the lines that differ.
func findingTexts(t testing.TB, fs []detectors.Finding) []string {
	t.Helper()
	out := make([]string, len(fs))
	for i, f := range fs {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = strings.ReplaceAll(string(b), "\\u003c", "<")
	}
	return out
}
