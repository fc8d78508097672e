package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"affwatch/detectors"
	"affwatch/loaders"
	"affwatch/store"
)

const partitionHelp = `
Splits an input folder for a partitioned night (affwatch run --partition
i/N): clicks and orders are written as hive partitions of the publisher id,
--out/clicks/part=K/*.parquet and --out/orders/part=K/*.parquet with
K = detectors.PartitionOf(publisher_id, N) (the first four bytes of the id's
MD5, big-endian, modulo N; organic orders count as the empty id); every
other dataset is written whole as --out/NAME.parquet.

In production the upstream job that exports the logs should write this
layout itself (docs/SCALING.md gives the expression in SQL); this command
is that job for files on one machine, and for tests. It reads the input as
affwatch run does: rows the loader quarantines are not written, and are
listed in --out/quarantine.parquet with file, line, column and reason.
Columns the contract does not name are not carried over.

Example:
  affwatch partition --in /data/2026-11-21 --out /data/2026-11-21-split --partitions 4`

type partitionOptions struct {
	in, out    string
	partitions int
	db         dbOptions
	logging
}

func (o *partitionOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.in, "in", "", "input directory with the datasets of docs/INPUTS.md (required)")
	fs.StringVar(&o.out, "out", "", "output directory for the split datasets (required; must be empty or new)")
	fs.IntVar(&o.partitions, "partitions", 0, "N, the number of partitions (required, ≥ 2)")
	o.db.register(fs)
	o.logging.register(fs)
}

// runPartition is `affwatch partition`.
func runPartition(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o partitionOptions
	fs := newFlagSet("partition", "affwatch partition --in DIR --out DIR --partitions N", partitionHelp, stderr)
	o.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.in == "" || o.out == "" || o.partitions < 2 {
		return usagef("partition: --in, --out and --partitions N (N ≥ 2) are required (see affwatch partition --help)")
	}
	if entries, err := os.ReadDir(o.out); err == nil && len(entries) > 0 {
		return usagef("partition: --out %s is not empty; the split must not mix with older files", o.out)
	}
	log, err := o.logger(stderr)
	if err != nil {
		return err
	}
	inputs, err := discover(o.in, log, loaders.DiscoverOptions{})
	if err != nil {
		return err
	}
	files := inputs.Files
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	// The scratch database lives beside the split and goes when done.
	scratch, err := os.MkdirTemp(out, ".scratch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if o.db.path == "" {
		o.db.path = filepath.Join(scratch, "split.duckdb")
	}
	st, err := o.db.open(ctx, scratch)
	if err != nil {
		return err
	}
	defer st.Close()
	loaded, err := loaders.Load(ctx, st, files, loaders.Options{RunID: "partition", Progress: newLoadProgress(stderr), Logger: log})
	if err != nil {
		return err
	}
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
			sel = "SELECT " + strings.Join(cols, ", ") + ", " + detectors.PartitionSQL("publisher_id", o.partitions) + " AS part FROM " + ds.Name
			q = fmt.Sprintf("COPY (%s ORDER BY part, %s) TO %s (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part))",
				sel, ds.Key[0], store.QuoteLiteral(filepath.Join(out, ds.Name)))
		} else {
			q = fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet, COMPRESSION zstd)", sel, store.QuoteLiteral(filepath.Join(out, ds.Name+".parquet")))
		}
		if _, err := st.DB.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("partition: write %s: %w", ds.Name, err)
		}
	}
	if q := loaded.Quarantined(); q > 0 {
		if _, err := st.DB.ExecContext(ctx, "COPY (SELECT dataset, file, line, column_name, reason, value FROM quarantine ORDER BY file, line) TO "+
			store.QuoteLiteral(filepath.Join(out, "quarantine.parquet"))+" (FORMAT parquet)"); err != nil {
			return err
		}
		log.Warn("input rows quarantined and left out of the split", "rows", q, "list", filepath.Join(o.out, "quarantine.parquet"))
	}
	var counts []string
	for _, ds := range []string{"clicks", "orders"} {
		rows, err := st.DB.QueryContext(ctx, fmt.Sprintf("SELECT %s AS part, count(*) FROM %s GROUP BY 1 ORDER BY 1", detectors.PartitionSQL("publisher_id", o.partitions), ds))
		if err != nil {
			return err
		}
		var parts []string
		for rows.Next() {
			var p, n int64
			if err := rows.Scan(&p, &n); err != nil {
				rows.Close()
				return err
			}
			parts = append(parts, fmt.Sprintf("%d:%d", p, n))
		}
		rows.Close()
		counts = append(counts, ds+" "+strings.Join(parts, " "))
	}
	fmt.Fprintf(stdout, "split into %d partitions in %s (rows per partition: %s)\n", o.partitions, o.out, strings.Join(counts, "; "))
	return nil
}
