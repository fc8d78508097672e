package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// partitionNight is the sample's busiest night.
const partitionNight = "2026-11-21"

// splitSample writes fixtures/sample split into n partitions under dir.
func splitSample(t *testing.T, dir string, n int) string {
	t.Helper()
	split := filepath.Join(dir, "split")
	if code, out, errs := runCLI(t, "partition", "--in", "../../fixtures/sample", "--out", split, "--partitions", itoa(n), "--log-format", "json"); code != 0 {
		t.Fatalf("partition: exit %d\n%s\n%s", code, out, errs)
	}
	return split
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestPartitionMistakes: each wrong combination stops before any work with
// a message saying what to do.
func TestPartitionMistakes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: splits the sample")
	}
	dir := t.TempDir()
	split := splitSample(t, dir, 4)
	split3 := filepath.Join(dir, "split3")
	if code, _, errs := runCLI(t, "partition", "--in", "../../fixtures/sample", "--out", split3, "--partitions", "3"); code != 0 {
		t.Fatal(errs)
	}
	base := filepath.Join(dir, "base")
	if code, _, errs := runCLI(t, "run", "--stage", "baselines", "--in", split, "--out", base, "--date", partitionNight); code != 0 {
		t.Fatal(lastLines(errs, 5))
	}
	base3 := filepath.Join(dir, "base3")
	if code, _, errs := runCLI(t, "run", "--stage", "baselines", "--in", split3, "--out", base3, "--date", partitionNight); code != 0 {
		t.Fatal(lastLines(errs, 5))
	}
	p0 := filepath.Join(dir, "p0")
	if code, _, errs := runCLI(t, "run", "--partition", "0/4", "--baselines", base, "--in", split, "--out", p0, "--date", partitionNight, "--no-crawl"); code != 0 {
		t.Fatal(lastLines(errs, 5))
	}
	unfinished := filepath.Join(dir, "unfinished")
	if err := os.MkdirAll(unfinished, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"partition without baselines", []string{"run", "--partition", "1/4", "--in", split, "--out", dir + "/x", "--date", partitionNight}, 2, "--partition needs --date and --baselines"},
		{"partition without date", []string{"run", "--partition", "1/4", "--baselines", base, "--in", split, "--out", dir + "/x"}, 2, "--partition needs --date"},
		{"partition out of range", []string{"run", "--partition", "4/4", "--baselines", base, "--in", split, "--out", dir + "/x", "--date", partitionNight}, 2, "0 ≤ i < N"},
		{"baselines without date", []string{"run", "--stage", "baselines", "--in", split, "--out", dir + "/x"}, 2, "--stage baselines needs --date"},
		{"baselines of a night without traffic", []string{"run", "--stage", "baselines", "--in", split, "--out", dir + "/x", "--date", "2025-01-01"}, 1, "night 2025-01-01 has no clicks and no orders"},
		{"unknown stage", []string{"run", "--stage", "detect", "--in", split, "--out", dir + "/x"}, 2, `--stage "detect"`},
		{"baselines of another night", []string{"run", "--partition", "1/4", "--baselines", base, "--in", split, "--out", dir + "/x", "--date", "2026-11-20"}, 2, "computed for night 2026-11-21, not 2026-11-20"},
		{"baselines missing", []string{"run", "--partition", "1/4", "--baselines", unfinished, "--in", split, "--out", dir + "/x", "--date", partitionNight}, 2, "baselines.json"},
		{"input not split", []string{"run", "--partition", "1/4", "--baselines", base, "--in", "../../fixtures/sample", "--out", dir + "/x", "--date", partitionNight}, 2, "not under a part=K folder"},
		{"input split another way", []string{"run", "--partition", "1/4", "--baselines", base, "--in", split3, "--out", dir + "/x", "--date", partitionNight}, 2, "recompute the baselines"},
		{"rows of other partitions", []string{"run", "--partition", "1/4", "--baselines", base3, "--in", split3, "--out", dir + "/x", "--date", partitionNight, "--no-crawl"}, 1, "belong to other partitions"},
		{"merge of one partition of four", []string{"merge", "--out", dir + "/m", p0}, 2, "split into 4 partitions, 1 folder(s) given"},
		{"merge of an unfinished partition", []string{"merge", "--out", dir + "/m", unfinished}, 2, "partition.json"},
		{"merge of another night", []string{"merge", "--out", dir + "/m", "--date", "2026-11-20", p0, p0, p0, p0}, 2, "night 2026-11-21, not 2026-11-20"},
		{"merge with a partition twice", []string{"merge", "--out", dir + "/m", p0, p0, p0, p0}, 2, "missing or given twice"},
		{"split into a used folder", []string{"partition", "--in", "../../fixtures/sample", "--out", split, "--partitions", "4"}, 2, "not empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%s", code, tc.code, tc.want, lastLines(errs, 4))
			}
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
