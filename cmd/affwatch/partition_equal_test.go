package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPartitionedNightEqualsWholeRun is issue 8's acceptance test: a
// night run as a baselines pass, four partitions and a merge writes the
// same findings, recommendations and Disqualified Purchases Report as a
// whole run over the same input.
func TestPartitionedNightEqualsWholeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seven runs over the sample")
	}
	dir := t.TempDir()
	split := splitSample(t, dir, 4)
	run := func(args ...string) {
		t.Helper()
		args = append(args, "--log-format", "json")
		if code, out, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, lastLines(errs, 5))
		}
	}
	base := filepath.Join(dir, "base")
	run("run", "--stage", "baselines", "--in", split, "--out", base, "--date", partitionNight)
	var parts []string
	kept := filepath.Join(dir, "p3.duckdb")
	for i := 0; i < 4; i++ {
		p := filepath.Join(dir, "p"+itoa(i))
		args := []string{"run", "--partition", itoa(i) + "/4", "--baselines", base, "--in", split, "--out", p, "--date", partitionNight, "--no-crawl"}
		if i == 3 {
			// A partition that keeps its look-back between nights names
			// a database; the others run on their in-memory default.
			args = append(args, "--db", kept)
		}
		if i == 0 {
			// What a partition killed while spilling leaves behind: the
			// run opens over it and removes it.
			if err := os.MkdirAll(filepath.Join(p, ".spill"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(p, ".spill", "duckdb_temp_storage-0.tmp"), []byte("stale"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		run(args...)
		parts = append(parts, p)
	}
	// Nothing reads a baselines pass's or a partition's database after
	// it: without --db it is in memory, and leaves no file and no spill
	// folder behind.
	for _, out := range append([]string{base}, parts[:3]...) {
		for _, name := range []string{"affwatch.duckdb", ".spill"} {
			if _, err := os.Stat(filepath.Join(out, name)); !os.IsNotExist(err) {
				t.Errorf("%s: %s is there after the run (%v): a scratch database writes nothing but the hand-over", out, name, err)
			}
		}
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("partition 3's --db %s: %v", kept, err)
	}
	// The profiles are handed over by the first partition only.
	for i, p := range parts {
		var m struct {
			Tables []struct {
				Table string `json:"table"`
				Rows  int64  `json:"rows"`
			} `json:"tables"`
		}
		body, err := os.ReadFile(filepath.Join(p, "partition.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		rows := map[string]int64{}
		for _, tb := range m.Tables {
			rows[tb.Table] = tb.Rows
		}
		if (rows["buyers"] > 0) != (i == 0) || (rows["publishers"] > 0) != (i == 0) || rows["findings"] == 0 && i == 0 {
			t.Errorf("partition %d hands over %d buyers and %d publishers: want the profiles from partition 0 only", i, rows["buyers"], rows["publishers"])
		}
	}
	merged := filepath.Join(dir, "merged")
	// The partitions in another order than their indices: the merge sorts.
	run(append([]string{"merge", "--out", merged, "--metrics-file", filepath.Join(dir, "merged.prom")}, parts[2], parts[0], parts[3], parts[1])...)
	whole := filepath.Join(dir, "whole")
	run("run", "--in", split, "--out", whole, "--date", partitionNight, "--no-crawl", "--metrics-file", filepath.Join(dir, "whole.prom"))

	for _, name := range []string{"findings.ndjson", "findings.parquet", "recommendations.json", "recommendations.csv",
		"recommendations.parquet", "disqualified_orders.csv"} {
		a, err := os.ReadFile(filepath.Join(whole, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(merged, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "disqualified_orders.csv" {
			// Each disposition names the run that made it.
			a = bytes.ReplaceAll(a, []byte(runIDOf(t, whole)), []byte("RUN_ID"))
			b = bytes.ReplaceAll(b, []byte(runIDOf(t, merged)), []byte("RUN_ID"))
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the merge of 4 partitions differs from the whole run (-whole +merged):\n%s", name, outputDiff(t, name, a, b))
		}
	}
	// run.json: the same signals unavailable, reference lists, totals and
	// counts (inputs, ids and times are the run's own).
	for _, key := range []string{"signals_unavailable", "reference_lists", "totals", "counts", "quarantine"} {
		a, b := manifestKey(t, filepath.Join(whole, "run.json"), key), manifestKey(t, filepath.Join(merged, "run.json"), key)
		if d := cmp.Diff(a, b); d != "" {
			t.Errorf("run.json %s: the merge differs from the whole run (-whole +merged):\n%s", key, d)
		}
	}
	findings, err := os.ReadFile(filepath.Join(whole, "findings.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	detectorsSeen := map[string]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(findings), []byte("\n")) {
		for _, code := range []string{"cookie_stuffing", "click_burst", "self_purchase", "self_promotion", "popup_traffic", "invalid_commission"} {
			if bytes.Contains(line, []byte(`"detector":"`+code+`"`)) {
				detectorsSeen[code] = true
			}
		}
	}
	if len(detectorsSeen) < 5 {
		t.Errorf("the sample night has findings of %d behavioural detector(s) only (%v): the comparison proves little", len(detectorsSeen), detectorsSeen)
	}
	html, err := os.ReadFile(filepath.Join(merged, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	wholeHTML, err := os.ReadFile(filepath.Join(whole, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	// The report's figures read clicks and orders the merge took over
	// (the clicks through the orders credited to them): the same figures
	// as the whole run's report.
	figures := regexp.MustCompile(`(?s)<svg.*?</svg>`)
	a, b := figures.FindAll(wholeHTML, -1), figures.FindAll(html, -1)
	if len(a) == 0 || len(a) != len(b) {
		t.Errorf("report.html: %d figures in the whole run's report, %d in the merge's", len(a), len(b))
	}
	for i := range min(len(a), len(b)) {
		if !bytes.Equal(a[i], b[i]) {
			t.Errorf("report.html figure %d differs:\nwhole  %.300s\nmerged %.300s", i, a[i], b[i])
		}
	}
	// The night's clicks per day: the merge holds only the clicks its
	// orders are credited to; the partitions counted the rest.
	nightRows := func(path string) string {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(l, "affwatch_night_rows{") {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	wholeRows, mergedRows := nightRows(filepath.Join(dir, "whole.prom")), nightRows(filepath.Join(dir, "merged.prom"))
	if wholeRows == "" || wholeRows != mergedRows {
		t.Errorf("affwatch_night_rows of the merge differ from the whole run's:\nwhole:\n%s\nmerged:\n%s", wholeRows, mergedRows)
	}
	if !strings.Contains(wholeRows, `dataset="clicks",night="`+partitionNight+`"} `) || strings.Contains(wholeRows, `dataset="clicks",night="`+partitionNight+`"} 0`) {
		t.Errorf("affwatch_night_rows has no clicks on the night:\n%s", wholeRows)
	}
}

// manifestKey returns one top-level key of a run.json, re-encoded.
func manifestKey(t *testing.T, path, key string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return string(m[key])
}

// runIDOf reads the run id from an output folder's run.json.
func runIDOf(t *testing.T, dir string) string {
	t.Helper()
	var m struct {
		RunID string `json:"run_id"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil || m.RunID == "" {
		t.Fatalf("run id of %s: %v", dir, err)
	}
	return m.RunID
}
