package branddomain

// The permutation engine of the quality test (Evaluate and the package's
// tests): for one keyword it generates the look-alike domains of every
// class that domain-permutation engines produce. It follows dnstwist's
// fuzzers (addition, omission, repetition, insertion and replacement by
// keyboard neighbours on QWERTY, QWERTZ and AZERTY, transposition, vowel
// swap, hyphenation, bitsquatting, homoglyphs in one and two passes with
// ASCII and Unicode glyphs, the Cyrillic fuzzer, dot insertion, TLD swap,
// dictionary words) and adds the subdomain trick of the issue
// (aliexpress.com.example.net). It is written from dnstwist's description
// and tables, not copied from its code.

import (
	"sort"
	"strings"

	"golang.org/x/net/idna"
)

// PermutationClasses are the classes the engine generates.
var PermutationClasses = []string{"addition", "bitsquatting", "combosquat", "cyrillic", "dot_split", "homoglyph", "hyphenation",
	"insertion", "omission", "repetition", "replacement", "subdomain", "tld_swap", "transposition", "vowel_swap"}

var keyboards = []map[byte]string{
	{ // QWERTY
		'1': "2q", '2': "3wq1", '3': "4ew2", '4': "5re3", '5': "6tr4", '6': "7yt5", '7': "8uy6", '8': "9iu7", '9': "0oi8", '0': "po9",
		'q': "12wa", 'w': "3esaq2", 'e': "4rdsw3", 'r': "5tfde4", 't': "6ygfr5", 'y': "7uhgt6", 'u': "8ijhy7", 'i': "9okju8", 'o': "0plki9", 'p': "lo0",
		'a': "qwsz", 's': "edxzaw", 'd': "rfcxse", 'f': "tgvcdr", 'g': "yhbvft", 'h': "ujnbgy", 'j': "ikmnhu", 'k': "olmji", 'l': "kop",
		'z': "asx", 'x': "zsdc", 'c': "xdfv", 'v': "cfgb", 'b': "vghn", 'n': "bhjm", 'm': "njk",
	},
	{ // QWERTZ
		'1': "2q", '2': "3wq1", '3': "4ew2", '4': "5re3", '5': "6tr4", '6': "7zt5", '7': "8uz6", '8': "9iu7", '9': "0oi8", '0': "po9",
		'q': "12wa", 'w': "3esaq2", 'e': "4rdsw3", 'r': "5tfde4", 't': "6zgfr5", 'z': "7uhgt6", 'u': "8ijhz7", 'i': "9okju8", 'o': "0plki9", 'p': "lo0",
		'a': "qwsy", 's': "edxyaw", 'd': "rfcxse", 'f': "tgvcdr", 'g': "zhbvft", 'h': "ujnbgz", 'j': "ikmnhu", 'k': "olmji", 'l': "kop",
		'y': "asx", 'x': "ysdc", 'c': "xdfv", 'v': "cfgb", 'b': "vghn", 'n': "bhjm", 'm': "njk",
	},
	{ // AZERTY
		'1': "2a", '2': "3za1", '3': "4ez2", '4': "5re3", '5': "6tr4", '6': "7yt5", '7': "8uy6", '8': "9iu7", '9': "0oi8", '0': "po9",
		'a': "2zq1", 'z': "3esqa2", 'e': "4rdsz3", 'r': "5tfde4", 't': "6ygfr5", 'y': "7uhgt6", 'u': "8ijhy7", 'i': "9okju8", 'o': "0plki9", 'p': "lo0m",
		'q': "zswa", 's': "edxwqz", 'd': "rfcxse", 'f': "tgvcdr", 'g': "yhbvft", 'h': "ujnbgy", 'j': "iknhu", 'k': "olji", 'l': "kopm", 'm': "lp",
		'w': "sxq", 'x': "wsdc", 'c': "xdfv", 'v': "cfgb", 'b': "vghn", 'n': "bhj",
	},
}

