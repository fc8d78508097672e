package prohibited

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Light stemming for the concept lists (concept.go): a concept word
// written once ("ставка", "apuesta", "pistol") meets its inflected forms
// in the text ("ставки", "ставкам", "apuestas", "pistols"). It strips one
// inflectional ending and never derivational suffixes, so it merges fewer
// forms than a Snowball stemmer but almost never merges two different
// words; forms it misses (Russian fleeting vowels: "ставок") are written
// in the lists as prefixes ("став*"). Words are already folded
// (normalizeWord: lower case, no diacritics, ё→е, й→и), and the lists
// are stemmed by the same function, so both sides always agree.

// minStem is the fewest runes a stem keeps: short words are left whole.
const minStem = 3

// ruEndings are Russian case, number, gender and verb endings, longest
// first, after folding (й→и: "ой" is "ои"). Reflexive ся/сь is stripped
// before them.
var ruEndings = []string{
	"иями", "ями", "ами", "ией", "иям", "ием", "иях",
	"ого", "его", "ому", "ему", "ыми", "ими", "ая", "яя", "ое", "ее", "ые", "ие", "ои", "еи", "ыи", "ии", "ую", "юю",
	"ом", "ем", "ам", "ям", "ах", "ях", "ов", "ев", "ых", "их", "ым", "им", "ью", "ия", "ья", "ье",
	"ить", "ать", "ять", "еть", "уть", "ешь", "ете", "ите", "ишь", "ет", "ит", "ут", "ют", "ат", "ят", "ла", "ло", "ли", "ть",
	"а", "я", "о", "е", "и", "ы", "у", "ю", "ь",
}

// stem returns the light stem of a folded word; a word in neither
// Cyrillic nor Latin letters is returned unchanged.
func stem(w string) string {
	n := utf8.RuneCountInString(w)
	if n <= minStem {
		return w
	}
	r, _ := utf8.DecodeRuneInString(w)
	switch {
	case unicode.Is(unicode.Cyrillic, r):
		return stemRU(w)
	case unicode.Is(unicode.Latin, r):
		return stemLatin(w, n)
	}
	return w
}

func stemRU(w string) string {
	for _, refl := range []string{"ся", "сь"} {
		if s, ok := strings.CutSuffix(w, refl); ok && utf8.RuneCountInString(s) > minStem {
			w = s
			break
		}
	}
	for _, e := range ruEndings {
		if s, ok := strings.CutSuffix(w, e); ok && utf8.RuneCountInString(s) >= minStem {
			return s
		}
	}
	return w
}

// stemLatin strips the plural of English, Spanish, Portuguese and French
// ("bets", "apuestas", "armes", "pistolas") and the English possessive;
// endings that are not plurals ("bonus", "lotus", "crisis", "class") stay.
func stemLatin(w string, n int) string {
	switch {
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w
	case n > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case n > 4 && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "zes")):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "s"):
		return w[:len(w)-1]
	}
	return w
}
