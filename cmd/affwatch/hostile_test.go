package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleInput copies the committed sample into a fresh input directory.
func sampleInput(t *testing.T) string {
	t.Helper()
	in := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "fixtures", "sample"), in)
	return in
}

// TestReadOnlyOutBeforeAnyWork: an --out that cannot be written is refused
// before the input is read (it was found after the whole run, when the
// reports were written). /proc/1 is a directory no one, root included,
// can create a file in.
func TestReadOnlyOutBeforeAnyWork(t *testing.T) {
	if st, err := os.Stat("/proc/1"); err != nil || !st.IsDir() {
		t.Skip("needs /proc/1, a directory nobody can write, to stand for a read-only --out (root ignores permission bits)")
	}
	in := sampleInput(t)
	os.WriteFile(filepath.Join(in, "clicks.csv.gz"), []byte("not gzip"), 0o644) // discovery would fail on this
	code, _, errs := runCLI(t, "run", "--in", in, "--out", "/proc/1", "--no-crawl", "--log-level", "error")
	if code == 0 || !strings.Contains(errs, "--out /proc/1: the output directory is not writable") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if strings.Contains(errs, "clicks.csv.gz") {
		t.Errorf("the input was read before --out was checked:\n%s", errs)
	}
}

// TestSQLiteDB: a SQLite file given as --db is named as such; DuckDB never
// tries to fetch an extension for it (the store's tests assert no request).
func TestSQLiteDB(t *testing.T) {
	db := filepath.Join(t.TempDir(), "affwatch.duckdb")
	src, err := os.ReadFile(filepath.Join("..", "..", "store", "testdata", "sqlite.db"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(db, src, 0o644)
	code, _, errs := runCLI(t, "run", "--in", sampleInput(t), "--out", t.TempDir(), "--db", db, "--no-crawl", "--log-level", "error")
	if code == 0 || !strings.Contains(errs, "is not a DuckDB database (it looks like a SQLite database)") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
}

// TestSkippedInputsInManifest: a partition folder starting with _ is not
// read, and the run says so in its log and in run.json.
func TestSkippedInputsInManifest(t *testing.T) {
	in := sampleInput(t)
	os.MkdirAll(filepath.Join(in, "sellers", "_date=old"), 0o755)
	if err := os.Rename(filepath.Join(in, "sellers.csv.gz"), filepath.Join(in, "sellers", "part-0.csv.gz")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(in, "sellers", "part-0.csv.gz"))
	os.WriteFile(filepath.Join(in, "sellers", "_date=old", "part-0.csv.gz"), b, 0o644)
	os.WriteFile(filepath.Join(in, "Buyers.csv"), []byte("buyer_id\nB1\n"), 0o644)
	out := t.TempDir()
	code, _, errs := runCLI(t, "run", "--in", in, "--out", out, "--no-crawl", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	for _, want := range []string{`path="sellers/_date=old/"`, "Buyers.csv: not read: dataset names are lower case (buyers)"} {
		if !strings.Contains(errs, want) {
			t.Errorf("log lacks %q:\n%s", want, errs)
		}
	}
	var man struct {
		Skipped  []string `json:"skipped_inputs"`
		Warnings []string `json:"input_warnings"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(raw, &man)
	if len(man.Skipped) != 1 || man.Skipped[0] != "sellers/_date=old/" || len(man.Warnings) != 1 {
		t.Errorf("run.json skipped_inputs %q input_warnings %q", man.Skipped, man.Warnings)
	}
}
