package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/all"
	"affwatch/loaders"
	"affwatch/reports"
	"affwatch/rules"
	"affwatch/store"
)

// A night split over N machines (issue 8, docs/SCALING.md):
//
//	affwatch run --stage baselines --in DIR --out B --date D        once, the whole input
//	affwatch run --partition i/N --baselines B --in DIR --out Pi --date D   N times, in parallel
//	affwatch merge --out OUT --date D P0 … PN-1                    once: penalties and reports
//
// DIR holds clicks and orders as hive partitions part=0 … part=N-1 of
// detectors.PartitionOf(publisher_id, N) (affwatch partition writes them);
// the other datasets are whole.

// BaselinesManifestName is the file a baselines pass writes last: a
// partition run refuses a baselines folder without it.
const BaselinesManifestName = "baselines.json"

// PartitionManifestName is the file a partition run writes last: the merge
// refuses a partition folder without it.
const PartitionManifestName = "partition.json"

// partitionKey is the hive key the partitioned datasets are split by.
const partitionKey = "part"

// partitionedDatasets are split by publisher; every other dataset is read
// whole by every partition.
var partitionedDatasets = map[string]bool{"clicks": true, "orders": true}

// baselinesManifest describes a baselines pass.
type baselinesManifest struct {
	RunID        string                 `json:"run_id"`
	Night        string                 `json:"night"`
	RulesVersion string                 `json:"rules_version"`
	RulesSHA256  string                 `json:"rules_sha256"`
	ToolVersion  string                 `json:"tool_version"`
	Inputs       []reports.InputFile    `json:"inputs"`
	Tables       []detectors.GlobalFile `json:"tables"`
	Timings      []reports.Timing       `json:"timings"`
	FinishedAt   time.Time              `json:"finished_at"`
}

// partitionManifest describes one partition's hand-over to the merge.
type partitionManifest struct {
	RunID          string `json:"run_id"`
	Partition      string `json:"partition"`
	Index          int    `json:"index"`
	Count          int    `json:"count"`
	Night          string `json:"night"`
	RulesVersion   string `json:"rules_version"`
	RulesSHA256    string `json:"rules_sha256"`
	ToolVersion    string `json:"tool_version"`
	BaselinesRunID string `json:"baselines_run_id"`
	Findings       int    `json:"findings"`
	// ClickDays counts the partition's clicks on the night and the
	// metrics' days before it: the merge holds only the clicks orders are
	// credited to, so it adds these up for affwatch_night_rows.
	ClickDays  []reports.DayRows     `json:"click_days"`
	Inputs     []reports.InputFile   `json:"inputs"`
	Tables     []store.PartitionFile `json:"tables"`
	Timings    []reports.Timing      `json:"timings"`
	StartedAt  time.Time             `json:"started_at"`
	FinishedAt time.Time             `json:"finished_at"`
}

// partitionFiles keeps the files partition part reads: its own hive
// partition of each partitioned dataset and every file of the others. A
// partitioned dataset that is not split by part=… is a contract error: a
// partition run must never judge from a share of the data it cannot name.
func partitionFiles(files []loaders.File, part detectors.Partition) ([]loaders.File, error) {
	var out []loaders.File
	seen := map[string]map[int]bool{}
	for _, f := range files {
		if !partitionedDatasets[f.Dataset] {
			out = append(out, f)
			continue
		}
		v, ok := f.Hive[partitionKey]
		if !ok {
			return nil, usagef("--partition %s: %s is not under a %s=K folder; split clicks and orders by publisher first (affwatch partition --partitions %d)", part, f.Rel, partitionKey, part.Count)
		}
		k, err := strconv.Atoi(v)
		if err != nil || k < 0 || k >= part.Count {
			return nil, usagef("--partition %s: %s is in %s=%s, not a partition of %d (0 … %d)", part, f.Rel, partitionKey, v, part.Count, part.Count-1)
		}
		if seen[f.Dataset] == nil {
			seen[f.Dataset] = map[int]bool{}
		}
		seen[f.Dataset][k] = true
		if k == part.Index {
			out = append(out, f)
		}
	}
	return out, nil
}

// checkPartitionRows fails when a loaded click or order belongs to another
// partition: the input was split with another N or another hash, and the
// partition would judge publishers from part of their rows.
func checkPartitionRows(ctx context.Context, st *store.Store, part detectors.Partition) error {
	for _, table := range []string{"clicks", "orders"} {
		var n int64
		var example *string
		q := fmt.Sprintf(`SELECT count(*), min(publisher_id) FROM %s WHERE %s <> %d`, table, detectors.PartitionSQL("publisher_id", part.Count), part.Index)
		if err := st.DB.QueryRowContext(ctx, q).Scan(&n, &example); err != nil {
			return err
		}
		if n > 0 {
			ex := ""
			if example != nil {
				ex = *example
			}
			return fmt.Errorf("--partition %s: %d %s row(s) belong to other partitions (e.g. publisher %q is in partition %d of %d): split the input with affwatch partition --partitions %d, or the same hash (docs/SCALING.md)",
				part, n, table, ex, detectors.PartitionOf(ex, part.Count), part.Count, part.Count)
		}
	}
	return nil
}

