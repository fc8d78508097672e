package reports

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"affwatch/store"

	"github.com/google/go-cmp/cmp"
)

// parquetColumns lists a Parquet file's columns as "name TYPE" (DuckDB's
// reading of the file's schema).
func parquetColumns(t *testing.T, db *sql.DB, path string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))`, path)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n, typ string
		if err := rows.Scan(&n, &typ); err != nil {
			t.Fatal(err)
		}
		out = append(out, n+" "+typ)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestParquetOutputs reads the Parquet files back: their columns and types,
// and the same rows in the same order with the same values as the JSON
// outputs.
func TestParquetOutputs(t *testing.T) {
	db := openStore(t)
	insert(t, db, fullSeed())
	dir, _ := writeRun(t, db, testMeta())
	fp := filepath.Join(dir, FindingsParquetFile)
	rp := filepath.Join(dir, RecommendationsParquetFile)

	wantFindingCols := []string{
		"finding_id VARCHAR", "publisher_id VARCHAR", "detector VARCHAR", "rule_id VARCHAR", "rule_status VARCHAR",
		"severity VARCHAR", "score DOUBLE", "policy_ref VARCHAR", "summary VARCHAR", "evidence VARCHAR",
		"window_start TIMESTAMP WITH TIME ZONE", "window_end TIMESTAMP WITH TIME ZONE", "order_ids VARCHAR[]",
		"commission_usd DECIMAL(18,2)", "case_id VARCHAR",
	}
	if diff := cmp.Diff(wantFindingCols, parquetColumns(t, db, fp)); diff != "" {
		t.Errorf("findings.parquet columns (-want +got):\n%s", diff)
	}
	wantRecCols := []string{
		"publisher_id VARCHAR", "action VARCHAR", "policy_ref VARCHAR", "finding_ids VARCHAR[]",
		"withhold_usd DECIMAL(18,2)", "clawback_usd DECIMAL(18,2)", "appeal_deadline DATE", "review_required BOOLEAN",
		"summary VARCHAR", "severity VARCHAR", "confidence VARCHAR", "strikes INTEGER", "shadow_finding_ids VARCHAR[]",
		"basis VARCHAR", "withheld_total_usd DECIMAL(18,2)", "clawed_back_total_usd DECIMAL(18,2)", "kind VARCHAR",
		"case_status VARCHAR", "case_ids VARCHAR[]", "risk DOUBLE",
	}
	if diff := cmp.Diff(wantRecCols, parquetColumns(t, db, rp)); diff != "" {
		t.Errorf("recommendations.parquet columns (-want +got):\n%s", diff)
	}

	// findings.parquet as NDJSON, through DuckDB's own JSON rendering of
	// each row, against findings.ndjson decoded: same rows, same order.
	type finding struct {
		FindingID     string          `json:"finding_id"`
		PublisherID   string          `json:"publisher_id"`
		Severity      string          `json:"severity"`
		Score         float64         `json:"score"`
		Evidence      json.RawMessage `json:"evidence"`
		WindowStart   string          `json:"window_start"`
		OrderIDs      []string        `json:"order_ids"`
		CommissionUSD string          `json:"commission_usd"`
	}
	var fromJSON []finding
	sc := bufio.NewScanner(bytes.NewReader(readOut(t, dir, FindingsFile)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		var f finding
		json.Unmarshal(sc.Bytes(), &struct {
			*finding
			CommissionUSD json.RawMessage `json:"commission_usd"`
		}{finding: &f})
		f.CommissionUSD = string(raw["commission_usd"])
		f.Evidence = compactJSON(t, f.Evidence)
		fromJSON = append(fromJSON, f)
	}
	rows, err := db.Query(`SELECT finding_id, publisher_id, severity, score, evidence,
			strftime(window_start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), CAST(to_json(order_ids) AS VARCHAR),
			CAST(commission_usd AS VARCHAR)
		FROM read_parquet(?)`, fp)
	if err != nil {
		t.Fatal(err)
	}
	var fromParquet []finding
	for rows.Next() {
		var f finding
		var ev, orders string
		if err := rows.Scan(&f.FindingID, &f.PublisherID, &f.Severity, &f.Score, &ev, &f.WindowStart, &orders, &f.CommissionUSD); err != nil {
			t.Fatal(err)
		}
		f.Evidence = compactJSON(t, json.RawMessage(ev))
		if err := json.Unmarshal([]byte(orders), &f.OrderIDs); err != nil {
			t.Fatal(err)
		}
		fromParquet = append(fromParquet, f)
	}
	rows.Close()
	if len(fromJSON) != 4 {
		t.Fatalf("findings.ndjson has %d lines, want 4", len(fromJSON))
	}
	if diff := cmp.Diff(fromJSON, fromParquet); diff != "" {
		t.Errorf("findings.parquet differs from findings.ndjson (-ndjson +parquet):\n%s", diff)
	}

	// recommendations.parquet against recommendations.json.
	var recs []Recommendation
	if err := json.Unmarshal(readOut(t, dir, RecommendationsFile), &recs); err != nil {
		t.Fatal(err)
	}
	rows, err = db.Query(`SELECT publisher_id, CAST(to_json(finding_ids) AS VARCHAR), CAST(withhold_usd AS VARCHAR),
			CAST(clawback_usd AS VARCHAR), strftime(appeal_deadline, '%Y-%m-%d'), review_required, severity, strikes,
			CAST(to_json(shadow_finding_ids) AS VARCHAR), basis, CAST(to_json(case_ids) AS VARCHAR)
		FROM read_parquet(?)`, rp)
	if err != nil {
		t.Fatal(err)
	}
	var got []Recommendation
	for rows.Next() {
		var r Recommendation
		var ids, withhold, clawback, shadow, caseIDs string
		var sev, basis sql.NullString
		var strikes sql.NullInt64
		if err := rows.Scan(&r.PublisherID, &ids, &withhold, &clawback, &r.AppealDeadline, &r.ReviewRequired, &sev, &strikes, &shadow, &basis, &caseIDs); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal([]byte(ids), &r.FindingIDs)
		json.Unmarshal([]byte(caseIDs), &r.CaseIDs)
		json.Unmarshal([]byte(shadow), &r.ShadowFindingIDs)
		r.WithholdUSD, _ = parseMoney(withhold)
		r.ClawbackUSD, _ = parseMoney(clawback)
		if sev.Valid {
			r.Severity = &sev.String
		}
		if strikes.Valid {
			n := int(strikes.Int64)
			r.Strikes = &n
		}
		if basis.Valid {
			r.Basis = compactJSON(t, json.RawMessage(basis.String))
		}
		got = append(got, r)
	}
	rows.Close()
	for i := range recs {
		recs[i].Action, recs[i].PolicyRef, recs[i].Summary, recs[i].Confidence = "", "", "", nil
		if recs[i].Basis != nil && string(recs[i].Basis) != "null" {
			recs[i].Basis = compactJSON(t, recs[i].Basis)
		} else {
			recs[i].Basis = nil
		}
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Errorf("recommendations.parquet differs from recommendations.json (-json +parquet):\n%s", diff)
	}
}

// compactJSON re-encodes a JSON document token by token: key order kept,
// string escapes (the NDJSON encoder writes < as \u003c) made uniform.
func compactJSON(t *testing.T, b json.RawMessage) json.RawMessage {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []byte
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("re-encode %s: %v", b, err)
		}
		if d, ok := tok.(json.Delim); ok {
			out = append(out, d.String()...)
			continue
		}
		enc, err := json.Marshal(tok)
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, enc...), ' ')
	}
}

// TestParquetDeterministic writes findings over many row groups, inserted
// in opposite orders into two databases run with 1 and 4 threads: the
// Parquet bytes must be identical (DESIGN §7).
func TestParquetDeterministic(t *testing.T) {
	defer func(n int) { parquetRowGroupSize = n }(parquetRowGroupSize)
	parquetRowGroupSize = 2048 // DuckDB's vector size: it rounds a smaller size up to it
	const n = 20_000
	write := func(threads int, order string) []byte {
		t.Helper()
		s, err := store.Open(context.Background(), store.InMemory, store.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.DB.Exec(`INSERT INTO findings
			SELECT printf('cl-%016x', i), ?, NULL, printf('P%06d', i % 500), 'click_burst', 'R', 'stable',
			       'high', (i % 1000) / 1000.0, 'E.10.c', 'burst ' || i, json_object('clicks', i, 'ids', [i, i + 1]),
			       TIMESTAMP '2026-11-21 00:00:00' + to_seconds(i % 86400), TIMESTAMP '2026-11-22 00:00:00',
			       ['o-' || i], CAST(i % 997 AS DECIMAL(18,4)) / 7
			FROM range(?) AS r(i) ORDER BY i `+order, testRun, n); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), FindingsParquetFile)
		if _, err := writeParquet(context.Background(), s.DB, "FindingsParquet", []any{testRun}, path); err != nil {
			t.Fatal(err)
		}
		var groups int
		if err := s.DB.QueryRow(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(?)`, path).Scan(&groups); err != nil {
			t.Fatal(err)
		}
		if want := (n + parquetRowGroupSize - 1) / parquetRowGroupSize; groups != want {
			t.Errorf("%d row groups, want %d", groups, want)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := write(1, "ASC")
	b := write(4, "DESC")
	if !bytes.Equal(a, b) {
		t.Errorf("findings.parquet differs between 1 and 4 threads (%d vs %d bytes)", len(a), len(b))
	}
}

