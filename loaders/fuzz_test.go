package loaders

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"affwatch/store"
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

// FuzzLoadCSV loads arbitrary bytes as the rows of a clicks file: the load
// must never fail, every line must be accounted for (outcomes), and a line
// the Go reference reads as a clean click (three plain fields, a unique
// id, a contract timestamp) must be stored as it reads. Seeds:
// testdata/fuzz/FuzzLoadCSV.
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
		body := "click_id,ts,publisher_id\n" + rows
		st, res := fuzzLoad(t, map[string]string{"clicks.csv": body})
		lines := strings.Split(body, "\n")
		out := outcomes(t, st, res, "clicks", int64(len(lines)))
		if out[1] != nil {
			t.Fatalf("the header line was loaded or quarantined: %+v", out[1])
		}
		seen := map[string]bool{} // ids of every record so far, quoted or not
		inQuote := false
		for i, line := range lines[1:] {
			n := int64(i + 2)
			record := !inQuote // the line starts a record
			inQuote = csvQuoteState(line, inQuote)
			fields := strings.Split(strings.TrimSuffix(line, "\r"), ",")
			id := fields[0]
			first := !seen[id] && !seen[strings.Trim(id, `"`)]
			if record {
				seen[id], seen[strings.Trim(id, `"`)] = true, true
			}
			if !record || strings.ContainsAny(line, "\"\x00") || strings.Contains(strings.TrimSuffix(line, "\r"), "\r") || !utf8.ValidString(line) || len(fields) != 3 {
				continue // inside a quoted value; quotes, NUL, stray CR, bad UTF-8, column count: the reader's rules
			}
			ts, pub := fields[1], fields[2]
			want, strict, _ := refTimestamp(ts)
			if id == "" || pub == "" || !strict || !first {
				continue
			}
			checkStoredClick(t, st, "clicks.csv", n, id, pub, want, out[n])
		}
		checkStoredUTF8(t, st)
	})
}

// csvQuoteState says whether a CSV line (with the line break after it)
// leaves a quoted value open, by the reader's rules: a quote opens a
// quoted value only at the start of a field, "" inside one is a quote.
func csvQuoteState(line string, in bool) bool {
	fieldStart := !in
	for i := 0; i < len(line); i++ {
		c := line[i]
		if in {
			if c == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					i++
				} else {
					in = false
				}
			}
			continue
		}
		if c == '"' && fieldStart {
			in, fieldStart = true, false
			continue
		}
		fieldStart = c == ','
	}
	return in
}

// checkStoredClick: the click at line n must be stored with these values.
func checkStoredClick(t *testing.T, st *store.Store, file string, n int64, id, pub string, ts time.Time, o *lineOutcome) {
	t.Helper()
	if o == nil || !o.loaded {
		t.Fatalf("%s:%d: clean click %q not stored: %+v", file, n, id, o)
	}
	var gotID, gotPub string
	var gotTS int64
	if err := st.DB.QueryRow(`SELECT click_id, publisher_id, epoch_us(ts) FROM clicks WHERE _line = ?`, n).Scan(&gotID, &gotPub, &gotTS); err != nil {
		t.Fatal(err)
	}
	if gotID != id || gotPub != pub || gotTS != ts.UnixMicro() {
		t.Fatalf("%s:%d: stored %q %q %s, want %q %q %s", file, n, gotID, gotPub, time.UnixMicro(gotTS).UTC(), id, pub, ts)
	}
}

// checkStoredUTF8: nothing stored may be invalid UTF-8 (DuckDB would fail
// every later query touching it).
func checkStoredUTF8(t *testing.T, st *store.Store) {
	t.Helper()
	rs, err := st.DB.Query(`SELECT click_id, publisher_id FROM clicks`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var id, pub string
		if err := rs.Scan(&id, &pub); err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(id) || !utf8.ValidString(pub) {
			t.Fatalf("stored click %q of %q is not UTF-8", id, pub)
		}
	}
}

