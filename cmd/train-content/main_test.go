package main

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"affwatch/detectors/prohibited"
)

// sitePages builds n real pages of one group; the first flagged ones are
// decided for category flag.
func sitePages(group string, labels []string, n int) []page {
	var out []page
	for i := 0; i < n; i++ {
		p := page{source: "real"}
		p.Group = group
		p.Labels = map[string]bool{}
		for _, l := range labels {
			p.Labels[l] = true
		}
		out = append(out, p)
	}
	return out
}

func TestSiteFigures(t *testing.T) {
	var all []page
	all = append(all, sitePages("casino", []string{"gambling"}, 10)...) // 2 of 10 pages flagged gambling
	all = append(all, sitePages("law-news", nil, 4)...)                 // 1 of 4 pages flagged
	all = append(all, sitePages("blog", nil, 10)...)                    // none flagged
	all = append(all, sitePages("shop", []string{"weapons"}, 3)...)     // flagged for the wrong category only
	all = append(all, page{source: "own", TrainPage: prohibited.TrainPage{Group: "own", Labels: map[string]bool{"adult": true}}})
	flagged := map[int]string{0: "gambling", 1: "gambling", 10: "piracy", 24: "drugs"}
	decide := func(i int, cat string) bool { return flagged[i] == cat }
	cats := []string{"drugs", "gambling", "piracy", "weapons"}

	sites := realSites(all, cats, decide)
	c, clean, _ := bySite(sites)
	if n := len(sites); n != 4 || c.tp != 1 || c.fp != 2 || c.fn != 1 || c.tn != 1 || clean.fp != 1 || clean.tn != 1 {
		t.Errorf("bySite = %+v, clean %+v, %d sites; want tp 1 fp 2 fn 1 tn 1 of 4 sites, clean fp 1 tn 1", c, clean, n)
	}

	recall, cleanFPR := crawledSites(sites, 5)
	// casino: escapes when none of its 2 flagged pages is among 5 of 10:
	// C(8,5)/C(10,5) = 56/252; the shop is never right; law-news is read
	// whole (4 pages), blog never flagged.
	wantRecall := (1 - 56.0/252) / 2
	if math.Abs(recall-wantRecall) > 1e-9 || math.Abs(cleanFPR-0.5) > 1e-9 {
		t.Errorf("crawledSites = %.6f, %.6f; want %.6f, 0.5", recall, cleanFPR, wantRecall)
	}
	if r, f := crawledSites(sites, 1); math.Abs(r-0.1) > 1e-9 || math.Abs(f-0.125) > 1e-9 {
		t.Errorf("one page a site: %.6f, %.6f; want 0.1 (2 of 10, for one of 2 violating sites), 0.125 (1 of 4, one of 2 clean sites)", r, f)
	}
}

func TestCheckMissing(t *testing.T) {
	cases := []struct {
		missing     int
		eval, allow bool
		wantErr     bool
	}{
		{0, false, false, false},
		{3, false, false, true},
		{3, true, false, false},
		{3, false, true, false},
	}
	for _, tc := range cases {
		err := checkMissing(tc.missing, 10, ".cache/content-corpus", tc.eval, tc.allow)
		if (err != nil) != tc.wantErr {
			t.Errorf("checkMissing(%d, eval %v, allow %v) = %v, want error %v", tc.missing, tc.eval, tc.allow, err, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "3 of 10 manifest pages") {
			t.Errorf("error %q does not say how many pages are missing", err)
		}
	}
}

func TestHeadings(t *testing.T) {
	cases := []struct{ html, want string }{
		{`<html><head><title>T</title></head><body><h1>Buy  IPTV
 plans</h1><p>text</p><h2>Channels</h2><h3>not read</h3></body></html>`, "Buy IPTV plans Channels"},
		{`<p>no headings</p>`, ""},
	}
	for _, tc := range cases {
		if got := strings.TrimSpace(headings([]byte(tc.html))); got != tc.want {
			t.Errorf("headings(%q) = %q, want %q", tc.html, got, tc.want)
		}
	}
	long := "<h1>" + strings.Repeat("ñ", 400) + "</h1><h2>after</h2>"
	if got := headings([]byte(long)); len(got) > 512 || !utf8.ValidString(got) || strings.Contains(got, "after") {
		t.Errorf("long headings: %d bytes, valid %v, %q", len(got), utf8.ValidString(got), got[len(got)-10:])
	}
}
