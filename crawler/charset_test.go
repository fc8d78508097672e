package crawler

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func encodeIn(t *testing.T, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

const (
	russianCasino = "Онлайн казино: бонус на первый депозит, ставки на спорт и джекпот каждый день"
	frenchShop    = "Boutique en ligne : crème, café et thé élégants, livraison à domicile"
	portugueseBet = "Apostas esportivas: promoções e ações para você ganhar"
)

func TestDecodeHTML(t *testing.T) {
	page := func(head, text string) string {
		return "<!doctype html><html><head>" + head + "<title>t</title></head><body><p>" + text + "</p></body></html>"
	}
	// A UTF-8 page whose first 1024 bytes are ASCII: x/net/html/charset
	// would call it windows-1252 from its head alone.
	longHead := page("<style>"+strings.Repeat("p{margin:0}", 120)+"</style>", russianCasino)
	utf16 := append([]byte{0xFF, 0xFE}, encodeIn(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), page("", frenchShop))...)
	cases := []struct {
		name        string
		contentType string
		body        []byte
		want        string // text the decoded page must contain
		charset     string
		source      string
	}{
		{"header windows-1251", "text/html; charset=windows-1251", encodeIn(t, charmap.Windows1251, page("", russianCasino)), russianCasino, "windows-1251", "header"},
		{"header cp1251 alias, quoted", `text/html; charset="cp1251"`, encodeIn(t, charmap.Windows1251, page("", russianCasino)), russianCasino, "windows-1251", "header"},
		{"meta charset koi8-r", "text/html", encodeIn(t, charmap.KOI8R, page(`<meta charset="koi8-r">`, russianCasino)), russianCasino, "koi8-r", "meta"},
		{"meta http-equiv iso-8859-1 is windows-1252", "", encodeIn(t, charmap.Windows1252, page(`<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">`, frenchShop)), frenchShop, "windows-1252", "meta"},
		{"header wins over meta", "text/html; charset=windows-1251", encodeIn(t, charmap.Windows1251, page(`<meta charset="utf-8">`, russianCasino)), russianCasino, "windows-1251", "header"},
		{"unknown header label falls to meta", "text/html; charset=x-no-such", encodeIn(t, charmap.Windows1251, page(`<meta charset="windows-1251">`, russianCasino)), russianCasino, "windows-1251", "meta"},
		{"utf-8 bom", "text/html; charset=windows-1251", append([]byte{0xEF, 0xBB, 0xBF}, page("", russianCasino)...), russianCasino, "utf-8", "bom"},
		{"utf-16le bom", "", utf16, frenchShop, "utf-16le", "bom"},
		{"meta utf-16 is utf-8", "", []byte(page(`<meta charset="utf-16">`, russianCasino)), russianCasino, "utf-8", "meta"},
		{"undeclared utf-8 after 1024 ascii bytes", "text/html", []byte(longHead), russianCasino, "utf-8", "guess"},
		{"undeclared windows-1251", "text/html", encodeIn(t, charmap.Windows1251, longHead), russianCasino, "windows-1251", "guess"},
		{"undeclared windows-1252 french", "", encodeIn(t, charmap.Windows1252, page("", frenchShop)), frenchShop, "windows-1252", "guess"},
		{"undeclared windows-1252 portuguese", "", encodeIn(t, charmap.Windows1252, page("", portugueseBet)), portugueseBet, "windows-1252", "guess"},
		{"undeclared utf-8 cut inside a letter", "", cutInside(page("", russianCasino), "бонус"), "Онлайн казино", "utf-8", "guess"},
		{"plain ascii", "", []byte(page("", "free spins")), "free spins", "utf-8", "guess"},
		{"empty", "text/html; charset=utf-8", nil, "", "utf-8", "header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, cs, src := DecodeHTML(tc.contentType, tc.body)
			if cs != tc.charset || src != tc.source {
				t.Errorf("charset %s from %s, want %s from %s", cs, src, tc.charset, tc.source)
			}
			if !utf8.Valid(out) {
				t.Errorf("output is not UTF-8")
			}
			if !bytes.Contains(out, []byte(tc.want)) {
				t.Errorf("decoded page lacks %q:\n%.300s", tc.want, out)
			}
		})
	}
}

// A declared UTF-8 page with stray bytes keeps its readable text and
// becomes valid UTF-8 (the database and the reports need it).
func TestDecodeHTMLRepairsInvalidUTF8(t *testing.T) {
	body := []byte("<meta charset=utf-8><p>ставки \xff\xfe на спорт</p>")
	out, cs, _ := DecodeHTML("", body)
	if cs != "utf-8" || !utf8.Valid(out) || !bytes.Contains(out, []byte("на спорт")) || !bytes.Contains(out, []byte("\uFFFD")) {
		t.Errorf("got %s %q", cs, out)
	}
}

