package brandmisuse

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// FuzzAnalyze: the phrase matcher never panics on any text, stays bounded,
// is deterministic, and every hit quotes the text it read.
// Seeds: testdata/fuzz/FuzzAnalyze.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"Official AliExpress Store", "not affiliated with AliExpress", "Сайт не является официальным партнёром Алиэкспресс",
		"Ali Baba and the forty thieves", "ali-express.com/ali express?", "d'AliExpress’s", "АliЕxpress", "- - -", "¿¡", "a\u0301li\u0308express",
		strings.Repeat("official aliexpress ", 400), strings.Repeat("ali-", 100) + "express", "\xff\xfeali\x00express"} {
		f.Add(s)
	}
	md := testModel(f)
	f.Fuzz(func(t *testing.T, text string) {
		a := md.Analyze("title", "u", text)
		b := md.Analyze("title", "u", text)
		if !cmp.Equal(a, b, cmp.AllowUnexported(Hit{})) {
			t.Fatalf("not deterministic")
		}
		if len(a) > maxTokens {
			t.Fatalf("%d hits", len(a))
		}
		for _, h := range a {
			if h.Kind != KindMention && h.Kind != KindClaim && h.Kind != KindDisclaimer || h.Keyword == "" || (h.Kind == KindDisclaimer) != h.Negated {
				t.Fatalf("bad hit %+v", h)
			}
			if !strings.Contains(text, h.Phrase) || len(h.Phrase) > md.maxField {
				t.Fatalf("phrase %q not in the text", h.Phrase)
			}
			if n := utf8.RuneCountInString(h.Snippet); n > 240 {
				t.Fatalf("snippet of %d characters", n)
			}
		}
		_ = md.AnalyzeAd(Ad{ID: "x", Keyword: text, Title: text, Text: text, DisplayURL: text})
		_ = Headings([]byte(text), 1<<16, 10)
	})
}
