package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hostileCells are values a spreadsheet would run as formulas, or that
// shift a cell's meaning, arriving in log fields.
var hostileCells = []struct{ name, value string }{
	{"hyperlink", `=HYPERLINK("http://x","y")`},
	{"equals", "=1+1"},
	{"plus", "+1"},
	{"minus", "-1"},
	{"at", "@SUM(A1)"},
	{"tab", "\tTAB"},
	{"carriage return", "\rCR"},
	{"newline", "\nNL"},
	{"apostrophe", "'quoted"},
	{"full-width equals", "＝1+1"},
	{"comma and quote", `a,"b"`},
}

// unneutralize reverses NeutralizeCell: one leading apostrophe removed.
func unneutralize(s string) string { return strings.TrimPrefix(s, "'") }

func dangerous(cell string) bool {
	return cell != "" && (strings.ContainsRune("=+-@\t\r\n", rune(cell[0])) || strings.HasPrefix(cell, "＝"))
}

// TestCSVFormulaInjection puts each hostile value in every text column of
// recommendations.csv and disqualified_orders.csv that comes from the
// database: every cell arrives neutralized, the files parse with
// encoding/csv, and removing one leading apostrophe gives the value back.
func TestCSVFormulaInjection(t *testing.T) {
	db := openStore(t)
	var s seed
	for _, h := range hostileCells {
		v := h.value
		s.recommendations = append(s.recommendations, recommendation{publisher: v, action: "warning", policy: v,
			findings: []string{v, "cl-0000000000000001"}, withhold: "0.10", clawback: "0", deadline: "2026-11-28", summary: v,
			severity: ptr(v), confidence: ptr(v), strikes: ptr(0), shadow: []string{v}})
		s.disqualified = append(s.disqualified, disqualified{order: v, publisher: v, reasons: []string{v}, findings: []string{v}, commission: "0.10"})
	}
	insert(t, db, s)
	dir, _ := writeRun(t, db, testMeta())

	for _, tc := range []struct {
		file string
		want func(v string) []string // the row of value v as stored
	}{
		{RecommendationsCSVFile, func(v string) []string {
			return []string{v, "warning", v, v, v, "0", "false", "2026-11-28", "0.10", "0.00", v + ";cl-0000000000000001", v, v, "", "", "", "", ""}
		}},
		{DisqualifiedOrdersFile, func(v string) []string {
			return []string{testRun, "2026-11-21", "new", v, v, "2026-11-21", "12.50", "pending", v, "0.10", "0.10", "", v, "CA-1", "first disqualified tonight"}
		}},
	} {
		records, err := csv.NewReader(bytes.NewReader(readOut(t, dir, tc.file))).ReadAll()
		if err != nil {
			t.Fatalf("%s does not parse: %v", tc.file, err)
		}
		rows := map[string][]string{} // by the first cell, restored
		for _, row := range records[1:] {
			restored := make([]string, len(row))
			for i, cell := range row {
				if dangerous(cell) {
					t.Errorf("%s column %s = %q: not neutralized", tc.file, records[0][i], cell)
				}
				restored[i] = cell
				if strings.HasPrefix(cell, "'") {
					restored[i] = unneutralize(cell)
				}
			}
			key := 0 // recommendations.csv: publisher_id; disqualified_orders.csv: order_id
			if records[0][0] == "run_id" {
				key = 3
			}
			rows[restored[key]] = restored
		}
		for _, h := range hostileCells {
			if diff := cmp.Diff(tc.want(h.value), rows[h.value]); diff != "" {
				t.Errorf("%s: %s does not round-trip (-want +got):\n%s", tc.file, h.name, diff)
			}
		}
		if len(records) != len(hostileCells)+1 {
			t.Errorf("%s: %d records, want a header and %d rows", tc.file, len(records), len(hostileCells))
		}
	}
}

