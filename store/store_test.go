package store

import (
	"context"
	"errors"
	"path/filepath"
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
