package loaders

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
)

// clickLines returns n CSV (or NDJSON) click rows C<from>…, one per line.
func clickLines(from, n int, ndjson bool) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		if ndjson {
			fmt.Fprintf(&b, `{"click_id":"C%d","ts":"2026-11-21T09:00:00Z","publisher_id":"P1"}`+"\n", i)
		} else {
			fmt.Fprintf(&b, "C%d,2026-11-21T09:00:00Z,P1\n", i)
		}
	}
	return b.String()
}

// compressCut compresses head, flushes (the point a cut looks like a clean
// end of data to a lenient reader), compresses tail, and returns the whole
// stream and the flush offset.
func compressCut(t *testing.T, kind, head, tail string) (whole []byte, flushAt int) {
	t.Helper()
	var buf bytes.Buffer
	switch kind {
	case "gz":
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(head))
		zw.Flush()
		flushAt = buf.Len()
		zw.Write([]byte(tail))
		zw.Close()
	case "zst":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write([]byte(head))
		zw.Flush()
		flushAt = buf.Len()
		zw.Write([]byte(tail))
		zw.Close()
	}
	return buf.Bytes(), flushAt
}

// TestTruncatedCompressedFileFails: a compressed file whose stream does not
// end properly is a failed file, named, before anything is loaded. DuckDB's
// readers stop at the cut and load the rows before it as if complete.
func TestTruncatedCompressedFileFails(t *testing.T) {
	for _, kind := range []string{"gz", "zst"} {
		for _, format := range []string{"csv", "ndjson"} {
			nd := format == "ndjson"
			head := clickLines(1, 2000, nd)
			if !nd {
				head = "click_id,ts,publisher_id\n" + head
			}
			whole, flushAt := compressCut(t, kind, head, clickLines(2001, 2000, nd))
			for _, cut := range []struct {
				name string
				data []byte
				want string
			}{
				{"at the flush point", whole[:flushAt], "cut short (truncated)"},
				{"mid-block", whole[:flushAt+(len(whole)-flushAt)/2], ""},
				{"bytes after the stream", append(append([]byte(nil), whole...), "garbage after the end\n"...), "followed by bytes that are not"},
				{"zeros after the stream", append(append([]byte(nil), whole...), make([]byte, 4096)...), ""},
			} {
				t.Run(fmt.Sprintf("%s.%s %s", format, kind, cut.name), func(t *testing.T) {
					name := "clicks." + format + "." + kind
					dir := writeInputs(t, map[string]string{"clicks.csv": ""})
					if err := os.WriteFile(filepath.Join(dir, name), cut.data, 0o644); err != nil {
						t.Fatal(err)
					}
					_, err := Discover(dir)
					var ce *ContractError
					var ze *CompressedError
					if !errors.As(err, &ce) || !errors.As(err, &ze) {
						t.Fatalf("Discover = %v, want a contract error wrapping a CompressedError", err)
					}
					if ce.File != name || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "nothing of this file is loaded") {
						t.Errorf("error does not name the file or say what happens: %v", err)
					}
					if cut.want != "" && !strings.Contains(err.Error(), cut.want) {
						t.Errorf("error %q, want it to say %q", err, cut.want)
					}
				})
			}
			t.Run(format+"."+kind+" whole file loads", func(t *testing.T) {
				dir := writeInputs(t, map[string]string{"clicks.csv": ""})
				os.WriteFile(filepath.Join(dir, "clicks."+format+"."+kind), whole, 0o644)
				st := openStore(t)
				load(t, st, dir, time.Time{})
				if n := count(t, st, "SELECT count(*) FROM clicks"); n != 4000 {
					t.Errorf("loaded %d clicks, want 4000", n)
				}
			})
		}
	}
}

