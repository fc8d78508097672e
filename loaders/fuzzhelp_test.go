package loaders

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"affwatch/store"
)

// The load fuzz targets share one in-memory store per worker process,
// emptied before each input: opening a store and loading every dataset
// costs ~0.7 s, loading one file into an open store ~50 ms.
var (
	fuzzStoreOnce sync.Once
	fuzzStore     *store.Store
	fuzzStoreErr  error
	fuzzRun       int
)

// fuzzLoad writes files (name → body) to a fresh folder and loads them,
// and only them, into the shared store emptied first. It fails the test if
// Load fails: hostile input must never abort a load.
func fuzzLoad(t *testing.T, files map[string]string) (*store.Store, *Result) {
	t.Helper()
	fuzzStoreOnce.Do(func() {
		fuzzStore, fuzzStoreErr = store.Open(context.Background(), store.InMemory, store.Options{Threads: 1})
	})
	if fuzzStoreErr != nil {
		t.Fatal(fuzzStoreErr)
	}
	st := fuzzStore
	for _, q := range []string{"DELETE FROM quarantine", "DELETE FROM load_ledger", "DELETE FROM clicks", "DELETE FROM orders"} {
		if _, err := st.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	var in []File
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		ds, _ := DatasetByName(name[:len(name)-len(filepath.Ext(name))])
		f, err := describeFile(dir, ds, p)
		if err != nil {
			return nil, nil // a contract error before any row: not a load
		}
		in = append(in, f)
	}
	fuzzRun++
	res, err := Load(t.Context(), st, in, Options{RunID: "fuzz", SpanDays: -1})
	if err != nil {
		t.Fatalf("load failed on hostile input: %v", err)
	}
	return st, res
}

// lineOutcome is what became of one line of an input file.
type lineOutcome struct {
	loaded      bool
	quarantined []qrow
}

// outcomes maps each line of the dataset's file to what the load did with
// it, and checks the accounting every load promises: a line is stored at
// most once and never both stored and quarantined, every quarantine row
// has a reason and a line within the file, and the file's counts are the
// stored rows and the distinct quarantined lines.
func outcomes(t *testing.T, st *store.Store, res *Result, dataset string, lines int64) map[int64]*lineOutcome {
	t.Helper()
	out := map[int64]*lineOutcome{}
	at := func(l int64) *lineOutcome {
		if l < 1 || l > lines {
			t.Fatalf("line %d outside the file's %d lines", l, lines)
		}
		if out[l] == nil {
			out[l] = &lineOutcome{}
		}
		return out[l]
	}
	rows, err := st.DB.Query(`SELECT _line FROM ` + dataset)
	if err != nil {
		t.Fatal(err)
	}
	var stored int64
	for rows.Next() {
		var l int64
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		o := at(l)
		if o.loaded {
			t.Fatalf("line %d stored twice", l)
		}
		o.loaded = true
		stored++
	}
	rows.Close()
	var distinctQ int64
	for _, q := range quarantined(t, st, dataset) {
		o := at(q.Line)
		if q.Reason == "" {
			t.Fatalf("quarantine row without a reason: %+v", q)
		}
		if len(o.quarantined) == 0 {
			distinctQ++
		}
		o.quarantined = append(o.quarantined, q)
	}
	for l, o := range out {
		if o.loaded && len(o.quarantined) > 0 {
			t.Fatalf("line %d both stored and quarantined: %+v", l, o.quarantined)
		}
	}
	for _, f := range res.Files {
		if f.Dataset != dataset {
			continue
		}
		if f.RowsLoaded != stored || f.RowsQuarantined != distinctQ || f.RowsRead != stored+distinctQ {
			t.Fatalf("counts read %d loaded %d quarantined %d; the store holds %d rows and %d quarantined lines",
				f.RowsRead, f.RowsLoaded, f.RowsQuarantined, stored, distinctQ)
		}
	}
	return out
}
