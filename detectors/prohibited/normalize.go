package prohibited

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalization bounds: crawled text is hostile, so every string is cut
// before any work and every token has a bounded length.
const (
	// DefaultMaxTextBytes is the most of one field (title, meta, visible
	// text) that is read; the crawler stores at most 64 KiB of text.
	DefaultMaxTextBytes = 128 << 10
	// maxTokenRunes cuts absurd "words" (base64 blobs, minified code).
	maxTokenRunes = 64
	// minSpelledOut is how many single letters in a row ("c a s i n o",
	// "p.o.r.n") are joined back into one word.
	minSpelledOut = 3
)

// token is one word of a text: its normalized form, an alternative form
// when leetspeak made a character ambiguous ('1' is i or l), its byte span
// in the original text, and whether a clause break (. , ; : ! ? and the
// like) comes before it, which ends negation scope.
type token struct {
	norm, alt  string
	stem       string // light stem of norm (stem.go), for the concept lists
	start, end int
	brk        bool
	sym        bool // an emoji or other symbol standing alone ("🔞", "🎰")
}

// Tokenize splits text into normalized tokens (see normalizeWord): what the
// lexicons are matched against. It reads at most maxBytes of text.
func tokenize(text string, maxBytes int) []token {
	if maxBytes > 0 && len(text) > maxBytes {
		text = text[:maxBytes]
		for len(text) > 0 && !utf8.ValidString(text[len(text)-1:]) && text[len(text)-1]&0xC0 == 0x80 {
			text = text[:len(text)-1]
		}
	}
	var out []token
	brk := true
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		raw := text[start:end]
		n, alt := normalizeWord(raw)
		if n != "" {
			out = append(out, token{norm: n, alt: alt, start: start, end: end, brk: brk})
			brk = false
		}
		start = -1
	}
	for i, r := range text {
		if isWordRune(r, text, i) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		if isBreak(r) {
			brk = true
		}
		if r != utf8.RuneError && unicode.Is(unicode.So, r) {
			// a symbol is a token of its own (lexicons may list "🔞"), but
			// neither ends nor starts a clause
			out = append(out, token{norm: string(r), stem: string(r), start: i, end: i + utf8.RuneLen(r), brk: brk, sym: true})
		}
	}
	flush(len(text))
	out = joinSpelledOut(out, text)
	for i := range out {
		if out[i].stem == "" {
			out[i].stem = stem(out[i].norm)
		}
	}
	return out
}

// isWordRune: letters, digits, marks, invisible joiners (removed later) and
// leetspeak symbols glued to a word ("ca$ino", "p@ker").
func isWordRune(r rune, text string, i int) bool {
	switch {
	case unicode.IsLetter(r), unicode.IsDigit(r), unicode.Is(unicode.Mn, r):
		return true
	case invisible(r):
		return true
	case r == '+':
		// "18+", "+18": an age limit is one word
		prev, _ := utf8.DecodeLastRuneInString(text[:i])
		next, _ := utf8.DecodeRuneInString(text[i+1:])
		return (i > 0 && unicode.IsDigit(prev)) || unicode.IsDigit(next)
	case r == '@' || r == '$' || r == '|':
		// only inside a word: "a@b" yes, "@user" no, "$ 10" no
		if i == 0 {
			return false
		}
		prev, _ := utf8.DecodeLastRuneInString(text[:i])
		next, _ := utf8.DecodeRuneInString(text[i+utf8.RuneLen(r):])
		return (unicode.IsLetter(prev) || unicode.IsDigit(prev)) && (unicode.IsLetter(next) || unicode.IsDigit(next))
	}
	return false
}

func isBreak(r rune) bool {
	switch r {
	case '.', ',', ';', ':', '!', '?', '¡', '¿', '(', ')', '[', ']', '|', '•', '·', '—', '–', '«', '»', '"', '“', '”', '\n':
		return true
	}
	return false
}

func invisible(r rune) bool {
	switch r {
	case '\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u180e':
		return true
	}
	return false
}

// joinSpelledOut joins runs of single-letter tokens ("c a s i n o",
// "c.a.s.i.n.o") into one token: a common way to dodge word filters.
// A symbol between the letters ("c🎰a🎰s🎰i🎰n🎰o") is dropped with them.
func joinSpelledOut(toks []token, text string) []token {
	out := toks[:0:0]
	letter := func(t token) bool { return !t.sym && utf8.RuneCountInString(t.norm) == 1 }
	for i := 0; i < len(toks); {
		if !letter(toks[i]) {
			out = append(out, toks[i])
			i++
			continue
		}
		// j: one past the last letter of the run; n: letters in it
		j, n, last := i+1, 1, i
		for k := i + 1; k < len(toks) && n < maxTokenRunes; k++ {
			if toks[k].sym && k-last == 1 && toks[k].start-toks[last].end <= 2 {
				continue // a symbol right after a letter; the next must be a letter too
			}
			if !letter(toks[k]) || closeGap(text, toks[k-1].end, toks[k].start) > 2 {
				break
			}
			if k-last > 2 {
				break
			}
			j, n, last = k+1, n+1, k
		}
		if n >= minSpelledOut {
			var b strings.Builder
			for _, t := range toks[i:j] {
				if !t.sym {
					b.WriteString(t.norm)
				}
			}
			out = append(out, token{norm: b.String(), start: toks[i].start, end: toks[j-1].end, brk: toks[i].brk})
			i = j
			continue
		}
		out = append(out, toks[i])
		i++
	}
	return out
}

