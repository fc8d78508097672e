package store

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

//go:embed migrations/*.up.sql
var migrationFS embed.FS

// InMemory is the path that opens a private in-memory database (tests).
const InMemory = ":memory:"

// Options tune the DuckDB engine. Zero values keep DuckDB's defaults.
type Options struct {
	// MemoryLimit caps DuckDB's buffer pool, e.g. "4GB"; beyond it DuckDB
	// spills to TempDirectory.
	MemoryLimit string
	// Threads is DuckDB's worker count; 0 means one per core.
	Threads int
	// TempDirectory is where DuckDB spills; empty keeps DuckDB's default
	// (beside the database file).
	TempDirectory string
}

// Store is an open affwatch database.
type Store struct {
	DB        *sql.DB
	connector *duckdb.Connector
	path      string
}

// ErrLocked is wrapped by LockedError: another process has the database.
var ErrLocked = errors.New("database is in use by another process")

// LockedError says which database another process holds.
type LockedError struct {
	Path   string
	Detail string // DuckDB's message, naming the holding process
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("database %s is in use by another process (is another affwatch run still going? wait for it, or pass another --db): %s", e.Path, e.Detail)
}

// Unwrap lets errors.Is(err, ErrLocked) match.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Open opens (creating if needed) the database at path and migrates it to
// the newest schema. Every connection runs with TimeZone=UTC so that casts
// of timestamps to dates mean UTC days, as DESIGN §3 requires.
func Open(ctx context.Context, dbPath string, opts Options) (*Store, error) {
	if dbPath != InMemory {
		if err := checkDatabaseFile(dbPath); err != nil {
			return nil, err
		}
	}
	dsn := DSN(dbPath)
	settings := []string{"SET TimeZone = 'UTC'"}
	if opts.MemoryLimit != "" {
		settings = append(settings, "SET memory_limit = "+QuoteLiteral(opts.MemoryLimit))
	}
	if opts.Threads > 0 {
		settings = append(settings, "SET threads = "+strconv.Itoa(opts.Threads))
	}
	if opts.TempDirectory != "" {
		settings = append(settings, "SET temp_directory = "+QuoteLiteral(opts.TempDirectory))
	}
	connector, err := duckdb.NewConnector(dsn, func(execer driver.ExecerContext) error {
		for _, s := range settings {
			if _, err := execer.ExecContext(context.Background(), s, nil); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		if strings.Contains(err.Error(), "Could not set lock on file") {
			// DuckDB holds one writer per file across processes: the usual
			// cause is a second nightly run started while one is running.
			return nil, &LockedError{Path: dbPath, Detail: err.Error()}
		}
		return nil, fmt.Errorf("open database %s: %w", dbPath, err)
	}
	db := sql.OpenDB(connector)
	s := &Store{DB: db, connector: connector, path: dbPath}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// NoExtensions is the DuckDB configuration every affwatch connection opens
// with: DuckDB must never fetch or load code on its own. With its defaults
// it installs a known extension from the internet the moment a statement
// or a file needs one (a SQLite file given as --db pulls sqlite_scanner),
// which on a batch host is a download of native code chosen by the input.
var NoExtensions = map[string]string{
	"autoinstall_known_extensions": "false",
	"autoload_known_extensions":    "false",
	"allow_community_extensions":   "false",
}

// testConfig is added to the DSN by tests (a loopback extension repository
// that counts requests, a private extension directory).
var testConfig map[string]string

// DSN is the duckdb-go data source name that opens path ("" or InMemory:
// a private in-memory database) with NoExtensions. Everything in affwatch
// that opens DuckDB goes through it.
func DSN(path string) string {
	if path == InMemory {
		path = ""
	}
	q := url.Values{}
	for k, v := range NoExtensions {
		q.Set(k, v)
	}
	for k, v := range testConfig {
		q.Set(k, v)
	}
	return path + "?" + q.Encode()
}

// duckdbMagic is at byte 8 of every DuckDB database file.
var duckdbMagic = []byte("DUCK")

// NotDuckDBError says the --db file exists and is something else.
type NotDuckDBError struct {
	Path string
	Kind string // what it looks like, e.g. "a SQLite database"; may be empty
}

func (e *NotDuckDBError) Error() string {
	what := ""
	if e.Kind != "" {
		what = " (it looks like " + e.Kind + ")"
	}
	return fmt.Sprintf("%s is not a DuckDB database%s; give --db the path of an affwatch database, or of a file that does not exist yet", e.Path, what)
}

// checkDatabaseFile refuses a path DuckDB would misread: a name the
// driver's DSN cannot carry, or an existing file that is not DuckDB's.
// An empty file is left to DuckDB, which makes it a database.
func checkDatabaseFile(path string) error {
	if strings.ContainsAny(path, "?#") {
		return fmt.Errorf("database path %q: the characters ? and # cannot be used in --db (the DuckDB driver reads them as options); rename the file", path)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("database %s is a directory; give --db a file path", path)
	}
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if n == 0 {
		return nil
	}
	if n >= 12 && bytes.Equal(head[8:12], duckdbMagic) {
		return nil
	}
	kind := ""
	switch {
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		kind = "a SQLite database"
	case bytes.HasPrefix(head, []byte("PAR1")):
		kind = "a Parquet file"
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		kind = "a gzip file"
	}
	return &NotDuckDBError{Path: path, Kind: kind}
}

// Path is the database file the store was opened on (or ":memory:").
func (s *Store) Path() string { return s.path }

// DeferCompaction turns DuckDB's checkpoint vacuum off (defer true) or back
// on, for every connection of the store until it closes. With it on, each
// checkpoint also merges partly filled row groups next to the ones that
// changed: a night's append of 134 k clicks then rewrites its two or three
// neighbouring row groups of earlier nights (2 s of a 10 s night at 150 k
// clicks, docs/BENCHMARKS.md). With it off a checkpoint still drops row
// groups whose rows are all deleted (retention keeps working); merging
// the partly filled ones and reclaiming scattered deletes wait for a
// checkpoint with it on.
func (s *Store) DeferCompaction(ctx context.Context, deferIt bool) error {
	q := "RESET max_vacuum_tasks"
	if deferIt {
		q = "SET max_vacuum_tasks = 0"
	}
	if _, err := s.DB.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// StorageBlocks are a database file's blocks: used, of total.
type StorageBlocks struct {
	Used, Total, BlockSize int64
}

// Blocks reads the database file's block counts.
func (s *Store) Blocks(ctx context.Context) (StorageBlocks, error) {
	var b StorageBlocks
	err := s.DB.QueryRowContext(ctx, `SELECT used_blocks, total_blocks, block_size FROM pragma_database_size() LIMIT 1`).Scan(&b.Used, &b.Total, &b.BlockSize)
	if err != nil {
		return b, fmt.Errorf("database size: %w", err)
	}
	return b, nil
}

// Compact compacts the storage now: the checkpoint vacuum that nightly
// runs defer (DeferCompaction) merges the partly filled row groups of
// every table and reclaims deleted rows. A checkpoint with nothing
// changed writes nothing, so the compaction is recorded in compactions
// first (as a compacting night records itself); nightly runs count their
// --compact-every from it.
func (s *Store) Compact(ctx context.Context, id string, at time.Time) error {
	if err := s.DeferCompaction(ctx, false); err != nil {
		return err
	}
	if err := s.RecordCompaction(ctx, id, at); err != nil {
		return err
	}
	if _, err := s.DB.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return fmt.Errorf("compacting checkpoint: %w", err)
	}
	return nil
}

// RecordCompaction records that id (a run, or affwatch compact) compacts
// the storage at its close: nightly runs count their --compact-every from
// the latest such row.
func (s *Store) RecordCompaction(ctx context.Context, id string, at time.Time) error {
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO compactions VALUES (?, ?)`, id, at.UTC()); err != nil {
		return fmt.Errorf("record the compaction: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.DB.Close()
	if cerr := s.connector.Close(); err == nil {
		err = cerr
	}
	return err
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.Glob(migrationFS, "migrations/*.up.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		base := path.Base(e)
		num, name, ok := strings.Cut(strings.TrimSuffix(base, ".up.sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must be NNN_what.up.sql", base)
		}
		body, err := migrationFS.ReadFile(e)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %03d_%s: versions must run 1, 2, 3… without gaps", m.Version, m.Name)
		}
	}
	return ms, nil
}

// ErrNewerSchema means the database was written by a newer affwatch.
var ErrNewerSchema = errors.New("database schema is newer than this affwatch")

// Migrate applies every migration the database lacks.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	return s.migrate(ctx, ms)
}

func (s *Store) migrate(ctx context.Context, ms []Migration) error {
	if _, err := s.DB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	current, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > len(ms) {
		return fmt.Errorf("%s: version %d, this binary knows %d: %w", s.path, current, len(ms), ErrNewerSchema)
	}
	for _, m := range ms[current:] {
		tx, err := s.DB.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %03d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)`, m.Version, m.Name); err != nil {
			tx.Rollback()
			return fmt.Errorf("record migration %03d: %w", m.Version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit migration %03d: %w", m.Version, err)
		}
	}
	return nil
}

// SchemaVersion is the newest migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.DB.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// DriverConn returns the DuckDB driver connection under conn, for the APIs
// database/sql does not expose (Arrow views, appenders). It must be used
// only while conn is held, and not at the same time as conn itself.
func DriverConn(conn *sql.Conn) (driver.Conn, error) {
	var dc driver.Conn
	err := conn.Raw(func(raw any) error {
		c, ok := raw.(driver.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", raw)
		}
		dc = c
		return nil
	})
	return dc, err
}

// QuoteLiteral makes s a SQL string literal, for the places DuckDB does
// not take a parameter: SET statements, and file names in COPY and
// read_parquet. Values come from flags and our own paths, never from input.
func QuoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ReplaceEarlierResults deletes, inside tx, the results (findings, signals
// unavailable, recommendations, disqualified orders, the disposition ledger
// and case events) that runs other than
// runID stored for the same scope: the same night, or — night zero — the
// same backfill. Called when runID succeeds, it makes re-running a night
// leave one set of results for it (a killed run's partial rows included),
// while other nights' results stay as history.
func ReplaceEarlierResults(ctx context.Context, tx *sql.Tx, night time.Time, runID string) (int64, error) {
	var nightArg any
	if !night.IsZero() {
		nightArg = night.Format(time.DateOnly)
	}
	// IS NOT DISTINCT FROM: a NULL night (a backfill) matches NULL.
	var total int64
	for _, q := range []string{
		`DELETE FROM signals_unavailable WHERE run_id <> $2 AND run_id IN (SELECT run_id FROM runs WHERE night IS NOT DISTINCT FROM $1::DATE)`,
		`DELETE FROM finding_sites WHERE run_id <> $2 AND run_id IN (SELECT run_id FROM findings WHERE night IS NOT DISTINCT FROM $1::DATE)`,
		`DELETE FROM findings WHERE run_id <> $2 AND night IS NOT DISTINCT FROM $1::DATE`,
		`DELETE FROM recommendations WHERE run_id <> $2 AND night IS NOT DISTINCT FROM $1::DATE`,
		`DELETE FROM disqualified_orders WHERE run_id <> $2 AND night IS NOT DISTINCT FROM $1::DATE`,
		`DELETE FROM suppressed_findings WHERE run_id <> $2 AND night IS NOT DISTINCT FROM $1::DATE`,
		`DELETE FROM dispositions WHERE run_id <> $2 AND night IS NOT DISTINCT FROM $1::DATE`,
		`DELETE FROM case_events WHERE run_id <> $2 AND night IS NOT DISTINCT FROM $1::DATE`,
	} {
		res, err := tx.ExecContext(ctx, q, nightArg, runID)
		if err != nil {
			return total, fmt.Errorf("replace earlier results: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
