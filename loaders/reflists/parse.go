package reflists

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// Bounds on what a list may hold: the files come from outside the program
// (a package registry, a cloud provider's feed) and are read whole.
const (
	// MaxListBytes caps a list file: crawler-user-agents is about 1 MB,
	// the largest cloud provider's range feed a few MB.
	MaxListBytes = 64 << 20
	// MaxPatternBytes caps one user-agent pattern; longer ones are rejected.
	MaxPatternBytes = 1024
	// MaxLineBytes caps one line of a text list.
	MaxLineBytes = 4096
	// maxRejectsKept is how many rejected entries a list reports by line.
	maxRejectsKept = 5
)

// ParseError is a list that cannot be read at all, with the position.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Reject is one entry of a list that was skipped, and why.
type Reject struct {
	Line   int    `json:"line,omitempty"`
	Entry  string `json:"entry"`
	Reason string `json:"reason"`
}

// Pattern is one user-agent pattern of a list.
type Pattern struct {
	// Entry is the pattern as the list writes it: what evidence quotes.
	Entry string
	// Regexp is the RE2 pattern matched against the user agent.
	Regexp string
	// Literal is a substring every matching user agent contains (lower
	// case when Fold), so the database compares strings before it runs a
	// regular expression; empty when the pattern has none of 3+ bytes.
	Literal string
	Fold    bool
}

// ParseBotJSON reads a crawler-user-agents list: a JSON array of objects
// whose "pattern" is a regular expression (other fields are ignored).
// Entries whose pattern is missing, too long or not valid RE2 are
// skipped and returned as rejects; a file that is not such an array is an
// error.
func ParseBotJSON(r io.Reader, file string) ([]Pattern, Rejects, error) {
	data, err := readCapped(r, file)
	if err != nil {
		return nil, Rejects{}, err
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, Rejects{}, &ParseError{File: file, Line: jsonLine(data, err), Msg: "not a crawler-user-agents list (a JSON array of {\"pattern\": …} objects): " + err.Error()}
	}
	var out []Pattern
	var rejects Rejects
	for i, m := range raw {
		var e struct {
			Pattern *string `json:"pattern"`
		}
		entry := fmt.Sprintf("[%d]", i)
		if err := json.Unmarshal(m, &e); err != nil || e.Pattern == nil {
			rejects.add(Reject{Entry: entry, Reason: "no \"pattern\" string"})
			continue
		}
		p, err := compilePattern(*e.Pattern, *e.Pattern)
		if err != nil {
			rejects.add(Reject{Entry: clip(*e.Pattern), Reason: err.Error()})
			continue
		}
		out = append(out, p)
	}
	return out, rejects, nil
}

// ParseIAB reads an IAB/ABC spiders-and-bots list in its text form: one
// entry per line, fields separated by "|": the pattern (a substring,
// compared case-insensitively), then optionally an active flag (1 or 0;
// 0 skips the entry) and a start-of-string flag (1: the user agent must
// begin with the pattern). Blank lines and lines starting with "#" are
// ignored.
func ParseIAB(r io.Reader, file string) ([]Pattern, Rejects, error) {
	var out []Pattern
	var rejects Rejects
	err := eachLine(r, file, func(n int, line string) {
		f := strings.Split(line, "|")
		pat := strings.TrimSpace(f[0])
		flag := func(i int) (bool, bool) {
			if i >= len(f) {
				return false, true
			}
			switch strings.TrimSpace(f[i]) {
			case "", "0":
				return false, true
			case "1":
				return true, true
			}
			return false, false
		}
		active, ok1 := flag(1)
		start, ok2 := flag(2)
		switch {
		case pat == "":
			rejects.add(Reject{Line: n, Entry: clip(line), Reason: "empty pattern"})
			return
		case !ok1 || !ok2:
			rejects.add(Reject{Line: n, Entry: clip(line), Reason: "flags must be 0 or 1"})
			return
		case len(f) > 1 && !active:
			return // listed inactive
		}
		re := "(?i)" + regexp.QuoteMeta(pat)
		if start {
			re = "(?i)^" + regexp.QuoteMeta(pat)
		}
		p, err := compilePattern(pat, re)
		if err != nil {
			rejects.add(Reject{Line: n, Entry: clip(line), Reason: err.Error()})
			return
		}
		out = append(out, p)
	})
	return out, rejects, err
}

// Range is one range of a CIDR file.
type Range struct {
	// Entry is the range as written (an address alone is its /32 or /128).
	Entry string
	// Lo and Hi bound the range in IPv6 space (IPv4 as ::ffff:a.b.c.d),
	// big-endian.
	Lo, Hi [16]byte
}

