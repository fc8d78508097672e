package brandmisuse

import (
	"testing"

	"affwatch/rules"
)

func testModel(t testing.TB) *Model {
	t.Helper()
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	md, err := NewModel(pack, pack.Rules[RuleName])
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func TestAnalyze(t *testing.T) {
	md := testModel(t)
	cases := []struct {
		name, text string
		want       string // verdict
		how        string
	}{
		{"exact", "Best deals from AliExpress today", KindMention, "exact"},
		{"official store", "Official AliExpress Store — best prices", KindClaim, "exact"},
		{"partner", "We are an AliExpress partner", KindClaim, "exact"},
		{"disclaimer", "This site is not affiliated with AliExpress", KindMention, "exact"},
		{"ru claim", "Официальный магазин Алиэкспресс", KindClaim, "transliteration"},
		{"ru disclaimer", "Сайт не является официальным партнёром AliExpress", KindMention, "exact"},
		{"es claim", "Tienda oficial de AliExpress en España", KindClaim, "exact"},
		{"es disclaimer", "Sitio no afiliado con AliExpress", KindMention, "exact"},
		{"pt disclaimer", "Não somos afiliados ao AliExpress", KindMention, "exact"},
		{"fr claim", "Partenaire officiel d'AliExpress", KindClaim, "exact"},
		{"fr disclaimer", "Site non affilié à AliExpress", KindMention, "exact"},
		{"misspelling", "aliexpres coupons", KindMention, "misspelling"},
		{"split", "ali express promo code", KindMention, "split"},
		{"hyphen", "Ali-Express deals", KindMention, "hyphenated"},
		{"express", "Express delivery on all orders", "", ""},
		{"ali baba", "Ali Baba and the Forty Thieves (hardcover)", "", ""},
		{"ali-baba ru", "Али-Баба и сорок разбойников", "", ""},
		{"seller store", "Xiaomi official store on AliExpress: what to buy", KindMention, "exact"},
		{"app", "How to install the official AliExpress app", KindMention, "exact"},
		{"review", "AliExpress review: is it safe to buy?", KindMention, "exact"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hs := md.Analyze("title", "u", tc.text)
			if got := Verdict(hs); got != tc.want {
				t.Errorf("%q: verdict %q, want %q; hits %+v", tc.text, got, tc.want, hs)
			}
			if tc.how != "" && len(hs) > 0 && hs[0].How != tc.how {
				t.Errorf("%q: how %q, want %q", tc.text, hs[0].How, tc.how)
			}
		})
	}
}
