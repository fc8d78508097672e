package prohibited

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"affwatch/crawler"
	"affwatch/rules"
)

// The loopback fixture sites (fixtures/sites) that the demo crawls: only
// the gambling site is about prohibited content.
func TestFixtureSites(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(pack.Rules[RuleName])
	if err != nil {
		t.Fatal(err)
	}
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
		var got []string
		for _, c := range m.Classify(Page{URL: u.String(), Title: info.Title, Description: info.Description, Keywords: info.Keywords, Text: info.Text}).Flagged() {
			got = append(got, c.Category)
		}
		want := ""
		if host == "lucky-spin-bets.online" {
			want = "gambling"
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: flagged %v, want %q", strings.TrimPrefix(f, "../../"), got, want)
		}
	}
}
