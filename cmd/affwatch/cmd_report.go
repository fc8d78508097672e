package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"affwatch/pipeline"
	"affwatch/reports"
)

const reportHelp = `
Writes the outputs of a stored run again, from the database alone: no input
is read, nothing is detected or decided (each stage can be re-run
alone). Use it to rebuild a lost or damaged output directory, to produce the
files of a run somewhere else, or to check that a run's files are what its
rows say: with the same affwatch binary the files are byte-identical to the
run's own, times included (they are the run's, not the re-render's).

The outputs are written as 'affwatch run' writes them, atomically, run.json
last. Only a succeeded run whose rows are still stored can be written; a
later run of the same night replaces them.

Examples:
  affwatch report --db /var/lib/affwatch/affwatch.duckdb --out /tmp/rebuilt
  affwatch report --db affwatch.duckdb --out /reports/2026-11-21 --run 20261122T020000Z-1a2b3c4d`

type reportOptions struct {
	db    dbOptions
	out   string
	runID string
}

func (o *reportOptions) register(fs *flag.FlagSet) {
	o.db.register(fs)
	fs.StringVar(&o.out, "out", "", "output directory (required; created if missing)")
	fs.StringVar(&o.runID, "run", "", "the run to write (default: the latest successful run)")
}

// runReport is `affwatch report`.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o reportOptions
	fs := newFlagSet("report", "affwatch report --db FILE --out DIR [--run RUN_ID]", reportHelp, stderr)
	o.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.out == "" {
		return usagef("report: --out is required (see affwatch report --help)")
	}
	path := o.db.path
	if path == "" {
		path = filepath.Join(o.out, "affwatch.duckdb")
	}
	// Opening would create an empty database.
	if _, err := os.Stat(path); err != nil {
		return usagef("report: database %s: %v", path, err)
	}
	runID, written, err := pipeline.Report(ctx, o.db.config(), o.out, o.runID, version)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run %s: %d finding(s), %d recommendation(s); report: %s\n",
		reports.TerminalSafe(runID), written.Findings, written.Recommendations, filepath.Join(o.out, reports.ReportFile))
	return nil
}
