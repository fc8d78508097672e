package main

// Golden files of every output of a whole run on the committed sample
// (fixtures/sample, --no-crawl), and the JSON Schemas of docs/schemas.
//
// The goldens change whenever the outputs do on purpose (a detector, the
// penalty engine, the report's layout). Regenerate them with
//
//	go test -tags duckdb_arrow ./cmd/affwatch -run Golden -update
//
// and review the diff of cmd/affwatch/testdata/golden like code: every
// changed finding, amount or action is a change of what publishers are told.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"affwatch/reports"
	"affwatch/store"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const goldenDir = "testdata/golden"

// sampleRun is one `affwatch run` of the committed sample.
type sampleRun struct {
	out, db string
	runID   string
	// startedAt and finishedAt are run.json's, as written.
	startedAt, finishedAt string
}

// runSample runs the whole batch on fixtures/sample twice, into two output
// directories with two databases.
func runSample(t *testing.T) [2]sampleRun {
	t.Helper()
	base := t.TempDir()
	var runs [2]sampleRun
	for i := range runs {
		r := sampleRun{out: filepath.Join(base, fmt.Sprintf("out%d", i)), db: filepath.Join(base, fmt.Sprintf("db%d.duckdb", i))}
		code, _, errs := runCLI(t, "run", "--in", filepath.Join("..", "..", "fixtures", "sample"),
			"--out", r.out, "--db", r.db, "--no-crawl", "--log-level", "error")
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, errs)
		}
		var m struct {
			RunID      string `json:"run_id"`
			StartedAt  string `json:"started_at"`
			FinishedAt string `json:"finished_at"`
		}
		b, err := os.ReadFile(filepath.Join(r.out, reports.ManifestFile))
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			t.Fatalf("run %d: run.json: %v", i, err)
		}
		r.runID, r.startedAt, r.finishedAt = m.RunID, m.StartedAt, m.FinishedAt
		runs[i] = r
	}
	return runs
}

// normalizeHTML replaces what legitimately differs between two runs of the
// same input in report.html: the run id and the run's two timestamps
// (generated at, started at). Nothing else may differ.
func normalizeHTML(r sampleRun, b []byte) []byte {
	for _, s := range [][2]string{{r.runID, "RUN_ID"}, {r.startedAt, "STARTED_AT"}, {r.finishedAt, "FINISHED_AT"}} {
		if s[0] != "" {
			b = bytes.ReplaceAll(b, []byte(s[0]), []byte(s[1]))
		}
	}
	return b
}