// glyphs are dnstwist's homoglyphs: ASCII look-alikes first, then Unicode.
var glyphs = map[byte][]string{
	'0': {"o"}, '1': {"l", "i"}, '2': {"ƻ"}, '5': {"ƽ"},
	'a': {"à", "á", "â", "ã", "ä", "å", "ɑ", "ạ", "ǎ", "ă", "ȧ", "ą", "ə", "а"},
	'b': {"d", "lb", "ʙ", "ɓ", "ḃ", "ḅ", "ḇ", "ƅ"},
	'c': {"e", "ƈ", "ċ", "ć", "ç", "č", "ĉ", "ᴄ", "с"},
	'd': {"b", "cl", "dl", "ɗ", "đ", "ď", "ɖ", "ḑ", "ḋ", "ḍ", "ḏ", "ḓ", "ԁ"},
	'e': {"c", "é", "è", "ê", "ë", "ē", "ĕ", "ě", "ė", "ẹ", "ę", "ȩ", "ɇ", "ḛ", "е"},
	'f': {"ƒ", "ḟ"},
	'g': {"q", "ɢ", "ɡ", "ġ", "ğ", "ǵ", "ģ", "ĝ", "ǧ", "ǥ"},
	'h': {"lh", "ĥ", "ȟ", "ħ", "ɦ", "ḧ", "ḩ", "ⱨ", "ḣ", "ḥ", "ḫ", "ẖ", "һ"},
	'i': {"1", "l", "í", "ì", "ï", "ı", "ɩ", "ǐ", "ĭ", "ỉ", "ị", "ɨ", "ȋ", "ī", "ɪ", "і"},
	'j': {"ʝ", "ǰ", "ɉ", "ĵ", "ј"},
	'k': {"lk", "ik", "lc", "ḳ", "ḵ", "ⱪ", "ķ", "ᴋ"},
	'l': {"1", "i", "ɫ", "ł"},
	'm': {"n", "nn", "rn", "rr", "ṁ", "ṃ", "ᴍ", "ɱ", "ḿ"},
	'n': {"m", "r", "ń", "ṅ", "ṇ", "ṉ", "ñ", "ņ", "ǹ", "ň", "ꞑ"},
	'o': {"0", "ȯ", "ọ", "ỏ", "ơ", "ó", "ö", "ᴏ", "о"},
	'p': {"ƿ", "ƥ", "ṕ", "ṗ", "р"},
	'q': {"g", "ʠ"},
	'r': {"ʀ", "ɼ", "ɽ", "ŕ", "ŗ", "ř", "ɍ", "ɾ", "ȓ", "ȑ", "ṙ", "ṛ", "ṟ"},
	's': {"ʂ", "ś", "ṣ", "ṡ", "ș", "ŝ", "š", "ꜱ", "ѕ"},
	't': {"ţ", "ŧ", "ṫ", "ṭ", "ț", "ƫ"},
	'u': {"ᴜ", "ǔ", "ŭ", "ü", "ʉ", "ù", "ú", "û", "ũ", "ū", "ų", "ư", "ů", "ű", "ȕ", "ȗ", "ụ"},
	'v': {"ṿ", "ⱱ", "ᶌ", "ṽ", "ⱴ"},
	'w': {"vv", "ŵ", "ẁ", "ẃ", "ẅ", "ⱳ", "ẇ", "ẉ", "ẘ", "ᴡ", "ԝ"},
	'x': {"ẋ", "ẍ", "х"},
	'y': {"ʏ", "ý", "ÿ", "ŷ", "ƴ", "ȳ", "ɏ", "ỿ", "ẏ", "ỵ", "у"},
	'z': {"ʐ", "ż", "ź", "ᴢ", "ƶ", "ẓ", "ẕ", "ⱬ"},
}

// cyrillic is dnstwist's Cyrillic fuzzer table: Latin letters that have a
// Cyrillic twin, all replaced at once.
var cyrillic = map[byte]string{'a': "а", 'b': "ь", 'c': "с", 'd': "ԁ", 'e': "е", 'g': "ԍ", 'h': "һ", 'i': "і", 'j': "ј", 'k': "к",
	'l': "ӏ", 'm': "м", 'o': "о", 'p': "р", 'q': "ԛ", 's': "ѕ", 't': "т", 'v': "ѵ", 'w': "ԝ", 'x': "х", 'y': "у"}

// PermutationTLDs are the suffixes of the TLD-swap class.
var PermutationTLDs = []string{"net", "org", "shop", "store", "online", "site", "xyz", "top", "info", "biz", "co", "io", "app",
	"ru", "su", "de", "fr", "es", "it", "pl", "com.br", "com.ua", "co.uk", "cn", "com.cn", "in", "kz", "by", "us", "club"}

// dictionary is the combosquat word list of the engine (dnstwist's
// --dictionary usage: common phishing and marketing words). It overlaps the
// pack's affixes only in part on purpose.
var dictionary = []string{"shop", "store", "deals", "sale", "coupon", "coupons", "promo", "official", "online", "login", "secure",
	"support", "account", "help", "best", "my", "buy", "cheap", "discount", "outlet", "service", "services", "apparel", "center",
	"world", "club", "today", "express", "market", "gift", "goods", "top", "new", "hot", "free", "24", "365", "app", "cashback", "bonus"}

// hostBases are unrelated registrable domains the subdomain class hangs
// the brand under.
var hostBases = []string{"example.net", "blogspot-mirror.xyz", "click-tracker.info", "netlify-host.app", "free-hosting.ru", "cdn-static.top"}

