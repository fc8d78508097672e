package branddomain

// The confusable skeleton, in the spirit of Unicode TS #39 §4 (skeleton(X)):
// every character is replaced by the prototype it is confused with, so
// that two strings that look alike get the same skeleton.
//
// Source: a compact table compiled by hand for this detector from
//   - Unicode TS #39 confusables.txt (the prototype mappings of lower-case
//     Latin, Cyrillic and Greek letters and of digits onto a–z),
//   - dnstwist's glyph tables (the homoglyph fuzzer's ASCII and Unicode
//     glyphs: rn/m, vv/w, cl/d, 0/o, 1/l, …),
//
// plus canonical decomposition (NFD) with combining marks dropped, which
// maps every accented Latin letter (á, ǎ, ạ, …) onto its base. It covers
// the scripts domain registries allow beside Latin in the zones brands are
// squatted in; a character it does not know stays unknown (it counts as
// one edit), never as a match. Only look-alikes of a–z are needed: the
// skeleton is compared with the skeletons of the brands' keywords.

// confusable maps single runes to their prototype (after NFD and mark
// removal). Identity mappings of a–z are implicit.
var confusable = map[rune]byte{
	// digits and ASCII punctuation that pass for letters
	// (TS #39 maps 0 and 1; 3, 4 and 5 are the leetspeak a squatter uses
	// for e, a and s; 7 and 9 are left out: 7mail is not tmall)
	'0': 'o', '1': 'l', '3': 'e', '4': 'a', '5': 's', '|': 'l',
	// TS #39 maps capital I and lower-case l onto one prototype; domain
	// names are lower-cased before comparison, so i joins them here
	'i': 'l',
	// Latin letters without a decomposition
	'ı': 'l', 'ɩ': 'l', 'ɪ': 'l', 'ɨ': 'l', 'ł': 'l', 'ɫ': 'l', 'ƚ': 'l', 'ŀ': 'l', 'ĸ': 'k',
	'ɑ': 'a', 'ɐ': 'a', 'ə': 'a', // dnstwist: ə passes for a
	'ɛ': 'e', 'ɇ': 'e', 'ꞓ': 'e',
	'ʙ': 'b', 'ɓ': 'b', 'ƅ': 'b', 'ƀ': 'b', 'ƃ': 'b',
	'ᴄ': 'c', 'ƈ': 'c', 'ȼ': 'c',
	'ɗ': 'd', 'đ': 'd', 'ɖ': 'd', 'ƌ': 'd',
	'ƒ': 'f',
	'ɢ': 'g', 'ɡ': 'g', 'ǥ': 'g', 'ɠ': 'g',
	'ħ': 'h', 'ɦ': 'h', 'ⱨ': 'h', 'ʜ': 'h',
	'ʝ': 'j', 'ɉ': 'j', 'ȷ': 'j',
	'ⱪ': 'k', 'ᴋ': 'k', 'ƙ': 'k',
	'ᴍ': 'm', 'ɱ': 'm',
	'ꞑ': 'n', 'ɲ': 'n', 'ŋ': 'n', 'ɴ': 'n', 'ƞ': 'n',
	'ᴏ': 'o', 'ø': 'o', 'ɵ': 'o', 'ơ': 'o', 'ȣ': 'o',
	'ƿ': 'p', 'ƥ': 'p', 'ᴘ': 'p',
	'ʠ': 'q',
	'ʀ': 'r', 'ɼ': 'r', 'ɽ': 'r', 'ɍ': 'r', 'ɾ': 'r',
	'ʂ': 's', 'ꜱ': 's', 'ƽ': 's',
	'ŧ': 't', 'ƫ': 't', 'ƭ': 't', 'ʈ': 't', 'ᴛ': 't',
	'ᴜ': 'u', 'ʉ': 'u', 'ư': 'u', 'ʊ': 'u',
	'ⱱ': 'v', 'ᶌ': 'v', 'ⱴ': 'v', 'ᴠ': 'v', 'ʋ': 'v',
	'ⱳ': 'w', 'ᴡ': 'w',
	'ʏ': 'y', 'ƴ': 'y', 'ɏ': 'y', 'ỿ': 'y',
	'ʐ': 'z', 'ᴢ': 'z', 'ƶ': 'z', 'ⱬ': 'z', 'ȥ': 'z',
	'ƻ': 'z',
	// Cyrillic (lower case)
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'ѐ': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x',
	'і': 'l', 'ї': 'l', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'һ': 'h', 'ԛ': 'q', 'ԝ': 'w', 'к': 'k',
	'м': 'm', 'н': 'h', 'т': 't', 'п': 'n', 'г': 'r', 'ь': 'b', 'ѵ': 'v', 'ү': 'y', 'ҽ': 'e',
	'ӏ': 'l', 'ɜ': 'e', 'з': 'e', 'ԍ': 'g', 'ԑ': 'e',
	// Greek (lower case)
	'α': 'a', 'β': 'b', 'γ': 'y', 'δ': 'd', 'ε': 'e', 'η': 'n', 'ι': 'l', 'κ': 'k', 'ν': 'v',
	'ο': 'o', 'ρ': 'p', 'σ': 'o', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w', 'ϲ': 'c', 'ϳ': 'j',
	'ς': 's', 'μ': 'u',
	// full-width and mathematical forms are folded by NFKD before this table
}

// multiRules replace letter sequences that read as one letter (TS #39:
// rn → m, vv → w, cl → d; dnstwist adds nn and rr for m). They are applied
// left to right after the single-rune table, to the skeleton.
var multiRules = []struct{ from, to string }{
	{"rn", "m"}, {"rr", "m"}, {"nn", "m"}, {"vv", "w"}, {"cl", "d"},
}

// looseRules and looseMap make the loose skeleton: letters that dnstwist's
// homoglyph fuzzer substitutes for one another although a careful reader
// tells them apart (b/d, c/e, g/q, m/n/r, u/v, and the two-letter forms lb,
// dl, lh, lc). Only an exact match of loose skeletons counts (no further
// edits), so they cannot pull unrelated words in.
var looseRules = []struct{ from, to string }{
	{"lb", "b"}, {"dl", "b"}, {"lh", "h"}, {"lc", "k"},
}

var looseMap = [256]byte{'d': 'b', 'e': 'c', 'q': 'g', 'm': 'n', 'r': 'n', 'v': 'u'}
