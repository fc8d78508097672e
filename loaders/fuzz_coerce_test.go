package loaders

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// A Go reference for the contract's coercions (DESIGN §3), to check the
// SQL macros of macros.sql against. "Strict" is the contract itself: what
// the loader must accept, with the instant it must store. "Lenient" is the
// most the loader may accept beyond it (spelling variants whose meaning is
// unambiguous); anything else it accepts is a silently invented value.

const (
	epochMsMin = 946684800000  // 2000-01-01, as in aw_epoch_ms
	epochMsMax = 4102444800000 // 2100-01-01
)

var (
	strictEpochRe = regexp.MustCompile(`^-?[0-9]+$`)
	// RFC 3339 date-time (space allowed for T, as section 5.6 notes), with
	// at most 9 fraction digits.
	strictRFC3339Re = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})$`)
	lenientEpochRe  = regexp.MustCompile(`^[ \t\n\r\v\f]*[+-]?[0-9]+[ \t\n\r\v\f]*$`)
	// Variants with an unambiguous meaning: one-digit fields, no seconds,
	// an empty fraction, blanks before the zone, +hh or +hhmm zones.
	lenientRFC3339Re = regexp.MustCompile(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[Tt ]([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\.([0-9]*))?)?[ \t\n\r\v\f]*([Zz]|[+-][0-9]{1,2}(?::?[0-9]{2})?)$`)
)

// refEpochMs is the instant of epoch milliseconds n, if within the
// accepted years.
func refEpochMs(n int64) (time.Time, bool) {
	if n < epochMsMin || n > epochMsMax {
		return time.Time{}, false
	}
	return time.UnixMilli(n).UTC(), true
}

// refTimestamp parses v as the contract's timestamp. strict: the contract
// accepts it (the loader must store want). lenient: the loader may accept
// it, and then must store want.
func refTimestamp(v string) (want time.Time, strict, lenient bool) {
	if strictEpochRe.MatchString(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false, false
		}
		want, ok := refEpochMs(n)
		return want, ok, ok
	}
	if lenientEpochRe.MatchString(v) {
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(v), "+"), 10, 64)
		if err != nil {
			return time.Time{}, false, false
		}
		want, ok := refEpochMs(n)
		return want, false, ok
	}
	if m := strictRFC3339Re.FindStringSubmatch(v); m != nil {
		want, ok, endOfDay := refDateTime(m[1:])
		return want, ok && !endOfDay, ok
	}
	if m := lenientRFC3339Re.FindStringSubmatch(v); m != nil {
		want, ok, _ := refDateTime(m[1:])
		return want, false, ok
	}
	return time.Time{}, false, false
}

