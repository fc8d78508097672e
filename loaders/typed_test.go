package loaders

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// writeArrowJSON writes rows (a JSON array of objects) of schema as an Arrow
// IPC file, or stream.
func writeArrowJSON(t *testing.T, path string, schema *arrow.Schema, rows string, stream bool) []byte {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.NewGoAllocator(), schema, strings.NewReader(rows))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	var buf bytes.Buffer
	if stream {
		w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Close()
	} else {
		w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeParquetSQL writes the rows of a DuckDB query as a Parquet file.
func writeParquetSQL(t *testing.T, path, query string) {
	t.Helper()
	st := openStore(t)
	if _, err := st.DB.Exec(`COPY (` + query + `) TO '` + strings.ReplaceAll(path, "'", "''") + `' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
}

// TestWrongTypesAreContractErrors: a contract column of a type no value of
// which can be right is refused before any work, not stored as text (a
// nested publisher_id became "{'id': P000396}") or quarantined row by row.
func TestWrongTypesAreContractErrors(t *testing.T) {
	str := arrow.BinaryTypes.String
	tsType := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, dir string)
		want  string
	}{
		{"parquet struct publisher_id", func(t *testing.T, dir string) {
			writeParquetSQL(t, filepath.Join(dir, "clicks.parquet"), `SELECT 'C1' AS click_id, TIMESTAMP '2026-11-21 09:00:00' AS ts, {'id': 'P1'} AS publisher_id`)
		}, `clicks.parquet: column "publisher_id": nested type`},
		{"parquet list publisher_id", func(t *testing.T, dir string) {
			writeParquetSQL(t, filepath.Join(dir, "clicks.parquet"), `SELECT 'C1' AS click_id, TIMESTAMP '2026-11-21 09:00:00' AS ts, ['P1'] AS publisher_id`)
		}, `clicks.parquet: column "publisher_id": nested type`},
		{"parquet double ts", func(t *testing.T, dir string) {
			writeParquetSQL(t, filepath.Join(dir, "clicks.parquet"), `SELECT 'C1' AS click_id, 1795251600000.0::DOUBLE AS ts, 'P1' AS publisher_id`)
		}, `clicks.parquet: column "ts": type DOUBLE cannot hold a timestamp`},
		{"parquet decimal ts", func(t *testing.T, dir string) {
			writeParquetSQL(t, filepath.Join(dir, "clicks.parquet"), `SELECT 'C1' AS click_id, 1795251600.5::DECIMAL(18,3) AS ts, 'P1' AS publisher_id`)
		}, `clicks.parquet: column "ts": type DECIMAL cannot hold a timestamp`},
		{"arrow struct publisher_id", func(t *testing.T, dir string) {
			sc := arrow.NewSchema([]arrow.Field{{Name: "click_id", Type: str}, {Name: "ts", Type: tsType},
				{Name: "publisher_id", Type: arrow.StructOf(arrow.Field{Name: "id", Type: str})}}, nil)
			writeArrowJSON(t, filepath.Join(dir, "clicks.arrow"), sc, `[{"click_id":"C1","ts":1795251600000,"publisher_id":{"id":"P1"}}]`, false)
		}, `clicks.arrow: column "publisher_id": nested type struct<id: utf8>`},
		{"arrow double ts", func(t *testing.T, dir string) {
			sc := arrow.NewSchema([]arrow.Field{{Name: "click_id", Type: str}, {Name: "ts", Type: arrow.PrimitiveTypes.Float64}, {Name: "publisher_id", Type: str}}, nil)
			writeArrowJSON(t, filepath.Join(dir, "clicks.arrow"), sc, `[{"click_id":"C1","ts":1795251600000.0,"publisher_id":"P1"}]`, true)
		}, `clicks.arrow: column "ts": type float64 cannot hold a timestamp`},
		{"arrow boolean as float", func(t *testing.T, dir string) {
			sc := arrow.NewSchema([]arrow.Field{{Name: "click_id", Type: str}, {Name: "ts", Type: tsType}, {Name: "publisher_id", Type: str}, {Name: "landed", Type: arrow.PrimitiveTypes.Float32}}, nil)
			writeArrowJSON(t, filepath.Join(dir, "clicks.arrow"), sc, `[{"click_id":"C1","ts":1795251600000,"publisher_id":"P1","landed":1}]`, false)
		}, `clicks.arrow: column "landed": type float32 cannot hold a boolean`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeInputs(t, map[string]string{"clicks.csv": ""})
			tc.write(t, dir)
			_, err := Discover(dir)
			var ce *ContractError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Discover = %v, want a contract error %q", err, tc.want)
			}
		})
	}
	t.Run("nested extra column is fine", func(t *testing.T) {
		dir := writeInputs(t, map[string]string{"clicks.csv": ""})
		writeParquetSQL(t, filepath.Join(dir, "clicks.parquet"), `SELECT 'C1' AS click_id, TIMESTAMP '2026-11-21 09:00:00' AS ts, 'P1' AS publisher_id, {'a': 1} AS campaign`)
		st := openStore(t)
		load(t, st, dir, time.Time{})
		if n := count(t, st, "SELECT count(*) FROM clicks"); n != 1 {
			t.Errorf("%d clicks, want 1", n)
		}
	})
}

// TestCorruptArrow: a corrupt or lying Arrow file is a contract error naming
// it: no panic (a corrupt footer sliced out of range), no allocation the
// size of a length it claims (a 100-byte file asked for 2 GB).
func TestCorruptArrow(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "click_id", Type: arrow.BinaryTypes.String},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}}, {Name: "publisher_id", Type: arrow.BinaryTypes.String}}, nil)
	rows := `[{"click_id":"C1","ts":1795251600000,"publisher_id":"P1"},{"click_id":"C2","ts":1795251600000,"publisher_id":"P2"}]`
	good := writeArrowJSON(t, filepath.Join(t.TempDir(), "good.arrow"), sc, rows, false)
	goodStream := writeArrowJSON(t, filepath.Join(t.TempDir(), "good.arrows"), sc, rows, true)
	footerLen := int(uint32(good[len(good)-10]) | uint32(good[len(good)-9])<<8 | uint32(good[len(good)-8])<<16 | uint32(good[len(good)-7])<<24)
	footerAt := len(good) - 10 - footerLen
	mutate := func(b []byte, f func([]byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}
	cases := map[string][]byte{
		"footer bytes all 0xFF": mutate(good, func(b []byte) {
			for i := footerAt; i < len(b)-10; i++ {
				b[i] = 0xFF
			}
		}),
		"footer table offset past the end":   mutate(good, func(b []byte) { b[footerAt], b[footerAt+1], b[footerAt+2], b[footerAt+3] = 0xF0, 0xFF, 0xFF, 0x0F }),
		"footer length larger than the file": mutate(good, func(b []byte) { b[len(b)-10], b[len(b)-9], b[len(b)-8], b[len(b)-7] = 0xFF, 0xFF, 0xFF, 0x7F }),
		"batch block in the footer shifted": mutate(good, func(b []byte) {
			for i := footerAt; i < len(b)-10; i++ {
				b[i] ^= byte(i * 7)
			}
		}),
		"stream with a 2 GB metadata length": append([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0xFF, 0xFF, 0x7F}, make([]byte, 92)...),
		"stream with a 2 GB body length": mutate(goodStream, func(b []byte) {
			// the second message's body length (flatbuffer int64) made huge:
			// find the record batch body length by its value and patch it
			i := bytes.LastIndex(b[:len(b)-8], []byte{0xFF, 0xFF, 0xFF, 0xFF})
			for j := i + 8; j < len(b)-8; j++ {
				if b[j] == 0x40 && b[j+1] == 0 && b[j+2] == 0 && b[j+3] == 0 && b[j+4] == 0 && b[j+5] == 0 && b[j+6] == 0 && b[j+7] == 0 {
					b[j+3] = 0x7F
					break
				}
			}
		}),
		"csv renamed .arrow":   []byte("click_id,ts,publisher_id\nC1,2026-11-21T09:00:00Z,P1\n"),
		"stream cut mid-batch": goodStream[:len(goodStream)-40],
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			dir := writeInputs(t, map[string]string{"clicks.csv": ""})
			if err := os.WriteFile(filepath.Join(dir, "clicks.arrow"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			files, err := Discover(dir)
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("Discover allocated %d MB for a %d-byte file", grew>>20, len(data))
			}
			var ce *ContractError
			if err == nil {
				// a mutation the format tolerates must still load cleanly
				st := openStore(t)
				load(t, st, dir, time.Time{})
				_ = files
				return
			}
			if !errors.As(err, &ce) || ce.File != "clicks.arrow" {
				t.Fatalf("Discover = %v, want a contract error naming clicks.arrow", err)
			}
			t.Logf("%v", err)
		})
	}
}