// normalizeManifest replaces run.json's run id, timestamps, timings and
// database path, and the hashes of report.html (it holds the run id and
// times) and of the disqualified orders (each row names its run).
func normalizeManifest(t *testing.T, _ sampleRun, b []byte) []byte {
	t.Helper()
	var m reports.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("run.json: %v", err)
	}
	norm := "(normalized)"
	m.RunID, m.DBPath = norm, norm
	m.StartedAt, m.FinishedAt = &norm, &norm
	for i := range m.Timings {
		m.Timings[i].Seconds = 0
	}
	for i := range m.Outputs {
		switch m.Outputs[i].Name {
		case reports.ReportFile, reports.DisqualifiedOrdersFile, reports.DisqualifiedOrdersParquetFile:
			m.Outputs[i].SHA256, m.Outputs[i].SizeBytes = norm, 0
		}
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// sameOutputs fails for each output file of dir that differs from the
// run's in runOut.
func sameOutputs(t *testing.T, runOut, dir, what string) {
	t.Helper()
	for _, name := range reports.OutputNames {
		a, err := os.ReadFile(filepath.Join(runOut, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s %s differs from the run's:\n%s", name, what, outputDiff(t, name, a, b))
		}
	}
}

// TestGoldenSample runs the sample twice. Every output must be
// byte-identical across the two runs (DESIGN §7; report.html and run.json
// once the run id and times are normalized) and equal its golden; the
// JSON outputs must match docs/schemas (subtest schemas).
func TestGoldenSample(t *testing.T) {
	runs := runSample(t)
	t.Run("schemas", func(t *testing.T) { checkSchemas(t, runs[0]) })
	t.Run("affwatch report writes the same files again", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "again")
		if code, _, errs := runCLI(t, "report", "--db", runs[0].db, "--out", out); code != 0 {
			t.Fatalf("report: exit %d: %s", code, errs)
		}
		sameOutputs(t, runs[0].out, out, "written by affwatch report")
		// A run that does not exist is a usage error.
		if code, _, errs := runCLI(t, "report", "--db", runs[0].db, "--out", out, "--run", "nope"); code != 2 || !strings.Contains(errs, "no such run") {
			t.Errorf("report --run nope: exit %d, stderr %q", code, errs)
		}
	})
	t.Run("affwatch compact changes no output", func(t *testing.T) {
		dir := t.TempDir()
		db := filepath.Join(dir, "copy.duckdb")
		b, err := os.ReadFile(runs[0].db)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(db, b, 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, errs := runCLI(t, "compact", "--db", db)
		if code != 0 || !strings.Contains(stdout, "blocks in use") || !strings.Contains(stdout, "recorded as compact-") {
			t.Fatalf("compact: exit %d: %s%s", code, stdout, errs)
		}
		out := filepath.Join(dir, "out")
		if code, _, errs := runCLI(t, "report", "--db", db, "--out", out); code != 0 {
			t.Fatalf("report after compact: exit %d: %s", code, errs)
		}
		sameOutputs(t, runs[0].out, out, "after affwatch compact")
	})
	for _, name := range reports.OutputNames {
		t.Run(name, func(t *testing.T) {
			var got [2][]byte
			for i, r := range runs {
				b, err := os.ReadFile(filepath.Join(r.out, name))
				if err != nil {
					t.Fatal(err)
				}
				switch name {
				case reports.ReportFile:
					b = normalizeHTML(r, b)
				case reports.ManifestFile:
					b = normalizeManifest(t, r, b)
				case reports.DisqualifiedOrdersFile:
					// Each disposition names the run that made it.
					b = bytes.ReplaceAll(b, []byte(r.runID), []byte("RUN_ID"))
				case reports.DisqualifiedOrdersParquetFile:
					// The same, read back as rows: a Parquet file's bytes
					// cannot be normalized.
					b = bytes.ReplaceAll(parquetRows(t, b), []byte(r.runID), []byte("RUN_ID"))
				}
				got[i] = b
			}
			if !bytes.Equal(got[0], got[1]) {
				t.Errorf("%s differs between two runs of the same input:\n%s", name, outputDiff(t, name, got[0], got[1]))
			}
			path := filepath.Join(goldenDir, name)
			if name == reports.DisqualifiedOrdersParquetFile {
				path += ".rows.txt"
			}
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got[0], 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (regenerate: go test -tags duckdb_arrow ./cmd/affwatch -run Golden -update)", err)
			}
			if !bytes.Equal(want, got[0]) {
				t.Errorf("%s differs from %s (-golden +got); if the change is intended, regenerate with "+
					"go test -tags duckdb_arrow ./cmd/affwatch -run Golden -update\n%s", name, path, outputDiff(t, name, want, got[0]))
			}
		})
	}
}

// outputDiff shows how two versions of an output differ: a text diff, or
// for Parquet a diff of the rows DuckDB reads from each.
func outputDiff(t *testing.T, name string, a, b []byte) string {
	t.Helper()
	if strings.HasSuffix(name, ".parquet") {
		a, b = parquetRows(t, a), parquetRows(t, b)
	}
	d := cmp.Diff(string(a), string(b))
	if d == "" {
		return fmt.Sprintf("(the same rows; the bytes differ: %d vs %d bytes)", len(a), len(b))
	}
	const max = 6000
	if len(d) > max {
		d = d[:max] + "\n… (diff cut)"
	}
	return d
}

// parquetRows renders a Parquet file's schema and rows as text, one JSON
// object per row.
func parquetRows(t *testing.T, b []byte) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.parquet")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	rows, err := st.DB.Query(`SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))`, path)
	if err != nil {
		return []byte(fmt.Sprintf("(unreadable Parquet: %v)", err))
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out.WriteString(s + "\n")
	}
	rows.Close()
	rows, err = st.DB.Query(`SELECT CAST(to_json(p) AS VARCHAR) FROM read_parquet(?) AS p`, path)
	if err != nil {
		return []byte(fmt.Sprintf("(unreadable Parquet: %v)", err))
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out.WriteString(s + "\n")
	}
	return out.Bytes()
}

// Schemas.

const schemaDir = "../../docs/schemas"

