package store

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// extensionRepo is a loopback extension repository that counts requests:
// DuckDB's extension downloads go to the configured repository, so any
// attempt to install code lands here instead of on the internet, and the
// test asserts there was none.
func extensionRepo(t *testing.T) *atomic.Int64 {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		t.Logf("extension request: %s", r.URL.Path)
		http.NotFound(w, r)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	old := testConfig
	testConfig = map[string]string{
		"custom_extension_repository":      srv.URL,
		"autoinstall_extension_repository": srv.URL,
		"extension_directory":              t.TempDir(),
	}
	t.Cleanup(func() { testConfig = old })
	return &hits
}

func TestSQLiteFileIsRefusedWithoutNetwork(t *testing.T) {
	hits := extensionRepo(t)
	ctx := context.Background()
	src, err := os.ReadFile("testdata/sqlite.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "affwatch.duckdb")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path, Options{})
	var nd *NotDuckDBError
	if !errors.As(err, &nd) || !strings.Contains(err.Error(), "not a DuckDB database") || !strings.Contains(err.Error(), "SQLite") {
		t.Fatalf("Open(sqlite file) = %v, want a NotDuckDBError naming SQLite", err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(src) {
		t.Error("the SQLite file was modified")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d request(s) for an extension, want none", n)
	}
}

// TestNoExtensionIsFetchedOrLoaded goes past the header check: a statement
// that needs an extension DuckDB does not bundle fails, and nothing is
// requested from the (loopback) repository.
func TestNoExtensionIsFetchedOrLoaded(t *testing.T) {
	hits := extensionRepo(t)
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "a.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for name, want := range NoExtensions {
		var got string
		if err := st.DB.QueryRowContext(ctx, `SELECT CAST(current_setting(?) AS VARCHAR)`, name).Scan(&got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	abs, _ := filepath.Abs("testdata/sqlite.db")
	for _, q := range []string{
		`ATTACH '` + abs + `' AS lite (TYPE sqlite, READ_ONLY)`,
		`SELECT * FROM sqlite_scan('` + abs + `', 'clicks')`,
		`SELECT * FROM read_xlsx('` + abs + `')`,
	} {
		if _, err := st.DB.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: succeeded, want an error (the extension is not there and must not be fetched)", q)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d request(s) for an extension, want none", n)
	}
}

func TestDatabasePathChecks(t *testing.T) {
	dir := t.TempDir()
	gz := filepath.Join(dir, "x.gz")
	os.WriteFile(gz, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0o644)
	for _, tc := range []struct {
		name, path, want string
	}{
		{"gzip file", gz, "not a DuckDB database (it looks like a gzip file)"},
		{"directory", dir, "is a directory"},
		{"question mark", filepath.Join(dir, "a?b.duckdb"), "cannot be used in --db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), tc.path, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%s) = %v, want %q", tc.path, err, tc.want)
			}
		})
	}
}
