package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A partition's hand-over to the merge (affwatch run --partition i/N, then
// affwatch merge) is a folder of Parquet files, one per table, holding what
// penalties and reports need from that partition: its findings, the
// signals it went without and the reference lists it labelled with, its
// orders (the money of 7.8 and the program's click-to-order times), the
// clicks its orders are credited to, the profiles (publishers, sites,
// sellers, buyers, ads), its crawl rows, and the load ledger and
// quarantine of its input files. Everything else (the bulk of the clicks)
// stays in the partition's database.

// partitionTable is one table of the hand-over: what to export and how the
// merge inserts it.
type partitionTable struct {
	name   string
	export string // SELECT over the partition's database; %[1]s is the run id literal
	// key is the columns that identify a row: a row whose key the merge
	// database already holds is not inserted twice (a re-run merge, a
	// profile every partition carries). Empty: the rows belong to the run.
	key []string
	// profile marks the tables every partition loads whole; the merge takes
	// them from the first partition only.
	profile bool
}

var partitionTables = []partitionTable{
	{name: "load_ledger", export: `SELECT * FROM load_ledger`},
	{name: "quarantine", export: `SELECT * FROM quarantine WHERE run_id = %[1]s`},
	{name: "findings", export: `SELECT * FROM findings WHERE run_id = %[1]s`},
	{name: "finding_sites", export: `SELECT * FROM finding_sites WHERE run_id = %[1]s`},
	{name: "signals_unavailable", export: `SELECT * FROM signals_unavailable WHERE run_id = %[1]s`},
	{name: "reference_lists", export: `SELECT * FROM reference_lists WHERE run_id = %[1]s`},
	{name: "orders", export: `SELECT * FROM orders`, key: []string{"order_id"}},
	// The merge reads clicks only through orders (the report's
	// click-to-order times); the night's click counts travel in
	// partition.json.
	{name: "clicks", export: `SELECT * FROM clicks c
		WHERE c.click_id IN (SELECT click_id FROM orders WHERE click_id IS NOT NULL)`, key: []string{"click_id"}},
	{name: "publishers", export: `SELECT * FROM publishers`, key: []string{"publisher_id"}, profile: true},
	{name: "sites", export: `SELECT * FROM sites`, key: []string{"publisher_id", "url"}, profile: true},
	{name: "sellers", export: `SELECT * FROM sellers`, key: []string{"seller_id"}, profile: true},
	{name: "buyers", export: `SELECT * FROM buyers`, key: []string{"buyer_id"}, profile: true},
	{name: "ads", export: `SELECT * FROM ads`, key: []string{"publisher_id", "ad_id", "keyword", "title", "text", "display_url"}, profile: true},
	{name: "crawl_sites", export: `SELECT * FROM crawl_sites`, key: []string{"crawl_id"}},
	{name: "crawl_dns", export: `SELECT * FROM crawl_dns`, key: []string{"crawl_id"}},
	{name: "crawl_pages", export: `SELECT * FROM crawl_pages`, key: []string{"crawl_id"}},
	{name: "crawl_redirects", export: `SELECT * FROM crawl_redirects`, key: []string{"crawl_id"}},
	{name: "crawl_assets", export: `SELECT * FROM crawl_assets`, key: []string{"crawl_id"}},
	{name: "crawl_page_code", export: `SELECT * FROM crawl_page_code`, key: []string{"crawl_id"}},
	{name: "crawl_events", export: `SELECT * FROM crawl_events`, key: []string{"crawl_id"}},
}

// PartitionFile is one table of a partition's hand-over.
type PartitionFile struct {
	Table string `json:"table"`
	File  string `json:"file"`
	Rows  int64  `json:"rows"`
}

// ExportPartition writes the hand-over of run runID into dir (created).
// Every partition loads the profiles whole and the merge takes them from
// the first partition only, so the others (withProfiles false) hand over
// empty profile files: at 10 M clicks the buyers alone were 1.6 M rows,
// 266 MB, from each partition.
func ExportPartition(ctx context.Context, db *sql.DB, runID, dir string, withProfiles bool) ([]PartitionFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var out []PartitionFile
	for _, t := range partitionTables {
		path := filepath.Join(abs, t.name+".parquet")
		q := strings.ReplaceAll(t.export, "%[1]s", QuoteLiteral(runID))
		if t.profile && !withProfiles {
			q = "SELECT * FROM (" + q + ") LIMIT 0"
		}
		if _, err := db.ExecContext(ctx, "COPY ("+q+") TO "+QuoteLiteral(path)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
			return nil, fmt.Errorf("export %s: %w", t.name, err)
		}
		var rows int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+QuoteLiteral(path)+")").Scan(&rows); err != nil {
			return nil, fmt.Errorf("count %s: %w", t.name, err)
		}
		out = append(out, PartitionFile{Table: t.name, File: t.name + ".parquet", Rows: rows})
	}
	return out, nil
}

