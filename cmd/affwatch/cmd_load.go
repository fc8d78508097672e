package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"affwatch/pipeline"
)

const loadHelp = `
Loads the datasets of --in into the database and stops: no detection, no
reports. Useful to check a delivery: every row that does not meet the
contract is counted here and kept in the quarantine table with its file,
line, column and reason.`

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		in, out, date string
		strict        bool
		db            dbOptions
		lg            logging
	)
	fs := newFlagSet("load", "affwatch load --in DIR --out DIR [--db FILE] [--date YYYY-MM-DD]", loadHelp, stderr)
	fs.StringVar(&in, "in", "", "input directory (required)")
	fs.StringVar(&out, "out", "", "output directory holding the database (required unless --db)")
	fs.StringVar(&date, "date", "", "night being loaded, YYYY-MM-DD: its rows replace that night's stored rows")
	fs.BoolVar(&strict, "strict", false, "exit non-zero if any row is quarantined")
	db.register(fs)
	lg.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if in == "" || (out == "" && db.path == "") {
		return usagef("load: --in and --out (or --db) are required")
	}
	log, err := lg.logger(stderr)
	if err != nil {
		return err
	}
	var night time.Time
	if date != "" {
		if night, err = time.Parse(time.DateOnly, date); err != nil {
			return usagef("--date %q: want YYYY-MM-DD", date)
		}
	}
	res, dbPath, err := pipeline.LoadOnly(ctx, in, out, night, db.config(), newLoadProgress(stderr), log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-10s %-40s %-9s %12s %12s\n", "DATASET", "FILE", "STATUS", "LOADED", "QUARANTINED")
	for _, f := range res.Files {
		fmt.Fprintf(stdout, "%-10s %-40s %-9s %12d %12d\n", f.Dataset, f.Rel, f.Status, f.RowsLoaded, f.RowsQuarantined)
	}
	if q := res.Quarantined(); q > 0 && strict {
		return fmt.Errorf("--strict: %d row(s) quarantined (SELECT * FROM quarantine in %s)", q, dbPath)
	}
	return nil
}
