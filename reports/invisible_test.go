package reports

import (
	"strings"
	"testing"
)

// TestInvisibleCharactersShown: an id with zero-width or bidi characters
// ("\u200bP000107\u200f" looks like P000107) is isolated (unicode-bidi:
// isolate, as <bdi>) and its invisible characters are shown in
// report.html; findings.ndjson keeps the raw value.
func TestInvisibleCharactersShown(t *testing.T) {
	db := openStore(t)
	s := fullSeed()
	pub := "\u200bP000107\u200f"
	s.findings = append(s.findings, finding{id: "cb-invisible", publisher: pub, detector: "click_burst", severity: "high", score: 0.9,
		policy: "E.10.c", summary: "burst", evidence: `{"referrer":"ok\u202eevil.com"}`,
		start: "2026-11-21 00:00:00", end: "2026-11-22 00:00:00", orders: []string{"O\u2066-1"}, commission: "1"})
	insert(t, db, s)
	dir, _ := writeRun(t, db, testMeta())
	html := string(readOut(t, dir, ReportFile))
	for _, raw := range []string{"\u200b", "\u200f", "\u202e", "\u2066"} {
		if strings.Contains(html, raw) {
			t.Errorf("report.html holds the invisible character %U raw", []rune(raw)[0])
		}
	}
	for _, want := range []string{
		`<span class="id"><span class="inv" title="invisible character U+200B">U+200B</span>P000107<span class="inv" title="invisible character U+200F">U+200F</span></span>`,
		`.id { unicode-bidi: isolate; }`,
		`ok<span class="inv" title="invisible character U+202E">U+202E</span>evil.com`,
		`O<span class="inv" title="invisible character U+2066">U+2066</span>-1`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
	if nd := string(readOut(t, dir, FindingsFile)); !strings.Contains(nd, `"publisher_id":"`+pub+`"`) && !strings.Contains(nd, `"publisher_id":"\u200bP000107\u200f"`) {
		t.Errorf("findings.ndjson does not keep the raw publisher id")
	}
}

func TestShowText(t *testing.T) {
	for in, want := range map[string]string{
		"P1":           "P1",
		"<b>x</b>":     "&lt;b&gt;x&lt;/b&gt;",
		"a\xffb":       `a<span class="inv" title="invalid UTF-8 byte">\xFF</span>b`,
		"\ufffd kept":  "\ufffd kept",
		"soft\u00adhy": `soft<span class="inv" title="invisible character U+00AD">U+00AD</span>hy`,
	} {
		if got := string(showText(in)); got != want {
			t.Errorf("showText(%q) = %s, want %s", in, got, want)
		}
	}
}
