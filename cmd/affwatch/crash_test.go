package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"affwatch/fixtures"
	"affwatch/reports"
)

// asMainEnv makes the test binary, re-executed, run the affwatch command
// line given as a JSON array in the variable: a real process the crash
// test can kill -9.
const asMainEnv = "AFFWATCH_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if args := os.Getenv(asMainEnv); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		os.Exit(execute(context.Background(), argv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// affwatchProcess starts the command line in a child process with JSON logs.
func affwatchProcess(t *testing.T, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	argv, _ := json.Marshal(append(args, "--log-format", "json"))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), asMainEnv+"="+string(argv))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(stderr)
}

// TestKillNineAtAnyStage kills a nightly run with SIGKILL at the start of
// each stage and in the middle of some, then runs the same command again:
// the re-run completes and its outputs are byte-identical to a clean run's,
// and the killed run never left an output directory that looks complete.
func TestKillNineAtAnyStage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the crash test runs about 20 affwatch processes")
	}
	in := t.TempDir()
	if _, err := fixtures.Generate(context.Background(), fixtures.Config{Seed: 3, Clicks: 20000, Out: in, Format: "parquet"}); err != nil {
		t.Fatal(err)
	}
	const date = "2026-11-21"
	runArgs := func(out, db string) []string {
		return []string{"run", "--in", in, "--out", out, "--db", db, "--date", date, "--no-crawl", "--threads", "2"}
	}
	refOut := filepath.Join(t.TempDir(), "ref")
	if code, _, errs := runCLI(t, append(runArgs(refOut, filepath.Join(t.TempDir(), "ref.duckdb")), "--log-level", "error")...); code != 0 {
		t.Fatalf("clean run: exit %d: %s", code, errs)
	}
	want := outputDigests(t, refOut)
	if len(want) < 3 {
		t.Fatalf("clean run wrote %v", want)
	}
	for _, tc := range []struct {
		stage string
		after time.Duration
		// previous: the output directory already holds a complete earlier
		// run of the same night (a re-run killed while it writes).
		previous bool
	}{
		{stage: "load"},
		{stage: "load", after: 40 * time.Millisecond},
		{stage: "detect"},
		{stage: "detect", after: 400 * time.Millisecond},
		{stage: "penalties"},
		{stage: "report"},
		{stage: "report", after: 30 * time.Millisecond, previous: true},
		{stage: "commit", previous: true},
	} {
		name := tc.stage + "+" + tc.after.String()
		if tc.previous {
			name += "/over-previous-outputs"
		}
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			db := filepath.Join(t.TempDir(), "a.duckdb")
			if tc.previous {
				if code, _, errs := runCLI(t, append(runArgs(out, db), "--log-level", "error")...); code != 0 {
					t.Fatalf("first run: exit %d: %s", code, errs)
				}
			}
			cmd, lines := affwatchProcess(t, runArgs(out, db)...)
			killed := false
			for lines.Scan() {
				var rec struct {
					Msg, Stage string
				}
				if json.Unmarshal(lines.Bytes(), &rec) == nil && rec.Msg == "stage started" && rec.Stage == tc.stage {
					time.Sleep(tc.after)
					if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
					killed = true
					break
				}
			}
			err := cmd.Wait()
			if !killed {
				t.Fatalf("stage %q never started (%v)", tc.stage, err)
			}
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				t.Logf("the run finished before the kill landed (%v); the re-run below still has to match", err)
			}
			assertNotFalselyComplete(t, out, tc.previous)

			if code, _, errs := runCLI(t, append(runArgs(out, db), "--log-level", "error")...); code != 0 {
				t.Fatalf("re-run after the kill: exit %d: %s", code, errs)
			}
			got := outputDigests(t, out)
			for name, sum := range want {
				if got[name] != sum {
					t.Errorf("%s differs from the clean run's after kill -9 at %s and a re-run", name, tc.stage)
				}
			}
			if len(got) != len(want) {
				t.Errorf("outputs %v, want the clean run's %v", keysOf(got), keysOf(want))
			}
		})
	}
}

// assertNotFalselyComplete: after a kill, either there is no run.json, or
// (over a previous complete run) run.json describes exactly the files on
// disk — never a run.json beside files of another run.
func assertNotFalselyComplete(t *testing.T, out string, previous bool) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(out, "run.json"))
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !previous {
		t.Fatalf("a killed first run left run.json:\n%s", body)
	}
	var man struct {
		Outputs []struct {
			Name   string `json:"name"`
			SHA256 string `json:"sha256"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(body, &man); err != nil {
		t.Fatalf("run.json left by the kill is not JSON: %v", err)
	}
	if len(man.Outputs) == 0 {
		t.Fatalf("run.json lists no outputs:\n%s", body)
	}
	for _, o := range man.Outputs {
		b, err := os.ReadFile(filepath.Join(out, o.Name))
		if err != nil {
			t.Errorf("run.json lists %s: %v", o.Name, err)
			continue
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != o.SHA256 {
			t.Errorf("run.json's %s is not the file on disk: the directory mixes two runs", o.Name)
		}
	}
}

// outputDigests hashes every output a run writes except the ones that
// name the run (run.json, report.html carry its id and clock).
func outputDigests(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The dispositions name the run that made them: compare them with the
	// run id normalized (a Parquet file as the rows it holds).
	var man struct {
		RunID string `json:"run_id"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "run.json")); err == nil {
		json.Unmarshal(b, &man)
	}
	out := map[string]string{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || n == "run.json" || n == "report.html" || strings.HasSuffix(n, ".duckdb") || strings.HasSuffix(n, ".wal") || strings.HasPrefix(n, ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if n == reports.DisqualifiedOrdersParquetFile {
			b = parquetRows(t, b)
		}
		if (n == reports.DisqualifiedOrdersFile || n == reports.DisqualifiedOrdersParquetFile) && man.RunID != "" {
			b = bytes.ReplaceAll(b, []byte(man.RunID), []byte("RUN_ID"))
		}
		sum := sha256.Sum256(b)
		out[n] = hex.EncodeToString(sum[:])
	}
	return out
}

func keysOf(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// TestSecondRunOnSameDatabaseFailsAtOnce: while one run holds the
// database, a second one exits non-zero at once and says what to do.
func TestSecondRunOnSameDatabaseFailsAtOnce(t *testing.T) {
	in := t.TempDir()
	if _, err := fixtures.Generate(context.Background(), fixtures.Config{Seed: 3, Clicks: 20000, Out: in, Format: "parquet"}); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "a.duckdb")
	first, lines := affwatchProcess(t, "run", "--in", in, "--out", t.TempDir(), "--db", db, "--no-crawl")
	defer first.Wait()
	defer first.Process.Kill()
	for lines.Scan() {
		if bytes.Contains(lines.Bytes(), []byte(`"stage started"`)) && bytes.Contains(lines.Bytes(), []byte(`"load"`)) {
			break
		}
	}
	go func() {
		for lines.Scan() {
		}
	}()
	t0 := time.Now()
	code, _, errs := runCLI(t, "run", "--in", in, "--out", t.TempDir(), "--db", db, "--no-crawl")
	if code == 0 || !strings.Contains(errs, "another affwatch run") {
		t.Errorf("second run: exit %d, stderr %q; want a non-zero exit naming the other run", code, errs)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("the second run took %s to give up; it must fail at once", d)
	}
}