// ImportPartition inserts a partition's hand-over (dir, written by
// ExportPartition) into the merge's database within tx, under the merge's
// run id: findings and quarantine rows become the merge run's (signals: ImportSignals);
// load_ledger rows get new file ids (each partition numbered its own from
// 1) and every row that points at them follows. Rows whose key is already
// stored are skipped. first says whether this is the first partition
// merged: the profile tables come from it only (the others hand over
// empty ones).
func ImportPartition(ctx context.Context, tx *sql.Tx, runID, dir string, first bool) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	file := func(table string) string { return QuoteLiteral(filepath.Join(abs, table+".parquet")) }
	for _, t := range partitionTables {
		if _, err := os.Stat(filepath.Join(abs, t.name+".parquet")); err != nil {
			return fmt.Errorf("partition %s: %s.parquet missing: %w", dir, t.name, err)
		}
	}
	// New file ids for the ledger rows this merge takes: the partition's
	// own loads of clicks and orders and, from the first partition, the
	// profiles' files.
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE partition_file_ids AS
		 SELECT file_id AS old_id, nextval('load_file_seq') AS new_id
		 FROM read_parquet(` + file("load_ledger") + `)
		 WHERE ` + boolLiteral(first) + ` OR dataset IN ('clicks', 'orders')
		 ORDER BY file_id`,
		`INSERT INTO load_ledger
		 SELECT l.* REPLACE (m.new_id AS file_id, ` + QuoteLiteral(runID) + ` AS run_id)
		 FROM read_parquet(` + file("load_ledger") + `) l JOIN partition_file_ids m ON m.old_id = l.file_id`,
		`INSERT INTO quarantine
		 SELECT q.* REPLACE (` + QuoteLiteral(runID) + ` AS run_id, coalesce(m.new_id, q.file_id) AS file_id)
		 FROM read_parquet(` + file("quarantine") + `) q LEFT JOIN partition_file_ids m ON m.old_id = q.file_id
		 WHERE ` + boolLiteral(first) + ` OR q.dataset IN ('clicks', 'orders')`,
		`INSERT INTO findings SELECT * REPLACE (` + QuoteLiteral(runID) + ` AS run_id) FROM read_parquet(` + file("findings") + `)`,
		`INSERT INTO finding_sites SELECT * REPLACE (` + QuoteLiteral(runID) + ` AS run_id) FROM read_parquet(` + file("finding_sites") + `)`,
	}
	for _, t := range partitionTables {
		if t.profile {
			// Profiles are snapshots (a new file set replaces the table, as
			// the loader does): the first partition's replace the stored.
			if first {
				stmts = append(stmts, `DELETE FROM `+t.name,
					`INSERT INTO `+t.name+` SELECT p.* REPLACE (coalesce(m.new_id, p._file_id) AS _file_id) FROM read_parquet(`+file(t.name)+`) p
					 LEFT JOIN partition_file_ids m ON m.old_id = p._file_id`)
			}
			continue
		}
		if t.key == nil {
			continue
		}
		var on []string
		for _, k := range t.key {
			on = append(on, "o."+k+" IS NOT DISTINCT FROM p."+k)
		}
		sel := "p.*"
		if hasFileID(t.name) {
			sel = "p.* REPLACE (coalesce(m.new_id, p._file_id) AS _file_id)"
		}
		q := `INSERT INTO ` + t.name + ` SELECT ` + sel + ` FROM read_parquet(` + file(t.name) + `) p`
		if hasFileID(t.name) {
			q += ` LEFT JOIN partition_file_ids m ON m.old_id = p._file_id`
		}
		q += ` WHERE NOT EXISTS (SELECT 1 FROM ` + t.name + ` o WHERE ` + strings.Join(on, " AND ") + `)`
		stmts = append(stmts, q)
	}
	stmts = append(stmts, `DROP TABLE partition_file_ids`)
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("merge partition %s: %w", dir, err)
		}
	}
	return nil
}

// hasFileID: the input tables carry _file_id (the ledger row they came from).
func hasFileID(table string) bool {
	switch table {
	case "clicks", "orders", "publishers", "sites", "sellers", "buyers", "ads":
		return true
	}
	return false
}

func boolLiteral(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// partitionFiles is the list literal of every partition's NAME.parquet.
func partitionFiles(dirs []string, name string) (string, error) {
	files := make([]string, len(dirs))
	for i, dir := range dirs {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", err
		}
		files[i] = QuoteLiteral(filepath.Join(abs, name+".parquet"))
	}
	return "[" + strings.Join(files, ", ") + "]", nil
}

// ImportReferenceLists records, for the merge run, the reference lists the
// partitions labelled their traffic with: one row per list and version,
// its matches summed over the partitions (each labelled its own clicks and
// orders), as a whole run's run.json lists them.
func ImportReferenceLists(ctx context.Context, tx *sql.Tx, runID string, dirs []string) error {
	files, err := partitionFiles(dirs, "reference_lists")
	if err != nil {
		return err
	}
	q := `INSERT INTO reference_lists
		SELECT ` + QuoteLiteral(runID) + `, kind, name, class, version, sha256, path, entries, rejected,
		       any_value(first_rejects ORDER BY filename), sum(matched)::BIGINT
		FROM read_parquet(` + files + `, filename = true)
		GROUP BY kind, name, class, version, sha256, path, entries, rejected`
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("merge reference lists: %w", err)
	}
	return nil
}

// ImportSignals records, for the merge run, the signals every partition
// went without. A signal is unavailable when its column is empty in the
// rows a detector reads; a partition whose publishers leave a column empty
// reports it although the program's rows fill it, so only what all N
// report holds for the whole night.
func ImportSignals(ctx context.Context, tx *sql.Tx, runID string, dirs []string) error {
	files, err := partitionFiles(dirs, "signals_unavailable")
	if err != nil {
		return err
	}
	q := `INSERT INTO signals_unavailable
		SELECT ` + QuoteLiteral(runID) + `, detector, signal, reason
		FROM read_parquet(` + files + `, filename = true)
		GROUP BY detector, signal, reason
		HAVING count(DISTINCT filename) = ` + fmt.Sprint(len(dirs))
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("merge signals: %w", err)
	}
	return nil
}
