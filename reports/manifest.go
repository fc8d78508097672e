package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"unicode/utf8"
)

// ManifestVersion is the version of run.json's layout; it grows when a
// field changes meaning or goes away (adding one does not bump it).
const ManifestVersion = 1

// Bounds of the manifest's quarantine summary: run.json must stay small
// whatever the input, so it carries a sample and counts, and the
// quarantine table holds every row.
const (
	// MaxQuarantineRows is how many quarantined rows run.json and the
	// report list (the first by dataset, file, line).
	MaxQuarantineRows = 100
	// MaxQuarantineReasons is how many (dataset, reason) counts they list,
	// most frequent first: a loader that put the bad value into the reason
	// would otherwise make one entry per row.
	MaxQuarantineReasons = 100
	// MaxQuarantineValueRunes cuts the offending raw value shown.
	MaxQuarantineValueRunes = 200
)

// Manifest is run.json (DESIGN §6). Field order is fixed by the struct and
// maps are written with sorted keys, so two runs of the same input differ
// only by timestamps and timings.
type Manifest struct {
	ManifestVersion    int                      `json:"manifest_version"`
	ToolVersion        string                   `json:"tool_version"`
	RunID              string                   `json:"run_id"`
	Command            string                   `json:"command"`
	Night              *string                  `json:"night"` // YYYY-MM-DD; null for a backfill
	StartedAt          *string                  `json:"started_at"`
	FinishedAt         *string                  `json:"finished_at"`
	InputDir           string                   `json:"input_dir"`
	DBPath             string                   `json:"db_path"`
	Strict             bool                     `json:"strict"`
	Rules              RulesInfo                `json:"rules"`
	Inputs             []InputFile              `json:"inputs"` // by dataset, path
	SkippedInputs      []string                 `json:"skipped_inputs,omitempty"`
	InputWarnings      []string                 `json:"input_warnings,omitempty"`
	Totals             map[string]DatasetTotals `json:"totals"` // by dataset
	Quarantine         QuarantineSummary        `json:"quarantine"`
	SignalsUnavailable []SignalUnavailable      `json:"signals_unavailable"`
	// ReferenceLists are the maintained lists the run labeled traffic
	// with (loaders/reflists): name, version, SHA-256, entries, matches.
	ReferenceLists []ReferenceList `json:"reference_lists"`
	Timings        []Timing        `json:"timings"`
	Counts         Counts          `json:"counts"`
	// Outputs are the other files (OutputNames) with their hashes; empty in the
	// manifest BuildManifest returns, filled by Write.
	Outputs []OutputFile `json:"outputs"`
}

