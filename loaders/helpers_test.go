package loaders

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"affwatch/store"
)

// minimal valid reference datasets, so a test can focus on one dataset.
var minimalInputs = map[string]string{
	"publishers.csv": "publisher_id,name,kind\nP1,One,publisher\nP2,Two,network\n",
	"sites.csv":      "publisher_id,url,kind\nP1,https://one.example/,website\n",
	"sellers.csv":    "seller_id,name\nS1,Shop\n",
	"orders.csv":     "order_id,ts,buyer_id,amount_usd\nO1,2026-11-21T10:00:00Z,B1,10.5\n",
	"clicks.csv":     "click_id,ts,publisher_id\nC1,2026-11-21T09:00:00Z,P1\n",
}

// writeInputs writes a dataset folder: the minimal inputs overridden by files.
// A value of "" removes the file.
func writeInputs(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{}
	for k, v := range minimalInputs {
		all[k] = v
	}
	for k, v := range files {
		all[k] = v
	}
	for name, body := range all {
		if body == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func load(t *testing.T, st *store.Store, dir string, night time.Time) *Result {
	t.Helper()
	files, err := Discover(dir)
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	res, err := Load(context.Background(), st, files, Options{RunID: "r-" + t.Name(), Night: night})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return res
}

type qrow struct {
	File   string
	Line   int64
	Column string
	Reason string
}

func quarantined(t *testing.T, st *store.Store, dataset string) []qrow {
	t.Helper()
	rows, err := st.DB.Query(`SELECT file, line, column_name, reason FROM quarantine WHERE dataset = ? ORDER BY file, line, column_name`, dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []qrow
	for rows.Next() {
		var q qrow
		if err := rows.Scan(&q.File, &q.Line, &q.Column, &q.Reason); err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	return out
}

func count(t *testing.T, st *store.Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := st.DB.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