// TestLongLines: every physical line is stored or quarantined, at its own
// line, whatever its length. DuckDB's reader dropped a line over ~40 MB
// without a word and numbered the later lines one too low.
func TestLongLines(t *testing.T) {
	const big = 50 << 20
	gz := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.String()
	}
	tests := []struct {
		name  string
		file  string
		body  string
		want  []qrow
		lines map[string]int64 // click_id → _line
	}{
		{
			name: "50 MB unquoted csv line", file: "clicks.csv",
			body:  "click_id,ts,publisher_id\nC1,2026-11-21T09:00:00Z,P1\nC2,2026-11-21T09:00:00Z," + strings.Repeat("x", big) + "\nC3,2026-11-21T09:00:00Z,P1\n",
			want:  []qrow{{"clicks.csv", 3, "", fmt.Sprintf("line too long: %d bytes, over the limit of 1048576 bytes; not loaded", big+25)}},
			lines: map[string]int64{"C1": 2, "C3": 4},
		},
		{
			name: "50 MB closed quoted field with line breaks", file: "clicks.csv",
			body:  "click_id,ts,publisher_id\nC1,2026-11-21T09:00:00Z,P1\nC2,2026-11-21T09:00:00Z,\"" + strings.Repeat("y", big/2) + "\n" + strings.Repeat("y", big/2) + "\"\nC3,2026-11-21T09:00:00Z,P1\n",
			want:  []qrow{{"clicks.csv", 3, "", fmt.Sprintf("record (2 lines, a quoted value with line breaks) too long: %d bytes, over the limit of 1048576 bytes; not loaded", big+28)}},
			lines: map[string]int64{"C1": 2, "C3": 5},
		},
		{
			name: "NULs after valid data in a .gz", file: "clicks.csv.gz",
			body:  gz("click_id,ts,publisher_id\nC1,2026-11-21T09:00:00Z,P1\n" + string(make([]byte, big)) + "\nC3,2026-11-21T09:00:00Z,P1\n"),
			want:  []qrow{{"clicks.csv.gz", 3, "", fmt.Sprintf("line too long: %d bytes, over the limit of 1048576 bytes; not loaded", big+1)}},
			lines: map[string]int64{"C1": 2, "C3": 4},
		},
		{
			name: "50 MB ndjson line", file: "clicks.ndjson",
			body:  clickLines(1, 1, true) + `{"click_id":"C2","publisher_id":"` + strings.Repeat("z", big) + "\"}\n" + clickLines(3, 1, true),
			want:  []qrow{{"clicks.ndjson", 2, "", fmt.Sprintf("line too long: %d bytes, over the limit of 1048576 bytes; not loaded", big+36)}},
			lines: map[string]int64{"C1": 1, "C3": 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeInputs(t, map[string]string{"clicks.csv": "", tc.file: tc.body})
			st := openStore(t)
			res := load(t, st, dir, time.Time{})
			if diff := cmp.Diff(tc.want, quarantined(t, st, "clicks")); diff != "" {
				t.Errorf("quarantine (-want +got):\n%s", diff)
			}
			got := map[string]int64{}
			rows, err := st.DB.Query(`SELECT click_id, _line FROM clicks`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				var line int64
				rows.Scan(&id, &line)
				got[id] = line
			}
			rows.Close()
			if diff := cmp.Diff(tc.lines, got); diff != "" {
				t.Errorf("stored rows and their lines (-want +got):\n%s", diff)
			}
			for _, f := range res.Files {
				if f.Dataset == "clicks" && (f.RowsLoaded != 2 || f.RowsQuarantined != 1) {
					t.Errorf("%s: loaded %d, quarantined %d; want 2 and 1", f.Rel, f.RowsLoaded, f.RowsQuarantined)
				}
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"a\x00b\rc\td", `a\x00b\x0dc\td`},
		{"\u200bP000107\u200f", `\u200bP000107\u200f`},
		{"\u202eevil", `\u202eevil`},
		{"\xff\xfeh\x00i", `\xff\xfeh\x00i`},
		{"Ünïcode ok", "Ünïcode ok"},
		{strings.Repeat("a", 50), strings.Repeat("a", 10) + "…(40 more bytes)"},
	} {
		max := 1000
		if len(tc.in) == 50 {
			max = 10
		}
		if got := Escape(tc.in, max); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

const clickHeader = "click_id,ts,publisher_id\n"

// TestGlobCharactersInNames: files are read exactly as discovered. DuckDB
// reads a path as a glob: a folder date=* made one file claim every file's
// rows, and p?rt-0.csv read its neighbour part-0.csv.
func TestGlobCharactersInNames(t *testing.T) {
	dir := writeInputs(t, map[string]string{"clicks.csv": ""})
	files := map[string]string{
		"clicks/date=*/part-0.csv":          clickHeader + "C100,2026-11-21T09:00:00Z,P1\n",
		"clicks/date=2026-11-21/part-0.csv": clickHeader + clickLines(1, 2, false),
		"clicks/date=2026-11-22/p?rt-0.csv": clickHeader + clickLines(3, 1, false),
		"clicks/date=2026-11-22/part-0.csv": clickHeader + clickLines(4, 1, false),
		"clicks/[x/part-{a,b}.csv":          clickHeader + clickLines(5, 1, false),
	}
	for rel, body := range files {
		writeFile(t, filepath.Join(dir, rel), body)
	}
	st := openStore(t)
	res := load(t, st, dir, time.Time{})
	got := map[string]int64{}
	for _, f := range res.Files {
		if f.Dataset == "clicks" {
			got[f.Rel] = f.RowsLoaded + 100*f.RowsQuarantined
		}
	}
	want := map[string]int64{
		"clicks/date=*/part-0.csv": 1, "clicks/date=2026-11-21/part-0.csv": 2,
		"clicks/date=2026-11-22/p?rt-0.csv": 1, "clicks/date=2026-11-22/part-0.csv": 1, "clicks/[x/part-{a,b}.csv": 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows loaded per file (+100 per quarantined) (-want +got):\n%s", diff)
	}
	if n := count(t, st, "SELECT count(*) FROM clicks"); n != 6 {
		t.Errorf("%d clicks stored, want 6", n)
	}
}

func TestDiscoverReportsWhatItDoesNotRead(t *testing.T) {
	dir := writeInputs(t, map[string]string{"clicks.csv": ""})
	writeFile(t, filepath.Join(dir, "clicks/date=2026-11-21/part-0.csv"), clickHeader+clickLines(1, 2, false))
	writeFile(t, filepath.Join(dir, "clicks/_date=2026-11-20/part-0.csv"), clickHeader+clickLines(3, 2, false))
	writeFile(t, filepath.Join(dir, "clicks/.part-1.csv"), clickHeader+clickLines(5, 1, false))
	writeFile(t, filepath.Join(dir, "clicks/_SUCCESS"), "")
	for _, name := range []string{"Buyers.csv", "buyers.json", "buyers.csv.bz2", "buyers.csv.gzip", "sellerz.csv", "labels.csv"} {
		writeFile(t, filepath.Join(dir, name), "buyer_id\nB1\n")
	}
	in, err := DiscoverInputs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"clicks/.part-1.csv", "clicks/_SUCCESS", "clicks/_date=2026-11-20/"}, in.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	want := []string{
		"Buyers.csv: not read: dataset names are lower case (buyers)",
		"buyers.csv.bz2: not read: not a supported file type; use .csv, .tsv, .ndjson or .jsonl (optionally .gz or .zst), .parquet or .arrow",
		"buyers.csv.gzip: not read: not a supported file type; use .csv, .tsv, .ndjson or .jsonl (optionally .gz or .zst), .parquet or .arrow",
		"buyers.json: not read: not a supported file type; use .csv, .tsv, .ndjson or .jsonl (optionally .gz or .zst), .parquet or .arrow",
		"sellerz.csv: not read: close to the dataset name sellers",
	}
	if diff := cmp.Diff(want, in.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestDiscoverFoldersAndLinks(t *testing.T) {
	t.Run("directory named clicks.csv", func(t *testing.T) {
		dir := writeInputs(t, map[string]string{"clicks.csv": ""})
		os.Mkdir(filepath.Join(dir, "clicks.csv"), 0o755)
		_, err := Discover(dir)
		if err == nil || !strings.Contains(err.Error(), "clicks.csv/: is a folder; a dataset is a file clicks.EXT or a folder named clicks/") {
			t.Errorf("Discover = %v, want the folder named clicks.csv reported", err)
		}
	})
	t.Run("missing dataset names its near miss", func(t *testing.T) {
		dir := writeInputs(t, map[string]string{"clicks.csv": "", "Clicks.csv": clickHeader + clickLines(1, 1, false)})
		_, err := Discover(dir)
		if err == nil || !strings.Contains(err.Error(), "required dataset clicks is missing") || !strings.Contains(err.Error(), "found Clicks.csv: not read: dataset names are lower case (clicks)") {
			t.Errorf("Discover = %v", err)
		}
	})
	t.Run("dataset folder and partition are symlinks", func(t *testing.T) {
		dir := writeInputs(t, map[string]string{"clicks.csv": ""})
		elsewhere := t.TempDir()
		writeFile(t, filepath.Join(elsewhere, "c/date=2026-11-21/part-0.csv"), clickHeader+clickLines(1, 2, false))
		writeFile(t, filepath.Join(elsewhere, "d/part-0.csv"), clickHeader+clickLines(3, 1, false))
		if err := os.Symlink(filepath.Join(elsewhere, "c"), filepath.Join(dir, "clicks")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(elsewhere, "d"), filepath.Join(elsewhere, "c", "date=2026-11-22")); err != nil {
			t.Fatal(err)
		}
		st := openStore(t)
		load(t, st, dir, time.Time{})
		if n := count(t, st, "SELECT count(*) FROM clicks"); n != 3 {
			t.Errorf("%d clicks, want 3", n)
		}
	})
	t.Run("symlink loop is named", func(t *testing.T) {
		dir := writeInputs(t, map[string]string{"clicks.csv": ""})
		writeFile(t, filepath.Join(dir, "clicks/date=2026-11-21/part-0.csv"), clickHeader+clickLines(1, 1, false))
		os.Symlink(filepath.Join(dir, "clicks"), filepath.Join(dir, "clicks/date=2026-11-21/loop"))
		_, err := Discover(dir)
		if err == nil || !strings.Contains(err.Error(), "clicks/date=2026-11-21/loop/: a symlink loop") {
			t.Errorf("Discover = %v, want the loop named", err)
		}
	})
	t.Run("unreadable subfolder is named", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root: a folder without permissions is still readable, so the case cannot be made")
		}
		dir := writeInputs(t, map[string]string{"clicks.csv": ""})
		writeFile(t, filepath.Join(dir, "clicks/date=2026-11-21/part-0.csv"), clickHeader+clickLines(1, 1, false))
		os.Chmod(filepath.Join(dir, "clicks/date=2026-11-21"), 0)
		defer os.Chmod(filepath.Join(dir, "clicks/date=2026-11-21"), 0o755)
		_, err := Discover(dir)
		if err == nil || !strings.Contains(err.Error(), "clicks/date=2026-11-21/: the folder cannot be read") {
			t.Errorf("Discover = %v, want the folder named", err)
		}
	})
	t.Run("dangling symlink is named", func(t *testing.T) {
		dir := writeInputs(t, map[string]string{"clicks.csv": ""})
		writeFile(t, filepath.Join(dir, "clicks/date=2026-11-21/part-0.csv"), clickHeader+clickLines(1, 1, false))
		os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "clicks/date=2026-11-22"))
		_, err := Discover(dir)
		if err == nil || !strings.Contains(err.Error(), "clicks/date=2026-11-22: a symlink to nothing readable") {
			t.Errorf("Discover = %v, want the link named", err)
		}
	})
}

func TestHostileHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"ANSI escapes", "\x1b[2J\x1b[31mclick_id,ts\n", `the file has \x1b[2J\x1b[31mclick_id, ts)`},
		{"UTF-16", "\xff\xfec\x00l\x00i\x00\n\x00", "clicks.csv: the file is UTF-16 text; save it as UTF-8"},
		{"NULs", string(make([]byte, 5000)) + "\n", "clicks.csv: the first line holds NUL bytes"},
		{"bidi in a name", "click_id,\u202ets,publisher_id\n", `the file has click_id, \u202ets, publisher_id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeInputs(t, map[string]string{"clicks.csv": tc.body})
			_, err := Discover(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Discover = %v, want %q", err, tc.want)
			}
			if len(err.Error()) > 2000 || strings.ContainsAny(err.Error(), "\x00\x1b\u202e") {
				t.Errorf("message not escaped or not cut: %q", err)
			}
		})
	}
}

func TestCROnlyCSV(t *testing.T) {
	body := strings.ReplaceAll(clickHeader+clickLines(1, 3, false), "\n", "\r")
	dir := writeInputs(t, map[string]string{"clicks.csv": body})
	st := openStore(t)
	load(t, st, dir, time.Time{})
	if n := count(t, st, "SELECT count(*) FROM clicks WHERE _line = CAST(substr(click_id, 2) AS INT) + 1"); n != 3 {
		t.Errorf("%d clicks at their own line, want 3; quarantine: %v", n, quarantined(t, st, "clicks"))
	}
}

// TestTimestampWindow: a dated row far from the rest is quarantined with
// the reason, so no detector reads a span the input did not mean (a click
// in 2099 made click_burst build an hourly grid to 2099). The window is
// the same for a night and a backfill: a night re-run with a file that
// also holds later days (a replay of history) must lose nothing, since
// the same file is skipped as unchanged on the later nights.
func TestTimestampWindow(t *testing.T) {
	night := time.Date(2026, 11, 13, 0, 0, 0, 0, time.UTC)
	body := clickHeader + clickLines(1, 5, false) +
		"C2099,2099-12-31T23:59:59Z,P1\n" + // far future
		"C2000,2000-01-01T00:00:00Z,P1\n" + // far past (the epoch range allows it)
		"CLATE,2026-08-01T00:00:00Z,P1\n" + // 112 days before: kept
		"CNEXT,2026-11-22T23:59:59Z,P1\n" // after the night: kept
	want := map[int64]string{
		7: "timestamp more than 366 days from the middle of the input (median day 2026-11-21); a load accepts 2025-11-20 to 2027-11-22; a clock or unit error",
		8: "timestamp more than 366 days from the middle of the input (median day 2026-11-21)",
	}
	for _, tc := range []struct {
		name  string
		night time.Time
	}{{"backfill", time.Time{}}, {"night with later days in the file", night}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeInputs(t, map[string]string{"clicks.csv": body})
			st := openStore(t)
			res := load(t, st, dir, tc.night)
			got := map[int64]string{}
			for _, q := range quarantined(t, st, "clicks") {
				if q.Column != "ts" {
					t.Errorf("quarantine row on column %q, want ts", q.Column)
				}
				got[q.Line] = q.Reason
			}
			if len(got) != len(want) {
				t.Errorf("quarantined lines %v, want %v", got, want)
			}
			for line, prefix := range want {
				if !strings.HasPrefix(got[line], prefix) {
					t.Errorf("line %d: reason %q, want it to start %q", line, got[line], prefix)
				}
			}
			if n := count(t, st, "SELECT count(*) FROM clicks"); n != 7 {
				t.Errorf("%d clicks kept, want 7", n)
			}
			if q := res.Quarantined(); q != int64(len(want)) {
				t.Errorf("Quarantined() = %d, want %d", q, len(want))
			}
		})
	}
}

// TestManySmallFiles: small files are read in batches and every row keeps
// its own file and line; a batch in which the reader rejects a line falls
// back to reading its files one by one, with the exact line and reason.
func TestManySmallFiles(t *testing.T) {
	dir := writeInputs(t, map[string]string{"clicks.csv": "", "orders.csv": ""})
	want := map[string]string{} // click_id → file:line
	n := 0
	for d := 0; d < 3; d++ {
		for p := 0; p < 100; p++ {
			rel := fmt.Sprintf("clicks/date=2026-11-%02d/part-%03d.csv", 19+d, p)
			var b strings.Builder
			b.WriteString(clickHeader)
			for r := 0; r < 1+(p%3); r++ {
				n++
				fmt.Fprintf(&b, "C%d,2026-11-%02dT09:00:00Z,P%d\n", n, 19+d, p)
				want[fmt.Sprintf("C%d", n)] = fmt.Sprintf("%s:%d", rel, r+2)
			}
			writeFile(t, filepath.Join(dir, rel), b.String())
		}
	}
	// one NDJSON dataset in many files too, one with a malformed line
	for p := 0; p < 40; p++ {
		body := fmt.Sprintf(`{"order_id":"O%d","ts":"2026-11-21T10:00:00Z","buyer_id":"B1","amount_usd":1}`+"\n", p)
		if p == 17 {
			body += "{not json\n"
		}
		writeFile(t, filepath.Join(dir, fmt.Sprintf("orders/part-%03d.ndjson", p)), body)
	}
	// a CSV whose third line has too many columns, inside a batch
	writeFile(t, filepath.Join(dir, "clicks/date=2026-11-21/part-075.csv"), clickHeader+"CX1,2026-11-21T09:00:00Z,P1\nCX2,2026-11-21T09:00:00Z,P1,extra\nCX3,2026-11-21T09:00:00Z,P1\n")
	delete(want, "C")
	for id, at := range want {
		if strings.HasPrefix(at, "clicks/date=2026-11-21/part-075.csv") {
			delete(want, id)
		}
	}
	want["CX1"] = "clicks/date=2026-11-21/part-075.csv:2"
	want["CX3"] = "clicks/date=2026-11-21/part-075.csv:4"
	st := openStore(t)
	res := load(t, st, dir, time.Time{})
	got := map[string]string{}
	rows, err := st.DB.Query(`SELECT c.click_id, g.path || ':' || c._line, c.extra->>'date' = strftime(c.ts, '%Y-%m-%d') FROM clicks c JOIN load_ledger g ON g.file_id = c._file_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, at string
		var hiveOK bool
		rows.Scan(&id, &at, &hiveOK)
		got[id] = at
		if !hiveOK {
			t.Errorf("%s: hive key date not kept in extra", id)
		}
	}
	rows.Close()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("clicks and their file:line (-want +got):\n%s", diff)
	}
	wantQ := []qrow{{"clicks/date=2026-11-21/part-075.csv", 3, "", "too many columns: Expected Number of Columns: 3 Found: 4"}}
	if diff := cmp.Diff(wantQ, quarantined(t, st, "clicks")); diff != "" {
		t.Errorf("clicks quarantine (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]qrow{{"orders/part-017.ndjson", 2, "", "malformed line (not a JSON object)"}}, quarantined(t, st, "orders")); diff != "" {
		t.Errorf("orders quarantine (-want +got):\n%s", diff)
	}
	if n := count(t, st, "SELECT count(*) FROM orders"); n != 40 {
		t.Errorf("%d orders, want 40", n)
	}
	for _, f := range res.Files {
		if f.Rel == "clicks/date=2026-11-21/part-075.csv" && (f.RowsLoaded != 2 || f.RowsQuarantined != 1) {
			t.Errorf("%s: loaded %d quarantined %d, want 2 and 1", f.Rel, f.RowsLoaded, f.RowsQuarantined)
		}
	}
	// loading the same files again is a no-op
	res = load(t, st, dir, time.Time{})
	for _, f := range res.Files {
		if f.Status != StatusUnchanged {
			t.Fatalf("%s: %s on the second load, want unchanged", f.Rel, f.Status)
		}
	}
}