// The page extracted from a windows-1251 body reads as the same page in
// UTF-8: title and visible text.
func TestExtractDecodedPage(t *testing.T) {
	src := `<html><head><meta charset="windows-1251"><title>Казино Вулкан</title><meta name="description" content="Игровые автоматы"></head><body><h1>Бонус 200%</h1><p>` + russianCasino + `</p></body></html>`
	raw := encodeIn(t, charmap.Windows1251, src)
	out, _, _ := DecodeHTML("text/html", raw)
	got := Extract(mustURL(t, "https://casino.example/"), out)
	want := Extract(mustURL(t, "https://casino.example/"), []byte(src))
	if got.Title != "Казино Вулкан" || got.Description != want.Description || got.Text != want.Text {
		t.Errorf("decoded page: title %q description %q text %q; want %q %q %q", got.Title, got.Description, got.Text, "Казино Вулкан", want.Description, want.Text)
	}
}

func FuzzDecodeHTML(f *testing.F) {
	f.Add("text/html; charset=windows-1251", []byte("<p>\xcf\xf0\xe8\xe2\xe5\xf2</p>"))
	f.Add("", []byte("<meta charset=koi8-r><p>\xf0\xd2\xc9\xd7\xc5\xd4</p>"))
	f.Add("", []byte{0xFF, 0xFE, 'a', 0})
	f.Add("text/html; charset=utf-16be", []byte{0, 'a', 0xD8})
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		out, cs, src := DecodeHTML(contentType, body)
		if !utf8.Valid(out) {
			t.Fatalf("not UTF-8: %q", out)
		}
		if len(out) > 3*len(body)+3 {
			t.Fatalf("%d bytes from %d", len(out), len(body))
		}
		if cs == "" || src == "" {
			t.Fatalf("no charset named (%q, %q)", cs, src)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// cutInside cuts s one byte into the first letter of word.
func cutInside(s, word string) []byte {
	return []byte(s[:strings.Index(s, word)+1])
}

// TestCrawlPagesInTheirCharsets: a real server on loopback serves pages in
// windows-1251 (declared in the header), KOI8-R (declared in a <meta>) and
// ISO-8859-1 without any declaration; the crawler reads each page's words,
// keeps the bytes as served, and notes the one it had to guess.
func TestCrawlPagesInTheirCharsets(t *testing.T) {
	w := newWorld(t)
	home := encodeIn(t, charmap.Windows1251, `<html><head><title>Казино Вулкан</title></head><body><p>`+russianCasino+`</p><a href="/koi">koi</a> <a href="/latin">latin</a></body></html>`)
	koi := encodeIn(t, charmap.KOI8R, `<html><head><meta charset="koi8-r"><title>Ставки на спорт</title></head><body><p>Букмекерская контора</p></body></html>`)
	latin := encodeIn(t, charmap.ISO8859_1, `<html><head><title>Café à Paris</title></head><body><p>`+frenchShop+`</p></body></html>`)
	siteURL := w.site("kazino.example", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			rw.Header().Set("Content-Type", "text/html; charset=windows-1251")
			rw.Write(home)
		case "/koi":
			rw.Header().Set("Content-Type", "text/html")
			rw.Write(koi)
		case "/latin":
			rw.Header().Set("Content-Type", "text/html")
			rw.Write(latin)
		default:
			http.NotFound(rw, r)
		}
	}))
	r := w.crawler(nil).Visit(context.Background(), Site{PublisherID: "P1", URL: siteURL})
	if r.Status != StatusOK || len(r.Pages) != 3 {
		t.Fatalf("status %s, %d pages: %s\n%s", r.Status, len(r.Pages), r.Error, dumpEvents(r))
	}
	want := []struct{ title, text string }{
		{"Казино Вулкан", russianCasino},
		{"Ставки на спорт", "Букмекерская контора"},
		{"Café à Paris", frenchShop},
	}
	served := [][]byte{home, koi, latin}
	for i, p := range r.Pages {
		if p.Info.Title != want[i].title || !strings.Contains(p.Info.Text, want[i].text) {
			t.Errorf("page %d: title %q text %q, want %q and %q", i, p.Info.Title, p.Info.Text, want[i].title, want[i].text)
		}
		if !bytes.Equal(p.HTML, served[i]) {
			t.Errorf("page %d: stored HTML is not the bytes as served", i)
		}
	}
	var guessed []string
	for _, e := range r.Events {
		if e.Kind == "charset" {
			guessed = append(guessed, e.URL+" "+e.Detail)
		}
	}
	if len(guessed) != 1 || !strings.HasSuffix(guessed[0], "read as windows-1252") || !strings.Contains(guessed[0], "/latin") {
		t.Errorf("charset events %q, want one for /latin read as windows-1252", guessed)
	}
}
