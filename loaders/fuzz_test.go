package loaders

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzHeaders feeds hostile first lines to the Go-side header readers that
// run before any DuckDB work: they must never panic and never return a
// column name with a newline.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{
		"click_id,ts,publisher_id\n", "\xef\xbb\xbfa,\"b\",c\r\n", "\"unterminated,x\n", "", "\n\n",
		`{"click_id":"C1","ts":1}` + "\n", `{"a":{"b":[1,2]},"c":"\u0000"}`, "[1,2,3]\n{}", "\t\t\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		dir := t.TempDir()
		for _, name := range []string{"x.csv", "x.tsv", "x.ndjson"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			var cols []string
			var err error
			switch name {
			case "x.csv":
				cols, err = readDelimitedHeader(p, "", FormatCSV)
			case "x.tsv":
				cols, err = readDelimitedHeader(p, "", FormatTSV)
			default:
				cols, err = readNDJSONKeys(p, "")
			}
			if err != nil {
				continue
			}
			for _, c := range cols {
				if name != "x.ndjson" && strings.ContainsAny(c, "\n") {
					t.Errorf("%s: column %q holds a newline", name, c)
				}
			}
		}
	})
}

// FuzzLoadCSV loads arbitrary bytes as a clicks file: the load must never
// fail and every data line must be either stored or quarantined.
func FuzzLoadCSV(f *testing.F) {
	for _, s := range []string{
		"C1,2026-11-21T09:00:00Z,P1\n",
		"C1,2026-11-21T09:00:00Z,P1\nC1,2026-11-21T09:00:00Z,P1\n",
		"\"C,1\",\"2026-11-21T09:00:00Z\",\"P\n1\"\n",
		"C1,yesterday,P1\nC2,,\n,,\n",
		"C1,2026-11-21T09:00:00Z,P1,extra\n\xff,\xfe,\xfd\n",
		"=cmd|' /C calc'!A0,1795251600000,@SUM(1)\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rows string) {
		if strings.Count(rows, "\n") > 50 || len(rows) > 4096 {
			return
		}
		dir := writeInputs(t, map[string]string{"clicks.csv": "click_id,ts,publisher_id\n" + rows})
		st := openStore(t)
		files, err := Discover(dir)
		if err != nil {
			t.Fatalf("discover: %v", err)
		}
		res, err := Load(t.Context(), st, files, Options{RunID: "fuzz", Night: time.Time{}})
		if err != nil {
			t.Fatalf("load failed on hostile input: %v", err)
		}
		for _, fr := range res.Files {
			if fr.Dataset != "clicks" {
				continue
			}
			if fr.RowsRead != fr.RowsLoaded+fr.RowsQuarantined {
				t.Errorf("read %d != loaded %d + quarantined %d", fr.RowsRead, fr.RowsLoaded, fr.RowsQuarantined)
			}
		}
		var bad int64
		st.DB.QueryRow(`SELECT count(*) FROM quarantine WHERE reason = ''`).Scan(&bad)
		if bad > 0 {
			t.Errorf("%d quarantine rows without a reason", bad)
		}
		var invalid int64
		rs, _ := st.DB.Query(`SELECT click_id FROM clicks`)
		for rs.Next() {
			var id string
			rs.Scan(&id)
			if !utf8.ValidString(id) {
				invalid++
			}
		}
		rs.Close()
		if invalid > 0 {
			t.Errorf("%d stored ids are not UTF-8", invalid)
		}
	})
}
