package brandmisuse

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Bounds on hostile text: every field is cut before any work.
const (
	// DefaultMaxFieldBytes is the most of one field (an ad's text, a
	// page's title, meta or heading) that is read. Titles and meta tags
	// are short; the crawler stores at most 2 KiB of each.
	DefaultMaxFieldBytes = 4 << 10
	// maxTokens bounds the words read per field.
	maxTokens = 1024
	// maxTokenBytes cuts absurd "words" (base64 blobs, minified code).
	maxTokenBytes = 64
)

// token is one word of a field: lower case as written (raw, compared with
// the brand keywords, whose matcher handles look-alikes itself) and folded
// (accents dropped, ё → е: compared with the phrase lists), its byte span
// in the field, and the breaks before it: a sentence end (. ! ?) ends a
// claim's window, a clause break (also , ; :) a negation's scope.
type token struct {
	raw, fold  string
	start, end int
	sentence   bool
	clause     bool
	spaced     bool // only blanks separate it from the previous token
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s[len(s)-1:]) {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// tokenize splits a field into words. Letters, digits and marks make
// words; a hyphen between two of them stays inside the word (ali-express
// is the keyword hyphenated), a dot or apostrophe between them splits
// without a break (aliexpress.com, d'AliExpress, isn't).
func tokenize(text string, maxBytes int) []token {
	text = cutUTF8(text, maxBytes)
	var out []token
	sentence, clause, spaced := true, true, true
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		raw := text[start:end]
		if len(raw) > maxTokenBytes {
			raw = cutUTF8(raw, maxTokenBytes)
		}
		raw = strings.Trim(strings.ToLower(raw), "-")
		if raw != "" && len(out) < maxTokens {
			out = append(out, token{raw: raw, fold: fold(raw), start: start, end: end, sentence: sentence, clause: clause, spaced: spaced})
		}
		sentence, clause, spaced = false, false, true
		start = -1
	}
	prevWord := false
	for i, r := range text {
		if isWord(r) {
			if start < 0 {
				start = i
			}
			prevWord = true
			continue
		}
		if r == '-' && prevWord && start >= 0 {
			next, _ := utf8.DecodeRuneInString(text[i+1:])
			if isWord(next) {
				continue
			}
		}
		inner := false
		if (r == '.' || r == '\'' || r == '’') && prevWord {
			next, _ := utf8.DecodeRuneInString(text[i+utf8.RuneLen(r):])
			inner = isWord(next)
		}
		flush(i)
		prevWord = false
		if inner {
			continue
		}
		switch r {
		case '.', '!', '?', '¡', '¿', '\n', '…', '。':
			sentence, clause = true, true
		case ',', ';', ':', '(', ')', '[', ']':
			clause = true
		}
		// match-type marks of ad keywords (+ali +express, "ali express")
		// and quotes do not part the words of a split keyword
		if !unicode.IsSpace(r) && !strings.ContainsRune("+\"'«»“”[]", r) {
			spaced = false
		}
	}
	flush(len(text))
	return out
}

func isWord(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// fold is the form phrase lists are compared in: lower case, accents and
// other marks dropped (é → e, ё → е, ã → a), hyphens kept.
func fold(s string) string {
	s = strings.ToLower(s)
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// translit spells a Cyrillic word in Latin letters the way Russian
// speakers spell the brands (алиэкспресс → aliexpress, таобао → taobao,
// тмолл → tmoll); "" when the word has no Cyrillic letter.
func translit(s string) string {
	cyr := false
	for _, r := range s {
		if r >= 0x400 && r <= 0x4FF {
			cyr = true
			break
		}
	}
	if !cyr {
		return ""
	}
	s = strings.ReplaceAll(fold(s), "кс", "x")
	var b strings.Builder
	for _, r := range s {
		if t, ok := cyrLatin[r]; ok {
			b.WriteString(t)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var cyrLatin = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ж': "zh", 'з': "z", 'и': "i", 'й': "i",
	'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u",
	'ф': "f", 'х': "h", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "sch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e",
	'ю': "yu", 'я': "ya", 'і': "i", 'ї': "i", 'є': "e", 'ў': "u",
}

// snippet is the text around [start, end), at most n bytes, on character
// boundaries, with "…" where it was cut.
func snippet(text string, start, end, n int) string {
	if start < 0 || end > len(text) || start > end {
		return ""
	}
	if len(text) <= n {
		return strings.TrimSpace(text)
	}
	room := (n - (end - start)) / 2
	if room < 0 {
		room = 0
	}
	a, b := start-room, end+room
	if a < 0 {
		b -= a
		a = 0
	}
	if b > len(text) {
		a -= b - len(text)
		b = len(text)
		if a < 0 {
			a = 0
		}
	}
	for a > 0 && !utf8.RuneStart(text[a]) {
		a++
	}
	for b < len(text) && !utf8.RuneStart(text[b]) {
		b--
	}
	if b-a > n {
		b = a + n
		for b > a && !utf8.RuneStart(text[b]) {
			b--
		}
	}
	s := strings.TrimSpace(text[a:b])
	if a > 0 {
		s = "…" + s
	}
	if b < len(text) {
		s += "…"
	}
	return s
}
