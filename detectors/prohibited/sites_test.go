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

// The loopback fixture sites (fixtures/sites) that the demo crawls: the
// gambling site is about prohibited content, and so is the brand
// look-alike, which calls itself "the official AliExpress partner portal"
// and hands out coupons: misleading (C.6.q). Models trained on the fifth
// corpus round score it 0.73–0.78 for misleading, weighted by site or not
// (the fourth round's model 0.49, under its threshold).
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
		switch host {
		case "lucky-spin-bets.online":
			want = "gambling"
		case "aliexpress-deals.net":
			want = "misleading"
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: flagged %v, want %q", strings.TrimPrefix(f, "../../"), got, want)
		}
	}
}