func TestCopyPathLiteral(t *testing.T) {
	abs := func(p string) string { return filepath.Join(string(filepath.Separator), p) }
	tests := []struct {
		name, path, want, err string
	}{
		{"plain", abs("out/findings.parquet"), "'" + abs("out/findings.parquet") + "'", ""},
		{"quote doubled", abs("o'brien/x.parquet"), "'" + abs("o''brien/x.parquet") + "'", ""},
		{"unicode kept", abs("отчёты/x.parquet"), "'" + abs("отчёты/x.parquet") + "'", ""},
		{"relative", "out/x.parquet", "", "not absolute"},
		{"scheme", "s3://bucket/x.parquet", "", "not absolute"},
		{"newline", abs("a\nb/x.parquet"), "", "control character"},
		{"NUL", abs("a\x00b/x.parquet"), "", "control character"},
		{"bad UTF-8", abs("a\xffb/x.parquet"), "", "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := copyPathLiteral(tc.path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("copyPathLiteral(%q) = %q, %v; want an error about %s", tc.path, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("copyPathLiteral(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
			}
		})
	}

	// An output directory with a quote (and a space) in its name: COPY
	// writes where it should, nothing else appears.
	db := openStore(t)
	insert(t, db, fullSeed())
	dir := filepath.Join(t.TempDir(), "it's a dir")
	if _, err := Write(context.Background(), db, dir, testMeta()); err != nil {
		t.Fatalf("Write into %q: %v", dir, err)
	}
	for _, n := range []string{FindingsParquetFile, RecommendationsParquetFile} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", n, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("%d entries beside the output directory, want 1", len(entries))
	}
}