// FuzzLoadNDJSON loads arbitrary lines as a clicks NDJSON file. The load
// must never fail; every line that is not blank must be stored or
// quarantined, and a blank one neither; a line that is JSON but not an
// object must be quarantined as malformed; a line the Go reference reads
// as a clean click (an object without repeated keys whose click_id and
// publisher_id are non-empty strings and whose ts is a contract timestamp
// or epoch integer, no other contract column, a first occurrence of its
// id) must be stored with exactly those values. Seeds:
// testdata/fuzz/FuzzLoadNDJSON.
func FuzzLoadNDJSON(f *testing.F) {
	for _, s := range []string{
		`{"click_id":"C1","ts":"2026-11-21T09:00:00Z","publisher_id":"P1"}` + "\n",
		`{"click_id":"C1","ts":1795338000000,"publisher_id":"P1","landed":true}` + "\r\n\n" + `[1,2]` + "\n" + `{"click_id":"C1"}`,
		"\ufeff" + `{"click_id":"C\u00e9","ts":"2026-11-21T12:30:00+03:00","publisher_id":"P\ud800","x":{"y":[1,{"z":null}]}}`,
		"not json\n\t\n\u00a0\n" + `{"click_id":"C2","ts":"2026-11-21T09:00:00Z","publisher_id":"P1",}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if strings.Count(body, "\n") > 50 || len(body) > 8192 {
			return
		}
		st, res := fuzzLoad(t, map[string]string{"clicks.ndjson": body})
		if st == nil {
			return // no click_id/ts/publisher_id in the sampled objects: a contract error, before any row
		}
		// Lines end with LF (CRLF); a file without any LF but with CRs
		// has classic Mac line ends, which the reader follows.
		sep := "\n"
		if !strings.Contains(body, "\n") && strings.Contains(body, "\r") {
			sep = "\r"
		}
		lines := strings.Split(body, sep)
		out := outcomes(t, st, res, "clicks", int64(len(lines)))
		zs := func(r rune) bool { return unicode.Is(unicode.Zs, r) }
		seen := map[string]bool{}
		for i, line := range lines {
			n := int64(i + 1)
			text := strings.TrimSuffix(line, "\r")
			if i == 0 {
				text = strings.TrimPrefix(text, "\ufeff")
			}
			o := out[n]
			if strings.TrimFunc(text, zs) == "" && !strings.Contains(line, "\x00") {
				if o != nil {
					t.Fatalf("line %d is blank but was stored or quarantined: %+v", n, o)
				}
				continue
			}
			if o == nil {
				t.Fatalf("line %d %q neither stored nor quarantined", n, line)
			}
			if strings.Contains(text, "\r") || !utf8.ValidString(text) {
				continue
			}
			if json.Valid([]byte(text)) && !strings.HasPrefix(strings.TrimSpace(text), "{") {
				if o.loaded || len(o.quarantined) != 1 || o.quarantined[0].Reason != "malformed line (not a JSON object)" {
					t.Fatalf("line %d %q is JSON but no object: %+v", n, line, o)
				}
				continue
			}
			c, ok := cleanClick(text)
			if !ok {
				continue
			}
			first := !seen[c.id]
			seen[c.id] = true
			if first {
				checkStoredClick(t, st, "clicks.ndjson", n, c.id, c.pub, c.ts, o)
			}
		}
		checkStoredUTF8(t, st)
	})
}

type refClick struct {
	id, pub string
	ts      time.Time
}

// cleanClick reads a line as the Go reference's clean click (see
// FuzzLoadNDJSON).
func cleanClick(line string) (refClick, bool) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return refClick{}, false
	}
	vals := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return refClick{}, false
		}
		k := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return refClick{}, false
		}
		if _, dup := vals[k]; dup {
			return refClick{}, false
		}
		vals[k] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return refClick{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return refClick{}, false // more after the object
	}
	ds, _ := DatasetByName("clicks")
	for _, c := range ds.Columns {
		if _, ok := vals[c.Name]; ok && c.Name != "click_id" && c.Name != "ts" && c.Name != "publisher_id" {
			return refClick{}, false
		}
	}
	id, _ := vals["click_id"].(string)
	pub, _ := vals["publisher_id"].(string)
	var want time.Time
	var strict bool
	switch ts := vals["ts"].(type) {
	case string:
		want, strict, _ = refTimestamp(ts)
	case json.Number:
		if n, err := strconv.ParseInt(string(ts), 10, 64); err == nil && jsonIntRe.MatchString(string(ts)) {
			want, strict = refEpochMs(n)
		}
	}
	if id == "" || pub == "" || !strict || !utf8.ValidString(id+pub) || strings.ContainsRune(id+pub, utf8.RuneError) {
		return refClick{}, false
	}
	return refClick{id, pub, want}, true
}