// closeGap is the number of characters between two tokens.
func closeGap(text string, end, start int) int {
	if start <= end || start > len(text) {
		return 0
	}
	return utf8.RuneCountInString(text[end:start])
}

// NormalizeWord folds one word for matching: invisible characters dropped,
// fullwidth forms to ASCII, lower case, diacritics stripped, look-alike
// letters of another script mapped to the word's main script (Cyrillic
// "саsinо" → "casino", Latin "кaзинo" → "казино"), leetspeak decoded when
// the word mixes letters and digits ("c4s1n0" → "casino"; '1' reads i,
// with l as the alternative), runs of one letter cut to two ("caaasino" →
// "caasino", the same for lexicon and text).
func normalizeWord(raw string) (norm, alt string) {
	rs := make([]rune, 0, len(raw))
	for _, r := range raw {
		if len(rs) >= maxTokenRunes {
			break
		}
		if invisible(r) || unicode.Is(unicode.Mn, r) {
			continue
		}
		if r >= 0xFF01 && r <= 0xFF5E { // fullwidth ASCII
			r -= 0xFEE0
		}
		r = unicode.ToLower(r)
		if b, ok := foldDiacritic[r]; ok {
			r = b
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return "", ""
	}
	rs = foldScripts(rs)
	var ambiguous bool
	rs, ambiguous = decodeLeet(rs)
	rs = squeeze(rs)
	norm = string(rs)
	if ambiguous {
		a := make([]rune, len(rs))
		copy(a, rs)
		for i, r := range a {
			if r == leetOne {
				a[i] = 'l'
			}
		}
		for i, r := range rs {
			if r == leetOne {
				rs[i] = 'i'
			}
		}
		return string(rs), string(a)
	}
	return norm, ""
}

// leetOne marks a '1' or '|' read as a letter, resolved to i (and l as alt).
const leetOne = '\uE001'

var leet = map[rune]rune{'0': 'o', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', '$': 's', '1': leetOne, '|': leetOne}

// cyrLeet is leetspeak inside Cyrillic words ("казин0", "6ет", "3акладка").
var cyrLeet = map[rune]rune{'0': 'о', '3': 'з', '4': 'ч', '6': 'б', '@': 'а', '$': 'с', '1': 'и', '|': 'и'}

// decodeLeet reads digits as letters only in words that also hold letters
// ("c4sino", "v1agra"), never in numbers ("2024", "18"); a word that is
// mostly digits with a unit ("100mg", "18yo") is left alone.
func decodeLeet(rs []rune) ([]rune, bool) {
	letters, leets, cyr := 0, 0, 0
	for _, r := range rs {
		if unicode.IsLetter(r) {
			letters++
			if unicode.Is(unicode.Cyrillic, r) {
				cyr++
			}
		} else if _, ok := leet[r]; ok {
			leets++
		}
	}
	if letters == 0 || leets == 0 || leets > letters+1 || numberWithUnit(rs) {
		return rs, false
	}
	// digits only at the end ("mp3", "x264", "covid19") are part of a name
	trailing := true
	seenDigit := false
	for _, r := range rs {
		_, isLeet := leet[r]
		if isLeet {
			seenDigit = true
		} else if seenDigit {
			trailing = false
		}
	}
	if trailing && !(rs[len(rs)-1] == '0' || rs[len(rs)-1] == '$' || rs[len(rs)-1] == '@') {
		return rs, false
	}
	if cyr*2 > letters {
		return mapRunes(rs, cyrLeet), false
	}
	amb := false
	for i, r := range rs {
		if l, ok := leet[r]; ok {
			rs[i] = l
			if l == leetOne {
				amb = true
			}
		}
	}
	return rs, amb
}

// units are the suffixes that make a number a quantity, not leetspeak
// ("100mg", "5g", "18yo", "1080p", "24h", "4k", "9mm", "10th", "50г").
var units = map[string]bool{
	"p": true, "k": true, "x": true, "g": true, "m": true, "h": true, "s": true, "d": true, "j": true,
	"mg": true, "mcg": true, "ug": true, "gr": true, "kg": true, "ml": true, "mm": true, "cm": true, "km": true, "oz": true, "lb": true, "lbs": true,
	"gb": true, "mb": true, "tb": true, "hz": true, "fps": true, "yo": true, "min": true, "am": true, "pm": true, "th": true, "st": true, "nd": true, "rd": true, "iu": true,
	"г": true, "гр": true, "мг": true, "кг": true, "мл": true, "шт": true, "р": true, "ч": true, "мин": true, "тыс": true, "к": true,
}

// numberWithUnit: digits then a unit ("100mg"), which leetspeak must not
// turn into letters ("ioomg").
func numberWithUnit(rs []rune) bool {
	i := 0
	for i < len(rs) && unicode.IsDigit(rs[i]) {
		i++
	}
	return i > 0 && i < len(rs) && units[string(rs[i:])]
}

func squeeze(rs []rune) []rune {
	out := rs[:0]
	for i, r := range rs {
		if i >= 2 && r == rs[i-1] && r == rs[i-2] {
			continue
		}
		out = append(out, r)
	}
	return out
}

// foldScripts maps look-alike letters of the minority script to the
// majority script of the word (UTS #39's mixed-script confusables, for the
// Latin, Cyrillic and Greek letters that matter here). A word wholly in one
// script is left alone.
func foldScripts(rs []rune) []rune {
	latin, cyr, greek := 0, 0, 0
	for _, r := range rs {
		switch {
		case unicode.Is(unicode.Latin, r):
			latin++
		case unicode.Is(unicode.Cyrillic, r):
			cyr++
		case unicode.Is(unicode.Greek, r):
			greek++
		}
	}
	mixed := 0
	for _, n := range []int{latin, cyr, greek} {
		if n > 0 {
			mixed++
		}
	}
	if mixed < 2 {
		if greek > 0 && latin == 0 && cyr == 0 && allConfusable(rs, greekToLatin) {
			// a word spelled wholly in Greek look-alikes of Latin ("ροκer")
			return mapRunes(rs, greekToLatin)
		}
		return rs
	}
	// count letters that exist only in one script (not look-alikes)
	ownLatin, ownCyr := 0, 0
	for _, r := range rs {
		if unicode.Is(unicode.Latin, r) {
			if _, ok := latinToCyr[r]; !ok {
				ownLatin++
			}
		}
		if unicode.Is(unicode.Cyrillic, r) {
			if _, ok := cyrToLatin[r]; !ok {
				ownCyr++
			}
		}
	}
	if ownCyr > ownLatin {
		return mapRunes(mapRunes(rs, greekToLatin), latinToCyr)
	}
	return mapRunes(mapRunes(rs, cyrToLatin), greekToLatin)
}

func allConfusable(rs []rune, m map[rune]rune) bool {
	for _, r := range rs {
		if _, ok := m[r]; !ok && unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

func mapRunes(rs []rune, m map[rune]rune) []rune {
	for i, r := range rs {
		if x, ok := m[r]; ok {
			rs[i] = x
		}
	}
	return rs
}

// Lower-case look-alikes (the text is lower-cased first).
var cyrToLatin = map[rune]rune{
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't',
	'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ь': 'b', 'п': 'n',
}

var latinToCyr = map[rune]rune{
	'a': 'а', 'b': 'в', 'e': 'е', 'k': 'к', 'm': 'м', 'h': 'н', 'o': 'о', 'p': 'р', 'c': 'с', 't': 'т',
	'y': 'у', 'x': 'х', 'n': 'п', 'u': 'и', 'r': 'г',
}

var greekToLatin = map[rune]rune{
	'α': 'a', 'β': 'b', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u',
	'χ': 'x', 'ς': 's', 'η': 'n', 'μ': 'm', 'γ': 'y',
}

// foldDiacritic strips the accents of the Latin letters of the corpus's
// languages (Spanish, Portuguese, French, German, Polish, Turkish…) and
// folds ё/й, so "cassino"/"cassinò", "apuestas"/"apuéstas" meet; the
// lexicons are folded the same way.
var foldDiacritic = func() map[rune]rune {
	m := map[rune]rune{'ё': 'е', 'й': 'и', 'ß': 's', 'ø': 'o', 'ł': 'l', 'đ': 'd', 'ı': 'i', 'æ': 'a', 'œ': 'o'}
	groups := map[rune]string{
		'a': "àáâãäåāăą", 'c': "çćĉċč", 'd': "ď", 'e': "èéêëēĕėęě", 'g': "ĝğġģ", 'h': "ĥħ",
		'i': "ìíîïĩīĭįİ", 'j': "ĵ", 'k': "ķ", 'l': "ĺļľŀ", 'n': "ñńņňŉ", 'o': "òóôõöōŏő",
		'r': "ŕŗř", 's': "śŝşšș", 't': "ţťŧț", 'u': "ùúûüũūŭůűų", 'w': "ŵ", 'y': "ýÿŷ", 'z': "źżž",
	}
	for base, s := range groups {
		for _, r := range s {
			m[r] = base
		}
	}
	return m
}()

// NormalizeText is the whole normalizer as one string (tokens joined by
// spaces, clause breaks as " | "): for tests, the fuzz target and showing
// an analyst how a phrase of the pack is read.
func NormalizeText(s string) string {
	var b strings.Builder
	for i, t := range tokenize(s, DefaultMaxTextBytes) {
		if i > 0 {
			if t.brk {
				b.WriteString(" |")
			}
			b.WriteByte(' ')
		}
		b.WriteString(t.norm)
	}
	return b.String()
}
