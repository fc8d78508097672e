package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"affwatch/detectors"
	"affwatch/reports"
	"affwatch/rules"
	"affwatch/rules/penalty"
	"affwatch/store"
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
orders, the clicks of its flagged publishers and the clicks its orders are
credited to, the profiles, its crawl rows, load ledger and quarantine:
enough for the penalty ladder, clause 7.8's money and every figure of the
report, not the bulk of the clicks.

Example (docs/SCALING.md shows it as a Kubernetes Indexed Job):
  affwatch run --stage baselines --in /data/2026-11-21 --out /work/base --date 2026-11-21
  affwatch run --partition 0/4 --baselines /work/base --in /data/2026-11-21 --out /work/p0 --date 2026-11-21 --no-crawl
  …                                                      (1/4, 2/4, 3/4 on other machines)
  affwatch merge --db /var/lib/affwatch/affwatch.duckdb --out /reports/2026-11-21 /work/p0 /work/p1 /work/p2 /work/p3`

type mergeOptions struct {
	out, rulesPath, date string
	metricsFile          string
	db                   dbOptions
	logging
}

func (o *mergeOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.out, "out", "", "output directory (required; created if missing)")
	fs.StringVar(&o.rulesPath, "rules", "", "rule pack YAML: the one the partitions ran with (default: the embedded pack)")
	fs.StringVar(&o.date, "date", "", "the night, YYYY-MM-DD; checked against the partitions' (default: theirs)")
	fs.StringVar(&o.metricsFile, "metrics-file", "", "write Prometheus text-format metrics here at the end")
	o.db.register(fs)
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
	log, err := o.logger(stderr)
	if err != nil {
		return err
	}
	written, err := mergePartitions(ctx, o, dirs, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d finding(s), %d recommendation(s), %d quarantined row(s); report: %s\n",
		written.Findings, written.Recommendations, written.QuarantinedRows, filepath.Join(o.out, reports.ReportFile))
	return nil
}

// readPartitions reads and cross-checks the partitions' manifests and
// returns them in partition order.
func readPartitions(dirs []string, date string, pack *rules.Pack) ([]partitionManifest, []string, error) {
	type part struct {
		m   partitionManifest
		dir string
	}
	var parts []part
	for _, dir := range dirs {
		body, err := os.ReadFile(filepath.Join(dir, PartitionManifestName))
		if err != nil {
			return nil, nil, usagef("merge: %s: %v (a partition that did not finish writes no %s: run it again)", dir, err, PartitionManifestName)
		}
		var m partitionManifest
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, nil, fmt.Errorf("merge: %s: %w", filepath.Join(dir, PartitionManifestName), err)
		}
		parts = append(parts, part{m, dir})
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].m.Index < parts[j].m.Index })
	first := parts[0].m
	if date == "" {
		date = first.Night
	}
	if first.Count != len(parts) {
		return nil, nil, usagef("merge: the night was split into %d partitions, %d folder(s) given", first.Count, len(parts))
	}
	for i, p := range parts {
		switch {
		case p.m.Index != i:
			return nil, nil, usagef("merge: partition %d/%d is missing or given twice (%s is %s)", i, first.Count, p.dir, p.m.Partition)
		case p.m.Count != first.Count:
			return nil, nil, usagef("merge: %s is partition %s, %s is %s: one split, please", parts[0].dir, first.Partition, p.dir, p.m.Partition)
		case p.m.Night != date:
			return nil, nil, usagef("merge: %s is night %s, not %s", p.dir, p.m.Night, date)
		case p.m.RulesSHA256 != pack.SHA256:
			return nil, nil, usagef("merge: %s ran with rule pack %s (sha256 %.12s…), this merge has %s (%.12s…): pass the same --rules", p.dir, p.m.RulesVersion, p.m.RulesSHA256, pack.Version, pack.SHA256)
		case p.m.BaselinesRunID != first.BaselinesRunID:
			return nil, nil, usagef("merge: %s used baselines %s, %s used %s: every partition must read the same baselines pass", parts[0].dir, first.BaselinesRunID, p.dir, p.m.BaselinesRunID)
		}
	}
	ms := make([]partitionManifest, len(parts))
	ds := make([]string, len(parts))
	for i, p := range parts {
		ms[i], ds[i] = p.m, p.dir
	}
	return ms, ds, nil
}

// mergePartitions gathers the partitions into the database and writes the
// outputs as a whole run does, from the penalties on.
func mergePartitions(ctx context.Context, o mergeOptions, dirs []string, log *slog.Logger) (_ reports.Written, err error) {
	started := time.Now().UTC()
	var timings []reports.Timing
	stage := func(name string, t0 time.Time) {
		timings = append(timings, reports.Timing{Stage: name, Seconds: time.Since(t0).Seconds()})
	}
	var runID string
	metrics := &metricsWriter{path: o.metricsFile, log: log}
	defer func() { metrics.write(ctx, err == nil, timings) }()
	pack, err := rules.Load(o.rulesPath)
	if err != nil {
		return reports.Written{}, err
	}
	parts, dirs, err := readPartitions(dirs, o.date, pack)
	if err != nil {
		return reports.Written{}, err
	}
	night, err := time.Parse(time.DateOnly, parts[0].Night)
	if err != nil {
		return reports.Written{}, fmt.Errorf("merge: night %q: %w", parts[0].Night, err)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return reports.Written{}, fmt.Errorf("create output directory: %w", err)
	}
	st, err := o.db.open(ctx, o.out)
	if err != nil {
		return reports.Written{}, err
	}
	defer st.Close()
	runID = newRunID(started)
	log = log.With("run", runID)
	markFailed, err := recordRun(ctx, st, runID, "merge", night, started, pack)
	if err != nil {
		return reports.Written{}, err
	}
	metrics.db, metrics.runID = st.DB, runID
	defer func() { metrics.write(ctx, err == nil, timings) }() // before the store closes
	defer func() { markFailed(err) }()
	log.Info("merge started", "partitions", len(parts), "night", parts[0].Night, "db", st.Path())

	t0 := beginStage(log, "merge")
	tx, err := st.DB.BeginTx(ctx, nil)
	if err != nil {
		return reports.Written{}, err
	}
	for i, dir := range dirs {
		if err := store.ImportPartition(ctx, tx, runID, dir, i == 0); err != nil {
			tx.Rollback()
			return reports.Written{}, err
		}
	}
	if err := store.ImportSignals(ctx, tx, runID, dirs); err != nil {
		tx.Rollback()
		return reports.Written{}, err
	}
	if err := tx.Commit(); err != nil {
		return reports.Written{}, err
	}
	findings, err := detectors.ReadFindings(ctx, st.DB, runID)
	if err != nil {
		return reports.Written{}, err
	}
	stage("merge", t0)
	log.Info("partitions merged", "findings", len(findings))

	t0 = beginStage(log, "penalties")
	if _, err := penalty.Apply(ctx, st.DB, pack, runID, night, night, findings); err != nil {
		return reports.Written{}, err
	}
	stage("penalties", t0)

	inputs, err := mergedInputs(ctx, st.DB, runID)
	if err != nil {
		return reports.Written{}, err
	}
	meta := reports.Meta{
		RunID: runID, Command: "merge", ToolVersion: version, Night: night,
		InputDir: dirs[0], DBPath: st.Path(), RulesSource: pack.Source, RulesVersion: pack.Version, RulesSHA256: pack.SHA256,
		StartedAt: started, Inputs: inputs,
	}
	t0 = beginStage(log, "report")
	meta.Timings = append(timings, reports.Timing{Stage: "report"})
	meta.FinishedAt = time.Now().UTC()
	written, err := reports.Write(ctx, st.DB, o.out, meta)
	if err != nil {
		return reports.Written{}, err
	}
	stage("report", t0)
	beginStage(log, "commit")
	if _, err := commitResults(ctx, st, runID, night, written.Manifest); err != nil {
		return reports.Written{}, err
	}
	log.Info("merge finished", "findings", written.Findings, "recommendations", written.Recommendations, "seconds", fmt.Sprintf("%.1f", time.Since(started).Seconds()))
	return written, nil
}

// mergedInputs lists the input files the merged partitions loaded, from
// the ledger rows the merge took over (with their new file ids).
func mergedInputs(ctx context.Context, db *sql.DB, runID string) ([]reports.InputFile, error) {
	rows, err := db.QueryContext(ctx, `SELECT dataset, path, sha256, format, compression, size_bytes, file_id, rows_read, rows_loaded, rows_quarantined
		FROM load_ledger WHERE run_id = ? ORDER BY dataset, path, file_id`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []reports.InputFile
	for rows.Next() {
		var f reports.InputFile
		if err := rows.Scan(&f.Dataset, &f.Path, &f.SHA256, &f.Format, &f.Compression, &f.SizeBytes, &f.FileID, &f.RowsRead, &f.RowsLoaded, &f.RowsQuarantined); err != nil {
			return nil, err
		}
		f.Status = "loaded"
		out = append(out, f)
	}
	return out, rows.Err()
}
