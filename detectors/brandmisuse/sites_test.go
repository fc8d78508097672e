package brandmisuse

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"affwatch/crawler"
)

// The loopback fixture sites (fixtures/sites) that the demo crawls: only
// the look-alike deals site claims to be AliExpress's ("Official AliExpress
// deals portal").
func TestFixtureSites(t *testing.T) {
	md := testModel(t)
	files, err := filepath.Glob("../../fixtures/sites/www/*/*.html")
	if err != nil || len(files) == 0 {
		t.Skip("fixture sites not found")
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		host := filepath.Base(filepath.Dir(f))
		u, _ := url.Parse("https://" + host + "/" + filepath.Base(f))
		info := crawler.Extract(u, body)
		hs := md.JudgePage(Page{URL: u.String(), Title: info.Title, Description: info.Description, Keywords: info.Keywords,
			Headings: Headings(body, int(md.p.MaxHTMLBytes), int(md.p.MaxHeadings))})
		want := ""
		if host == "aliexpress-deals.net" {
			want = KindClaim
		}
		if got := Verdict(hs); got != want {
			t.Errorf("%s: verdict %q, want %q: %+v", strings.TrimPrefix(f, "../../"), got, want, hs)
		}
	}
}
