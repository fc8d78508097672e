package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"affwatch/detectors"
	"affwatch/loaders"
	"affwatch/store"
)

// SplitInput is `affwatch partition`: the input of in loaded into a
// scratch database beside the split (db.Path, when set, instead) and
// written into out by Split. out must exist or be creatable.
func SplitInput(ctx context.Context, in, out string, partitions int, db DB, progress loaders.Progress, log *slog.Logger) ([]string, error) {
	inputs, err := Discover(in, log, loaders.DiscoverOptions{})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	// The scratch database lives beside the split and goes when done.
	scratch, err := os.MkdirTemp(abs, ".scratch-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	if db.Path == "" {
		db.Path = filepath.Join(scratch, "split.duckdb")
	}
	st, err := db.Open(ctx, scratch)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	loaded, err := loaders.Load(ctx, st, inputs.Files, loaders.Options{RunID: "partition", Progress: progress, Logger: log})
	if err != nil {
		return nil, err
	}
	return Split(ctx, st, inputs.Files, loaded, abs, partitions, log)
}

// Split writes the loaded input as a partitioned night reads it (affwatch
// partition): clicks and orders as hive partitions part=K of the
// publisher's partition, every other dataset whole, the quarantined rows
// in quarantine.parquet. It returns the rows per partition, for the user.
func Split(ctx context.Context, st *store.Store, files []loaders.File, loaded *loaders.Result, out string, partitions int, log *slog.Logger) ([]string, error) {
	present := map[string]bool{}
	for _, f := range files {
		present[f.Dataset] = true
	}
	for _, ds := range loaders.Datasets {
		if !present[ds.Name] {
			continue
		}
		var cols []string
		for _, c := range ds.Columns {
			if c.Kind == loaders.StringList {
				cols = append(cols, fmt.Sprintf("array_to_string(%s, ';') AS %s", c.Name, c.Name))
			} else {
				cols = append(cols, c.Name)
			}
		}
		sel := "SELECT " + strings.Join(cols, ", ") + " FROM " + ds.Name
		var q string
		if partitionedDatasets[ds.Name] {
			sel = "SELECT " + strings.Join(cols, ", ") + ", " + detectors.PartitionSQL("publisher_id", partitions) + " AS part FROM " + ds.Name
			q = fmt.Sprintf("COPY (%s ORDER BY part, %s) TO %s (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part))",
				sel, ds.Key[0], store.QuoteLiteral(filepath.Join(out, ds.Name)))
		} else {
			q = fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet, COMPRESSION zstd)", sel, store.QuoteLiteral(filepath.Join(out, ds.Name+".parquet")))
		}
		if _, err := st.DB.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("partition: write %s: %w", ds.Name, err)
		}
	}
	if q := loaded.Quarantined(); q > 0 {
		if _, err := st.DB.ExecContext(ctx, "COPY (SELECT dataset, file, line, column_name, reason, value FROM quarantine ORDER BY file, line) TO "+
			store.QuoteLiteral(filepath.Join(out, "quarantine.parquet"))+" (FORMAT parquet)"); err != nil {
			return nil, err
		}
		log.Warn("input rows quarantined and left out of the split", "rows", q, "list", filepath.Join(out, "quarantine.parquet"))
	}
	var counts []string
	for _, ds := range []string{"clicks", "orders"} {
		rows, err := st.DB.QueryContext(ctx, fmt.Sprintf("SELECT %s AS part, count(*) FROM %s GROUP BY 1 ORDER BY 1", detectors.PartitionSQL("publisher_id", partitions), ds))
		if err != nil {
			return nil, err
		}
		var parts []string
		for rows.Next() {
			var p, n int64
			if err := rows.Scan(&p, &n); err != nil {
				rows.Close()
				return nil, err
			}
			parts = append(parts, fmt.Sprintf("%d:%d", p, n))
		}
		rows.Close()
		counts = append(counts, ds+" "+strings.Join(parts, " "))
	}
	return counts, nil
}
