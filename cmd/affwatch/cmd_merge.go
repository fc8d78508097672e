package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"affwatch/pipeline"
	"affwatch/reports"
)

const mergeHelp = `
Combines the partitions of a night (affwatch run --partition i/N) into the
outputs a whole run writes: findings.ndjson, recommendations, the
Disqualified Purchases Report, report.html and run.json (see affwatch run
--help). Each argument is the --out folder of one partition; all N must be
given, each with its partition.json (a partition that did not finish has
none), all of the same night, rule pack and baselines pass.

The merge is where penalties are decided: it needs the history of earlier
nights, so --db is the program's long-lived database (the partitions'
databases are scratch). It takes from each partition its findings, its
orders and the clicks they are credited to, its click counts for the
night's metrics, the profiles, its crawl rows, load ledger and
quarantine: enough for the penalty ladder, clause 7.8's money and every
figure of the report, not the bulk of the clicks. Those orders and clicks
pile up night after night; --retain-days N drops the ones older than N
days before the night once it is committed (N must cover the rule pack's
longest look-back: the findings name orders that far back).

Example (docs/SCALING.md shows it as a Kubernetes Indexed Job):
  affwatch run --stage baselines --in /data/2026-11-21 --out /work/base --date 2026-11-21
  affwatch run --partition 0/4 --baselines /work/base --in /data/2026-11-21 --out /work/p0 --date 2026-11-21 --no-crawl
  …                                                      (1/4, 2/4, 3/4 on other machines)
  affwatch merge --db /var/lib/affwatch/affwatch.duckdb --out /reports/2026-11-21 /work/p0 /work/p1 /work/p2 /work/p3`

type mergeOptions struct {
	out, rulesPath, date string
	metricsFile          string
	retainDays           int
	db                   dbOptions
	logging
}

func (o *mergeOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.out, "out", "", "output directory (required; created if missing)")
	fs.StringVar(&o.rulesPath, "rules", "", "rule pack YAML: the one the partitions ran with (default: the embedded pack)")
	fs.StringVar(&o.date, "date", "", "the night, YYYY-MM-DD; checked against the partitions' (default: theirs)")
	fs.StringVar(&o.metricsFile, "metrics-file", "", "write Prometheus text-format metrics here at the end")
	fs.IntVar(&o.retainDays, "retain-days", 0, "after the night is committed, drop from --db the raw orders and clicks older than this many days before it (0: keep everything); must cover the longest look-back of the pack's detectors, as run --retain-days")
	o.db.register(fs)
	o.db.registerCompaction(fs)
	o.logging.register(fs)
}

// runMerge is `affwatch merge`.
func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o mergeOptions
	fs := newFlagSet("merge", "affwatch merge --out DIR [--db FILE] [--rules FILE] PARTITION_DIR...", mergeHelp, stderr)
	o.register(fs)
	dirs, err := parseFlagsAndArgs(fs, args)
	if err != nil {
		return err
	}
	if o.out == "" || len(dirs) == 0 {
		return usagef("merge: --out and the partitions' folders are required (see affwatch merge --help)")
	}
	if err := o.db.checkCompaction(); err != nil {
		return err
	}
	log, err := o.logger(stderr)
	if err != nil {
		return err
	}
	res, err := pipeline.Merge(ctx, pipeline.MergeConfig{Out: o.out, RulesPath: o.rulesPath, Date: o.date, Dirs: dirs,
		MetricsFile: o.metricsFile, DB: o.db.config(), RetainDays: o.retainDays, ToolVersion: version, Log: log})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d finding(s), %d recommendation(s), %d quarantined row(s); report: %s\n",
		res.Findings, res.Recommendations, res.QuarantinedRows, filepath.Join(o.out, reports.ReportFile))
	return nil
}
