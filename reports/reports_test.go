package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"affwatch/store"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testRun = "run-20261122-0001"

// openStore opens an in-memory database with the schema.
func openStore(t *testing.T) *sql.DB {
	t.Helper()
	s, err := store.Open(context.Background(), store.InMemory, store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s.DB
}

// finding is a findings row for seeding.
type finding struct {
	id, run, publisher, detector, severity string
	score                                  float64
	policy, summary, evidence              string
	start, end                             string
	orders                                 []string
	commission                             string
}

type recommendation struct {
	run, publisher, action, policy string
	findings                       []string
	withhold, clawback, deadline   string
	review                         bool
	summary                        string
	// The penalty engine's columns (migration 003); nil stores NULL, as
	// on rows written before it.
	severity, confidence *string
	strikes              *int
	shadow               []string
	basis                *string
}

type disqualified struct {
	run, order, publisher string
	reasons, findings     []string
	commission            string
}

type quarantined struct {
	dataset               string
	fileID                int64
	file                  string
	line                  int64
	column, reason, value string
}

type signal struct{ run, detector, signal, reason string }

type seed struct {
	findings        []finding
	recommendations []recommendation
	disqualified    []disqualified
	quarantine      []quarantined
	signals         []signal
}

func insert(t *testing.T, db *sql.DB, s seed) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, f := range s.findings {
		if f.run == "" {
			f.run = testRun
		}
		if f.orders == nil {
			f.orders = []string{}
		}
		exec(`INSERT INTO findings VALUES (?, ?, NULL, ?, ?, ?, 'test', ?, ?, ?, ?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), ?, CAST(? AS DECIMAL(18,4)))`,
			f.id, f.run, f.publisher, f.detector, "R-"+f.detector, f.severity, f.score, f.policy, f.summary, f.evidence,
			f.start, f.end, f.orders, f.commission)
	}
	for _, r := range s.recommendations {
		if r.run == "" {
			r.run = testRun
		}
		var shadow any // a nil slice would bind as an empty list, not NULL
		if r.shadow != nil {
			shadow = r.shadow
		}
		exec(`INSERT INTO recommendations (run_id, night, publisher_id, action, policy_ref, finding_ids, withhold_usd, clawback_usd,
				appeal_deadline, review_required, summary, severity, confidence, strikes, shadow_finding_ids, basis)
			VALUES (?, NULL, ?, ?, ?, ?, CAST(? AS DECIMAL(18,4)), CAST(? AS DECIMAL(18,4)), CAST(? AS DATE), ?, ?, ?, ?, ?, CAST(? AS VARCHAR[]), CAST(? AS JSON))`,
			r.run, r.publisher, r.action, r.policy, r.findings, r.withhold, r.clawback, r.deadline, r.review, r.summary,
			r.severity, r.confidence, r.strikes, shadow, r.basis)
	}
	for _, d := range s.disqualified {
		if d.run == "" {
			d.run = testRun
		}
		exec(`INSERT INTO disqualified_orders VALUES (?, NULL, ?, ?, ?, ?, CAST(? AS DECIMAL(18,4)))`,
			d.run, d.order, d.publisher, d.reasons, d.findings, d.commission)
		// Tonight's disposition of the order: new in the ledger.
		exec(`INSERT INTO dispositions VALUES (?, NULL, DATE '2026-11-21', ?, ?, 'new', TIMESTAMP '2026-11-21 10:00:00', 12.5, 'pending', 'withhold',
				?, ?, ['CA-1'], CAST(? AS DECIMAL(18,4)), CAST(? AS DECIMAL(18,4)), 'first disqualified tonight')`,
			d.run, d.order, d.publisher, d.reasons, d.findings, d.commission, d.commission)
	}
	for _, q := range s.quarantine {
		exec(`INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			"load-run", q.dataset, q.fileID, q.file, q.line, q.column, q.reason, q.value)
	}
	for _, sg := range s.signals {
		if sg.run == "" {
			sg.run = testRun
		}
		exec(`INSERT INTO signals_unavailable VALUES (?, ?, ?, ?)`, sg.run, sg.detector, sg.signal, sg.reason)
	}
}

const burstEvidence = `{"publisher_clicks":412,"peak_hour":"2026-11-21T03:00:00Z",` +
	`"timeline":{"bucket_minutes":60,"start":"2026-11-21T00:00:00Z",` +
	`"counts":[3,4,2,5,3,2,4,190,201,5,3,4,2,3,4,3,2,5,4,3,2,4,3,2],"baseline":3.4,"threshold":40,` +
	`"bursts":[{"start":"2026-11-21T07:00:00Z","end":"2026-11-21T09:00:00Z"}]},` +
	`"user_agents":["curl/8.1","python-requests/2.31"]}`

// fullSeed is a run with three publishers (one of them hostile), rows of
// another run that must not show, and quarantine rows of a file that is not
// an input of the run.
func fullSeed() seed {
	var cookieRows []string
	for i := 0; i < 25; i++ {
		cookieRows = append(cookieRows, fmt.Sprintf(`{"click_id":"c%02d","ts":"2026-11-21T10:%02d:00Z","in_iframe":true,"viewport":"1x1"}`, i, i))
	}
	cookieEvidence := `{"hidden_frame_clicks":25,"share":0.93,"clicks":[` + strings.Join(cookieRows, ",") + `]}`
	hostile := `=HYPERLINK("http://evil.example/x","<script>alert(1)</script>")`
	return seed{
		findings: []finding{
			{id: "cl-00000000000000a1", publisher: "pub-a", detector: "click_burst", severity: "high", score: 0.82,
				policy: "E.10.c", summary: "412 clicks in 2 hours, 59 times the publisher's baseline.", evidence: burstEvidence,
				start: "2026-11-21 07:00:00", end: "2026-11-21 09:00:00", orders: []string{"o-1", "o-2"}, commission: "12.5"},
			{id: "se-00000000000000a2", publisher: "pub-a", detector: "self_purchase", severity: "critical", score: 0.97,
				policy: "E.10.j", summary: "The publisher's payout account paid for 3 orders through its own links.",
				evidence: `{"payout_hash":"ph-1","orders":3,"buyers":["b-1"]}`, start: "2026-11-21 00:00:00",
				end: "2026-11-22 00:00:00", orders: []string{"o-3", "o-4", "o-5"}, commission: "30.0001"},
			{id: "co-00000000000000b1", publisher: "pub-b", detector: "cookie_stuffing", severity: "medium", score: 0.55,
				policy: "1.6", summary: "25 clicks came from a 1x1 hidden frame.", evidence: cookieEvidence,
				start: "2026-11-21 10:00:00", end: "2026-11-21 10:30:00", commission: "0"},
			{id: "br-00000000000000c1", publisher: hostile, detector: "brand_misuse", severity: "low", score: 0.41,
				policy: "C.6.a", summary: "Page title claims <b>official</b> AliExpress store & more.",
				evidence: `{"title":"<script>alert('x')</script>","url":"javascript:alert(1)","snippet":"</td></tr></table><img src=x onerror=alert(1)>"}`,
				start:    "2026-11-21 00:00:00", end: "2026-11-22 00:00:00", orders: []string{"-1+1", "@SUM(A1)"}, commission: "1.25"},
			// Another run's finding: must not appear.
			{id: "cl-ffffffffffffffff", run: "run-old", publisher: "pub-a", detector: "click_burst", severity: "high", score: 0.9,
				policy: "E.10.c", summary: "old", evidence: `{}`, start: "2026-11-20 00:00:00", end: "2026-11-20 01:00:00", commission: "1"},
		},
		recommendations: []recommendation{
			{publisher: "pub-a", action: "withhold_payment", policy: "F.11.c", findings: []string{"cl-00000000000000a1", "se-00000000000000a2"},
				withhold: "42.5051", clawback: "100.25", deadline: "2026-11-28", review: true, summary: "Withhold pending review: click bursts and self-purchases.",
				severity: ptr("critical"), confidence: ptr("high"), strikes: ptr(1), shadow: []string{"br-00000000000000c9"},
				basis: ptr(`[{"finding_id":"se-00000000000000a2","severity":"critical","confidence":"high","rung":"withhold_payment"}]`)},
			{publisher: "pub-b", action: "warning", policy: "F.11.a", findings: []string{"co-00000000000000b1"},
				withhold: "0", clawback: "0", deadline: "2026-11-28", review: false, summary: "Warn: hidden frames."},
			{publisher: hostile, action: "cure_period", policy: "F.11.b", findings: []string{"br-00000000000000c1"},
				withhold: "1.25", clawback: "0", deadline: "2026-11-28", review: true, summary: "<i>Cure</i> brand misuse."},
			{run: "run-old", publisher: "pub-z", action: "terminate", policy: "F.11.e", findings: []string{}, withhold: "9", clawback: "9", deadline: "2026-11-27", summary: "old"},
		},
		disqualified: []disqualified{
			{order: "o-2", publisher: "pub-a", reasons: []string{"click_burst"}, findings: []string{"cl-00000000000000a1"}, commission: "6.25"},
			{order: "o-1", publisher: "pub-a", reasons: []string{"click_burst", "self_purchase"}, findings: []string{"cl-00000000000000a1", "se-00000000000000a2"}, commission: "6.25"},
			{order: "=cmd|' /C calc'!A0", publisher: hostile, reasons: []string{"brand_misuse"}, findings: []string{"br-00000000000000c1"}, commission: "1.25"},
			{order: "+1", publisher: "pub-b", reasons: []string{"-x"}, findings: []string{"@f"}, commission: "0.1234"},
			{order: "\tTAB", publisher: "pub-b", reasons: []string{"cookie_stuffing"}, findings: []string{"co-00000000000000b1"}, commission: "0"},
			{order: "\rCR", publisher: "pub-b", reasons: []string{"cookie_stuffing"}, findings: []string{"co-00000000000000b1"}, commission: "0"},
			{order: "'quoted", publisher: "pub-b", reasons: []string{"cookie_stuffing"}, findings: []string{"co-00000000000000b1"}, commission: "0"},
			{run: "run-old", order: "o-old", publisher: "pub-z", reasons: []string{"x"}, findings: []string{}, commission: "9"},
		},
		quarantine: []quarantined{
			{dataset: "clicks", fileID: 1, file: "clicks.csv", line: 17, column: "ts", reason: "bad timestamp", value: "yesterday"},
			{dataset: "clicks", fileID: 1, file: "clicks.csv", line: 17, column: "landed", reason: "bad boolean", value: "maybe"}, // a second problem of one row
			{dataset: "clicks", fileID: 1, file: "clicks.csv", line: 9, column: "ts", reason: "bad timestamp", value: "<script>alert(2)</script>"},
			{dataset: "clicks", fileID: 1, file: "clicks.csv", line: 40, column: "", reason: "wrong number of fields", value: "a,b"},
			{dataset: "orders", fileID: 2, file: "orders/date=2026-11-21/part-0.ndjson", line: 3, column: "amount_usd", reason: "not a number", value: "12,50"},
			// A file that is not an input of this run.
			{dataset: "orders", fileID: 99, file: "orders-old.ndjson", line: 1, column: "", reason: "bad json", value: "{"},
		},
		signals: []signal{
			{detector: "popup_traffic", signal: "visible", reason: "clicks has no visible column"},
			{detector: "cookie_stuffing", signal: "viewport_w", reason: "clicks has no viewport_w column"},
			{detector: "cookie_stuffing", signal: "viewport_w", reason: "clicks has no viewport_w column"},
			{run: "run-old", detector: "x", signal: "y", reason: "old"},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func testMeta() Meta {
	started := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	return Meta{
		RunID: testRun, Command: "run", ToolVersion: "v0.1.0-test",
		Night:    time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
		InputDir: "/data/in", DBPath: "/data/out/affwatch.duckdb",
		RulesSource: "default", RulesVersion: "2026.11", RulesSHA256: strings.Repeat("ab", 32),
		StartedAt: started, FinishedAt: started.Add(95 * time.Second),
		Timings: []Timing{{"load", 12.5}, {"detect", 70.25}, {"penalties", 1.5}},
		Inputs: []InputFile{
			{Dataset: "orders", Path: "orders/date=2026-11-21/part-0.ndjson", SHA256: strings.Repeat("02", 32), Format: "ndjson",
				Compression: "none", SizeBytes: 2048, FileID: 2, RowsRead: 100, RowsLoaded: 99, RowsQuarantined: 1, Status: "loaded"},
			{Dataset: "clicks", Path: "clicks.csv", SHA256: strings.Repeat("01", 32), Format: "csv",
				Compression: "none", SizeBytes: 4096, FileID: 1, RowsRead: 1000, RowsLoaded: 997, RowsQuarantined: 3, Status: "loaded"},
			{Dataset: "publishers", Path: "publishers.csv", SHA256: strings.Repeat("03", 32), Format: "csv",
				Compression: "gzip", SizeBytes: 512, FileID: 3, RowsRead: 3, RowsLoaded: 3, Status: "unchanged"},
		},
	}
}

func writeRun(t *testing.T, db *sql.DB, meta Meta) (string, Written) {
	t.Helper()
	dir := t.TempDir()
	w, err := Write(context.Background(), db, dir, meta)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return dir, w
}

func readOut(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// normalizeManifest removes what legitimately differs between runs of the
// same input: timestamps, and report.html's hash (it shows the generated-at
// time and changes with every cosmetic edit of the template).
func normalizeManifest(t *testing.T, b []byte) []byte {
	t.Helper()
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("run.json: %v", err)
	}
	removed := "(timestamp removed by the test)"
	m.StartedAt, m.FinishedAt = &removed, &removed
	for i := range m.Outputs {
		if m.Outputs[i].Name == ReportFile {
			m.Outputs[i].SHA256, m.Outputs[i].SizeBytes = "(varies)", 0
		}
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -tags duckdb_arrow ./reports/ -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from %s (-want +got):\n%s", name, path, diff)
	}
}

func TestWriteGolden(t *testing.T) {
	db := openStore(t)
	insert(t, db, fullSeed())
	dir, w := writeRun(t, db, testMeta())

	for _, tc := range []struct {
		file      string
		normalize func(*testing.T, []byte) []byte
	}{
		{FindingsFile, nil},
		{RecommendationsFile, nil},
		{DisqualifiedOrdersFile, nil},
		{RecommendationsCSVFile, nil},
		{ManifestFile, normalizeManifest},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := readOut(t, dir, tc.file)
			if tc.normalize != nil {
				got = tc.normalize(t, got)
			}
			checkGolden(t, tc.file, got)
		})
	}

	wantWritten := Written{Findings: 4, Recommendations: 3, DisqualifiedOrders: 7, QuarantinedRows: 4}
	if w.Findings != wantWritten.Findings || w.Recommendations != wantWritten.Recommendations ||
		w.DisqualifiedOrders != wantWritten.DisqualifiedOrders || w.QuarantinedRows != wantWritten.QuarantinedRows {
		t.Errorf("Written counts = %d findings, %d recommendations, %d orders, %d quarantined; want %+v",
			w.Findings, w.Recommendations, w.DisqualifiedOrders, w.QuarantinedRows, wantWritten)
	}
	var names []string
	for _, f := range w.Files {
		names = append(names, filepath.Base(f))
	}
	if got, want := strings.Join(names, ","), "findings.ndjson,recommendations.json,disqualified_orders.csv,report.html,"+
		"recommendations.csv,findings.parquet,recommendations.parquet,disqualified_orders.parquet,run.json"; got != want {
		t.Errorf("Written.Files = %s, want %s", got, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(OutputNames) {
		t.Errorf("output dir holds %d entries, want the %d outputs (temp dir left?)", len(entries), len(OutputNames))
	}
}

// TestFindingsContract checks each findings.ndjson line against DESIGN §6
// field by field, beyond the golden file.
func TestFindingsContract(t *testing.T) {
	db := openStore(t)
	insert(t, db, fullSeed())
	dir, _ := writeRun(t, db, testMeta())
	lines := strings.Split(strings.TrimSuffix(string(readOut(t, dir, FindingsFile)), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4", len(lines))
	}
	required := []string{"finding_id", "publisher_id", "detector", "severity", "score", "policy_ref", "summary",
		"evidence", "window_start", "window_end", "order_ids", "commission_usd"}
	var prevKey string
	for i, line := range lines {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, k := range required {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %s", i+1, k)
			}
		}
		if !bytes.HasPrefix(m["evidence"], []byte("{")) {
			t.Errorf("line %d: evidence %s is not an object", i+1, m["evidence"])
		}
		if !bytes.HasPrefix(m["order_ids"], []byte("[")) {
			t.Errorf("line %d: order_ids %s is not an array", i+1, m["order_ids"])
		}
		var f struct {
			FindingID   string `json:"finding_id"`
			PublisherID string `json:"publisher_id"`
			Detector    string `json:"detector"`
			WindowStart string `json:"window_start"`
			WindowEnd   string `json:"window_end"`
		}
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, ts := range []string{f.WindowStart, f.WindowEnd} {
			if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") {
				t.Errorf("line %d: window %q is not RFC 3339 UTC", i+1, ts)
			}
		}
		key := strings.Join([]string{f.PublisherID, f.Detector, f.WindowStart, f.FindingID}, "\x00")
		if key < prevKey {
			t.Errorf("line %d out of order", i+1)
		}
		prevKey = key
	}
	// Evidence keys keep their stored order.
	if !strings.Contains(strings.Join(lines, "\n"), `"evidence":{"publisher_clicks":412,"peak_hour":`) {
		t.Errorf("evidence keys reordered:\n%s", strings.Join(lines, "\n"))
	}
}

// TestDeterministic writes the same rows, inserted in a different order and
// with the inputs listed in another order, twice: every file must be
// byte-identical.
func TestDeterministic(t *testing.T) {
	s := fullSeed()
	db1 := openStore(t)
	insert(t, db1, s)

	reversed := seed{}
	for i := len(s.findings) - 1; i >= 0; i-- {
		reversed.findings = append(reversed.findings, s.findings[i])
	}
	for i := len(s.recommendations) - 1; i >= 0; i-- {
		reversed.recommendations = append(reversed.recommendations, s.recommendations[i])
	}
	for i := len(s.disqualified) - 1; i >= 0; i-- {
		reversed.disqualified = append(reversed.disqualified, s.disqualified[i])
	}
	for i := len(s.quarantine) - 1; i >= 0; i-- {
		reversed.quarantine = append(reversed.quarantine, s.quarantine[i])
	}
	for i := len(s.signals) - 1; i >= 0; i-- {
		reversed.signals = append(reversed.signals, s.signals[i])
	}
	db2 := openStore(t)
	insert(t, db2, reversed)

	meta1, meta2 := testMeta(), testMeta()
	meta2.Inputs = []InputFile{meta1.Inputs[2], meta1.Inputs[0], meta1.Inputs[1]}
	dir1, _ := writeRun(t, db1, meta1)
	dir2, _ := writeRun(t, db2, meta2)
	dir3, _ := writeRun(t, db1, meta1) // the same database again
	for _, name := range OutputNames {
		a := readOut(t, dir1, name)
		for _, other := range []string{dir2, dir3} {
			if diff := cmp.Diff(string(a), string(readOut(t, other, name))); diff != "" {
				t.Errorf("%s differs between writes of the same rows (-first +other):\n%s", name, diff)
			}
		}
	}
}

func TestEmptyRun(t *testing.T) {
	db := openStore(t)
	meta := testMeta()
	meta.Inputs = nil
	meta.Timings = nil
	meta.Night = time.Time{}
	dir, w := writeRun(t, db, meta)

	for _, tc := range []struct{ file, want string }{
		{FindingsFile, ""},
		{RecommendationsFile, "[]\n"},
		{DisqualifiedOrdersFile, strings.Join(disqualifiedHeader, ",") + "\n"},
	} {
		if got := string(readOut(t, dir, tc.file)); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.file, got, tc.want)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(readOut(t, dir, ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	if m["night"] != nil {
		t.Errorf("night = %v, want null for a backfill", m["night"])
	}
	for _, k := range []string{"inputs", "signals_unavailable", "timings", "outputs"} {
		if _, ok := m[k].([]any); !ok {
			t.Errorf("run.json %s = %v, want an array", k, m[k])
		}
	}
	html := string(readOut(t, dir, ReportFile))
	for _, want := range []string{"No findings in this run", "backfill", "No input row was quarantined", "</html>"} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(html, `class="publisher"`) {
		t.Error("empty report has publisher sections")
	}
	if w.Findings != 0 || w.Recommendations != 0 || w.DisqualifiedOrders != 0 || w.QuarantinedRows != 0 {
		t.Errorf("Written = %+v, want zero counts", w)
	}
}

func TestAtomic(t *testing.T) {
	ctx := context.Background()
	noTemp := func(t *testing.T, dir string) {
		t.Helper()
		matches, _ := filepath.Glob(filepath.Join(dir, TempDirPrefix+"*"))
		if len(matches) > 0 {
			t.Errorf("temporary directory left behind: %v", matches)
		}
	}
	runIDIn := func(t *testing.T, dir string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
		if errors.Is(err, os.ErrNotExist) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		var m Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m.RunID
	}

	t.Run("cancelled before start", func(t *testing.T) {
		db := openStore(t)
		insert(t, db, fullSeed())
		dir := t.TempDir()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := Write(cctx, db, dir, testMeta()); !errors.Is(err, context.Canceled) {
			t.Fatalf("Write error = %v, want context.Canceled", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("cancelled Write left %d entries", len(entries))
		}
	})

	t.Run("cancelled just before commit keeps the previous outputs", func(t *testing.T) {
		db := openStore(t)
		insert(t, db, fullSeed())
		dir := t.TempDir()
		oldMeta := testMeta()
		oldMeta.RunID = "run-previous"
		if _, err := Write(ctx, db, dir, oldMeta); err != nil {
			t.Fatal(err)
		}
		before := readOut(t, dir, FindingsFile)

		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		testHookBeforeCommit = func() {
			// Every new file is ready in the temporary directory.
			tmp := filepath.Join(dir, TempDirPrefix+testRun)
			for _, n := range OutputNames {
				if _, err := os.Stat(filepath.Join(tmp, n)); err != nil {
					t.Errorf("before commit: %v", err)
				}
			}
			cancel()
		}
		defer func() { testHookBeforeCommit = nil }()
		if _, err := Write(cctx, db, dir, testMeta()); !errors.Is(err, context.Canceled) {
			t.Fatalf("Write error = %v, want context.Canceled", err)
		}
		if got := runIDIn(t, dir); got != "run-previous" {
			t.Errorf("run.json names run %q, want the previous run's", got)
		}
		if !bytes.Equal(before, readOut(t, dir, FindingsFile)) {
			t.Error("findings.ndjson changed although the write was cancelled")
		}
		noTemp(t, dir)
	})

	t.Run("failure while writing leaves no run.json", func(t *testing.T) {
		db := openStore(t)
		s := fullSeed()
		s.findings = append(s.findings, finding{id: "bad", publisher: "pub-nan", detector: "click_burst", severity: "low",
			score: math.NaN(), policy: "E.10.c", summary: "s", evidence: "{}", start: "2026-11-21 00:00:00", end: "2026-11-21 01:00:00", commission: "0"})
		insert(t, db, s)
		dir := t.TempDir()
		_, err := Write(ctx, db, dir, testMeta())
		if err == nil || !strings.Contains(err.Error(), "score") {
			t.Fatalf("Write error = %v, want one about the score", err)
		}
		if got := runIDIn(t, dir); got != "" {
			t.Errorf("run.json of run %q exists after a failed write", got)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("failed Write left %d entries", len(entries))
		}
	})

	t.Run("a second write replaces the first", func(t *testing.T) {
		db := openStore(t)
		insert(t, db, fullSeed())
		dir := t.TempDir()
		first := testMeta()
		first.RunID = "run-first"
		if _, err := Write(ctx, db, dir, first); err != nil {
			t.Fatal(err)
		}
		if _, err := Write(ctx, db, dir, testMeta()); err != nil {
			t.Fatal(err)
		}
		if got := runIDIn(t, dir); got != testRun {
			t.Errorf("run.json names %q, want %q", got, testRun)
		}
		noTemp(t, dir)
	})
}

// TestManifestOutputsHashes checks that run.json's hashes are those of the
// files written beside it.
func TestManifestOutputsHashes(t *testing.T) {
	db := openStore(t)
	insert(t, db, fullSeed())
	dir, w := writeRun(t, db, testMeta())
	if len(w.Manifest.Outputs) != len(OutputNames)-1 {
		t.Fatalf("manifest lists %d outputs, want every output but run.json (%d)", len(w.Manifest.Outputs), len(OutputNames)-1)
	}
	for _, o := range w.Manifest.Outputs {
		b := readOut(t, dir, o.Name)
		if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != o.SHA256 || int64(len(b)) != o.SizeBytes {
			t.Errorf("%s: manifest says %s (%d bytes), file is %s (%d bytes)", o.Name, o.SHA256, o.SizeBytes, got, len(b))
		}
	}
}
