package loaders

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
)

const clicksCSV = "click_id,ts,publisher_id,landed,viewport_w,target_type,campaign\n" +
	"C1,2026-11-21T09:00:00Z,P1,true,1200,product,summer\n" +
	"C2,2026-11-21T12:30:00+03:00,P1,0,300,STORE,\n" +
	"C3,1795338000000,P2,1,,home,winter\n"

const clicksNDJSON = `{"click_id":"C1","ts":"2026-11-21T09:00:00Z","publisher_id":"P1","landed":true,"viewport_w":1200,"target_type":"product","campaign":"summer"}
{"click_id":"C2","ts":"2026-11-21T12:30:00+03:00","publisher_id":"P1","landed":false,"viewport_w":300,"target_type":"STORE"}
{"click_id":"C3","ts":1795338000000,"publisher_id":"P2","landed":1,"target_type":"home","campaign":"winter"}
`

type clickRow struct {
	ID, TS, Pub string
	Landed      *bool
	ViewportW   *int64
	TargetType  string
	Extra       string
}

func bp(b bool) *bool   { return &b }
func ip(i int64) *int64 { return &i }

var wantClicks = []clickRow{
	{"C1", "2026-11-21 09:00:00", "P1", bp(true), ip(1200), "product", `{"campaign":"summer"}`},
	{"C2", "2026-11-21 09:30:00", "P1", bp(false), ip(300), "store", `{"campaign":null}`},
	{"C3", "2026-11-22 09:00:00", "P2", bp(true), nil, "home", `{"campaign":"winter"}`},
}

