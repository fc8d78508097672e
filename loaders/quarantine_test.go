package loaders

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestQuarantine(t *testing.T) {
	tests := []struct {
		name    string
		dataset string
		files   map[string]string
		setup   func(t *testing.T, dir string)
		want    []qrow
		loaded  int64
	}{
		{
			name: "csv row problems", dataset: "clicks",
			files: map[string]string{"clicks.csv": "click_id,ts,publisher_id,landed,viewport_w,target_type,referrer\n" +
				"C1,2026-11-21T09:00:00Z,P1,true,1200,product,\n" + // 2 ok
				"C2,2026-11-21 09:00:00,P1,true,1200,product,\n" + // 3 no zone
				"C3,2026-11-21T09:00:00Z,P1,maybe,1200,product,\n" + // 4 bad boolean
				"C4,2026-11-21T09:00:00Z,P1,true,-5,product,\n" + // 5 negative
				"C5,2026-11-21T09:00:00Z,P1,true,1200,spaceship,\n" + // 6 enum
				"C6,2026-11-21T09:00:00Z,,true,1200,product,\n" + // 7 missing required
				"C1,2026-11-21T10:00:00Z,P1,true,1200,product,\n" + // 8 duplicate
				"C7,2026-11-21T09:00:00Z,P1,true,1200,product,\"multi\nline referrer\"\n" + // 9-10 ok, two lines
				"C8,2026-11-21T09:00:00Z,P1,true,1200,product,x,too,many\n" + // 11 too many columns
				"C9,2026-11-21T09:00:00Z,P1,true,\xff\xfe,product,\n" + // 12 invalid UTF-8
				"C10,2026-11-21T09:00:00Z,P1,yes,1200,product,\n"}, // 13 bad boolean after the rejects
			want: []qrow{
				{"clicks.csv", 3, "ts", "bad timestamp (want RFC 3339 with a zone, e.g. 2026-11-21T10:00:00Z, or epoch milliseconds)"},
				{"clicks.csv", 4, "landed", "bad boolean (want true, false, 1 or 0)"},
				{"clicks.csv", 5, "viewport_w", "negative value"},
				{"clicks.csv", 6, "target_type", "unknown value (want one of product, store, category, home, campaign)"},
				{"clicks.csv", 7, "publisher_id", "missing required value"},
				{"clicks.csv", 8, "click_id", "duplicate click_id (first at clicks.csv:2)"},
				{"clicks.csv", 11, "", "too many columns: Expected Number of Columns: 7 Found: 9"},
				{"clicks.csv", 12, "viewport_w", "invalid UTF-8"},
				{"clicks.csv", 13, "landed", "bad boolean (want true, false, 1 or 0)"},
			},
			loaded: 2,
		},
		{
			name: "orders amounts and statuses", dataset: "orders",
			files: map[string]string{"orders.csv": "order_id,ts,buyer_id,amount_usd,status,commission_usd\n" +
				"O1,2026-11-21T10:00:00Z,B1,10.5,paid,0.3\n" +
				"O2,2026-11-21T10:00:00Z,B1,-3,paid,0.1\n" +
				"O3,2026-11-21T10:00:00Z,B1,abc,shipped,\n" +
				"O1,2026-11-21T11:00:00Z,B2,5,completed,0.2\n"},
			want: []qrow{
				{"orders.csv", 3, "amount_usd", "negative amount"},
				{"orders.csv", 4, "amount_usd", "bad amount (want a decimal number of US dollars)"},
				{"orders.csv", 4, "status", "unknown value (want one of paid, completed, refunded, disputed, cancelled)"},
				{"orders.csv", 5, "order_id", "duplicate order_id (first at orders.csv:2)"},
			},
			loaded: 1,
		},
		{
			name: "ndjson malformed and blank lines", dataset: "clicks",
			files: map[string]string{"clicks.csv": "", "clicks.ndjson": `{"click_id":"C1","ts":"2026-11-21T09:00:00Z","publisher_id":"P1"}

not json at all
{"click_id":"C2","ts":"2026-11-21T09:00:00Z","publisher_id":"P1","bad":"a` + "\x1f" + `b"}
["an","array"]
{"click_id":"C3","ts":"yesterday","publisher_id":"P1"}
{"click_id":"C4","ts":"2026-11-21T09:00:00Z","publisher_id":"P1"}
`},
			want: []qrow{
				{"clicks.ndjson", 3, "", "malformed line (not a JSON object)"},
				{"clicks.ndjson", 4, "", "malformed line (control character outside a JSON string)"},
				{"clicks.ndjson", 5, "", "malformed line (not a JSON object)"},
				{"clicks.ndjson", 6, "ts", "bad timestamp (want RFC 3339 with a zone, e.g. 2026-11-21T10:00:00Z, or epoch milliseconds)"},
			},
			loaded: 2,
		},
		{
			// FuzzLoadCSV/FuzzLoadNDJSON: one CR that does not end a line
			// made DuckDB's reader fail the whole load ("CSV Parser state
			// machine reached an invalid state").
			name: "csv stray carriage return", dataset: "clicks",
			files: map[string]string{"clicks.csv": "click_id,ts,publisher_id,referrer\r\n" +
				"C1,2026-11-21T09:00:00Z,P1,\r\n" + // 2 ok, CRLF
				"C2,2026-11-21T09:00:00Z,P\r1,\r\n" + // 3 stray CR
				"C3,2026-11-21T09:00:00Z,P1,\"quoted\rCR is a value\"\n" + // 4 ok
				"\rC4,2026-11-21T09:00:00Z,P1,\n" + // 5 stray CR first
				"C5,2026-11-21T09:00:00Z,P1,\"two\nlines\"\r\r\n" + // 6-7 CR before CRLF
				"C6,2026-11-21T09:00:00Z,P1,\r"}, // 8 ok, CR at the end of the file
			want: []qrow{
				{"clicks.csv", 3, "publisher_id", strayCRReason},
				{"clicks.csv", 5, "click_id", strayCRReason},
				{"clicks.csv", 6, "referrer", strayCRReason},
			},
			loaded: 3,
		},
		{
			name: "csv BOM, short row, unterminated quote", dataset: "clicks",
			files: map[string]string{"clicks.csv": "\ufeffclick_id,ts,publisher_id\r\n" +
				"C1,2026-11-21T09:00:00Z,P1\r\n" + // 2 ok: the BOM is not part of the first column's name
				"C2,2026-11-21T09:00:00Z\r\n" + // 3 short
				"C3,2026-11-21T09:00:00Z,\"P1\r\n" + // 4 the quote never closes:
				"C4,2026-11-21T09:00:00Z,P1\r\n"}, // 5 is inside it
			want: []qrow{
				{"clicks.csv", 3, "publisher_id", "missing columns: Expected Number of Columns: 3 Found: 2"},
				{"clicks.csv", 4, "publisher_id", "unquoted value: Value with unterminated quote found."},
			},
			loaded: 1,
		},
		{
			// the copy's quote state went wrong at P"1 and kept the stray
			// CR: the load failed again
			name: "csv quote inside an unquoted value, then a stray carriage return", dataset: "clicks",
			files: map[string]string{"clicks.csv": "click_id,ts,publisher_id\n" +
				"C1,2026-11-21T09:00:00Z,P\"1\n" + // 2 ok: a plain character
				"C2,2026-11-21T09:00:00Z,P\r1\n" + // 3 stray CR
				"C3,2026-11-21T09:00:00Z,P1\n"}, // 4 ok
			want:   []qrow{{"clicks.csv", 3, "publisher_id", strayCRReason}},
			loaded: 2,
		},
		{
			// FuzzLoadCSV (crasher 7c28ef9f47c75ed0, "\r0"): the reader took
			// LF CR for a line end without failing, so the row was
			// quarantined at line 3 of a 2-line file
			name: "csv CR at the start of a line", dataset: "clicks",
			files: map[string]string{"clicks.csv": "click_id,ts,publisher_id\n" +
				"\rC1,2026-11-21T09:00:00Z,P1\n" + // 2 stray CR
				"C2,2026-11-21T09:00:00Z,P1\n"}, // 3 ok
			want:   []qrow{{"clicks.csv", 2, "click_id", strayCRReason}},
			loaded: 1,
		},
		{
			name: "csv mixing CRLF and LF line ends", dataset: "clicks",
			files: map[string]string{"clicks.csv": "click_id,ts,publisher_id\r\n" +
				"C1,2026-11-21T09:00:00Z,P1\n" +
				"C2,2026-11-21T09:00:00Z,P1\r\n" +
				"C3,2026-11-21T09:00:00Z,P1\n"},
			loaded: 3,
		},
		{
			name: "ndjson.gz stray carriage return", dataset: "clicks",
			files: map[string]string{"clicks.csv": "", "clicks.ndjson.gz": gz(`{"click_id":"C1","ts":"2026-11-21T09:00:00Z","publisher_id":"P1"}` + "\r" +
				`{"click_id":"C2","ts":"2026-11-21T09:00:00Z","publisher_id":"P1"}` + "\n" + // 1: two objects on one line
				`{"click_id":"C3","ts":"2026-11-21T09:00:00Z","publisher_id":"P1"}` + "\r\n" + // 2 ok
				`{"click_id":"C4","ts":"2026-11-21T09:00:00Z","publisher_id":"P1"}` + "\n")}, // 3 ok
			want:   []qrow{{"clicks.ndjson.gz", 1, "", strayCRReason}},
			loaded: 2,
		},
		{
			// was reported as "control character outside a JSON string"
			name: "ndjson line over the reader's 2 MB", dataset: "clicks",
			files: map[string]string{"clicks.csv": "", "clicks.ndjson": `{"click_id":"C1","ts":"2026-11-21T09:00:00Z","publisher_id":"P1"}` + "\n" +
				`{"click_id":"C2","ts":"2026-11-21T09:00:00Z","publisher_id":"` + strings.Repeat("x", 3<<20) + "\"}\n" +
				`{"click_id":"C3","ts":"2026-11-21T09:00:00Z","publisher_id":"P1"}` + "\n"},
			want:   []qrow{{"clicks.ndjson", 2, "", "line too long: 3145792 bytes, over the limit of 1048576 bytes; not loaded"}},
			loaded: 2,
		},
		{
			name: "arrow invalid utf-8", dataset: "clicks",
			files:  map[string]string{"clicks.csv": ""},
			setup:  func(t *testing.T, dir string) { writeArrow(t, filepath.Join(dir, "clicks.arrow"), false, true) },
			want:   []qrow{{"clicks.arrow", 2, "click_id", "invalid UTF-8"}},
			loaded: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeInputs(t, tc.files)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			st := openStore(t)
			res := load(t, st, dir, time.Time{})
			if diff := cmp.Diff(tc.want, quarantined(t, st, tc.dataset)); diff != "" {
				t.Errorf("quarantine (-want +got):\n%s", diff)
			}
			if got := count(t, st, "SELECT count(*) FROM "+tc.dataset); got != tc.loaded {
				t.Errorf("loaded %d rows, want %d", got, tc.loaded)
			}
			distinct := map[int64]bool{}
			for _, q := range tc.want {
				distinct[q.Line] = true
			}
			lines := int64(len(distinct))
			for _, f := range res.Files {
				if f.Dataset == tc.dataset && f.RowsQuarantined != lines {
					t.Errorf("%s: RowsQuarantined = %d, want %d", f.Rel, f.RowsQuarantined, lines)
				}
			}
		})
	}
}

func TestContractErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr []string
	}{
		{
			name:    "missing required column",
			files:   map[string]string{"clicks.csv": "click_id,publisher_id\nC1,P1\n"},
			wantErr: []string{`clicks.csv: column "ts": required column missing (dataset clicks needs ts; the file has click_id, publisher_id)`},
		},
		{
			name:    "missing required dataset",
			files:   map[string]string{"orders.csv": ""},
			wantErr: []string{"required dataset orders is missing"},
		},
		{
			name:  "every problem at once",
			files: map[string]string{"orders.csv": "", "sellers.csv": "name\nShop\n"},
			wantErr: []string{"required dataset orders is missing",
				`sellers.csv: column "seller_id": required column missing`},
		},
		{
			name:    "unsupported file in a dataset folder",
			files:   map[string]string{"clicks.csv": "", "clicks/part-0.xlsx": "x"},
			wantErr: []string{"clicks/part-0.xlsx: unsupported file type"},
		},
		{
			name:    "file and folder",
			files:   map[string]string{"clicks/part-0.csv": "click_id,ts,publisher_id\n"},
			wantErr: []string{"both a folder clicks/ and a file clicks.csv exist"},
		},
		{
			name:    "empty csv",
			files:   map[string]string{"sellers.csv": "\n"},
			wantErr: []string{"sellers.csv: empty file"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeInputs(t, tc.files)
			_, err := Discover(dir)
			if err == nil {
				t.Fatal("Discover succeeded, want a contract error")
			}
			var ce *ContractError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a ContractError: %v", err, err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestReloadIsNoop(t *testing.T) {
	dir := writeInputs(t, map[string]string{"clicks.csv": clicksCSV})
	st := openStore(t)
	first := load(t, st, dir, time.Time{})
	second := load(t, st, dir, time.Time{})
	for i, f := range second.Files {
		if f.Status != StatusUnchanged {
			t.Errorf("%s: status %s on re-load, want %s", f.Rel, f.Status, StatusUnchanged)
		}
		if f.FileID != first.Files[i].FileID || f.RowsLoaded != first.Files[i].RowsLoaded {
			t.Errorf("%s: re-load reports file %d rows %d, first load file %d rows %d", f.Rel, f.FileID, f.RowsLoaded, first.Files[i].FileID, first.Files[i].RowsLoaded)
		}
	}
	if n := count(t, st, "SELECT count(*) FROM clicks"); n != 3 {
		t.Errorf("clicks after re-load = %d, want 3", n)
	}
	if n := count(t, st, "SELECT count(*) FROM load_ledger"); n != int64(len(first.Files)) {
		t.Errorf("ledger rows = %d, want %d", n, len(first.Files))
	}
}

func TestDateReplacement(t *testing.T) {
	night := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	st := openStore(t)
	day20 := "click_id,ts,publisher_id\nA1,2026-11-20T09:00:00Z,P1\nA2,2026-11-20T10:00:00Z,P1\n"
	first := "click_id,ts,publisher_id\nB1,2026-11-21T09:00:00Z,P1\nB2,2026-11-21T10:00:00Z,P1\nB3,2026-11-21T11:00:00Z,P2\n"
	load(t, st, writeInputs(t, map[string]string{"clicks.csv": day20}), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	load(t, st, writeInputs(t, map[string]string{"clicks.csv": first}), night)
	// The night is re-delivered under another name with one click fewer
	// and one corrected: its rows replace the night's, the 20th stays.
	again := "click_id,ts,publisher_id\nB1,2026-11-21T09:00:00Z,P1\nB3,2026-11-21T11:05:00Z,P2\n"
	dir := writeInputs(t, map[string]string{"clicks.csv": ""})
	os.MkdirAll(filepath.Join(dir, "clicks"), 0o755)
	os.WriteFile(filepath.Join(dir, "clicks", "redelivery.csv"), []byte(again), 0o644)
	load(t, st, dir, night)
	rows, err := st.DB.Query(`SELECT click_id, strftime(ts, '%d %H:%M') FROM clicks ORDER BY click_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, ts string
		rows.Scan(&id, &ts)
		got = append(got, id+" "+ts)
	}
	want := []string{"A1 20 09:00", "A2 20 10:00", "B1 21 09:00", "B3 21 11:05"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("clicks after re-running the night (-want +got):\n%s", diff)
	}
	if q := quarantined(t, st, "clicks"); len(q) > 0 {
		t.Errorf("re-running a night quarantined rows: %+v", q)
	}
	// Reference datasets are snapshots: the last delivery wins whole.
	if n := count(t, st, "SELECT count(*) FROM publishers"); n != 2 {
		t.Errorf("publishers = %d, want 2 (one snapshot, not three)", n)
	}
}

func TestCorrectedFileReplacesItsRows(t *testing.T) {
	st := openStore(t)
	dir := writeInputs(t, map[string]string{"clicks.csv": clicksCSV})
	load(t, st, dir, time.Time{})
	fixed := strings.Replace(clicksCSV, "C3,", "C3b,", 1)
	os.WriteFile(filepath.Join(dir, "clicks.csv"), []byte(fixed), 0o644)
	load(t, st, dir, time.Time{})
	if n := count(t, st, "SELECT count(*) FROM clicks"); n != 3 {
		t.Errorf("clicks = %d, want 3", n)
	}
	if n := count(t, st, "SELECT count(*) FROM clicks WHERE click_id = 'C3b'"); n != 1 {
		t.Errorf("corrected row missing")
	}
	if n := count(t, st, "SELECT count(*) FROM load_ledger WHERE dataset = 'clicks' AND superseded_by IS NOT NULL"); n != 1 {
		t.Errorf("superseded clicks files = %d, want 1", n)
	}
}

func TestDuplicateOfStoredRow(t *testing.T) {
	st := openStore(t)
	load(t, st, writeInputs(t, map[string]string{"clicks.csv": "click_id,ts,publisher_id\nX1,2026-11-20T09:00:00Z,P1\n"}), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	// Tonight's file repeats X1 (a replayed click) next to a new one.
	dir := writeInputs(t, map[string]string{"clicks.csv": "click_id,ts,publisher_id\nX2,2026-11-21T09:00:00Z,P1\nX1,2026-11-21T09:05:00Z,P2\n"})
	load(t, st, dir, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
	want := []qrow{{"clicks.csv", 3, "click_id", "duplicate click_id (already loaded from clicks.csv:2)"}}
	if diff := cmp.Diff(want, quarantined(t, st, "clicks")); diff != "" {
		t.Errorf("quarantine (-want +got):\n%s", diff)
	}
	if n := count(t, st, "SELECT count(*) FROM clicks WHERE click_id = 'X1' AND publisher_id = 'P1'"); n != 1 {
		t.Error("the stored X1 must win over the replayed one")
	}
}

func TestStoredRowsKeepTheirPhysicalLine(t *testing.T) {
	st := openStore(t)
	dir := writeInputs(t, map[string]string{"clicks.csv": "click_id,ts,publisher_id,referrer\n" +
		"A,2026-11-21T09:00:00Z,P1,\"two\nlines\"\n" + // lines 2-3
		"B,2026-11-21T09:00:00Z,P1,x,extra\n" + // 4: rejected (too many columns)
		"C,2026-11-21T09:00:00Z,P1,\"three\nmore\nlines\"\n" + // 5-7
		"D,2026-11-21T09:00:00Z,P1,\n"}) // 8
	load(t, st, dir, time.Time{})
	rows, err := st.DB.Query(`SELECT click_id || '@' || _line FROM clicks ORDER BY click_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	if diff := cmp.Diff([]string{"A@2", "C@5", "D@8"}, got); diff != "" {
		t.Errorf("stored lines (-want +got):\n%s", diff)
	}
	if q := quarantined(t, st, "clicks"); len(q) != 1 || q[0].Line != 4 {
		t.Errorf("quarantine = %+v, want line 4", q)
	}
}

// TestLineNumbersAfterEmptyLines: DuckDB's CSV reader skips an empty line
// without counting it, so every later row (stored or quarantined) got a
// line too low; FuzzLoadCSV requires a clean row at its own line.
func TestLineNumbersAfterEmptyLines(t *testing.T) {
	for _, tc := range []struct {
		name, file, body string
		stored           []string // click_id@line
		want             []qrow
	}{
		{
			name: "empty lines between rows", file: "clicks.csv",
			body: "click_id,ts,publisher_id\n" +
				"C1,2026-11-21T09:00:00Z,P1\n\n\n" + // 2, 3-4 empty
				"C2,bad,P1\n" + // 5
				"C3,2026-11-21T09:00:00Z,P1,x\n" + // 6 rejected by the reader
				"C1,2026-11-21T09:00:00Z,P1\n" + // 7 duplicate
				"C4,2026-11-21T09:00:00Z,\"two\n\nlines\"\n" + // 8-10, an empty line inside quotes
				"\n" + // 11 empty
				"C5,2026-11-21T09:00:00Z,P1\n\n\n", // 12, then empty lines at the end
			stored: []string{"C1@2", "C4@8", "C5@12"},
			want: []qrow{
				{"clicks.csv", 5, "ts", tsReason},
				{"clicks.csv", 6, "", "too many columns: Expected Number of Columns: 3 Found: 4"},
				{"clicks.csv", 7, "click_id", "duplicate click_id (first at clicks.csv:2)"},
			},
		},
		{
			// the copy toggled on every quote and took the rest of the
			// file for a quoted value: the empty line went unmarked
			name: "a quote inside an unquoted value, then an empty line", file: "clicks.csv",
			body:   "click_id,ts,publisher_id\nC1,2026-11-21T09:00:00Z,P\"1\n\nC2,2026-11-21T09:00:00Z,\"P\"\"2\"\n\nC3,2026-11-21T09:00:00Z,P3\n",
			stored: []string{"C1@2", "C2@4", "C3@6"},
		},
		{
			// FuzzLoadCSV (crasher 392d20ce97573e3f): the line breaks inside
			// a rejected record were never counted, so every later row
			// came too early (C2 at 3)
			name: "rejected records spanning lines", file: "clicks.csv",
			body: "click_id,ts,publisher_id\n" +
				"C1,2026-11-21T09:\xaf\xaf00:00Z,\"a\n\nb\"\n" + // 2-4 invalid UTF-8
				"C2,2026-11-21T09:00:00Z,P1\n" + // 5
				"C3,2026-11-21T09:00:00Z,\"x\ny\",extra\n" + // 6-7 too many columns
				"C4,2026-11-21T09:00:00Z,\"p\nq\"\n" + // 8-9
				"C5,2026-11-21T09:00:00Z,P1\n", // 10
			stored: []string{"C2@5", "C4@8", "C5@10"},
			want: []qrow{
				{"clicks.csv", 2, "ts", "invalid UTF-8"},
				{"clicks.csv", 6, "", "too many columns: Expected Number of Columns: 3 Found: 4"},
			},
		},
		{
			name: "CRLF empty line in a TSV", file: "clicks.tsv",
			body:   "click_id\tts\tpublisher_id\r\nC1\t2026-11-21T09:00:00Z\tP1\r\n\r\nC2\t2026-11-21T09:00:00Z\tP1\r\n",
			stored: []string{"C1@2", "C2@4"},
		},
		{
			name: "empty lines only at the end: no copy needed", file: "clicks.csv",
			body:   "click_id,ts,publisher_id\nC1,2026-11-21T09:00:00Z,P1\nC2,2026-11-21T09:00:00Z,P1\n\n\r\n\n",
			stored: []string{"C1@2", "C2@3"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, res := fuzzLoad(t, map[string]string{tc.file: tc.body})
			var got []string
			rows, err := st.DB.Query(`SELECT click_id || '@' || _line FROM clicks ORDER BY _line`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				rows.Scan(&s)
				got = append(got, s)
			}
			rows.Close()
			if diff := cmp.Diff(tc.stored, got); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, quarantined(t, st, "clicks")); diff != "" {
				t.Errorf("quarantine (-want +got):\n%s", diff)
			}
			outcomes(t, st, res, "clicks", int64(strings.Count(tc.body, "\n")+1))
		})
	}
}

func TestBlankScan(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   bool
	}{
		{"none", []string{"a\nb\r\nc\n"}, false},
		{"at the end only", []string{"a\nb\n\n", "\r\n\n"}, false},
		{"LF LF before data", []string{"a\n\nb\n"}, true},
		{"CRLF CRLF before data", []string{"a\r\n\r\nb"}, true},
		{"across chunks", []string{"a\n", "\nb"}, true},
		{"CR LF split across chunks", []string{"a\n\r", "\nb"}, true},
		{"data in a later chunk", []string{"a\n\n", "\n", "b"}, true},
	} {
		var s blankScan
		for _, c := range tc.chunks {
			if !s.found {
				s.scan([]byte(c))
			}
		}
		if s.found != tc.want {
			t.Errorf("%s: found %v, want %v", tc.name, s.found, tc.want)
		}
	}
}

func TestCRScan(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   bool
	}{
		{"LF", []string{"a\nb\n"}, false},
		{"CRLF", []string{"a\r\nb\r\n"}, false},
		{"CRLF across chunks", []string{"a\r", "\nb\r\n"}, false},
		{"CR at the end of the file", []string{"a\nb\r"}, false},
		{"CR inside a line", []string{"a\r\nb\rc\r\n"}, true},
		{"LF CR", []string{"a\n\rb"}, true},
		{"CR then a chunk not starting with LF", []string{"a\r", "b\n"}, true},
		{"CR only: classic Mac line ends", []string{"a\rb\r", "c\r"}, false},
		{"LF only after the CRs", []string{"a\rb", "\n"}, true},
	} {
		var s crScan
		for _, c := range tc.chunks {
			if !s.found() {
				s.scan([]byte(c))
			}
		}
		if s.found() != tc.want {
			t.Errorf("%s: found %v, want %v", tc.name, s.found(), tc.want)
		}
	}
}
