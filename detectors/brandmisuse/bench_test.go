package brandmisuse

import (
	"strings"
	"testing"
)

// BenchmarkAnalyzePage: one page's title, meta tags and five headings of
// ordinary text with one brand mention and one disclaimer.
func BenchmarkAnalyzePage(b *testing.B) {
	md := testModel(b)
	p := Page{URL: "https://example.com/", Title: "Coupon Corner — verified promo codes for online shops and AliExpress",
		Description: "Hand-checked coupon codes, updated daily. We are not affiliated with AliExpress or Alibaba Group.",
		Keywords:    "coupons, promo codes, deals, discounts, shopping, express delivery",
		Headings:    strings.Split("Today's verified codes|Best budget earbuds of the month|How we check every code|Small gadgets, big savings|Frequently asked questions", "|")}
	b.ReportAllocs()
	for b.Loop() {
		md.JudgePage(p)
	}
}
