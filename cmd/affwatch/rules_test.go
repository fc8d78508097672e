package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad pack is a rule-pack error (exit 2, file:line) found before any
// input is read: the run is given an input folder that does not exist, so
// any input work would fail differently.
func TestBadPackStopsBeforeInput(t *testing.T) {
	dir := t.TempDir()
	pack := filepath.Join(dir, "pack.yaml")
	os.WriteFile(pack, []byte("extends: default\nrules:\n  self_purchase:\n    thresholds:\n      max_hops: 9\n"), 0o644)
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"rules", "check", "--rules", pack},
		{"run", "--in", filepath.Join(dir, "no-such-input"), "--out", out, "--rules", pack, "--no-crawl"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr:\n%s", args, code, stderr)
		}
		for _, want := range []string{"the rule pack is not valid", "pack.yaml:5: rules.self_purchase.thresholds.max_hops: 9 is out of range: want an integer in [1, 6]"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: stderr does not contain %q:\n%s", args, want, stderr)
			}
		}
		if strings.Contains(stderr, "input") && !strings.Contains(stderr, "nothing was read") || stdout != "" {
			t.Errorf("%v: the input was looked at or output printed:\nstdout %q\nstderr %q", args, stdout, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the output folder was created for a run with a bad pack")
	}
}

func TestRulesDiff(t *testing.T) {
	dir := t.TempDir()
	pack := filepath.Join(dir, "pack.yaml")
	os.WriteFile(pack, []byte("extends: default\nversion: local\nrules:\n  click_burst:\n    thresholds:\n      min_modified_z: 4.5\n"), 0o644)
	code, out, errs := runCLI(t, "rules", "diff", "--rules", pack)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		pack + ":6: ~ rules.click_burst.thresholds.min_modified_z: 3.5 → 4.5",
		pack + `:2: ~ version: "2026.12.15" → "local"`,
		"3 change(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "rules", "diff")
	if code != 0 || !strings.Contains(out, "changes nothing") {
		t.Errorf("diff of the default: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "rules", "check", "--rules", pack)
	if code != 0 || !strings.Contains(out, "12 rule(s)") {
		t.Errorf("check of a six-line pack: exit %d\n%s", code, out)
	}
}

// The six-line pack's run changes that rule's findings and nothing else.
func TestOverrideRunChangesOnlyThatThreshold(t *testing.T) {
	in := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "fixtures", "sample"), in)
	pack := filepath.Join(t.TempDir(), "pack.yaml")
	// The pack keeps the default's version: evidence names the pack version of
	// the reference patterns it matched (reference_lists.extra_patterns).
	os.WriteFile(pack, []byte("extends: default\nrules:\n  click_burst:\n    thresholds:\n      min_bucket_clicks: 1000000\n"), 0o644)
	findings := func(extra ...string) (burst int, others []string) {
		out := filepath.Join(t.TempDir(), "out")
		args := append([]string{"run", "--in", in, "--out", out, "--no-crawl"}, extra...)
		if code, _, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("run %v: exit %d\n%s", extra, code, errs)
		}
		b, err := os.ReadFile(filepath.Join(out, "findings.ndjson"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if strings.Contains(line, `"detector":"click_burst"`) {
				burst++
				continue
			}
			others = append(others, line)
		}
		return burst, others
	}
	defBurst, defOthers := findings()
	tunedBurst, tunedOthers := findings("--rules", pack)
	if defBurst == 0 || tunedBurst != 0 {
		t.Errorf("click_burst findings: default %d, tuned %d; want some, then none", defBurst, tunedBurst)
	}
	if strings.Join(defOthers, "\n") != strings.Join(tunedOthers, "\n") || len(defOthers) == 0 {
		t.Errorf("findings of other rules changed (%d → %d lines)", len(defOthers), len(tunedOthers))
	}
}