// refDateTime builds the UTC instant of year, month, day, hour, minute,
// second, fraction and zone, each in range. ISO 8601's 24:00:00 (the end
// of the day) is reported, as RFC 3339 does not have it. A leap second
// (:60) is refused: the store cannot hold it.
func refDateTime(f []string) (_ time.Time, ok, endOfDay bool) {
	num := func(s string) int {
		n, _ := strconv.Atoi(s)
		return n
	}
	y, mo, d, h, mi := num(f[0]), num(f[1]), num(f[2]), num(f[3]), num(f[4])
	s := 0
	if f[5] != "" {
		s = num(f[5])
	}
	frac := f[6]
	if len(frac) > 9 {
		frac = frac[:9]
	}
	ns := 0
	if frac != "" {
		ns = num(frac + strings.Repeat("0", 9-len(frac)))
	}
	ns -= ns % 1000 // the store keeps microseconds
	endOfDay = h == 24 && mi == 0 && s == 0 && ns == 0
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 && !endOfDay || mi > 59 || s > 59 {
		return time.Time{}, false, false
	}
	off := 0
	if z := f[7]; z != "Z" && z != "z" {
		digits := strings.ReplaceAll(z[1:], ":", "")
		oh, om := 0, 0
		switch len(digits) {
		case 1, 2:
			oh = num(digits)
		case 3, 4:
			oh, om = num(digits[:len(digits)-2]), num(digits[len(digits)-2:])
		}
		if oh > 23 || om > 59 {
			return time.Time{}, false, false // not an offset any clock has
		}
		off = oh*3600 + om*60
		if z[0] == '-' {
			off = -off
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC).Add(-time.Duration(off) * time.Second), true, endOfDay
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// refBool: strict is the contract's four spellings; lenient adds case and
// surrounding blanks.
func refBool(v string) (want, strict, lenient bool) {
	switch v {
	case "true", "1":
		return true, true, true
	case "false", "0":
		return false, true, true
	}
	switch strings.ToLower(strings.TrimFunc(v, func(r rune) bool { return unicode.Is(unicode.Zs, r) })) {
	case "true", "1":
		return true, false, true
	case "false", "0":
		return false, false, true
	}
	return false, false, false
}

// checkTimestamp compares what the loader made of v (got, ok) with the
// reference.
func checkTimestamp(t *testing.T, path, v string, got time.Time, ok bool) {
	t.Helper()
	want, strict, lenient := refTimestamp(v)
	switch {
	case strict && !ok:
		t.Fatalf("%s: refused timestamp %q, the contract's %s", path, v, want.Format(time.RFC3339Nano))
	case ok && !lenient:
		t.Fatalf("%s: accepted %q as %s: not a timestamp of the contract", path, v, got.Format(time.RFC3339Nano))
	case ok && !got.Equal(want):
		t.Fatalf("%s: %q stored as %s, want %s", path, v, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}

func checkBool(t *testing.T, path, v string, got, ok bool) {
	t.Helper()
	want, strict, lenient := refBool(v)
	switch {
	case strict && !ok:
		t.Fatalf("%s: refused boolean %q", path, v)
	case ok && !lenient:
		t.Fatalf("%s: accepted %q as %v: not a boolean of the contract", path, v, got)
	case ok && got != want:
		t.Fatalf("%s: %q stored as %v, want %v", path, v, got, want)
	}
}

// jsonNumberRe is a JSON number literal; jsonIntRe one without fraction or
// exponent.
var (
	jsonNumberRe = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$`)
	jsonIntRe    = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)$`)
)

const (
	tsReason   = "bad timestamp (want RFC 3339 with a zone, e.g. 2026-11-21T10:00:00Z, or epoch milliseconds)"
	boolReason = "bad boolean (want true, false, 1 or 0)"
)

// FuzzCoerce feeds any text through the real timestamp and boolean
// coercions three ways: the SQL macros directly (and aw_epoch_ms on any
// integer), a clicks CSV row (quoted), and an orders NDJSON line (as a
// JSON string, or as a bare literal when rawJSON and the text is a JSON
// number or true/false). Accepted values must be the reference's instant
// or truth value; contract values must be accepted; everything else must
// be quarantined at its file, line and column with the coercion's reason,
// never loaded and never a failed load. Seeds: testdata/fuzz/FuzzCoerce.
func FuzzCoerce(f *testing.F) {
	for _, s := range []struct {
		ts, b string
		ms    int64
		raw   bool
	}{
		{"2026-11-21T10:00:00Z", "true", 1795338000000, false},
		{"2026-11-21T12:30:00+03:00", "0", 946684800000, false},
		{"1795338000000", "1", 4102444800000, true},
		{"2026-11-21 10:00:00", "yes", -1, false},
		{"1.795338e12", "1.0", 0, true},
		{"2016-12-31T23:59:60Z", "TRUE ", 4102444800001, false},
		{"0000-01-01T00:00:00Z", "-0", 946684799999, true},
		{"9999-12-31T23:59:59.999999999-23:59", "\ufefftrue", 1 << 62, false},
		{"２０２６-11-21T10:00:00Z", "１", -9223372036854775808, false},
		{"2026-11-21T10:00:00+24:00", "\"true\"", 9223372036854775807, false},
		{"0x1A2B3C4D5E6", "t", 1795338000000, false},
		{"\x00", "\xff", 0, false},
	} {
		f.Add(s.ts, s.b, s.ms, s.raw)
	}
	f.Fuzz(func(t *testing.T, ts, b string, ms int64, rawJSON bool) {
		if len(ts) > 200 || len(b) > 200 {
			return
		}
		st, _ := fuzzLoad(t, nil) // the shared store, emptied
		conn, err := st.DB.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(t.Context(), macrosSQL); err != nil {
			t.Fatal(err)
		}
		// 1. The macros themselves, against the reference.
		macroTS := func(v string) sql.NullInt64 {
			var got sql.NullInt64
			if err := conn.QueryRowContext(t.Context(), `SELECT epoch_us(aw_ts(?))`, v).Scan(&got); err != nil {
				t.Fatalf("aw_ts(%q): %v", v, err)
			}
			checkTimestamp(t, "aw_ts", v, time.UnixMicro(got.Int64).UTC(), got.Valid)
			return got
		}
		macroBool := func(v string) sql.NullBool {
			var got sql.NullBool
			if err := conn.QueryRowContext(t.Context(), `SELECT aw_bool(?)`, v).Scan(&got); err != nil {
				t.Fatalf("aw_bool(%q): %v", v, err)
			}
			checkBool(t, "aw_bool", v, got.Bool, got.Valid)
			return got
		}
		var us sql.NullInt64
		if err := conn.QueryRowContext(t.Context(), `SELECT epoch_us(aw_epoch_ms(?::BIGINT))`, ms).Scan(&us); err != nil {
			t.Fatalf("aw_epoch_ms(%d): %v", ms, err)
		}
		if want, ok := refEpochMs(ms); ok != us.Valid || ok && us.Int64 != want.UnixMicro() {
			t.Fatalf("aw_epoch_ms(%d) = %v, want %v (accepted %v)", ms, us, want, ok)
		}

		// 2. A clicks CSV row, values quoted: what is stored or
		// quarantined must be what the macros say of the same text.
		q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
		// 3. An orders NDJSON line, values as JSON strings (invalid UTF-8
		// becomes U+FFFD) or, when rawJSON, bare numbers and true/false.
		jsonText := func(s string) (string, string) {
			j, _ := json.Marshal(s)
			var back string
			json.Unmarshal(j, &back)
			return string(j), back
		}
		tsJSON, tsSeen := jsonText(ts)
		bJSON, bSeen := jsonText(b)
		tsRaw := rawJSON && jsonNumberRe.MatchString(ts)
		bRaw := rawJSON && (b == "true" || b == "false" || jsonNumberRe.MatchString(b))
		if tsRaw {
			tsJSON = ts
		}
		if bRaw {
			bJSON = b
		}
		st, res := fuzzLoad(t, map[string]string{
			"clicks.csv":    "click_id,ts,publisher_id,landed\n" + "C1," + q(ts) + ",P1," + q(b) + "\n",
			"orders.ndjson": fmt.Sprintf(`{"order_id":"O1","ts":%s,"buyer_id":"B1","amount_usd":1,"new_buyer":%s}`, tsJSON, bJSON) + "\n",
		})
		if st == nil {
			t.Fatal("our own files broke the contract")
		}

		// clicks.csv: the row is line 2 however many lines its values span.
		click := outcomes(t, st, res, "clicks", int64(strings.Count(ts, "\n")+strings.Count(b, "\n")+2))
		var gotQ []qrow
		if click[2] != nil {
			gotQ = click[2].quarantined
		}
		if !utf8.ValidString(ts) || !utf8.ValidString(b) {
			if len(gotQ) != 1 || gotQ[0].Reason != "invalid UTF-8" || gotQ[0].Line != 2 {
				t.Fatalf("clicks.csv: invalid UTF-8 quarantined as %+v", gotQ)
			}
		} else {
			wantTS, wantB := macroTS(ts), sql.NullBool{}
			var wantQ []qrow
			if b != "" {
				if wantB = macroBool(b); !wantB.Valid {
					wantQ = append(wantQ, qrow{"clicks.csv", 2, "landed", boolReason})
				}
			}
			switch {
			case ts == "":
				wantQ = append(wantQ, qrow{"clicks.csv", 2, "ts", "missing required value"})
			case !wantTS.Valid:
				wantQ = append(wantQ, qrow{"clicks.csv", 2, "ts", tsReason})
			}
			if fmt.Sprint(wantQ) != fmt.Sprint(gotQ) {
				t.Fatalf("clicks.csv: ts %q landed %q quarantined as %+v, want %+v", ts, b, gotQ, wantQ)
			}
			var gotTS sql.NullInt64
			var gotB sql.NullBool
			err := st.DB.QueryRow(`SELECT epoch_us(ts), landed FROM clicks`).Scan(&gotTS, &gotB)
			switch {
			case err == sql.ErrNoRows && len(wantQ) == 0:
				t.Fatalf("clicks.csv: ts %q landed %q neither stored nor quarantined", ts, b)
			case err == nil && (gotTS != wantTS || gotB != wantB):
				t.Fatalf("clicks.csv: ts %q landed %q stored as %v %v, the macros say %v %v", ts, b, gotTS, gotB, wantTS, wantB)
			case err != nil && err != sql.ErrNoRows:
				t.Fatal(err)
			}
		}

		// orders.ndjson: line 1.
		order := outcomes(t, st, res, "orders", 2)
		gotQ = nil
		if order[1] != nil {
			gotQ = order[1].quarantined
		}
		var gotTS sql.NullInt64
		var gotB sql.NullBool
		err = st.DB.QueryRow(`SELECT epoch_us(ts), new_buyer FROM orders`).Scan(&gotTS, &gotB)
		if err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		loaded := err == nil
		if loaded == (len(gotQ) > 0) {
			t.Fatalf("orders.ndjson: stored %v with quarantine %+v", loaded, gotQ)
		}
		tsBad, bBad := false, false
		for _, g := range gotQ {
			switch {
			case g.Line == 1 && g.Column == "ts" && (g.Reason == tsReason || g.Reason == "missing required value" && tsSeen == "" && !tsRaw):
				tsBad = true
			case g.Line == 1 && g.Column == "new_buyer" && g.Reason == boolReason && (bSeen != "" || bRaw):
				bBad = true
			default:
				t.Fatalf("orders.ndjson: unexpected quarantine %+v (ts %s, new_buyer %s)", g, tsJSON, bJSON)
			}
		}
		switch {
		case tsRaw:
			// A JSON number: an integer in range must be read as epoch
			// milliseconds; a fraction or exponent may be read only as
			// the integer it exactly is.
			r, _ := new(big.Rat).SetString(ts)
			want, ok := time.Time{}, r.IsInt() && r.Num().IsInt64()
			if ok {
				want, ok = refEpochMs(r.Num().Int64())
			}
			if jsonIntRe.MatchString(ts) && ok && tsBad {
				t.Fatalf("orders.ndjson: refused JSON integer ts %s", ts)
			}
			if !tsBad && loaded && (!ok || gotTS.Int64 != want.UnixMicro()) {
				t.Fatalf("orders.ndjson: JSON number ts %s stored as %v", ts, gotTS)
			}
		case tsSeen != "":
			want := macroTS(tsSeen)
			if tsBad == want.Valid || loaded && gotTS != want {
				t.Fatalf("orders.ndjson: ts %s refused %v stored %v, the macro says %v", tsJSON, tsBad, gotTS, want)
			}
		}
		switch {
		case bRaw && (b == "true" || b == "1"):
			if bBad || loaded && gotB != (sql.NullBool{Bool: true, Valid: true}) {
				t.Fatalf("orders.ndjson: JSON %s refused %v, stored %v", b, bBad, gotB)
			}
		case bRaw && (b == "false" || b == "0"):
			if bBad || loaded && gotB != (sql.NullBool{Bool: false, Valid: true}) {
				t.Fatalf("orders.ndjson: JSON %s refused %v, stored %v", b, bBad, gotB)
			}
		case bRaw && b == "-0":
			if !bBad && loaded && gotB != (sql.NullBool{Bool: false, Valid: true}) {
				t.Fatalf("orders.ndjson: JSON -0 stored as %v", gotB)
			}
		case bRaw:
			if !bBad {
				t.Fatalf("orders.ndjson: JSON number %s accepted as a boolean (%v)", b, gotB)
			}
		case bSeen != "":
			want := macroBool(bSeen)
			if bBad == want.Valid || loaded && gotB != want {
				t.Fatalf("orders.ndjson: new_buyer %s refused %v stored %v, the macro says %v", bJSON, bBad, gotB, want)
			}
		case loaded && gotB.Valid:
			t.Fatalf("orders.ndjson: empty new_buyer stored as %v", gotB.Bool)
		}
	})
}

// TestCoercionRegressions: the values on which FuzzCoerce found the
// timestamp macro wrong, read through a CSV load (want "" = quarantined
// as a bad timestamp).
func TestCoercionRegressions(t *testing.T) {
	for _, tc := range []struct{ name, ts, want string }{
		{"epoch with a fraction was rounded", "1795338000000.6", ""},
		{"epoch with an exponent", "1.795338e12", ""},
		{"epoch with underscores", "1_795_338_000_000", ""},
		{"epoch in hexadecimal", "0x1A2B3C4D5E6", ""},
		{"RFC 3339 lower-case t and z were refused", "2026-11-21t09:00:00z", "2026-11-21T09:00:00Z"},
		{"lower-case t with an offset was refused", "2026-11-21t09:00:00-05:00", "2026-11-21T14:00:00Z"},
		{"offset of 24 hours", "2026-11-21T10:00:00+24:00", ""},
		{"offset of 99:99", "2026-11-21T10:00:00+99:99", ""},
		{"offset minute 60", "2026-11-21T10:00:00+05:60", ""},
		{"integer epoch still read, blanks and sign included", " +1795338000000", "2026-11-22T09:00:00Z"},
		{"offset still read", "2026-11-21T12:30:00+03:00", "2026-11-21T09:30:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			files, err := Discover(writeInputs(t, map[string]string{"clicks.csv": "click_id,ts,publisher_id\nC1,\"" + tc.ts + "\",P1\n"}))
			if err != nil {
				t.Fatal(err)
			}
			var clicks []File
			for _, f := range files {
				if f.Dataset == "clicks" {
					clicks = append(clicks, f)
				}
			}
			if _, err := Load(t.Context(), st, clicks, Options{RunID: "r", SpanDays: -1}); err != nil {
				t.Fatal(err)
			}
			var got string
			st.DB.QueryRow(`SELECT coalesce(strftime(ts, '%Y-%m-%dT%H:%M:%SZ'), '') FROM clicks`).Scan(&got)
			if got != tc.want {
				t.Errorf("ts %q stored as %q, want %q", tc.ts, got, tc.want)
			}
			q := quarantined(t, st, "clicks")
			if tc.want == "" && (len(q) != 1 || q[0].Reason != tsReason || q[0].Line != 2 || q[0].Column != "ts") {
				t.Errorf("quarantine %+v, want one bad timestamp at clicks.csv:2", q)
			}
		})
	}
}
