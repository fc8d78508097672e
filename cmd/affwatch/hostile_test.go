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

// TestBrokenCompressedFile: a truncated .gz stops the run before any work
// (exit 2), or with --set-aside-broken-files is left out and listed.
func TestBrokenCompressedFile(t *testing.T) {
	in := sampleInput(t)
	b, err := os.ReadFile(filepath.Join(in, "ads.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(in, "ads.csv.gz"), b[:len(b)-12], 0o644)
	out := filepath.Join(t.TempDir(), "out")
	code, _, errs := runCLI(t, "run", "--in", in, "--out", out, "--no-crawl", "--log-level", "error")
	if code != 2 || !strings.Contains(errs, "ads.csv.gz: the gzip stream is cut short") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(out, "affwatch.duckdb")); err == nil {
		t.Error("a broken file must stop the run before any work (database created)")
	}
	code, _, errs = runCLI(t, "run", "--in", in, "--out", out, "--no-crawl", "--log-level", "error", "--set-aside-broken-files")
	if code != 0 {
		t.Fatalf("with --set-aside-broken-files: exit %d, stderr:\n%s", code, errs)
	}
	raw, _ := os.ReadFile(filepath.Join(out, "run.json"))
	if !strings.Contains(string(raw), "set aside, not loaded (--set-aside-broken-files): ads.csv.gz: the gzip stream is cut short") {
		t.Errorf("run.json does not list the file set aside")
	}
	code, _, errs = runCLI(t, "run", "--in", in, "--out", t.TempDir(), "--no-crawl", "--log-level", "error", "--set-aside-broken-files", "--strict")
	if code != 1 || !strings.Contains(errs, "--strict: 1 broken input file(s) would be set aside") {
		t.Errorf("with --strict: exit %d, stderr:\n%s", code, errs)
	}
}
