package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"affwatch/pipeline"
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
	counts, err := pipeline.SplitInput(ctx, o.in, o.out, o.partitions, o.db.config(), newLoadProgress(stderr), log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "split into %d partitions in %s (rows per partition: %s)\n", o.partitions, o.out, strings.Join(counts, "; "))
	return nil
}