// compileSchema compiles docs/schemas/<name>.schema.json with format
// assertions on (a bad date fails, not just a bad pattern).
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(filepath.Join(schemaDir, name+".schema.json"))
	if err != nil {
		t.Fatalf("compile %s schema: %v", name, err)
	}
	return s
}

// decode reads one JSON document the way the validator wants it (numbers
// as json.Number, so that their text can be checked too).
func decode(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode %.200s: %v", b, err)
	}
	return v
}

// cents is the text of an amount in the outputs: dollars and exactly two
// decimals. JSON Schema cannot say it (multipleOf 0.01 fails on binary
// floats), so the tests check the number's text.
var cents = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)

// checkCents checks the named money keys of obj (a decoded JSON object).
func checkCents(obj any, keys ...string) error {
	m, ok := obj.(map[string]any)
	if !ok {
		return fmt.Errorf("not an object")
	}
	for _, k := range keys {
		n, ok := m[k].(json.Number)
		if !ok {
			return fmt.Errorf("%s = %v: not a number", k, m[k])
		}
		if !cents.MatchString(n.String()) {
			return fmt.Errorf("%s = %s: not dollars and two decimals", k, n)
		}
	}
	return nil
}

// checkSchemas validates a full run's findings.ndjson, recommendations.json
// and run.json against docs/schemas, checks every amount's text, and the
// references between the files.
func checkSchemas(t *testing.T, run sampleRun) {
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(run.out, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	findingsSchema := compileSchema(t, "findings")
	findingIDs := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(read(reports.FindingsFile)))
	sc.Buffer(nil, 16<<20)
	for line := 1; sc.Scan(); line++ {
		v := decode(t, sc.Bytes())
		if err := findingsSchema.Validate(v); err != nil {
			t.Errorf("findings.ndjson:%d: %v", line, err)
		}
		if err := checkCents(v, "commission_usd"); err != nil {
			t.Errorf("findings.ndjson:%d: %v", line, err)
		}
		if m, ok := v.(map[string]any); ok {
			id, _ := m["finding_id"].(string)
			det, _ := m["detector"].(string)
			if len(det) >= 2 && !strings.HasPrefix(id, det[:2]+"-") {
				t.Errorf("findings.ndjson:%d: finding id %s does not start with its detector's %q", line, id, det[:2])
			}
			if findingIDs[id] {
				t.Errorf("findings.ndjson:%d: finding id %s repeated", line, id)
			}
			findingIDs[id] = true
		}
	}
	if len(findingIDs) == 0 {
		t.Fatal("the sample run has no findings: nothing was validated")
	}

	recs := decode(t, read(reports.RecommendationsFile))
	if err := compileSchema(t, "recommendations").Validate(recs); err != nil {
		t.Errorf("recommendations.json: %v", err)
	}
	list, _ := recs.([]any)
	if len(list) == 0 {
		t.Fatal("the sample run has no recommendations: nothing was validated")
	}
	var pubs []string
	for i, r := range list {
		if err := checkCents(r, "withhold_usd", "clawback_usd"); err != nil {
			t.Errorf("recommendations.json[%d]: %v", i, err)
		}
		m, _ := r.(map[string]any)
		pub, _ := m["publisher_id"].(string)
		pubs = append(pubs, pub)
		ids, _ := m["finding_ids"].([]any)
		for _, id := range ids {
			if s, _ := id.(string); !findingIDs[s] {
				t.Errorf("recommendations.json[%d] (%s) rests on finding %v, which is not in findings.ndjson", i, pub, id)
			}
		}
	}
	if !sort.StringsAreSorted(pubs) {
		t.Error("recommendations.json is not in publisher order")
	}
	for i := 1; i < len(pubs); i++ {
		if pubs[i] == pubs[i-1] {
			t.Errorf("recommendations.json has two recommendations for %s", pubs[i])
		}
	}

	man := decode(t, read(reports.ManifestFile))
	if err := compileSchema(t, "run").Validate(man); err != nil {
		t.Errorf("run.json: %v", err)
	}
	counts, _ := man.(map[string]any)["counts"]
	if err := checkCents(counts, "withhold_usd", "clawback_usd", "disqualified_commission_usd"); err != nil {
		t.Errorf("run.json counts: %v", err)
	}
}

