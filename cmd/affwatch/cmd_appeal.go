package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"affwatch/detectors/all"
	"affwatch/rules/penalty"
)

const appealHelp = `
Records the decision on a publisher's objection (clause G.12: 5 working
days to object, with evidence). A cleared publisher is not escalated for
that detector: its offences up to the decision date no longer count as
history, and the finding appealed is suppressed if the same input produces
it again (the report lists it under "Suppressed findings"). An upheld
appeal is recorded and changes nothing. Recording the same decision twice
is a no-op.

Examples:
  affwatch appeal --db affwatch.duckdb --publisher P000123 --finding cl-3f2a9c0d11b2e4f5 \
      --outcome cleared --by "j.doe (compliance)" --note "school proxy, not a bot; ticket APL-17"
  affwatch appeal --db affwatch.duckdb --publisher P000123 --detector '*' --outcome cleared ...
  affwatch appeal --db affwatch.duckdb --from appeals.csv
      (columns: publisher_id,detector,finding_id,outcome,decided_on,decided_by,note)
  affwatch appeal --db affwatch.duckdb --list`

type appealOptions struct {
	db                  dbOptions
	out                 string
	publisher, detector string
	finding, outcome    string
	by, note, decidedOn string
	from                string
	list                bool
}

func (o *appealOptions) register(fs *flag.FlagSet) {
	o.db.register(fs)
	fs.StringVar(&o.out, "out", "", "output directory of the runs (its affwatch.duckdb), when --db is not given")
	fs.StringVar(&o.publisher, "publisher", "", "publisher id")
	fs.StringVar(&o.detector, "detector", "", `detector code, or "*" for every detector (default: the --finding's)`)
	fs.StringVar(&o.finding, "finding", "", "the finding id appealed")
	fs.StringVar(&o.outcome, "outcome", "", "cleared or upheld")
	fs.StringVar(&o.by, "by", "", "who decided")
	fs.StringVar(&o.note, "note", "", "why (the reviewer's reasons)")
	fs.StringVar(&o.decidedOn, "date", "", "decision date YYYY-MM-DD (default: today, UTC)")
	fs.StringVar(&o.from, "from", "", "CSV file of decisions to record instead of the flags")
	fs.BoolVar(&o.list, "list", false, "list the recorded decisions (with --publisher: that publisher's)")
}

func runAppeal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o appealOptions
	fs := newFlagSet("appeal", "affwatch appeal --db FILE --publisher ID (--finding ID | --detector CODE) --outcome cleared|upheld --by NAME --note TEXT", appealHelp, stderr)
	o.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.db.path == "" && o.out == "" {
		return usagef("appeal: --db (or --out) is required: the database of the nightly runs")
	}
	path := o.db.path
	if path == "" {
		path = filepath.Join(o.out, "affwatch.duckdb")
	}
	if _, err := os.Stat(path); err != nil {
		return usagef("appeal: database %s: %v (decisions go into the database the nightly runs use)", path, err)
	}
	st, err := o.db.open(ctx, o.out)
	if err != nil {
		return err
	}
	defer st.Close()
	if o.list {
		return listAppeals(ctx, st.DB, o.publisher, stdout)
	}
	var appeals []penalty.Appeal
	if o.from != "" {
		f, err := os.Open(o.from)
		if err != nil {
			return usagef("appeal: %v", err)
		}
		defer f.Close()
		if appeals, err = penalty.ReadAppealsCSV(f, o.from); err != nil {
			return usagef("appeal: %v", err)
		}
	} else {
		day := time.Now().UTC().Truncate(24 * time.Hour)
		if o.decidedOn != "" {
			if day, err = time.Parse(time.DateOnly, o.decidedOn); err != nil {
				return usagef("appeal: --date %q: want YYYY-MM-DD", o.decidedOn)
			}
		}
		appeals = []penalty.Appeal{{PublisherID: o.publisher, Detector: o.detector, FindingID: o.finding,
			Outcome: strings.ToLower(o.outcome), DecidedOn: day, DecidedBy: o.by, Note: o.note}}
	}
	for i := range appeals {
		if err := penalty.ResolveDetector(ctx, st.DB, &appeals[i]); err != nil {
			return usagef("appeal: %v", err)
		}
		if err := appeals[i].Validate(); err != nil {
			return usagef("appeal: %v (see affwatch appeal --help)", err)
		}
		if err := knownDetector(appeals[i].Detector); err != nil {
			return usagef("appeal: %v", err)
		}
	}
	added, err := penalty.RecordAppeals(ctx, st.DB, appeals, time.Now())
	if err != nil {
		return err
	}
	for _, a := range appeals {
		fmt.Fprintf(stdout, "%s  %s %s for %s (%s) on %s\n", a.ID(), a.PublisherID, a.Outcome, a.Detector, dashIfEmpty(a.FindingID), a.DecidedOn.Format(time.DateOnly))
	}
	fmt.Fprintf(stdout, "%d decision(s) recorded, %d already there; they apply from the next run.\n", added, len(appeals)-added)
	return nil
}

func listAppeals(ctx context.Context, db *sql.DB, publisher string, stdout io.Writer) error {
	appeals, err := penalty.ListAppeals(ctx, db, publisher)
	if err != nil {
		return err
	}
	if len(appeals) == 0 {
		fmt.Fprintln(stdout, "no appeal decisions recorded")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APPEAL\tPUBLISHER\tDETECTOR\tFINDING\tOUTCOME\tDECIDED\tBY\tNOTE")
	for _, a := range appeals {
		f := []string{a.ID, a.PublisherID, a.Detector, a.FindingID, a.Outcome, a.DecidedOn.Format(time.DateOnly), a.DecidedBy, a.Note}
		for i := range f {
			f[i] = safeTerm(f[i])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f[0], f[1], f[2], dashIfEmpty(f[3]), f[4], f[5], f[6], f[7])
	}
	return tw.Flush()
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// safeTerm keeps hostile text from driving the terminal: control
// characters (ESC, CR, …) are shown as \xNN.
func safeTerm(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&b, `\x%02x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// knownDetector says whether an appeal's detector resolves to a detector
// of the program (or "*"): a misspelt one would never clear anything.
func knownDetector(code string) error {
	if code == "*" {
		return nil
	}
	var codes []string
	for _, d := range all.Detectors() {
		if d.Code() == code {
			return nil
		}
		codes = append(codes, d.Code())
	}
	sort.Strings(codes)
	codes = slices.Compact(codes)
	return fmt.Errorf("detector %q is not a detector of the program (%s, or \"*\")", code, strings.Join(codes, ", "))
}
