package brandmisuse

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"affwatch/crawler"
)

// TestRealWords screens every distinct word of two real-text sources as a
// one-word title: the visible text of the prohibited_content corpus
// (fixtures/pages, five languages) and the labels of brand_domain's 16,722
// real domains (detectors/branddomain/testdata/real_domains.txt). Only the
// brands themselves may match: a typo budget tuned for domains must not
// take ordinary words (trail, small, express) for a brand.
func TestRealWords(t *testing.T) {
	md := testModel(t)
	words := map[string]bool{}
	split := regexp.MustCompile(`[\p{L}\p{M}\p{N}'’-]+`)
	files, _ := filepath.Glob("../../fixtures/pages/*.html")
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse("https://corpus.example/" + filepath.Base(f))
		for _, w := range split.FindAllString(crawler.Extract(u, body).Text, -1) {
			words[w] = true
		}
	}
	if b, err := os.ReadFile("../branddomain/testdata/real_domains.txt"); err == nil {
		for _, w := range regexp.MustCompile(`[a-z0-9]+`).FindAllString(string(b), -1) {
			words[w] = true
		}
	}
	if len(words) < 10000 {
		t.Skipf("only %d words found: the other packages' test data is missing", len(words))
	}
	brandish := regexp.MustCompile(`(?i)^(aliexpress|alibaba|алиэкспресс)$`)
	matched := 0
	for w := range words {
		hs := md.Analyze("title", "", w)
		if len(hs) == 0 {
			continue
		}
		matched++
		if !brandish.MatchString(strings.TrimSpace(w)) {
			t.Errorf("ordinary word %q taken for %s (%s, %s)", w, hs[0].Keyword, hs[0].How, hs[0].Class)
		}
	}
	t.Logf("%d distinct words, %d matched a brand", len(words), matched)
}
