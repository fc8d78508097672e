package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"affwatch/fixtures"
)

func TestMetricsFile(t *testing.T) {
	in := t.TempDir()
	sum, err := fixtures.Generate(context.Background(), fixtures.Config{Seed: 4, Clicks: 1, Out: in, Format: "parquet"})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	prom := filepath.Join(t.TempDir(), "affwatch.prom")
	code, _, errs := runCLI(t, "run", "--in", in, "--out", out, "--no-crawl", "--log-level", "error", "--metrics-file", prom)
	if code != 0 {
		t.Fatalf("run exit %d: %s", code, errs)
	}
	m := readProm(t, prom)
	if m["affwatch_run_success"] != 1 {
		t.Errorf("affwatch_run_success = %v", m["affwatch_run_success"])
	}
	if got, want := m[`affwatch_input_rows_loaded{dataset="clicks"}`], float64(sum.Rows["clicks"]); got != want {
		t.Errorf("clicks loaded = %v, want %v", got, want)
	}
	if m[`affwatch_findings{detector="click_burst",severity="high"}`] < 1 {
		t.Errorf("no click_burst findings in the metrics")
	}
	for _, stage := range []string{"load", "detect", "penalties", "report"} {
		if _, ok := m[`affwatch_stage_duration_seconds{stage="`+stage+`"}`]; !ok {
			t.Errorf("no duration for stage %s", stage)
		}
	}
	if _, ok := m[`affwatch_money_at_stake_usd{kind="withhold"}`]; !ok {
		t.Errorf("no money at stake")
	}
	lastOK := m["affwatch_last_success_timestamp_seconds"]
	if lastOK == 0 {
		t.Fatal("no last success")
	}

	// A failed run says so and keeps the last success.
	code, _, _ = runCLI(t, "run", "--in", in, "--out", out, "--no-crawl", "--log-level", "error", "--metrics-file", prom, "--rules", filepath.Join(in, "missing.yaml"))
	if code == 0 {
		t.Fatal("run with a missing rule pack succeeded")
	}
	m = readProm(t, prom)
	if m["affwatch_run_success"] != 0 || m["affwatch_last_success_timestamp_seconds"] != lastOK {
		t.Errorf("after a failure: success %v, last success %v (want 0, %v)", m["affwatch_run_success"], m["affwatch_last_success_timestamp_seconds"], lastOK)
	}
}

var promLine = regexp.MustCompile(`^([a-z_]+(?:\{[^}]*\})?) (\S+)$`)

// readProm parses a text-format file strictly: every line is a comment or
// one sample, and every metric has HELP and TYPE.
func readProm(t *testing.T, path string) map[string]float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	typed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "# TYPE ") {
			typed[strings.Fields(line)[2]] = true
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		g := promLine.FindStringSubmatch(line)
		if g == nil {
			t.Fatalf("bad line %q", line)
		}
		name, _, _ := strings.Cut(g[1], "{")
		if !typed[name] {
			t.Errorf("%s has no TYPE before its samples", name)
		}
		v, err := strconv.ParseFloat(g[2], 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		out[g[1]] = v
	}
	return out
}
