package reports

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNeutralizeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"o-1", "o-1"},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"\nx", "'\nx"},
		{"'x", "''x"}, // so that removing one leading ' always restores the value
		{"＝1", "'＝1"},
		{"a=1", "a=1"},
		{" =1", " =1"}, // a leading space makes the cell text in spreadsheets
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := NeutralizeCell(tc.in); got != tc.want {
				t.Errorf("NeutralizeCell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestDisqualifiedCSVHostileIDs(t *testing.T) {
	db := openStore(t)
	insert(t, db, fullSeed())
	dir, _ := writeRun(t, db, testMeta())
	records, err := csv.NewReader(strings.NewReader(string(readOut(t, dir, DisqualifiedOrdersFile)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(records[0], ","), strings.Join(disqualifiedHeader, ","); got != want {
		t.Errorf("header %s, want %s", got, want)
	}
	// The contract's columns (order, publisher, reason codes, commission,
	// findings) of each row.
	col := map[string]int{}
	for i, h := range records[0] {
		col[h] = i
	}
	for i, r := range records {
		for j, c := range []string{"run_id", "night", "change"} {
			if want := []string{testRun, "2026-11-21", "new"}[j]; i > 0 && r[col[c]] != want {
				t.Errorf("row %d %s = %q, want %q", i, c, r[col[c]], want)
			}
		}
		var p []string
		for _, c := range []string{"order_id", "publisher_id", "reason_codes", "commission_usd", "finding_ids"} {
			p = append(p, r[col[c]])
		}
		records[i] = p
	}
	want := [][]string{
		{"order_id", "publisher_id", "reason_codes", "commission_usd", "finding_ids"},
		{"'=cmd|' /C calc'!A0", `'=HYPERLINK("http://evil.example/x","<script>alert(1)</script>")`, "brand_misuse", "1.25", "br-00000000000000c1"},
		{"o-1", "pub-a", "click_burst;self_purchase", "6.25", "cl-00000000000000a1;se-00000000000000a2"},
		{"o-2", "pub-a", "click_burst", "6.25", "cl-00000000000000a1"},
		{"'\tTAB", "pub-b", "cookie_stuffing", "0.00", "co-00000000000000b1"},
		{"'\rCR", "pub-b", "cookie_stuffing", "0.00", "co-00000000000000b1"},
		{"''quoted", "pub-b", "cookie_stuffing", "0.00", "co-00000000000000b1"},
		{"'+1", "pub-b", "'-x", "0.12", "'@f"}, // 0.1234 in the table: outputs carry cents
	}
	if diff := cmp.Diff(want, records); diff != "" {
		t.Errorf("disqualified_orders.csv (-want +got):\n%s", diff)
	}
	for i, r := range records[1:] {
		for j, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d cell %d starts with a formula character: %q", i+1, j, cell)
			}
		}
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		in, str, dollars string
	}{
		{"0", "0.00", "$0.00"},
		{"12.5000", "12.50", "$12.50"},
		{"0.1234", "0.1234", "$0.1234"},
		{"-3.0000", "-3.00", "-$3.00"},
		{"1234567.8900", "1234567.89", "$1,234,567.89"},
		{"100.25", "100.25", "$100.25"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			m, err := parseMoney(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if m.String() != tc.str || m.Dollars() != tc.dollars {
				t.Errorf("parseMoney(%q) = %s, %s; want %s, %s", tc.in, m, m.Dollars(), tc.str, tc.dollars)
			}
		})
	}
	for _, bad := range []string{"", "1.23456", "1e5", "abc", "--1", "99999999999999999999"} {
		if _, err := parseMoney(bad); err == nil {
			t.Errorf("parseMoney(%q) succeeded", bad)
		}
	}
}

func TestQueriesPresent(t *testing.T) {
	for _, name := range []string{"Findings", "FindingCounts", "PublisherCounts", "PublisherStats", "PublisherFindings",
		"Recommendations", "RecommendationCounts", "DisqualifiedOrders", "DisqualifiedTotals",
		"QuarantineByDataset", "QuarantineByReason", "QuarantineRows", "SignalsUnavailable"} {
		if q := queries[name]; q == "" || strings.Contains(q, "-- name:") {
			t.Errorf("query %s missing or malformed: %q", name, q)
		}
	}
}

func TestEvidenceView(t *testing.T) {
	long := strings.Repeat("x", MaxEvidenceTextRunes+10)
	tests := []struct {
		name     string
		evidence string
		want     []evRow
	}{
		{"scalars keep their order", `{"z":1,"a":"two","m":true,"n":null}`,
			[]evRow{row("z", evValue{Text: "1"}), row("a", evValue{Text: "two"}), row("m", evValue{Text: "true"}), row("n", evValue{Text: "null"})}},
		{"list of scalars joined", `{"ids":["a","b",3]}`, []evRow{row("ids", evValue{Text: "a, b, 3"})}},
		{"empty list", `{"ids":[]}`, []evRow{row("ids", evValue{Text: "(none)"})}},
		{"long string cut", `{"s":"` + long + `"}`, []evRow{row("s", evValue{Text: long[:MaxEvidenceTextRunes] + "…"})}},
		{"nested object", `{"o":{"b":1,"a":[1,2]}}`,
			[]evRow{row("o", evValue{Rows: []evRow{row("b", evValue{Text: "1"}), row("a", evValue{Text: "1, 2"})}})}},
		{"array of objects", `{"rows":[{"a":1,"b":"x"},{"b":"y","c":{"d":2}}]}`,
			[]evRow{row("rows", evValue{Table: &evTable{Columns: []string{"A", "B", "C"}, Rows: [][]string{{"1", "x", ""}, {"", "y", `{"d":2}`}}}})}},
		{"mixed array", `{"m":[1,{"a":1}]}`, []evRow{row("m", evValue{Text: `1, {"a":1}`})}},
		{"list in a sub-table cell", `{"rows":[{"s":["x","y"]}]}`,
			[]evRow{row("rows", evValue{Table: &evTable{Columns: []string{"S"}, Rows: [][]string{{"x, y"}}}})}},
		{"not an object", `[1,2]`, []evRow{{Key: "value", Value: evValue{Text: "1, 2"}}}},
		{"objects keyed by id read as one table", `{"order_reasons":{"O1":{"reasons":["refunded"],"at_stake_usd":3.5},"O2":{"reasons":["over_cap","coupon"],"at_stake_usd":1},"O3":{"at_stake_usd":0.2}}}`,
			[]evRow{row("order_reasons", evValue{Table: &evTable{Columns: []string{"Order or item", "Reasons", "At stake (US$)"},
				Rows: [][]string{{"O1", "refunded", "3.5"}, {"O2", "over_cap, coupon", "1"}, {"O3", "", "0.2"}}}})}},
		{"two keyed objects stay nested", `{"o":{"a":{"x":1},"b":{"x":2}}}`,
			[]evRow{row("o", evValue{Rows: []evRow{row("a", evValue{Rows: []evRow{row("x", evValue{Text: "1"})}}), row("b", evValue{Rows: []evRow{row("x", evValue{Text: "2"})}})}})}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := parseJSON([]byte(tc.evidence))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, evidenceView(v)); diff != "" {
				t.Errorf("evidenceView(%s) (-want +got):\n%s", tc.evidence, diff)
			}
		})
	}

	t.Run("caps", func(t *testing.T) {
		var objs, items []string
		for i := 0; i < 30; i++ {
			objs = append(objs, `{"i":1}`)
		}
		for i := 0; i < 60; i++ {
			items = append(items, "1")
		}
		v, err := parseJSON([]byte(`{"t":[` + strings.Join(objs, ",") + `],"l":[` + strings.Join(items, ",") + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		rows := evidenceView(v)
		if tb := rows[0].Value.Table; tb == nil || len(tb.Rows) != MaxEvidenceTableRows || tb.Omitted != 10 {
			t.Errorf("table not capped at %d rows with 10 omitted: %+v", MaxEvidenceTableRows, tb)
		}
		if l := rows[1].Value; l.Omitted != 10 || strings.Count(l.Text, "1") != MaxEvidenceListItems {
			t.Errorf("list not capped at %d items: %+v", MaxEvidenceListItems, l)
		}
	})
}

func TestTimelineChartRejects(t *testing.T) {
	tests := []struct{ name, timeline, wantErr string }{
		{"not an object", `"x"`, "not of the timeline shape"},
		{"bad start", `{"bucket_minutes":60,"start":"yesterday","counts":[1]}`, "not an RFC 3339 time"},
		{"zero bucket", `{"bucket_minutes":0,"start":"2026-11-21T00:00:00Z","counts":[1]}`, "out of range"},
		{"no counts", `{"bucket_minutes":60,"start":"2026-11-21T00:00:00Z","counts":[]}`, "no counts"},
		{"too many", `{"bucket_minutes":1,"start":"2026-11-21T00:00:00Z","counts":[` + strings.Repeat("1,", MaxTimelineBuckets) + `1]}`, "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := parseJSON([]byte(tc.timeline))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := timelineChart(v); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("timelineChart error = %v, want %q", err, tc.wantErr)
			}
		})
	}
	// A malformed burst is skipped, not drawn wrong.
	v, _ := parseJSON([]byte(`{"bucket_minutes":60,"start":"2026-11-21T00:00:00Z","counts":[1,2],"bursts":[{"start":"x","end":"y"},{"start":"2026-11-21T01:00:00Z","end":"2026-11-21T00:00:00Z"}]}`))
	c, err := timelineChart(v)
	if err != nil || len(c.Bursts) != 0 || c.Baseline != nil || c.Threshold != nil {
		t.Errorf("timelineChart = %+v, %v; want a chart without bursts or lines", c, err)
	}
}

