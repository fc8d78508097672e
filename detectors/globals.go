package detectors

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"affwatch/store"
)

// GlobalTable is state a detector needs from the whole program rather than
// from the rows of the publishers it judges: a population baseline (the
// median rate the program's publishers show) or a link across publishers
// (another publisher's click on the same device, a buyer's earlier orders
// through anyone). A whole run computes it from its own database; a run of
// one partition reads it from the files of the baselines pass, so that a
// partitioned night judges every publisher exactly as a whole run would.
type GlobalTable struct {
	// Name is the table in schema globals: the detector's code, an
	// underscore and what it holds (cookie_stuffing_overwrites).
	Name string
	// Query is a SELECT over the whole input; its column types must
	// survive Parquet (cast HUGEINT sums to BIGINT or DECIMAL).
	Query string
	Args  []any
	// Prepare, when set, runs before Query whenever the table is computed
	// (not when read from a baselines pass): it brings the state the query
	// reads up to date, so that a night computes only what is new.
	Prepare func(ctx context.Context, db *sql.DB) error
	// Build, when set, makes globals.<Name> itself, instead of Query, in
	// several statements on one connection: a search whose rounds keep
	// temporary tables, so that it touches only what it reaches.
	Build func(ctx context.Context, conn *sql.Conn) error
}

// GlobalStater is a detector with program-wide state. Its Run calls
// PrepareGlobals with the same tables before reading them.
type GlobalStater interface {
	Detector
	GlobalTables(ctx context.Context, env Env) ([]GlobalTable, error)
}

// PrepareGlobals makes the tables exist in schema globals for this run:
// computed by their queries, or, when env.Baselines names the directory
// of a baselines pass, read from its NAME.parquet files.
func PrepareGlobals(ctx context.Context, env Env, tables []GlobalTable) error {
	for _, t := range tables {
		if !isIdent(t.Name) {
			return fmt.Errorf("global table %q: bad name", t.Name)
		}
		if env.Baselines == "" {
			t0 := time.Now()
			if t.Prepare != nil {
				if err := t.Prepare(ctx, env.DB); err != nil {
					return fmt.Errorf("global table %s: %w", t.Name, err)
				}
			}
			prepared := time.Since(t0)
			if err := makeGlobal(ctx, env.DB, t); err != nil {
				return fmt.Errorf("global table %s: %w", t.Name, err)
			}
			if env.Log != nil {
				env.Log.Debug("global table made", "table", t.Name,
					"state_seconds", fmt.Sprintf("%.2f", prepared.Seconds()),
					"query_seconds", fmt.Sprintf("%.2f", (time.Since(t0)-prepared).Seconds()))
			}
			continue
		}
		path := filepath.Join(env.Baselines, t.Name+".parquet")
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("global table %s: %s is missing from the baselines pass (run affwatch run --stage baselines with the same --date and --rules): %w", t.Name, path, err)
		}
		if _, err := env.DB.ExecContext(ctx, "CREATE OR REPLACE TABLE globals."+t.Name+" AS SELECT * FROM read_parquet("+store.QuoteLiteral(path)+")"); err != nil {
			return fmt.Errorf("global table %s from %s: %w", t.Name, path, err)
		}
	}
	return nil
}

func makeGlobal(ctx context.Context, db *sql.DB, t GlobalTable) error {
	if t.Build == nil {
		_, err := db.ExecContext(ctx, "CREATE OR REPLACE TABLE globals."+t.Name+" AS "+t.Query, t.Args...)
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return t.Build(ctx, conn)
}

// GlobalFile is one exported table of a baselines pass.
type GlobalFile struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

// ExportGlobals writes the (prepared) tables to dir as NAME.parquet.
func ExportGlobals(ctx context.Context, db *sql.DB, dir string, tables []GlobalTable) ([]GlobalFile, error) {
	var out []GlobalFile
	for _, t := range tables {
		if !isIdent(t.Name) {
			return nil, fmt.Errorf("global table %q: bad name", t.Name)
		}
		path := filepath.Join(dir, t.Name+".parquet")
		if _, err := db.ExecContext(ctx, "COPY globals."+t.Name+" TO "+store.QuoteLiteral(path)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
			return nil, fmt.Errorf("export global table %s: %w", t.Name, err)
		}
		var rows int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM globals."+t.Name).Scan(&rows); err != nil {
			return nil, err
		}
		sum, err := fileSHA256(path)
		if err != nil {
			return nil, err
		}
		out = append(out, GlobalFile{Name: t.Name, File: t.Name + ".parquet", Rows: rows, SHA256: sum})
	}
	return out, nil
}

// AllGlobalTables gathers the tables of every detector that has some,
// refusing two detectors that claim one name.
func AllGlobalTables(ctx context.Context, env Env, ds []Detector) ([]GlobalTable, error) {
	var out []GlobalTable
	seen := map[string]string{}
	for _, d := range ds {
		g, ok := d.(GlobalStater)
		if !ok {
			continue
		}
		ts, err := g.GlobalTables(ctx, env)
		if err != nil {
			return nil, fmt.Errorf("detector %s: %w", d.Code(), err)
		}
		for _, t := range ts {
			if other, dup := seen[t.Name]; dup {
				return nil, fmt.Errorf("global table %s claimed by %s and %s", t.Name, other, d.Code())
			}
			seen[t.Name] = d.Code()
			out = append(out, t)
		}
	}
	return out, nil
}

// Keep drops the findings of publishers outside the partition: a
// partition's database holds every publisher's profile (links between
// publishers and sellers need them) but judges only its own.
func (p Partition) Keep(fs []Finding) []Finding {
	if p.Whole() {
		return fs
	}
	out := fs[:0:0]
	for _, f := range fs {
		if p.Has(f.PublisherID) {
			out = append(out, f)
		}
	}
	return out
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", errors.Join(fmt.Errorf("hash %s", path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
