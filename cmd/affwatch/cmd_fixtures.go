package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"affwatch/fixtures"
)

const fixturesHelp = `
Generates deterministic synthetic datasets for every input (docs/INPUTS.md),
with labeled publishers for each behavioural detector and hard negatives
that must not be flagged. The ground truth goes to labels.csv beside the
data (never into a dataset), for 'make eval' and tests.

Subcommands:
  generate   write the datasets

Example:
  affwatch fixtures generate --seed 7 --clicks 200000 --out /tmp/data --format parquet`

func runFixtures(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "generate" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "Usage: affwatch fixtures generate [flags]\n"+fixturesHelp)
			return nil
		}
		return usagef("fixtures: want 'affwatch fixtures generate [flags]' (see affwatch fixtures --help)")
	}
	var (
		cfg      fixtures.Config
		end      string
		compress string
	)
	fs := newFlagSet("fixtures generate", "affwatch fixtures generate --out DIR [--seed S] [--clicks N] [--format F]", fixturesHelp, stderr)
	fs.Int64Var(&cfg.Seed, "seed", 1, "random seed: the same seed and flags give byte-identical files")
	fs.IntVar(&cfg.Clicks, "clicks", 100_000, "approximate number of click rows")
	fs.StringVar(&cfg.Out, "out", "", "output directory (required)")
	fs.StringVar(&cfg.Format, "format", "csv", "csv, tsv, ndjson, parquet, arrow (IPC file) or arrow-stream")
	fs.StringVar(&compress, "compress", "none", "none, gz or zst (text formats only)")
	fs.IntVar(&cfg.Days, "days", 14, "days of traffic")
	fs.StringVar(&end, "end", "2026-11-21", "last day of traffic (UTC), YYYY-MM-DD")
	fs.BoolVar(&cfg.PartitionByDate, "partition-by-date", false, "write clicks and orders as hive folders NAME/date=YYYY-MM-DD/")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if cfg.Out == "" {
		return usagef("fixtures generate: --out is required")
	}
	var err error
	if cfg.End, err = time.Parse(time.DateOnly, end); err != nil {
		return usagef("--end %q: want YYYY-MM-DD", end)
	}
	if compress != "none" {
		cfg.Compression = compress
	}
	sum, err := fixtures.Generate(ctx, cfg)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(sum.Rows))
	for n := range sum.Rows {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(stdout, "%-11s %10d rows\n", n, sum.Rows[n])
	}
	fmt.Fprintf(stdout, "labels: %s\n", sum.Labels)
	return nil
}
