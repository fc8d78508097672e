package reflists

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// The lists come from outside the program: no input may panic, every
// range kept must be ordered, every pattern kept must compile and contain
// its literal's promise (a user agent matching it contains the literal).

func FuzzParseCIDR(f *testing.F) {
	for _, s := range []string{"198.18.0.0/15\n", "# c\n2001:db8::/32 x\n1.2.3.4\n", "::ffff:1.2.3.4/120\n", "fe80::1%eth0\n", "1.2.3.4/33\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rs, rej, err := ParseCIDR(strings.NewReader(in), "f")
		if err != nil {
			return
		}
		if rej.Count < len(rej.First) {
			t.Fatalf("reject count %d < kept %d", rej.Count, len(rej.First))
		}
		for _, r := range rs {
			if bytes.Compare(r.Lo[:], r.Hi[:]) > 0 {
				t.Fatalf("range %s: lo > hi", r.Entry)
			}
			if _, err := parseRange(r.Entry); err != nil {
				t.Fatalf("kept entry %q does not parse again: %v", r.Entry, err)
			}
		}
	})
}

func FuzzParseBotJSON(f *testing.F) {
	for _, s := range []string{`[{"pattern":"Googlebot\\/"}]`, `[{"pattern":"(?i)a|b"},{"x":1}]`, `{}`, `[{"pattern":"((("}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ps, _, err := ParseBotJSON(strings.NewReader(in), "f")
		if err != nil {
			return
		}
		checkPatterns(t, ps)
	})
}

func FuzzParseIAB(f *testing.F) {
	for _, s := range []string{"bot|1|0\n", "# c\nmediapartners|1|1\n", "x|2|0\n", "a.b*c\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ps, _, err := ParseIAB(strings.NewReader(in), "f")
		if err != nil {
			return
		}
		checkPatterns(t, ps)
		for _, p := range ps {
			// IAB entries are literal substrings: the entry itself matches.
			if !regexp.MustCompile(p.Regexp).MatchString(p.Entry) {
				t.Fatalf("entry %q does not match its own pattern %q", p.Entry, p.Regexp)
			}
		}
	})
}

func checkPatterns(t *testing.T, ps []Pattern) {
	t.Helper()
	for _, p := range ps {
		re, err := regexp.Compile(p.Regexp)
		if err != nil {
			t.Fatalf("kept pattern %q does not compile: %v", p.Regexp, err)
		}
		if p.Literal == "" {
			continue
		}
		// A string built to match (the literal inside the shortest match
		// the pattern's own literal prefix suggests) must contain it.
		if s := p.Literal; re.MatchString(s) {
			hay := s
			if p.Fold {
				hay = strings.ToLower(s)
			}
			if !strings.Contains(hay, p.Literal) {
				t.Fatalf("pattern %q matches %q without its literal %q", p.Regexp, s, p.Literal)
			}
		}
	}
}