func FuzzEvidence(f *testing.F) {
	f.Add(burstEvidence)
	f.Add(`{"a":[{"b":1},{"c":[1,2,{"d":null}]}],"timeline":{"bucket_minutes":5,"start":"2026-01-01T00:00:00Z","counts":[1e308,-1,0.5],"threshold":-3,"bursts":[{"start":"2026-01-01T00:00:00Z","end":"2027-01-01T00:00:00Z"}]}}`)
	f.Add(`[[[[[[]]]]]]`)
	f.Add(`"\u003cscript\u003e"`)
	f.Fuzz(func(t *testing.T, evidence string) {
		var fv findingView
		setEvidence(&fv, evidence, true)
		var b strings.Builder
		if err := reportTemplate.ExecuteTemplate(&b, "finding", fv); err != nil {
			t.Fatalf("render: %v", err)
		}
		if strings.Contains(strings.ToLower(b.String()), "<script") {
			t.Fatalf("unescaped script from %q", evidence)
		}
	})
}

// row is the evidence row of key: its human label, and the key itself
// when the label differs.
func row(key string, v evValue) evRow {
	r := evRow{Key: HumanLabel(key), Value: v}
	if r.Key != key {
		r.Raw = key
	}
	return r
}

// TestTextCell: ids a spreadsheet would read as numbers keep their digits
// behind one apostrophe; others are only formula-neutralized.
func TestTextCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"8180640394258381", "'8180640394258381"},
		{"0012", "'0012"},
		{"1E5", "'1E5"},
		{"12.30", "'12.30"},
		{"-5", "'-5"},
		{"P000104", "P000104"},
		{"o-1", "o-1"},
		{"=1+1", "'=1+1"},
		{"'quoted", "''quoted"},
		{"", ""},
	} {
		if got := TextCell(tc.in); got != tc.want {
			t.Errorf("TextCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := TextCell(tc.in); tc.in != "" && strings.TrimPrefix(got, "'") != tc.in && got != tc.in {
			t.Errorf("TextCell(%q) = %q does not give the id back by removing one apostrophe", tc.in, got)
		}
	}
}

// TestHumanLabel: evidence keys read as words, units in parentheses;
// what is not a snake_case key stays as it is.
func TestHumanLabel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"commission_at_stake_usd", "Commission at stake (US$)"},
		{"click_id", "Click ID"},
		{"dwell_ms", "Dwell (ms)"},
		{"ks_p_value", "KS test p-value"},
		{"single_signal", "Rests on one signal only"},
		{"8180640394258381", "8180640394258381"},
		{"Already Labeled", "Already Labeled"},
		{"a.b", "a.b"},
		{"usd", "Usd"},
	} {
		if got := HumanLabel(tc.in); got != tc.want {
			t.Errorf("HumanLabel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