func TestSetAsideBrokenFiles(t *testing.T) {
	whole, flushAt := compressCut(t, "gz", clickHeader+clickLines(1, 100, false), clickLines(101, 100, false))
	dir := writeInputs(t, map[string]string{"clicks.csv": ""})
	writeFile(t, filepath.Join(dir, "clicks/part-0.csv.gz"), string(whole[:flushAt]))
	writeFile(t, filepath.Join(dir, "clicks/part-1.csv"), clickHeader+clickLines(500, 3, false))
	if _, err := DiscoverInputs(dir); err == nil {
		t.Fatal("without the option a truncated file must stop the input")
	}
	in, err := DiscoverInputsWith(dir, DiscoverOptions{SetAsideBroken: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.SetAside) != 1 || !strings.HasPrefix(in.SetAside[0], "clicks/part-0.csv.gz: the gzip stream is cut short") {
		t.Errorf("SetAside = %q", in.SetAside)
	}
	for _, f := range in.Files {
		if f.Rel == "clicks/part-0.csv.gz" {
			t.Error("the broken file is still among the files to load")
		}
	}
	// a required dataset whose only file is broken is still missing
	os.Remove(filepath.Join(dir, "clicks/part-1.csv"))
	if _, err := DiscoverInputsWith(dir, DiscoverOptions{SetAsideBroken: true}); err == nil || !strings.Contains(err.Error(), "every file was set aside as broken") {
		t.Errorf("DiscoverInputsWith = %v, want the dataset reported empty", err)
	}
}