func storedClicks(t *testing.T, db queryer) []clickRow {
	t.Helper()
	rows, err := db.Query(`SELECT click_id, strftime(ts, '%Y-%m-%d %H:%M:%S'), publisher_id, landed, viewport_w, target_type, coalesce(extra::VARCHAR, '') FROM clicks ORDER BY click_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []clickRow
	for rows.Next() {
		var r clickRow
		var landed *bool
		var vw *int64
		var tt *string
		if err := rows.Scan(&r.ID, &r.TS, &r.Pub, &landed, &vw, &tt, &r.Extra); err != nil {
			t.Fatal(err)
		}
		r.Landed, r.ViewportW = landed, vw
		if tt != nil {
			r.TargetType = *tt
		}
		out = append(out, r)
	}
	return out
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func zst(s string) string {
	var b bytes.Buffer
	w, _ := zstd.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// writeParquet writes the three clicks with real Parquet types.
func writeParquet(t *testing.T, path string) {
	t.Helper()
	st := openStore(t)
	os.MkdirAll(filepath.Dir(path), 0o755)
	_, err := st.DB.Exec(`COPY (SELECT * FROM (VALUES
		('C1', TIMESTAMPTZ '2026-11-21 09:00:00+00', 'P1', true, 1200, 'product', 'summer'),
		('C2', TIMESTAMPTZ '2026-11-21 12:30:00+03', 'P1', false, 300, 'STORE', NULL),
		('C3', TIMESTAMPTZ '2026-11-22 09:00:00+00', 'P2', true, NULL, 'home', 'winter'))
		AS t(click_id, ts, publisher_id, landed, viewport_w, target_type, campaign)) TO '` + path + `' (FORMAT parquet)`)
	if err != nil {
		t.Fatal(err)
	}
}

// writeArrow writes the three clicks as an Arrow IPC file or stream.
func writeArrow(t *testing.T, path string, stream bool, badUTF8 bool) {
	t.Helper()
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "click_id", Type: arrow.BinaryTypes.String},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{Name: "publisher_id", Type: arrow.BinaryTypes.String},
		{Name: "landed", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "viewport_w", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "target_type", Type: arrow.BinaryTypes.String},
		{Name: "campaign", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	ids := []string{"C1", "C2", "C3"}
	if badUTF8 {
		ids[1] = "C\xff2"
	}
	b.Field(0).(*array.StringBuilder).AppendValues(ids, nil)
	for _, ms := range []int64{1795251600000, 1795253400000, 1795338000000} {
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(ms))
	}
	b.Field(2).(*array.StringBuilder).AppendValues([]string{"P1", "P1", "P2"}, nil)
	b.Field(3).(*array.BooleanBuilder).AppendValues([]bool{true, false, true}, nil)
	b.Field(4).(*array.Int32Builder).AppendValues([]int32{1200, 300, 0}, []bool{true, true, false})
	b.Field(5).(*array.StringBuilder).AppendValues([]string{"product", "STORE", "home"}, nil)
	b.Field(6).(*array.StringBuilder).AppendValues([]string{"summer", "", "winter"}, []bool{true, false, true})
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if stream {
		w := ipc.NewWriter(f, ipc.WithSchema(schema))
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Close()
		return
	}
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Close()
}

func TestFormats(t *testing.T) {
	tsv := strings.ReplaceAll(clicksCSV, ",", "\t")
	tests := []struct {
		name  string
		files map[string]string
		setup func(t *testing.T, dir string)
		// extras overrides the expected extra JSON of C1, C2, C3
		extras []string
	}{
		{name: "csv", files: map[string]string{"clicks.csv": clicksCSV}},
		{name: "tsv", files: map[string]string{"clicks.csv": "", "clicks.tsv": tsv}},
		{name: "csv.gz", files: map[string]string{"clicks.csv": "", "clicks.csv.gz": gz(clicksCSV)}},
		{name: "csv.zst", files: map[string]string{"clicks.csv": "", "clicks.csv.zst": zst(clicksCSV)}},
		{name: "tsv.zst", files: map[string]string{"clicks.csv": "", "clicks.tsv.zst": zst(tsv)}},
		{name: "ndjson", files: map[string]string{"clicks.csv": "", "clicks.ndjson": clicksNDJSON},
			// NDJSON keeps the keys a line has: C2 has no campaign key.
			extras: []string{`{"campaign":"summer"}`, "", `{"campaign":"winter"}`}},
		{name: "jsonl.gz", files: map[string]string{"clicks.csv": "", "clicks.jsonl.gz": gz(clicksNDJSON)},
			// NDJSON keeps the keys a line has: C2 has no campaign key.
			extras: []string{`{"campaign":"summer"}`, "", `{"campaign":"winter"}`}},
		{name: "ndjson.zst", files: map[string]string{"clicks.csv": "", "clicks.ndjson.zst": zst(clicksNDJSON)},
			// NDJSON keeps the keys a line has: C2 has no campaign key.
			extras: []string{`{"campaign":"summer"}`, "", `{"campaign":"winter"}`}},
		{name: "hive csv", files: map[string]string{
			"clicks.csv":                        "",
			"clicks/date=2026-11-21/part-0.csv": strings.Join(strings.Split(clicksCSV, "\n")[:3], "\n") + "\n",
			"clicks/date=2026-11-22/part-0.csv": strings.Split(clicksCSV, "\n")[0] + "\n" + strings.Split(clicksCSV, "\n")[3] + "\n",
			"clicks/_SUCCESS":                   "",
		}, extras: []string{`{"date":"2026-11-21","campaign":"summer"}`, `{"date":"2026-11-21","campaign":null}`, `{"date":"2026-11-22","campaign":"winter"}`}},
		{name: "parquet", files: map[string]string{"clicks.csv": ""},
			setup: func(t *testing.T, dir string) { writeParquet(t, filepath.Join(dir, "clicks.parquet")) }},
		{name: "hive parquet", files: map[string]string{"clicks.csv": ""},
			extras: []string{`{"date":"2026-11-21","campaign":"summer"}`, `{"date":"2026-11-21","campaign":null}`, `{"date":"2026-11-21","campaign":"winter"}`},
			setup: func(t *testing.T, dir string) {
				writeParquet(t, filepath.Join(dir, "clicks", "date=2026-11-21", "part-0.parquet"))
			}},
		{name: "arrow file", files: map[string]string{"clicks.csv": ""},
			setup: func(t *testing.T, dir string) { writeArrow(t, filepath.Join(dir, "clicks.arrow"), false, false) }},
		{name: "arrow stream", files: map[string]string{"clicks.csv": ""},
			setup: func(t *testing.T, dir string) { writeArrow(t, filepath.Join(dir, "clicks.arrow"), true, false) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeInputs(t, tc.files)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			st := openStore(t)
			load(t, st, dir, time.Time{})
			if q := quarantined(t, st, "clicks"); len(q) > 0 {
				t.Fatalf("unexpected quarantine: %+v", q)
			}
			want := append([]clickRow(nil), wantClicks...)
			for i := range want {
				if tc.extras != nil {
					want[i].Extra = tc.extras[i]
				}
			}
			got := storedClicks(t, st.DB)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stored clicks (-want +got):\n%s", diff)
			}
		})
	}
}