// TestSchemasRejectMutations: each schema must fail a document with one
// mistake a consumer would trip over, so that the validation above can fail.
func TestSchemasRejectMutations(t *testing.T) {
	const finding = `{"finding_id":"cl-0123456789abcdef","publisher_id":"P1","detector":"click_burst","rule_id":"AW-CB-001",` +
		`"rule_status":"stable","severity":"high","score":0.8,"policy_ref":"E.10.c","summary":"s","evidence":{"clicks":3},` +
		`"window_start":"2026-11-21T00:00:00Z","window_end":"2026-11-22T00:00:00Z","order_ids":["O1"],"commission_usd":1.50}`
	const rec = `[{"publisher_id":"P1","action":"warning","policy_ref":"F.11.a","finding_ids":["cl-0123456789abcdef"],` +
		`"withhold_usd":0.00,"clawback_usd":1.50,"appeal_deadline":"2026-11-28","review_required":false,"summary":"s",` +
		`"severity":null,"confidence":null,"strikes":null,"shadow_finding_ids":[],"basis":null}]`

	// mutate decodes doc, applies f to it (or to its first element), and
	// re-encodes it.
	mutate := func(doc string, f func(m map[string]any)) string {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			m = v.([]any)[0].(map[string]any)
		}
		f(m)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	set := func(k string, val any) func(map[string]any) { return func(m map[string]any) { m[k] = val } }
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }

	findings, recs := compileSchema(t, "findings"), compileSchema(t, "recommendations")
	for _, tc := range []struct {
		name   string
		schema *jsonschema.Schema
		doc    string
	}{
		{"finding: bad severity", findings, mutate(finding, set("severity", "severe"))},
		{"finding: missing finding_id", findings, mutate(finding, del("finding_id"))},
		{"finding: string money", findings, mutate(finding, set("commission_usd", "1.50"))},
		{"finding: negative money", findings, mutate(finding, set("commission_usd", -1))},
		{"finding: unknown detector", findings, mutate(finding, set("detector", "clickburst"))},
		{"finding: misspelt key", findings, mutate(finding, func(m map[string]any) { m["sevrity"] = m["severity"]; delete(m, "severity") })},
		{"finding: score above 1", findings, mutate(finding, set("score", 1.5))},
		{"finding: local time", findings, mutate(finding, set("window_end", "2026-11-22T00:00:00+03:00"))},
		{"finding: evidence not an object", findings, mutate(finding, set("evidence", []any{1}))},
		{"finding: malformed id", findings, mutate(finding, set("finding_id", "=HYPERLINK(1)"))},
		{"recommendation: unknown action", recs, mutate(rec, set("action", "ban"))},
		{"recommendation: review_required as text", recs, mutate(rec, set("review_required", "false"))},
		{"recommendation: impossible date", recs, mutate(rec, set("appeal_deadline", "2026-02-30"))},
		{"recommendation: no findings", recs, mutate(rec, set("finding_ids", []any{}))},
		{"recommendation: missing summary", recs, mutate(rec, del("summary"))},
		{"recommendation: bad confidence", recs, mutate(rec, set("confidence", "sure"))},
		{"recommendation: negative strikes", recs, mutate(rec, set("strikes", -1))},
		{"recommendations: an object, not an array", recs, rec[1 : len(rec)-1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.schema.Validate(decode(t, []byte(tc.doc))); err == nil {
				t.Errorf("validated:\n%s", tc.doc)
			}
		})
	}
	// The unmutated documents are valid: the failures above are the
	// mutations'.
	for _, tc := range []struct {
		schema *jsonschema.Schema
		doc    string
	}{{findings, finding}, {recs, rec}} {
		if err := tc.schema.Validate(decode(t, []byte(tc.doc))); err != nil {
			t.Errorf("valid document rejected: %v\n%s", err, tc.doc)
		}
	}
	// Money text: the schema cannot see it, checkCents does.
	for _, bad := range []string{`{"m":1.5}`, `{"m":1}`, `{"m":1.505}`, `{"m":1e2}`} {
		if err := checkCents(decode(t, []byte(bad)), "m"); err == nil {
			t.Errorf("checkCents accepted %s", bad)
		}
	}
	if err := checkCents(decode(t, []byte(`{"m":100.00}`)), "m"); err != nil {
		t.Errorf("checkCents rejected 100.00: %v", err)
	}
}
