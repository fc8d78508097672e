package prohibited

import (
	"strings"
	"testing"
	"unicode/utf8"

	"affwatch/rules"
)

// FuzzNormalize feeds hostile text to the normalizer and the classifier:
// no panic, valid UTF-8 out, token spans inside the text and in order,
// snippets within the contract's 300 characters.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"Online casino, free spins!", "Саsinо 0nline", "c.a.s.i.n.o", "cas\u200bino", "ｃａｓｉｎｏ",
		"we don't sell tobacco", "\xff\xfe broken utf8 \xc3", "a@b$c|d", "1|1|1|1", strings.Repeat("a ", 200),
		"Ёлка й ñ ß œ", "p0rn xxx", "купи один получи второй бесплатно",
	} {
		f.Add(s)
	}
	pack, err := rules.Default()
	if err != nil {
		f.Fatal(err)
	}
	m, err := NewModel(pack.Rules[RuleName])
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := NormalizeText(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q: %q", s, out)
		}
		prev := 0
		for _, tk := range tokenize(s, DefaultMaxTextBytes) {
			if tk.start < prev || tk.end <= tk.start || tk.end > len(s) || tk.norm == "" {
				t.Fatalf("bad token %+v in %q", tk, s)
			}
			if !utf8.ValidString(tk.norm) {
				t.Fatalf("invalid token %q from %q", tk.norm, s)
			}
			prev = tk.end
		}
		r := m.Classify(Page{Title: s, Text: s + " online casino free spins " + s})
		for _, c := range r.Categories {
			for _, mt := range c.Matches {
				if utf8.RuneCountInString(mt.Snippet) > maxSnippet || !utf8.ValidString(mt.Snippet) {
					t.Fatalf("snippet %q", mt.Snippet)
				}
			}
		}
	})
}
