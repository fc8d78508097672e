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
