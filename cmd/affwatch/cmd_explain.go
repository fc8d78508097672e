package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"affwatch/reports"
)

const explainHelp = `
Prints what the database holds against one publisher, for an analyst at a
terminal: the recommended action (clause F.11) with its money, appeal
deadline (G.12) and why (severity, confidence, earlier strikes), then every
finding with its score, clause, window, orders at stake and evidence as an
indented tree; findings the allow-list or an appeal suppressed; the
publisher's findings and recommendations on other nights, one line each;
its cases (publisher × detector) night by night and what the 7.8 ledger
holds for it; and the appeals decided.

By default it shows the latest successful run; --date shows the latest
successful run of that night, --run a given run, --all-nights every night
the database still holds. Text from the logs and crawled pages is printed
with control characters escaped (\x1b), never raw. Exit status 2 when the
database does not exist or the publisher has no findings there; without
--run or --date a publisher with cases (findings cleared on appeal, say)
is shown with its case history even when the latest run holds nothing of
it.

Examples:
  affwatch explain P000111 --out /reports/2026-11-21
  affwatch explain P000111 --db /var/lib/affwatch/affwatch.duckdb --date 2026-11-21
  affwatch explain P000111 --db affwatch.duckdb --all-nights --format json | jq '.runs[].findings[].evidence'`

type explainOptions struct {
	db        dbOptions
	out       string
	runID     string
	date      string
	allNights bool
	format    string
	history   int
}

func (o *explainOptions) register(fs *flag.FlagSet) {
	o.db.register(fs)
	fs.StringVar(&o.out, "out", "", "output directory of a run (its affwatch.duckdb), when --db is not given")
	fs.StringVar(&o.runID, "run", "", "show this run (default: the latest successful run)")
	fs.StringVar(&o.date, "date", "", "show the latest successful run of this night, YYYY-MM-DD")
	fs.BoolVar(&o.allNights, "all-nights", false, "show every night stored, not one run")
	fs.StringVar(&o.format, "format", "text", "text (for a terminal) or json")
	fs.IntVar(&o.history, "history", reports.DefaultExplainHistory, "lines of other nights' findings and recommendations to show")
}

// runExplain is `affwatch explain PUBLISHER_ID`.
func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o explainOptions
	fs := newFlagSet("explain", "affwatch explain PUBLISHER_ID [--db FILE | --out DIR] [--run RUN_ID | --date YYYY-MM-DD] [--all-nights] [--format text|json]", explainHelp, stderr)
	o.register(fs)
	// The publisher id may come before, between or after the flags (the
	// flag package stops at the first argument that is not a flag).
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usagef("explain: %v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) > 1 {
		return usagef("explain: unexpected argument %q (one publisher id at a time)", positional[1])
	}
	var publisher string
	if len(positional) == 1 {
		publisher = positional[0]
	}
	if publisher == "" {
		return usagef("explain: which publisher? (affwatch explain PUBLISHER_ID --db FILE; see --help)")
	}
	if o.format != "text" && o.format != "json" {
		return usagef("explain: --format must be text or json, not %q", o.format)
	}
	n := 0
	for _, set := range []bool{o.runID != "", o.date != "", o.allNights} {
		if set {
			n++
		}
	}
	if n > 1 {
		return usagef("explain: give at most one of --run, --date and --all-nights")
	}
	q := reports.ExplainQuery{PublisherID: publisher, RunID: o.runID, AllNights: o.allNights, History: o.history}
	if o.date != "" {
		night, err := time.Parse(time.DateOnly, o.date)
		if err != nil {
			return usagef("explain: --date %q: want YYYY-MM-DD", o.date)
		}
		q.Night = night
	}
	if o.db.path == "" && o.out == "" {
		return usagef("explain: --db or --out is required: the database of the nightly runs")
	}
	path := o.db.path
	if path == "" {
		path = filepath.Join(o.out, "affwatch.duckdb")
	}
	// Opening would create an empty database: a typo in the path must say
	// so instead of "no findings".
	if _, err := os.Stat(path); err != nil {
		return usagef("explain: database %s: %v", path, err)
	}
	st, err := o.db.open(ctx, o.out)
	if err != nil {
		return err
	}
	defer st.Close()

	e, err := reports.Explain(ctx, st.DB, q)
	var nf *reports.NoFindingsError
	switch {
	case errors.As(err, &nf), errors.Is(err, reports.ErrNoRun):
		return usagef("explain: %v", err)
	case err != nil:
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	}
	if err := e.WriteText(stdout); err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	return nil
}
