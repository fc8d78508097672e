package prohibited

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// TestPagesInLegacyCharsets: a Russian page served in windows-1251 or
// KOI8-R, and a French one in ISO-8859-1, read as their UTF-8 originals:
// the same words, the same categories and probabilities.
func TestPagesInLegacyCharsets(t *testing.T) {
	m := conceptModel(t) // the default pack's model
	cases := []struct {
		file    string
		enc     *charmap.Charmap
		label   string
		flagged string // a category the UTF-8 original is flagged for ("" for a clean page)
	}{
		{"d5-gambling-ru-telegram.html", charmap.Windows1251, "windows-1251", "gambling"},
		{"d5-drugs-ru-klad.html", charmap.KOI8R, "koi8-r", "drugs"},
		{"clean-ru-news-weather.html", charmap.Windows1251, "windows-1251", ""},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			orig, err := os.ReadFile(filepath.Join("../../fixtures/pages", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			declared := bytes.Replace(orig, []byte(`<meta charset="utf-8">`), []byte(`<meta charset="`+tc.label+`">`), 1)
			if bytes.Equal(declared, orig) {
				t.Fatalf("%s declares no utf-8 meta charset to replace", tc.file)
			}
			// What the charset lacks (dashes, emoji) a legacy page writes as
			// character references, as its editor would have.
			legacy, err := encoding.HTMLEscapeUnsupported(tc.enc.NewEncoder()).Bytes(declared)
			if err != nil {
				t.Fatal(err)
			}
			want, got := CorpusPage(tc.file, orig), CorpusPage(tc.file, legacy)
			if got != want {
				t.Fatalf("page read from %s differs:\n got %.200q\nwant %.200q", tc.label, got.Text, want.Text)
			}
			wr, gr := m.Classify(want), m.Classify(got)
			var flagged []string
			for i, c := range gr.Categories {
				if c.Probability != wr.Categories[i].Probability || c.Flagged != wr.Categories[i].Flagged || c.Score != wr.Categories[i].Score {
					t.Errorf("%s: %v from %s, %v from utf-8", c.Category, c, tc.label, wr.Categories[i])
				}
				if c.Flagged {
					flagged = append(flagged, c.Category)
				}
			}
			if (tc.flagged == "") != (len(flagged) == 0) || tc.flagged != "" && !slices.Contains(flagged, tc.flagged) {
				t.Errorf("flagged %v, want %q", flagged, tc.flagged)
			}
		})
	}
}