// ParseCIDR reads a CIDR file: one range (a.b.c.d/n, x:y::/n) or single
// address per line; "#" starts a comment, blank lines are ignored. Lines
// that are neither are skipped and returned as rejects.
func ParseCIDR(r io.Reader, file string) ([]Range, Rejects, error) {
	var out []Range
	var rejects Rejects
	err := eachLine(r, file, func(n int, line string) {
		// Feeds often carry a second column (a region, a service): the
		// range is the first field.
		if i := strings.IndexAny(line, " \t,;"); i >= 0 {
			line = line[:i]
		}
		rg, err := parseRange(line)
		if err != nil {
			rejects.add(Reject{Line: n, Entry: clip(line), Reason: err.Error()})
			return
		}
		out = append(out, rg)
	})
	return out, rejects, err
}

func parseRange(s string) (Range, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return Range{}, errors.New("not a CIDR range")
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return Range{}, errors.New("not an IP address or CIDR range")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Zone() != "" {
		return Range{}, errors.New("zoned addresses are not ranges")
	}
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	lo := p.Addr().As16() // IPv4 comes out as ::ffff:a.b.c.d
	hi := lo
	for i := bits; i < 128; i++ {
		hi[i/8] |= 1 << (7 - i%8)
	}
	return Range{Entry: p.String(), Lo: lo, Hi: hi}, nil
}

// compilePattern checks a pattern and finds the literal its matches
// contain.
func compilePattern(entry, re string) (Pattern, error) {
	if len(re) > MaxPatternBytes {
		return Pattern{}, fmt.Errorf("pattern over %d bytes", MaxPatternBytes)
	}
	if !utf8.ValidString(re) {
		return Pattern{}, errors.New("pattern is not UTF-8")
	}
	if _, err := regexp.Compile(re); err != nil {
		return Pattern{}, fmt.Errorf("not a valid RE2 pattern: %v", err)
	}
	lit, fold := requiredLiteral(re)
	return Pattern{Entry: entry, Regexp: re, Literal: lit, Fold: fold}, nil
}

// requiredLiteral returns the longest run of literal text every match of
// re contains (lower-cased when it is matched case-insensitively), or ""
// when there is none of at least 3 bytes.
func requiredLiteral(re string) (string, bool) {
	t, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return "", false
	}
	lit, fold := longestLiteral(t.Simplify())
	if len(lit) < 3 {
		return "", false
	}
	if fold {
		lit = strings.ToLower(lit)
	}
	return lit, fold
}

func longestLiteral(t *syntax.Regexp) (string, bool) {
	switch t.Op {
	case syntax.OpLiteral:
		return string(t.Rune), t.Flags&syntax.FoldCase != 0
	case syntax.OpCapture, syntax.OpPlus:
		return longestLiteral(t.Sub[0])
	case syntax.OpRepeat:
		if t.Min >= 1 {
			return longestLiteral(t.Sub[0])
		}
	case syntax.OpConcat:
		best, bestFold := "", false
		for _, s := range t.Sub {
			if l, f := longestLiteral(s); len(l) > len(best) {
				best, bestFold = l, f
			}
		}
		return best, bestFold
	}
	return "", false
}

// eachLine calls fn with each non-blank, non-comment line (comment and
// surrounding blanks removed) and its number.
func eachLine(r io.Reader, file string, fn func(n int, line string)) error {
	sc := bufio.NewScanner(io.LimitReader(r, MaxListBytes+1))
	sc.Buffer(make([]byte, 0, 1024), MaxLineBytes)
	read, n := 0, 0
	for sc.Scan() {
		n++
		read += len(sc.Bytes()) + 1
		if read > MaxListBytes+1 {
			return &ParseError{File: file, Msg: fmt.Sprintf("over %d bytes", MaxListBytes)}
		}
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		fn(n, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &ParseError{File: file, Line: n + 1, Msg: fmt.Sprintf("line over %d bytes", MaxLineBytes)}
		}
		return &ParseError{File: file, Line: n + 1, Msg: err.Error()}
	}
	return nil
}

func readCapped(r io.Reader, file string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxListBytes+1))
	if err != nil {
		return nil, &ParseError{File: file, Msg: err.Error()}
	}
	if len(data) > MaxListBytes {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("over %d bytes", MaxListBytes)}
	}
	return data, nil
}

// jsonLine is the line of a JSON syntax error's offset, 0 when unknown.
func jsonLine(data []byte, err error) int {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset <= int64(len(data)) {
		return bytes.Count(data[:se.Offset], []byte{'\n'}) + 1
	}
	return 0
}

// Rejects counts the entries a list skipped and keeps the first few.
type Rejects struct {
	Count int      `json:"count"`
	First []Reject `json:"first,omitempty"`
}

func (rs *Rejects) add(r Reject) {
	rs.Count++
	if len(rs.First) < maxRejectsKept {
		rs.First = append(rs.First, r)
	}
}

func clip(s string) string {
	if len(s) <= 120 {
		return s
	}
	return strings.ToValidUTF8(s[:120], "") + "…"
}