// Permutations returns, for one keyword (domain kw + ".com"), the
// generated look-alike hosts by class, each list sorted and unique. Unicode
// results are returned IDNA-encoded (punycode), as they are registered.
func Permutations(kw string) map[string][]string {
	out := map[string]map[string]bool{}
	add := func(class, label, suffix string) {
		if label == "" || label == kw && suffix == "com" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return
		}
		host := label + "." + suffix
		if !isASCII(host) {
			a, err := idna.Punycode.ToASCII(host)
			if err != nil {
				return
			}
			host = a
		}
		if out[class] == nil {
			out[class] = map[string]bool{}
		}
		out[class][host] = true
	}
	n := len(kw)
	const alnum = "0123456789abcdefghijklmnopqrstuvwxyz"
	for i := 0; i < len(alnum); i++ {
		add("addition", kw+alnum[i:i+1], "com")
	}
	for i := 0; i < n; i++ {
		add("omission", kw[:i]+kw[i+1:], "com")
		add("repetition", kw[:i+1]+kw[i:], "com")
		if i > 0 {
			add("hyphenation", kw[:i]+"-"+kw[i:], "com")
			add("dot_split", kw[:i]+"."+kw[i:], "com")
		}
		for _, kb := range keyboards {
			for _, c := range kb[kw[i]] {
				add("replacement", kw[:i]+string(c)+kw[i+1:], "com")
				if i > 0 && i < n-1 {
					add("insertion", kw[:i]+string(c)+kw[i:], "com")
					add("insertion", kw[:i+1]+string(c)+kw[i+1:], "com")
				}
			}
		}
		if i+1 < n && kw[i] != kw[i+1] {
			add("transposition", kw[:i]+kw[i+1:i+2]+kw[i:i+1]+kw[i+2:], "com")
		}
		if isVowel(kw[i]) && kw[i] != 'y' {
			for _, v := range "aeiou" {
				if byte(v) != kw[i] {
					add("vowel_swap", kw[:i]+string(v)+kw[i+1:], "com")
				}
			}
		}
		for bit := 0; bit < 8; bit++ {
			c := kw[i] ^ (1 << bit)
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
				add("bitsquatting", kw[:i]+string(c)+kw[i+1:], "com")
			}
		}
	}
	// homoglyphs, dnstwist-style: in every window, every occurrence of a
	// letter is replaced by one glyph; then the same again on each result
	one := homoglyphPass(kw)
	for h := range one {
		add("homoglyph", h, "com")
	}
	// the second pass is sampled (every k-th result, sorted order): its
	// full product runs to millions for a 10-letter keyword
	two := map[string]bool{}
	for _, h := range stride(sortedKeys(one), MaxSecondPassSeeds) {
		for h2 := range homoglyphPass(h) {
			two[h2] = true
		}
	}
	for _, h := range stride(sortedKeys(two), MaxSecondPassResults) {
		add("homoglyph", h, "com")
	}
	var cyr strings.Builder
	for i := 0; i < n; i++ {
		if c, ok := cyrillic[kw[i]]; ok {
			cyr.WriteString(c)
		} else {
			cyr.WriteByte(kw[i])
		}
	}
	add("cyrillic", cyr.String(), "com")
	for i := 0; i < n; i++ { // one Cyrillic letter at a time, the subtler form
		if c, ok := cyrillic[kw[i]]; ok {
			add("cyrillic", kw[:i]+c+kw[i+1:], "com")
		}
	}
	for _, t := range PermutationTLDs {
		add("tld_swap", kw, t)
	}
	for _, w := range dictionary {
		for _, t := range []string{"com", "net", "shop"} {
			add("combosquat", kw+w, t)
			add("combosquat", w+kw, t)
			add("combosquat", kw+"-"+w, t)
			add("combosquat", w+"-"+kw, t)
		}
	}
	for _, b := range hostBases {
		i := strings.IndexByte(b, '.')
		lab, suf := b[:i], b[i+1:]
		add("subdomain", kw+".com."+lab, suf)
		add("subdomain", kw+"."+lab, suf)
		add("subdomain", "www."+kw+".com."+lab, suf)
		add("subdomain", kw+"-login."+lab, suf)
		add("subdomain", "secure."+kw+".com-"+lab, suf)
	}
	res := map[string][]string{}
	for c, set := range out {
		res[c] = sortedKeys(set)
	}
	return res
}

// Sampling of the homoglyph fuzzer's second pass, per keyword.
const (
	MaxSecondPassSeeds   = 60
	MaxSecondPassResults = 1500
)

// stride keeps at most n evenly spaced elements of xs.
func stride(xs []string, n int) []string {
	if len(xs) <= n {
		return xs
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, xs[i*len(xs)/n])
	}
	return out
}

// homoglyphPass is one pass of dnstwist's homoglyph fuzzer.
func homoglyphPass(s string) map[string]bool {
	out := map[string]bool{}
	rs := []rune(s)
	for w := 1; w < len(rs); w++ {
		for i := 0; i+w <= len(rs); i++ {
			pre, win, suf := string(rs[:i]), string(rs[i:i+w]), string(rs[i+w:])
			seen := map[rune]bool{}
			for _, c := range win {
				if seen[c] || c >= 0x80 {
					continue
				}
				seen[c] = true
				for _, g := range glyphs[byte(c)] {
					out[pre+strings.ReplaceAll(win, string(c), g)+suf] = true
				}
			}
		}
	}
	delete(out, s)
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
