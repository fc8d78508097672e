package branddomain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalize: normalization and matching of any host text never panic,
// stay bounded, and are deterministic; skeletons are ASCII.
// Seeds: testdata/fuzz/FuzzNormalize.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"aliexpress-deals.net", "xn--liexpress-zyh.com", "аliexpress.com", "ALIEXPRESS.COM.", "aliexpress.com:443",
		"[::1]", "127.0.0.1", "xn--", "xn--zz.xn--p1ai", "..", "a..b", "t.mall.co.uk", "ｔｍａｌｌ.com", strings.Repeat("a-", 200) + ".com"} {
		f.Add(s)
	}
	m := testMatcher(f)
	f.Fuzz(func(t *testing.T, host string) {
		n := Normalize(host)
		if len(n.Host) > 4*MaxHostLen {
			t.Fatalf("host not bounded: %d", len(n.Host))
		}
		if len(n.Labels) > MaxLabels {
			t.Fatalf("%d labels", len(n.Labels))
		}
		for _, l := range n.Labels {
			for i := 0; i < len(l.Skeleton); i++ {
				if l.Skeleton[i] >= utf8.RuneSelf {
					t.Fatalf("skeleton %q is not ASCII", l.Skeleton)
				}
			}
		}
		a, okA := m.MatchHost(host)
		b, okB := m.MatchHost(host)
		if okA != okB || a != b {
			t.Fatalf("not deterministic: %+v %+v", a, b)
		}
		if okA && (a.Score <= 0 || a.Score > 1 || a.Keyword == "") {
			t.Fatalf("bad match %+v", a)
		}
	})
}