// RulesInfo names the rule pack the run used.
type RulesInfo struct {
	Source  string `json:"source"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// DatasetTotals adds up a dataset's input files.
type DatasetTotals struct {
	Files           int   `json:"files"`
	FilesLoaded     int   `json:"files_loaded"`
	FilesUnchanged  int   `json:"files_unchanged"`
	SizeBytes       int64 `json:"size_bytes"`
	RowsRead        int64 `json:"rows_read"`
	RowsLoaded      int64 `json:"rows_loaded"`
	RowsQuarantined int64 `json:"rows_quarantined"`
}

// QuarantineSummary counts the quarantined rows of the run's input files
// (those loaded this run and, for unchanged files, those quarantined when
// the file was first loaded: the data the run judged lacks them all).
type QuarantineSummary struct {
	// Rows are the input rows set aside; Problems the reasons found in
	// them (one row can have several: the quarantine table holds one line
	// per problem, and ByReason and FirstRows count problems).
	Rows      int64            `json:"rows"`
	Problems  int64            `json:"problems"`
	ByDataset map[string]int64 `json:"by_dataset"`
	// ByReason is most frequent first, at most MaxQuarantineReasons;
	// ReasonsOmitted counts the (dataset, reason) pairs left out.
	ByReason       []ReasonCount   `json:"by_reason"`
	ReasonsOmitted int64           `json:"reasons_omitted"`
	FirstRows      []QuarantineRow `json:"first_rows"`
}

// ReasonCount is how many rows of a dataset were quarantined for a reason.
type ReasonCount struct {
	Dataset string `json:"dataset"`
	Reason  string `json:"reason"`
	Count   int64  `json:"count"`
}

// QuarantineRow is one quarantined row: where it was and why.
type QuarantineRow struct {
	Dataset string `json:"dataset"`
	File    string `json:"file"`
	Line    int64  `json:"line"`
	Column  string `json:"column"` // "" when the whole row is at fault
	Reason  string `json:"reason"`
	Value   string `json:"value"` // cut to MaxQuarantineValueRunes
}

// SignalUnavailable is a signal a detector went without (DESIGN §3).
type SignalUnavailable struct {
	Detector string `json:"detector"`
	Signal   string `json:"signal"`
	Reason   string `json:"reason"`
}

// Counts sums up the run's results.
type Counts struct {
	Findings                   int                       `json:"findings"`
	FindingsByDetector         map[string]int            `json:"findings_by_detector"`
	FindingsBySeverity         map[string]int            `json:"findings_by_severity"`
	FindingsByDetectorSeverity map[string]map[string]int `json:"findings_by_detector_severity"`
	PublishersFlagged          int                       `json:"publishers_flagged"`
	PublishersByDetector       map[string]int            `json:"publishers_by_detector"`
	Recommendations            int                       `json:"recommendations"`
	RecommendationsByAction    map[string]int            `json:"recommendations_by_action"`
	ReviewRequired             int                       `json:"review_required"`
	WithholdUSD                Money                     `json:"withhold_usd"`
	ClawbackUSD                Money                     `json:"clawback_usd"`
	DisqualifiedOrders         int                       `json:"disqualified_orders"`
	DisqualifiedCommissionUSD  Money                     `json:"disqualified_commission_usd"`
	// Dispositions are tonight's rows of the ledger (disqualified_orders.csv)
	// per change, with the money they move; Ledger is what the database
	// holds once this run counts.
	Dispositions map[string]DispositionCount `json:"dispositions"`
	Ledger       LedgerTotals                `json:"ledger"`
}

// DispositionCount is tonight's rows of one change (new, amended,
// released) and the money they move.
type DispositionCount struct {
	Orders      int   `json:"orders"`
	WithholdUSD Money `json:"withhold_usd"`
	ClawbackUSD Money `json:"clawback_usd"`
}

// LedgerTotals is the disposition ledger's state: orders still held and
// the money withheld and clawed back over every night. The nightly
// disqualified_orders.csv files add up to these amounts.
type LedgerTotals struct {
	OrdersHeld    int   `json:"orders_held"`
	WithheldUSD   Money `json:"withheld_usd"`
	ClawedBackUSD Money `json:"clawed_back_usd"`
}

// OutputFile is one written output.
type OutputFile struct {
	Name      string `json:"name"`
	SHA256    string `json:"sha256"`
	SizeBytes int64  `json:"size_bytes"`
}

// BuildManifest gathers run.json's content, without Outputs (Write adds
// them once the files exist), from meta and the run's rows.
func BuildManifest(ctx context.Context, db *sql.DB, meta Meta) (Manifest, error) {
	m := Manifest{
		ManifestVersion:    ManifestVersion,
		ToolVersion:        meta.ToolVersion,
		RunID:              meta.RunID,
		Command:            meta.Command,
		InputDir:           meta.InputDir,
		DBPath:             meta.DBPath,
		Strict:             meta.Strict,
		Rules:              RulesInfo{Source: meta.RulesSource, Version: meta.RulesVersion, SHA256: meta.RulesSHA256},
		Totals:             map[string]DatasetTotals{},
		SignalsUnavailable: []SignalUnavailable{},
		ReferenceLists:     []ReferenceList{},
		Timings:            []Timing{},
		Outputs:            []OutputFile{},
	}
	if !meta.Night.IsZero() {
		s := meta.Night.Format("2006-01-02")
		m.Night = &s
	}
	if !meta.StartedAt.IsZero() {
		s := timestamp(meta.StartedAt)
		m.StartedAt = &s
	}
	if !meta.FinishedAt.IsZero() {
		s := timestamp(meta.FinishedAt)
		m.FinishedAt = &s
	}
	for _, t := range meta.Timings {
		if math.IsNaN(t.Seconds) || math.IsInf(t.Seconds, 0) {
			return Manifest{}, fmt.Errorf("build manifest: timing of %s is %v", t.Stage, t.Seconds)
		}
		m.Timings = append(m.Timings, t)
	}

	// The caller's order of inputs follows its directory walk; sort so the
	// manifest does not depend on it.
	m.Inputs = append([]InputFile{}, meta.Inputs...)
	m.SkippedInputs, m.InputWarnings = meta.SkippedInputs, meta.InputWarnings
	sort.SliceStable(m.Inputs, func(i, j int) bool {
		a, b := m.Inputs[i], m.Inputs[j]
		if a.Dataset != b.Dataset {
			return a.Dataset < b.Dataset
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.FileID < b.FileID
	})
	fileIDs := make([]int64, 0, len(m.Inputs))
	for _, in := range m.Inputs {
		t := m.Totals[in.Dataset]
		t.Files++
		switch in.Status {
		case "loaded":
			t.FilesLoaded++
		case "unchanged":
			t.FilesUnchanged++
		}
		t.SizeBytes += in.SizeBytes
		t.RowsRead += in.RowsRead
		t.RowsLoaded += in.RowsLoaded
		t.RowsQuarantined += in.RowsQuarantined
		m.Totals[in.Dataset] = t
		fileIDs = append(fileIDs, in.FileID)
	}

	var err error
	if m.Quarantine, err = readQuarantine(ctx, db, fileIDs); err != nil {
		return Manifest{}, fmt.Errorf("build manifest: %w", err)
	}
	if m.SignalsUnavailable, err = readSignals(ctx, db, meta.RunID); err != nil {
		return Manifest{}, fmt.Errorf("build manifest: %w", err)
	}
	if m.ReferenceLists, err = readReferenceLists(ctx, db, meta.RunID); err != nil {
		return Manifest{}, fmt.Errorf("build manifest: %w", err)
	}
	if m.Counts, err = readCounts(ctx, db, meta.RunID); err != nil {
		return Manifest{}, fmt.Errorf("build manifest: %w", err)
	}
	return m, nil
}

func readQuarantine(ctx context.Context, db *sql.DB, fileIDs []int64) (QuarantineSummary, error) {
	q := QuarantineSummary{ByDataset: map[string]int64{}, ByReason: []ReasonCount{}, FirstRows: []QuarantineRow{}}
	err := eachRow(ctx, db, "QuarantineByDataset", []any{fileIDs}, func(rows *sql.Rows) error {
		var ds string
		var n, problems int64
		if err := rows.Scan(&ds, &n, &problems); err != nil {
			return err
		}
		q.ByDataset[ds] = n
		q.Rows += n
		q.Problems += problems
		return nil
	})
	if err != nil {
		return q, err
	}
	var pairs int64
	err = eachRow(ctx, db, "QuarantineByReason", []any{fileIDs, MaxQuarantineReasons}, func(rows *sql.Rows) error {
		var r ReasonCount
		if err := rows.Scan(&r.Dataset, &r.Reason, &r.Count, &pairs); err != nil {
			return err
		}
		q.ByReason = append(q.ByReason, r)
		return nil
	})
	if err != nil {
		return q, err
	}
	q.ReasonsOmitted = pairs - int64(len(q.ByReason))
	if q.ReasonsOmitted < 0 {
		q.ReasonsOmitted = 0
	}
	// Cut in SQL at a few times the rune limit (bytes of the value), then
	// exactly here.
	err = eachRow(ctx, db, "QuarantineRows", []any{4 * MaxQuarantineValueRunes, fileIDs, MaxQuarantineRows}, func(rows *sql.Rows) error {
		var r QuarantineRow
		if err := rows.Scan(&r.Dataset, &r.File, &r.Line, &r.Column, &r.Reason, &r.Value); err != nil {
			return err
		}
		r.Value = truncateRunes(r.Value, MaxQuarantineValueRunes)
		q.FirstRows = append(q.FirstRows, r)
		return nil
	})
	return q, err
}

func readSignals(ctx context.Context, db *sql.DB, runID string) ([]SignalUnavailable, error) {
	out := []SignalUnavailable{}
	err := eachRow(ctx, db, "SignalsUnavailable", []any{runID}, func(rows *sql.Rows) error {
		var s SignalUnavailable
		if err := rows.Scan(&s.Detector, &s.Signal, &s.Reason); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// ReferenceList is one list a run read (run.json reference_lists).
type ReferenceList struct {
	Kind     string          `json:"kind"`
	Name     string          `json:"name"`
	Class    *string         `json:"class"`
	Version  *string         `json:"version"`
	SHA256   *string         `json:"sha256"`
	Path     string          `json:"path"`
	Entries  int64           `json:"entries"`
	Rejected int64           `json:"rejected"`
	Rejects  json.RawMessage `json:"first_rejects"`
	Matched  int64           `json:"matched"`
}

func readReferenceLists(ctx context.Context, db *sql.DB, runID string) ([]ReferenceList, error) {
	out := []ReferenceList{}
	err := eachRow(ctx, db, "ReferenceLists", []any{runID}, func(rows *sql.Rows) error {
		var l ReferenceList
		var rej string
		if err := rows.Scan(&l.Kind, &l.Name, &l.Class, &l.Version, &l.SHA256, &l.Path, &l.Entries, &l.Rejected, &rej, &l.Matched); err != nil {
			return err
		}
		var r struct {
			First json.RawMessage `json:"first"`
		}
		json.Unmarshal([]byte(rej), &r)
		if len(r.First) == 0 {
			r.First = json.RawMessage("[]")
		}
		l.Rejects = r.First
		out = append(out, l)
		return nil
	})
	return out, err
}

func readCounts(ctx context.Context, db *sql.DB, runID string) (Counts, error) {
	c := Counts{
		FindingsByDetector:         map[string]int{},
		FindingsBySeverity:         map[string]int{},
		FindingsByDetectorSeverity: map[string]map[string]int{},
		PublishersByDetector:       map[string]int{},
		RecommendationsByAction:    map[string]int{},
	}
	err := eachRow(ctx, db, "FindingCounts", []any{runID}, func(rows *sql.Rows) error {
		var det, sev string
		var n, pubs int
		if err := rows.Scan(&det, &sev, &n, &pubs); err != nil {
			return err
		}
		c.Findings += n
		c.FindingsByDetector[det] += n
		c.FindingsBySeverity[sev] += n
		if c.FindingsByDetectorSeverity[det] == nil {
			c.FindingsByDetectorSeverity[det] = map[string]int{}
		}
		c.FindingsByDetectorSeverity[det][sev] = n
		return nil
	})
	if err != nil {
		return c, err
	}
	err = eachRow(ctx, db, "PublisherCounts", []any{runID}, func(rows *sql.Rows) error {
		var det sql.NullString
		var n int
		if err := rows.Scan(&det, &n); err != nil {
			return err
		}
		if det.Valid {
			c.PublishersByDetector[det.String] = n
		} else {
			c.PublishersFlagged = n
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	err = eachRow(ctx, db, "RecommendationCounts", []any{runID}, func(rows *sql.Rows) error {
		var action, withhold, clawback string
		var n, review int
		if err := rows.Scan(&action, &n, &review, &withhold, &clawback); err != nil {
			return err
		}
		w, err := parseMoney(withhold)
		if err != nil {
			return err
		}
		cb, err := parseMoney(clawback)
		if err != nil {
			return err
		}
		c.Recommendations += n
		c.RecommendationsByAction[action] = n
		c.ReviewRequired += review
		c.WithholdUSD += w
		c.ClawbackUSD += cb
		return nil
	})
	if err != nil {
		return c, err
	}
	err = eachRow(ctx, db, "DisqualifiedTotals", []any{runID}, func(rows *sql.Rows) error {
		var commission string
		if err := rows.Scan(&c.DisqualifiedOrders, &commission); err != nil {
			return err
		}
		var err error
		c.DisqualifiedCommissionUSD, err = parseMoney(commission)
		return err
	})
	if err != nil {
		return c, err
	}
	c.Dispositions = map[string]DispositionCount{}
	err = eachRow(ctx, db, "DispositionCounts", []any{runID}, func(rows *sql.Rows) error {
		var change, w, cb string
		var d DispositionCount
		if err := rows.Scan(&change, &d.Orders, &w, &cb); err != nil {
			return err
		}
		var err error
		if d.WithholdUSD, err = parseMoney(w); err != nil {
			return err
		}
		if d.ClawbackUSD, err = parseMoney(cb); err != nil {
			return err
		}
		c.Dispositions[change] = d
		return nil
	})
	if err != nil {
		return c, err
	}
	return c, eachRow(ctx, db, "LedgerTotals", []any{runID}, func(rows *sql.Rows) error {
		var w, cb string
		if err := rows.Scan(&c.Ledger.OrdersHeld, &w, &cb); err != nil {
			return err
		}
		var err error
		if c.Ledger.WithheldUSD, err = parseMoney(w); err != nil {
			return err
		}
		c.Ledger.ClawedBackUSD, err = parseMoney(cb)
		return err
	})
}

// writeManifest writes run.json, indented.
func writeManifest(m Manifest, out io.Writer) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	_, err = out.Write(append(b, '\n'))
	return err
}

// truncateRunes cuts s to at most n runes, marking the cut with "…", and
// replaces invalid UTF-8.
func truncateRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k] + "…"
		}
		i++
	}
	return s
}
