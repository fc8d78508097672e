package loaders

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes text from an input file safe to print in a message or a
// log line: control characters (ANSI escapes, NUL, CR), invalid UTF-8,
// bidirectional controls and invisible characters are written as Go
// escapes (\x1b, \u202e, \xff), and the result is cut to about max bytes
// with the size of the rest said. A header of a hostile file must neither
// drive the terminal nor flood it.
func Escape(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if b.Len() >= max {
			fmt.Fprintf(&b, "…(%d more bytes)", len(s)-i)
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case Invisible(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Invisible reports whether r changes how text around it reads while
// showing nothing itself: bidirectional controls (U+202A–E, U+2066–9,
// LRM/RLM/ALM), zero-width characters, soft hyphen, BOM, other format
// and control characters, and C1 controls. `\u200bP000107\u200f` must not
// look like P000107.
func Invisible(r rune) bool {
	switch r {
	case 0x00ad, 0x034f, 0x061c, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180e, 0x3164, 0xfeff, 0xffa0:
		return true
	}
	if r >= 0x80 && r < 0xa0 {
		return true
	}
	return unicode.Is(unicode.Cf, r) || (r >= 0xfff0 && r <= 0xfffb)
}