func TestRecommendationsCSV(t *testing.T) {
	db := openStore(t)
	insert(t, db, fullSeed())
	dir, _ := writeRun(t, db, testMeta())
	records, err := csv.NewReader(bytes.NewReader(readOut(t, dir, RecommendationsCSVFile))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		recommendationsCSVHeader,
		{`'=HYPERLINK("http://evil.example/x","<script>alert(1)</script>")`, "cure_period", "F.11.b", "", "", "", "true",
			"2026-11-28", "1.25", "0.00", "br-00000000000000c1", "", "<i>Cure</i> brand misuse.", "", "", "", "", ""},
		{"pub-a", "withhold_payment", "F.11.c", "critical", "high", "1", "true", "2026-11-28", "42.51", "100.25",
			"cl-00000000000000a1;se-00000000000000a2", "br-00000000000000c9", "Withhold pending review: click bursts and self-purchases.", "", "", "", "", ""},
		{"pub-b", "warning", "F.11.a", "", "", "", "false", "2026-11-28", "0.00", "0.00", "co-00000000000000b1", "",
			"Warn: hidden frames.", "", "", "", "", ""},
	}
	if diff := cmp.Diff(want, records); diff != "" {
		t.Errorf("recommendations.csv (-want +got):\n%s", diff)
	}
	// The same rows, in the same order, as recommendations.json.
	var recs []Recommendation
	if err := json.Unmarshal(readOut(t, dir, RecommendationsFile), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(records)-1 {
		t.Fatalf("%d recommendations in JSON, %d rows in CSV", len(recs), len(records)-1)
	}
	for i, r := range recs {
		if got := unneutralize(records[i+1][0]); got != r.PublisherID {
			t.Errorf("row %d is %q, JSON element %d is %q", i+1, got, i, r.PublisherID)
		}
	}
}

// TestMoneyInCents sums thousands of small and sub-cent amounts: every
// output carries exact cents, no float drift (0.1 added 1000 times in
// float64 is 99.9999999999986), and run.json's totals are the sums of the
// amounts listed.
func TestMoneyInCents(t *testing.T) {
	const n = 1000
	db := openStore(t)
	for _, q := range []string{
		`INSERT INTO recommendations (run_id, publisher_id, action, policy_ref, finding_ids, withhold_usd, clawback_usd,
			appeal_deadline, review_required, summary)
		SELECT ?, printf('p%04d-a', i), 'withhold_payment', 'F.11.c', ['cl-0000000000000001'], 0.10, 0.01, DATE '2026-11-28', false, 's'
		FROM range(1000) AS r(i)
		UNION ALL
		SELECT ?, printf('p%04d-b', i), 'deduct', 'F.11.d', ['cl-0000000000000002'], 38.4999, 0.005, DATE '2026-11-28', false, 's'
		FROM range(1000) AS r(i)`,
		`INSERT INTO disqualified_orders (run_id, order_id, publisher_id, reason_codes, finding_ids, commission_usd)
		SELECT ?, printf('o%04d-%d', i, k), 'p', ['x'], ['f'], CASE k WHEN 1 THEN 0.10 WHEN 2 THEN 0.01 ELSE 38.4999 END
		FROM range(1000) AS r(i), range(1, 4) AS c(k)`,
		`INSERT INTO dispositions
		SELECT ?, NULL, DATE '2026-11-21', printf('o%04d-%d', i, k), 'p', 'new', NULL, NULL, 'pending', 'withhold', ['x'], ['f'], [],
		       c, c, 'n'
		FROM (SELECT i, k, CAST(CASE k WHEN 1 THEN 0.10 WHEN 2 THEN 0.01 ELSE 38.4999 END AS DECIMAL(18,4)) AS c FROM range(1000) AS r(i), range(1, 4) AS t(k))`,
	} {
		args := []any{testRun}
		if strings.Count(q, "?") == 2 {
			args = append(args, testRun)
		}
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	dir, _ := writeRun(t, db, testMeta())

	// Each amount is rounded once, half away from zero.
	var recs []map[string]json.RawMessage
	if err := json.Unmarshal(readOut(t, dir, RecommendationsFile), &recs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r["withhold_usd"])+"/"+string(r["clawback_usd"])]++
	}
	if diff := cmp.Diff(map[string]int{"0.10/0.01": n, "38.50/0.01": n}, seen); diff != "" {
		t.Errorf("recommendations.json amounts (-want +got):\n%s", diff)
	}
	records, err := csv.NewReader(bytes.NewReader(readOut(t, dir, DisqualifiedOrdersFile))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]int{}
	for _, r := range records[1:] {
		cells["commission "+r[9]]++
		cells["withhold "+r[10]]++
	}
	wantCells := map[string]int{}
	for _, a := range []string{"0.10", "0.01", "38.50"} {
		wantCells["commission "+a], wantCells["withhold "+a] = n, n
	}
	if diff := cmp.Diff(wantCells, cells); diff != "" {
		t.Errorf("disqualified_orders.csv money cells (-want +got):\n%s", diff)
	}

	// Totals: the raw JSON text, exact to the cent.
	var m struct {
		Counts struct {
			Withhold     json.RawMessage `json:"withhold_usd"`
			Clawback     json.RawMessage `json:"clawback_usd"`
			Disqualified json.RawMessage `json:"disqualified_commission_usd"`
		} `json:"counts"`
	}
	if err := json.Unmarshal(readOut(t, dir, ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	got := []string{string(m.Counts.Withhold), string(m.Counts.Clawback), string(m.Counts.Disqualified)}
	want := []string{
		"38600.00", // 1000 × 0.10 + 1000 × 38.50
		"20.00",    // 1000 × 0.01 + 1000 × round(0.005) = 0.01
		"38610.00", // 1000 × (0.10 + 0.01 + 38.50)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run.json totals withhold, clawback, disqualified (-want +got):\n%s", diff)
	}
}
