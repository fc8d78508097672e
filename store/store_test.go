package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrateFreshAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.duckdb")
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(ctx, path, Options{Threads: 1, MemoryLimit: "512MB"})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := st.SchemaVersion(ctx)
	if v != len(ms) {
		t.Errorf("fresh database at version %d, want %d", v, len(ms))
	}
	var tz, mem string
	st.DB.QueryRow(`SELECT current_setting('TimeZone'), current_setting('memory_limit')`).Scan(&tz, &mem)
	if tz != "UTC" || mem == "" {
		t.Errorf("TimeZone %q memory_limit %q", tz, mem)
	}
	st.Close()
	st, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	var n int
	st.DB.QueryRow(`SELECT count(*) FROM schema_version`).Scan(&n)
	if n != len(ms) {
		t.Errorf("schema_version has %d rows after reopening, want %d (migrations must run once)", n, len(ms))
	}
	st.Close()
}

func TestOlderDatabaseIsUpgraded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	st, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := Migrations()
	next := Migration{Version: len(ms) + 1, Name: "test_upgrade", SQL: "CREATE TABLE upgraded (x INTEGER); INSERT INTO upgraded VALUES (42);"}
	if err := st.migrate(ctx, append(ms, next)); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	var x, v int
	if err := st.DB.QueryRow(`SELECT x FROM upgraded`).Scan(&x); err != nil || x != 42 {
		t.Errorf("upgrade did not run: x=%d err=%v", x, err)
	}
	v, _ = st.SchemaVersion(ctx)
	if v != next.Version {
		t.Errorf("version after upgrade = %d, want %d", v, next.Version)
	}
	// Running the same set again is a no-op (the INSERT would duplicate).
	if err := st.migrate(ctx, append(ms, next)); err != nil {
		t.Fatal(err)
	}
	var n int
	st.DB.QueryRow(`SELECT count(*) FROM upgraded`).Scan(&n)
	if n != 1 {
		t.Errorf("migration re-ran: %d rows", n)
	}
	st.Close()
}

func TestNewerDatabaseIsRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.duckdb")
	st, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.Exec(`INSERT INTO schema_version VALUES (999, 'future', now()::TIMESTAMP)`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, err = Open(ctx, path, Options{})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("open newer database: %v, want ErrNewerSchema", err)
	}
}

// holdEnv makes the test binary, re-executed, hold a database open until
// its stdin closes: a second process, as a second nightly run would be.
const holdEnv = "AFFWATCH_TEST_HOLD_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		st, err := Open(context.Background(), path, Options{})
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		st.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSecondProcessIsRefusedClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("holder said %q, %v", line, err)
	}
	_, err = Open(context.Background(), path, Options{})
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.Path != path {
		t.Fatalf("second open: %v, want a LockedError for %s", err, path)
	}
	if msg := err.Error(); !strings.Contains(msg, "another affwatch run") || !strings.Contains(msg, "--db") {
		t.Errorf("message does not tell the operator what to do: %s", msg)
	}
	stdin.Close()
	cmd.Wait()
	// Once the first process is gone the database opens again.
	st, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("open after the holder exited: %v", err)
	}
	st.Close()
}

// TestSpillsUnderMemoryLimit: with memory_limit far below the data, an
// in-memory database keeps working by spilling to the temp directory
// (asserted: DuckDB lists temporary files there while the data lives), and
// sorting and grouping over it complete.
func TestSpillsUnderMemoryLimit(t *testing.T) {
	ctx := context.Background()
	spill := t.TempDir()
	st, err := Open(ctx, InMemory, Options{MemoryLimit: "32MB", Threads: 1, TempDirectory: spill})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var limit, dir string
	var threads int64
	if err := st.DB.QueryRowContext(ctx, `SELECT current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')`).Scan(&limit, &threads, &dir); err != nil {
		t.Fatal(err)
	}
	if threads != 1 || dir != spill || !strings.Contains(limit, "MiB") {
		t.Errorf("settings: memory_limit %q, threads %d, temp_directory %q", limit, threads, dir)
	}
	// ~1.5M rows × 64-byte strings: about 150 MB, several times the limit.
	if _, err := st.DB.ExecContext(ctx, `CREATE TABLE big AS SELECT i, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) AS s FROM range(1500000) t(i)`); err != nil {
		t.Fatalf("create a table over the memory limit: %v", err)
	}
	var files, bytes int64
	if err := st.DB.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM duckdb_temporary_files() WHERE path LIKE ? || '%'`, spill).Scan(&files, &bytes); err != nil {
		t.Fatal(err)
	}
	if files == 0 || bytes < 32<<20 {
		t.Errorf("temp directory holds %d files, %d bytes: nothing spilled", files, bytes)
	}
	var first string
	var n int64
	if err := st.DB.QueryRowContext(ctx, `SELECT min(s), count(*) FROM (SELECT s FROM big ORDER BY s, i)`).Scan(&first, &n); err != nil || n != 1500000 {
		t.Fatalf("sort under a 32 MB limit: %d rows, %v", n, err)
	}
	if err := st.DB.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT s, count(*) FROM big GROUP BY s)`).Scan(&n); err != nil || n != 1500000 {
		t.Fatalf("aggregate under a 32 MB limit: %d groups, %v", n, err)
	}
	t.Logf("spilled: %d temporary files, %d MiB", files, bytes>>20)
}
