package crawler

import (
	"bytes"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// Pages arrive in the charset their server chose: many Russian sites still
// serve windows-1251 or KOI8-R, older French, Spanish and Portuguese sites
// ISO-8859-1. Parsed as UTF-8 their words become replacement characters,
// and no lexicon, model or brand check reads them. DecodeHTML turns a body
// into UTF-8 the way a browser picks the charset (WHATWG: byte-order mark,
// then the Content-Type header, then a <meta> in the first 1024 bytes),
// with one departure: an undeclared body that is valid UTF-8 throughout is
// UTF-8, and one that is not is told windows-1251 from windows-1252 by its
// letters, where a browser would guess from its user's locale.

// metaPrescanBytes is how far a browser looks for a <meta> charset.
const metaPrescanBytes = 1024

var (
	metaCharset = regexp.MustCompile(`(?i)<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([a-z0-9._:\-]+)`)
	boms        = []struct {
		prefix []byte
		name   string
		enc    encoding.Encoding
	}{
		{[]byte{0xEF, 0xBB, 0xBF}, "utf-8", unicode.UTF8BOM},
		{[]byte{0xFE, 0xFF}, "utf-16be", unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)},
		{[]byte{0xFF, 0xFE}, "utf-16le", unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)},
	}
)

// DecodeHTML returns body as UTF-8 and the name of the charset it was read
// in, with how that was decided: "bom", "header", "meta" or "guess".
// Invalid sequences become U+FFFD; the result is never more than three
// times the body's length (a single-byte charset's letter takes at most
// three bytes in UTF-8).
func DecodeHTML(contentType string, body []byte) (out []byte, charset, source string) {
	for _, b := range boms {
		if bytes.HasPrefix(body, b.prefix) {
			return decodeWith(b.enc, body), b.name, "bom"
		}
	}
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		if enc, name := lookupCharset(params["charset"]); enc != nil {
			return decodeWith(enc, body), name, "header"
		}
	}
	head := body[:min(len(body), metaPrescanBytes)]
	if m := metaCharset.FindSubmatch(head); m != nil {
		if enc, name := lookupCharset(string(m[1])); enc != nil {
			// A <meta> cannot declare UTF-16: the bytes that hold it
			// were read as ASCII, so the document is not UTF-16.
			if strings.HasPrefix(name, "utf-16") {
				enc, name = unicode.UTF8, "utf-8"
			}
			return decodeWith(enc, body), name, "meta"
		}
	}
	if utf8.Valid(withoutCutRune(body)) {
		return bytes.ToValidUTF8(body, []byte("\uFFFD")), "utf-8", "guess"
	}
	if cyrillicBytes(body) {
		return decodeWith(charmap.Windows1251, body), "windows-1251", "guess"
	}
	return decodeWith(charmap.Windows1252, body), "windows-1252", "guess"
}

// withoutCutRune drops a UTF-8 sequence cut short at the end: stored pages
// and capped bodies end where a limit fell, not where a letter did.
func withoutCutRune(body []byte) []byte {
	for i := len(body) - 1; i >= 0 && i >= len(body)-utf8.UTFMax; i-- {
		if utf8.RuneStart(body[i]) {
			if !utf8.FullRune(body[i:]) {
				return body[:i]
			}
			break
		}
	}
	return body
}

// lookupCharset resolves a charset label as browsers do (WHATWG labels:
// "latin1" and "iso-8859-1" are windows-1252, "cp1251" is windows-1251).
// Unknown labels and the replacement encoding give nil.
func lookupCharset(label string) (encoding.Encoding, string) {
	label = strings.TrimSpace(label)
	if label == "" {
		return nil, ""
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil, ""
	}
	name, err := htmlindex.Name(enc)
	if err != nil || name == "replacement" {
		return nil, ""
	}
	return enc, name
}

// decodeWith decodes body, replacing what the charset cannot map; UTF-8
// bodies are only made valid.
func decodeWith(enc encoding.Encoding, body []byte) []byte {
	if enc == unicode.UTF8 || enc == encoding.Nop {
		return bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		// The x/text decoders replace rather than fail; keep the bytes
		// readable all the same if one ever does.
		return bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	return bytes.ToValidUTF8(out, []byte("\uFFFD"))
}

// cyrillicBytes says whether an undeclared single-byte text reads as
// Russian rather than Western European. In windows-1251 the bytes
// 0xC0–0xFF are the Cyrillic alphabet, so a Russian word is a run of them;
// in windows-1252 they are accented Latin letters between ASCII ones, at
// most two in a row ("café", "año", "ações"). The share of such bytes in
// runs of three or more tells the two apart whatever the markup around.
func cyrillicBytes(body []byte) bool {
	var high, inWords, run int
	for i := 0; i <= len(body); i++ {
		if i < len(body) && body[i] >= 0xC0 {
			high++
			run++
			continue
		}
		if run >= 3 {
			inWords += run
		}
		run = 0
	}
	return high > 0 && 2*inWords > high
}
