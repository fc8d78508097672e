package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"affwatch/reports"
	"affwatch/rules"
)

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
