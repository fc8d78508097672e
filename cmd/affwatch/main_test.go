package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"affwatch/detectors/all"
	"affwatch/fixtures"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"help", []string{"--help"}, 0, "Commands:"},
		{"no command", nil, 2, "Usage:"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"run without flags", []string{"run"}, 2, "--in and --out are required"},
		{"run help", []string{"run", "--help"}, 0, "findings.ndjson"},
		{"bad date", []string{"run", "--in", ".", "--out", "x", "--date", "21/11/2026"}, 2, "want YYYY-MM-DD"},
		{"version", []string{"version"}, 0, "affwatch"},
		{"rules check", []string{"rules", "check"}, 0, "click_burst"},
		{"compact without a database", []string{"compact"}, 2, "--db is required"},
		{"compact of no database", []string{"compact", "--db", "no-such.duckdb"}, 2, "no-such.duckdb"},
		{"compact help", []string{"compact", "--help"}, 0, "--compact-every 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errs)
			}
			if !strings.Contains(out+errs, tc.contains) {
				t.Errorf("output does not mention %q:\n%s%s", tc.contains, out, errs)
			}
		})
	}
}

func TestMissingColumnExitsTwo(t *testing.T) {
	in := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "fixtures", "sample"), in)
	os.Remove(filepath.Join(in, "orders.csv.gz"))
	os.WriteFile(filepath.Join(in, "orders.csv"), []byte("order_id,buyer_id,amount_usd\nO1,B1,3\n"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	code, _, errs := runCLI(t, "run", "--in", in, "--out", out, "--no-crawl")
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, errs)
	}
	if !strings.Contains(errs, `orders.csv: column "ts": required column missing`) {
		t.Errorf("stderr does not name the file and column:\n%s", errs)
	}
	if _, err := os.Stat(filepath.Join(out, "affwatch.duckdb")); err == nil {
		t.Error("a contract error must stop the run before any work (database created)")
	}
}

func TestStrictFailsOnQuarantine(t *testing.T) {
	in := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "fixtures", "sample"), in)
	gunzip(t, filepath.Join(in, "clicks.csv.gz"))
	f, err := os.OpenFile(filepath.Join(in, "clicks.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	header := readFirstLine(t, filepath.Join(in, "clicks.csv"))
	// a row whose timestamp is unreadable, all other columns empty
	f.WriteString("BROKEN,not-a-time,P1" + strings.Repeat(",", strings.Count(header, ",")-2) + "\n")
	f.Close()
	out := filepath.Join(t.TempDir(), "out")
	code, _, errs := runCLI(t, "run", "--in", in, "--out", out, "--no-crawl", "--strict", "--log-level", "error")
	if code != 1 || !strings.Contains(errs, "--strict: 1 input row(s) quarantined") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(out, "run.json")); err == nil {
		t.Error("a failed run left a run.json")
	}
	// In memory the quarantine table is gone with the run: the error
	// itself names the row.
	code, _, errs = runCLI(t, "run", "--in", in, "--out", filepath.Join(t.TempDir(), "mem"), "--db", ":memory:", "--no-crawl", "--strict", "--log-level", "error")
	if code != 1 || !regexp.MustCompile(`--strict: 1 input row\(s\) quarantined: clicks\.csv:\d+ ts: .+ \(the database was in memory`).MatchString(errs) {
		t.Errorf("--db :memory: --strict: exit %d, stderr:\n%s", code, errs)
	}
	// Without --strict the same input completes and counts the row.
	code, stdout, errs := runCLI(t, "run", "--in", in, "--out", out, "--no-crawl", "--log-level", "error")
	if code != 0 || !strings.Contains(stdout, "1 quarantined row(s)") {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, errs)
	}
}

// TestEndToEnd runs the whole batch on generated data and checks the
// click_burst findings against the generator's ground truth, the output
// files against the contract, and determinism across fresh databases.
func TestEndToEnd(t *testing.T) {
	in := t.TempDir()
	if _, err := fixtures.Generate(context.Background(), fixtures.Config{Seed: 3, Clicks: 60_000, Out: in, Format: "parquet"}); err != nil {
		t.Fatal(err)
	}
	outA, outB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for _, out := range []string{outA, outB} {
		code, _, errs := runCLI(t, "run", "--in", in, "--out", out, "--no-crawl", "--log-level", "error")
		if code != 0 {
			t.Fatalf("run exit %d:\n%s", code, errs)
		}
	}
	for _, name := range []string{"findings.ndjson", "recommendations.json", "disqualified_orders.csv", "report.html", "run.json"} {
		if _, err := os.Stat(filepath.Join(outA, name)); err != nil {
			t.Errorf("output %s: %v", name, err)
		}
	}
	for _, name := range []string{"findings.ndjson", "recommendations.json", "disqualified_orders.csv"} {
		a, _ := os.ReadFile(filepath.Join(outA, name))
		b, _ := os.ReadFile(filepath.Join(outB, name))
		// Each disposition names the run that made it: all else is equal.
		a = bytes.ReplaceAll(a, []byte(runIDOf(t, outA)), []byte("RUN_ID"))
		b = bytes.ReplaceAll(b, []byte(runIDOf(t, outB)), []byte("RUN_ID"))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs of the same input", name)
		}
	}
	labels, err := fixtures.ReadLabels(filepath.Join(in, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Every registered detector, end to end through the CLI: each labeled
	// positive flagged, no hard negative of that detector flagged.
	flagged := map[string]map[string]bool{} // detector → publisher
	f, _ := os.Open(filepath.Join(outA, "findings.ndjson"))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var fd map[string]any
		if err := json.Unmarshal(sc.Bytes(), &fd); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"finding_id", "publisher_id", "detector", "severity", "score", "policy_ref", "summary", "evidence", "window_start", "window_end", "order_ids", "commission_usd"} {
			if _, ok := fd[k]; !ok {
				t.Errorf("finding lacks %s", k)
			}
		}
		code := fd["detector"].(string)
		if flagged[code] == nil {
			flagged[code] = map[string]bool{}
		}
		flagged[code][fd["publisher_id"].(string)] = true
	}
	f.Close()
	for _, d := range all.Detectors() {
		code := d.Code()
		var positives, caught int
		for _, l := range labels {
			if l.Detector != code {
				continue
			}
			switch l.Label {
			case "positive":
				positives++
				if flagged[code][l.PublisherID] {
					caught++
				} else {
					t.Errorf("labeled %s publisher %s (%s) not flagged", code, l.PublisherID, l.Variant)
				}
			case "negative":
				if flagged[code][l.PublisherID] {
					t.Errorf("hard negative %s (%s) flagged as %s", l.PublisherID, l.Variant, code)
				}
			}
		}
		if positives == 0 {
			// Site detectors are measured on their corpora, not on
			// generated traffic; here they must only stay quiet.
			t.Logf("%s: no generated labels; %d publishers flagged", code, len(flagged[code]))
			continue
		}
		t.Logf("%s: %d/%d labeled publishers flagged, %d publishers flagged in all", code, caught, positives, len(flagged[code]))
	}
}

func gunzip(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimSuffix(path, ".gz"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
}

func readFirstLine(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return line
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
