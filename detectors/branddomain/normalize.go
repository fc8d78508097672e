package branddomain

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
	"golang.org/x/text/unicode/norm"
)

// Bounds on hostile input: a DNS name has at most 253 octets and labels of
// at most 63 (RFC 1035); anything longer is cut there.
const (
	MaxHostLen  = 253
	MaxLabelLen = 63
	MaxLabels   = 16 // labels examined per host (deeper ones are ignored)
)

// Name is a host name normalized for comparison with brand keywords.
type Name struct {
	Host        string  // lower case, ASCII (IDN labels in punycode)
	Unicode     string  // the same with IDN labels decoded, for reviewers
	Registrable string  // eTLD+1 (ASCII), "" when the host is a public suffix or an address
	Suffix      string  // the public suffix (ASCII)
	Labels      []Label // the labels left of the suffix, left to right; the last is the registrable label
	// Joined is every label left of the suffix (but a leading www) with
	// dots and hyphens removed: a brand split across labels
	// (ali.express.com) equals it.
	Joined Label
}

// Label is one label of a host in the forms the matcher compares.
type Label struct {
	Text      string // Unicode, lower case (as decoded)
	Joined    string // Text without hyphens
	Skeleton  string // confusable skeleton of Joined (ASCII letters, digits, '?' for unknown runes)
	Loose     string // loose skeleton (see looseRules)
	Loose2    string // loose skeleton without the two-letter rules
	looseDone bool
	Sub       bool // a subdomain label (not the registrable label)
	NonASCII  bool // the label had non-ASCII characters (an IDN)
	Hyphenate bool // the label had hyphens
}

// Normalize parses a host name (or a URL's host) for comparison: lower
// case, trailing dot and port removed, IDN decoded (golang.org/x/net/idna),
// public suffix split off (golang.org/x/net/publicsuffix), and each label's
// confusable skeleton. It never fails: whatever cannot be decoded is kept
// as it is, so it counts as edits rather than disappearing.
func Normalize(host string) Name {
	if len(host) > 4*MaxHostLen {
		host = host[:4*MaxHostLen]
	}
	host = strings.TrimSpace(host)
	host = strings.ToLower(host)
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") && strings.Count(host, ":") == 1 {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	ascii := host
	if !isASCII(host) {
		if a, err := lookup.ToASCII(host); err == nil {
			ascii = a
		} else if a, err := punycode.ToASCII(host); err == nil {
			ascii = strings.ToLower(a)
		}
	}
	if len(ascii) > MaxHostLen {
		ascii = ascii[len(ascii)-MaxHostLen:]
		if i := strings.IndexByte(ascii, '.'); i >= 0 {
			ascii = ascii[i+1:]
		}
	}
	n := Name{Host: ascii}
	if ascii == "" || strings.HasPrefix(ascii, "[") || isIPv4(ascii) {
		n.Unicode = ascii
		return n
	}
	n.Suffix, _ = publicsuffix.PublicSuffix(ascii)
	left := strings.TrimSuffix(strings.TrimSuffix(ascii, n.Suffix), ".")
	if left != "" && !strings.HasSuffix(left, ".") {
		// eTLD+1, as publicsuffix.EffectiveTLDPlusOne computes it
		n.Registrable = left[strings.LastIndexByte(left, '.')+1:] + "." + n.Suffix
	}
	var parts []string
	if left != "" {
		parts = strings.Split(left, ".")
	}
	if len(parts) > MaxLabels {
		parts = parts[len(parts)-MaxLabels:]
	}
	uni := make([]string, 0, len(parts)+1)
	var all strings.Builder
	idn := false
	for i, p := range parts {
		if p == "" {
			continue
		}
		l := makeLabel(p)
		l.Sub = i < len(parts)-1
		n.Labels = append(n.Labels, l)
		uni = append(uni, l.Text)
		idn = idn || l.NonASCII
		if !(i == 0 && l.Text == "www") {
			all.WriteString(l.Joined)
		}
	}
	n.Unicode = ascii
	if idn {
		uni = append(uni, n.Suffix)
		n.Unicode = strings.Join(uni, ".")
	}
	if len(n.Labels) > 1 {
		n.Joined = labelForms(all.String())
		n.Joined.Sub = true
	}
	return n
}

var (
	lookup   = idna.New(idna.MapForLookup(), idna.Transitional(false))
	punycode = idna.Punycode
)

// makeLabel decodes one ASCII label and computes its forms.
func makeLabel(ascii string) Label {
	if len(ascii) > MaxLabelLen {
		ascii = ascii[:MaxLabelLen]
	}
	text := ascii
	if strings.HasPrefix(ascii, "xn--") {
		if u, err := punycode.ToUnicode(ascii); err == nil {
			text = strings.ToLower(u)
		}
	}
	l := labelForms(strings.ReplaceAll(text, "-", ""))
	l.Text = text
	l.Hyphenate = strings.Contains(text, "-")
	return l
}

// labelForms fills Joined, Skeleton, Loose and NonASCII for a hyphen-free string.
func labelForms(joined string) Label {
	l := Label{Text: joined, Joined: joined}
	l.NonASCII = !isASCII(joined)
	l.Skeleton = Skeleton(joined)
	return l
}

// Skeleton maps a string onto its confusable prototype (see confusables.go).
func Skeleton(s string) string { return skeleton(s, true) }

// strictSkeleton is Skeleton with ASCII i kept apart from l: for matching
// inside longer labels, where merging them finds "allexpress" in
// smallexpress.
func strictSkeleton(s string) string { return skeleton(s, false) }

func skeleton(s string, mergeI bool) string {
	b := make([]byte, 0, len(s))
	if isASCII(s) {
		for i := 0; i < len(s); i++ {
			if s[i] == 'i' && !mergeI {
				b = append(b, 'i')
				continue
			}
			b = appendProto(b, rune(s[i]))
		}
	} else {
		// NFKD folds full-width and mathematical letters; marks are dropped.
		for _, r := range norm.NFKD.String(s) {
			if unicode.Is(unicode.Mn, r) {
				continue
			}
			if r == 'i' && !mergeI {
				b = append(b, 'i')
				continue
			}
			b = appendProto(b, unicode.ToLower(r))
		}
	}
	out := string(b)
	for _, m := range multiRules {
		if strings.Contains(out, m.from) {
			out = strings.ReplaceAll(out, m.from, m.to)
		}
	}
	return out
}

func appendProto(b []byte, r rune) []byte {
	if p, ok := confusable[r]; ok {
		return append(b, p)
	}
	if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
		return append(b, byte(r))
	}
	if r == '-' || r == '.' || r == '_' {
		return b
	}
	return append(b, '?')
}

// loose is the loose skeleton of a skeleton.
func loose(skel string) string {
	for _, m := range looseRules {
		if strings.Contains(skel, m.from) {
			skel = strings.ReplaceAll(skel, m.from, m.to)
		}
	}
	b := []byte(skel)
	for i, c := range b {
		if m := looseMap[c]; m != 0 {
			b[i] = m
		}
	}
	return string(b)
}

// looseMapOnly is the loose skeleton without the two-letter rules (the
// keyword may hold such a pair itself: alibaba's skeleton has "lb").
func looseMapOnly(skel string) string {
	b := []byte(skel)
	for i, c := range b {
		if m := looseMap[c]; m != 0 {
			b[i] = m
		}
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isIPv4(s string) bool {
	dots := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return false
		}
	}
	return dots == 3
}