// readBaselines reads and checks a baselines pass against this run.
func readBaselines(dir, night string, pack *rules.Pack, files []loaders.File) (*baselinesManifest, error) {
	body, err := os.ReadFile(filepath.Join(dir, BaselinesManifestName))
	if err != nil {
		return nil, usagef("--baselines %s: %v (run affwatch run --stage baselines --date %s first; a pass that did not finish has no %s)", dir, err, night, BaselinesManifestName)
	}
	var m baselinesManifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("--baselines %s: %s: %w", dir, BaselinesManifestName, err)
	}
	if m.Night != night {
		return nil, usagef("--baselines %s was computed for night %s, not %s", dir, m.Night, night)
	}
	if m.RulesSHA256 != pack.SHA256 {
		return nil, usagef("--baselines %s was computed with rule pack %s (sha256 %.12s…), this run has %s (%.12s…): thresholds would differ between partitions", dir, m.RulesVersion, m.RulesSHA256, pack.Version, pack.SHA256)
	}
	// Every file the partition reads must be one the baselines pass read,
	// unchanged: otherwise the population it is judged against is another.
	known := map[string]string{}
	for _, in := range m.Inputs {
		known[in.Path] = in.SHA256
	}
	for _, f := range files {
		sum, ok := known[f.Rel]
		if !ok {
			return nil, usagef("--baselines %s did not read %s: recompute the baselines over the same input", dir, f.Rel)
		}
		if sum != f.SHA256 {
			return nil, usagef("%s changed since the baselines pass %s read it (sha256 %.12s… then, %.12s… now): recompute the baselines", f.Rel, m.RunID, sum, f.SHA256)
		}
	}
	return &m, nil
}

// writeJSONFile writes v to path through a temporary file and a rename, so
// a reader sees the whole file or none.
func writeJSONFile(path string, v any) error {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(body, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// commitDir moves every file of tmp into dir (replacing) and removes tmp.
func commitDir(tmp, dir string) error {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return os.Remove(tmp)
}

// finishBaselines computes every detector's program-wide tables over the
// whole input and writes them, with baselines.json last, into r.cfg.Out.
func (r *nightRun) finishBaselines(ctx context.Context) error {
	st, pack, runID, log := r.st, r.cfg.Pack, r.runID, r.log
	t0 := beginStage(log, "baselines")
	env := detectors.Env{DB: st.DB, RunID: runID, Night: r.night, Pack: pack, Signals: &detectors.Signals{}, Log: log}
	tables, err := detectors.AllGlobalTables(ctx, env, all.Detectors())
	if err != nil {
		return err
	}
	if err := detectors.PrepareGlobals(detectors.WithRowFingerprints(ctx), env, tables); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(r.cfg.Out, ".baselines-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	absTmp, err := filepath.Abs(tmp)
	if err != nil {
		return err
	}
	files, err := detectors.ExportGlobals(ctx, st.DB, absTmp, tables)
	if err != nil {
		return err
	}
	r.timed("baselines", t0)
	m := baselinesManifest{RunID: runID, Night: r.dateString(), RulesVersion: pack.Version, RulesSHA256: pack.SHA256, ToolVersion: r.cfg.ToolVersion,
		Inputs: inputFiles(r.loaded), Tables: files, Timings: r.timings, FinishedAt: time.Now().UTC()}
	// An older baselines.json must not vouch for the new tables while they
	// are being moved in.
	if err := os.Remove(filepath.Join(r.cfg.Out, BaselinesManifestName)); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := commitDir(absTmp, r.cfg.Out); err != nil {
		return err
	}
	if err := succeedRun(ctx, st, runID, m); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(r.cfg.Out, BaselinesManifestName), m); err != nil {
		return err
	}
	var rows int64
	for _, f := range files {
		rows += f.Rows
	}
	log.Info("baselines written", "tables", len(files), "rows", rows, "out", r.cfg.Out)
	r.result.Tables = len(files)
	return errDone
}

// finishPartition writes the partition's hand-over to the merge into r.cfg.Out,
// partition.json last.
func (r *nightRun) finishPartition(ctx context.Context) error {
	st, pack, runID, log, part, b := r.st, r.cfg.Pack, r.runID, r.log, r.cfg.Part, r.baselines
	t0 := beginStage(log, "hand-over")
	if err := os.Remove(filepath.Join(r.cfg.Out, PartitionManifestName)); err != nil && !os.IsNotExist(err) {
		return err
	}
	tmp, err := os.MkdirTemp(r.cfg.Out, ".partition-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tables, err := store.ExportPartition(ctx, st.DB, runID, tmp, part.Index == 0)
	if err != nil {
		return err
	}
	clickDays, err := reports.NightClickDays(ctx, st.DB, r.night.Date)
	if err != nil {
		return err
	}
	r.timed("hand-over", t0)
	m := partitionManifest{ClickDays: clickDays, RunID: runID, Partition: part.String(), Index: part.Index, Count: part.Count, Night: r.dateString(),
		RulesVersion: pack.Version, RulesSHA256: pack.SHA256, ToolVersion: r.cfg.ToolVersion, BaselinesRunID: b.RunID,
		Findings: len(r.findings), Inputs: inputFiles(r.loaded), Tables: tables, Timings: r.timings,
		StartedAt: r.started, FinishedAt: time.Now().UTC()}
	if err := commitDir(tmp, r.cfg.Out); err != nil {
		return err
	}
	if err := succeedRun(ctx, st, runID, m); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(r.cfg.Out, PartitionManifestName), m); err != nil {
		return err
	}
	log.Info("partition finished", "partition", part.String(), "findings", len(r.findings), "out", r.cfg.Out)
	r.result.Findings, r.result.QuarantinedRows = len(r.findings), int(r.loaded.Quarantined())
	return errDone
}
