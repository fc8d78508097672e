package loaders

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"

	"affwatch/store"
)

// FuzzLoadCompressed: a compressed CSV whose stream does not end properly
// (cut anywhere, at a flush point or mid-block, or followed by bytes that
// are not another stream) is refused before any row is read, naming the
// file; the complete stream loads exactly as its text does uncompressed.
func FuzzLoadCompressed(f *testing.F) {
	f.Add("C1,2026-11-21T09:00:00Z,P1\nC2,2026-11-21T09:00:00Z,P1\n", uint16(0), false, []byte(nil))
	f.Add("C1,2026-11-21T09:00:00Z,P1\nC2,2026-11-21T09:00:00Z,P1\n", uint16(3), false, []byte(nil))
	f.Add("C1,2026-11-21T09:00:00Z,P1\nC2,2026-11-21T09:00:00Z,P1\n", uint16(1), true, []byte(nil))
	f.Add("C1,2026-11-21T09:00:00Z,P1\n\nC2,bad,P1\r\nC3,2026-11-21T09:00:00Z,P1\rx\n", uint16(0), true, []byte("\x00\x00\x00\x00"))
	f.Add("C1,2026-11-21T09:00:00Z,\"P\n1\"\n", uint16(0), false, []byte("trailing garbage"))
	f.Fuzz(func(t *testing.T, rows string, cut uint16, zst bool, trail []byte) {
		if strings.Count(rows, "\n") > 50 || len(rows) > 4096 || len(trail) > 64 {
			return
		}
		body := "click_id,ts,publisher_id\n" + rows
		var buf bytes.Buffer
		half := len(body) / 2
		kind := "gz"
		if zst {
			kind = "zst"
			zw, err := zstd.NewWriter(&buf)
			if err != nil {
				t.Fatal(err)
			}
			zw.Write([]byte(body[:half]))
			zw.Flush()
			zw.Write([]byte(body[half:]))
			zw.Close()
		} else {
			zw := gzip.NewWriter(&buf)
			zw.Write([]byte(body[:half]))
			zw.Flush()
			zw.Write([]byte(body[half:]))
			zw.Close()
		}
		whole := buf.Bytes()
		data := whole
		switch {
		case cut > 0:
			data = whole[:len(whole)-1-int(cut)%len(whole)]
		case len(trail) > 0:
			if trail[0] == 0x1f || bytes.HasPrefix(trail, []byte{0x28, 0xb5, 0x2f, 0xfd}) || (len(trail) >= 4 && trail[1] == 0x2a && trail[2] == 0x4d && trail[3] == 0x18) {
				return // may be a valid next stream or skippable frame
			}
			data = append(append([]byte(nil), whole...), trail...)
		}
		dir := t.TempDir()
		name := "clicks.csv." + kind
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ds, _ := DatasetByName("clicks")
		file, err := describeFile(dir, ds, p)
		if len(data) != len(whole) {
			var ce *ContractError
			if err == nil {
				t.Fatalf("a %s stream of %d bytes cut or extended to %d was accepted", kind, len(whole), len(data))
			}
			if !errors.As(err, &ce) || ce.File != name {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("a complete %s stream was refused: %v", kind, err)
		}
		// The same text uncompressed, then compressed, into the shared store.
		st, plainRes := fuzzLoad(t, map[string]string{"clicks.csv": body})
		if st == nil {
			t.Fatal("the uncompressed file was refused but the compressed one accepted")
		}
		lines := int64(strings.Count(body, "\n") + 1)
		outcomes(t, st, plainRes, "clicks", lines)
		plain := snapshot(t, st)
		st, res := fuzzLoadFile(t, file)
		outcomes(t, st, res, "clicks", lines)
		if diff := cmp.Diff(plain, snapshot(t, st)); diff != "" {
			t.Fatalf("the compressed file loads differently from its text (-plain +%s):\n%s", kind, diff)
		}
	})
}

// fuzzLoadFile loads one described file into the shared fuzz store, emptied.
func fuzzLoadFile(t *testing.T, f File) (*store.Store, *Result) {
	t.Helper()
	st := fuzzStore
	for _, q := range []string{"DELETE FROM quarantine", "DELETE FROM load_ledger", "DELETE FROM clicks"} {
		if _, err := st.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Load(t.Context(), st, []File{f}, Options{RunID: "fuzz", SpanDays: -1})
	if err != nil {
		t.Fatalf("load failed on hostile input: %v", err)
	}
	return st, res
}

// snapshot is what a load left: stored rows and quarantine rows, by line.
func snapshot(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, err := st.DB.Query(`SELECT format('{} {} {} {}', _line, click_id, ts, publisher_id) FROM clicks
		UNION ALL SELECT format('q {} {} {}', line, column_name, reason) FROM quarantine ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}
