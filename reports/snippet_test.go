package reports

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// marked renders parts as the template does, with [] for <mark>.
func marked(parts []snippetPart) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Mark {
			b.WriteString("[" + p.Text + "]")
		} else {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func TestHighlight(t *testing.T) {
	tests := []struct {
		name, text string
		marks      []string
		n          int
		want       string
	}{
		{"one", "buy at casino now", []string{"casino"}, 100, "buy at [casino] now"},
		{"case-insensitive, as written", "Online Casino bonus", []string{"online casino"}, 100, "[Online Casino] bonus"},
		{"every occurrence", "casino, casino", []string{"casino"}, 100, "[casino], [casino]"},
		{"overlapping marks merge", "AliExpress Official Deals — Aliexpress Sale", []string{"AliExpress Official", "Official Deals — Aliexpress"}, 100,
			"[AliExpress Official Deals — Aliexpress] Sale"},
		{"adjacent marks merge", "abcdef", []string{"abc", "def"}, 100, "[abcdef]"},
		{"no match", "nothing here", []string{"casino"}, 100, "nothing here"},
		{"empty mark ignored", "text", []string{"", "  "}, 100, "text"},
		{"cut before marking", "0123456789casino", []string{"casino"}, 12, "0123456789ca…"},
		{"mark at the end", "see <iframe src=\"https://s.click.aliexpress.com/e/_x\">", []string{"https://s.click.aliexpress.com/e/_x"}, 100,
			"see <iframe src=\"[https://s.click.aliexpress.com/e/_x]\">"},
		{"non-Latin", "Казино онлайн: ставки", []string{"казино"}, 100, "[Казино] онлайн: ставки"},
		{"markup stays text", "<script>alert(1)</script>", []string{"alert(1)"}, 100, "<script>[alert(1)]</script>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := marked(highlight(tc.text, tc.marks, tc.n)); got != tc.want {
				t.Errorf("highlight(%q, %q) = %q, want %q", tc.text, tc.marks, got, tc.want)
			}
		})
	}
}

func TestSnippetsFor(t *testing.T) {
	// Prohibited content: one page's meta description quoted for two
	// phrases becomes one snippet with two marks.
	got, omitted := snippetsFor("prohibited_content", demoEvidence(t, "prohibited_content", "PSITE07"))
	if omitted != 0 || len(got) != 4 {
		t.Fatalf("%d snippets (%d omitted), want 4 distinct texts", len(got), omitted)
	}
	if s := marked(got[0].Parts); s != "[Online casino] bonus codes, [sports betting] tips, and gadgets for gamblers." {
		t.Errorf("first snippet %q", s)
	}
	if !strings.Contains(got[0].Label, "“online casino” in the meta_description; “sports betting” in the meta_description") {
		t.Errorf("merged label %q", got[0].Label)
	}
	// Page code: the target URL marked inside the offending HTML.
	got, _ = snippetsFor("cookie_stuffing", demoEvidence(t, "cookie_stuffing", "PSITE03"))
	var texts []string
	for _, s := range got {
		texts = append(texts, marked(s.Parts))
	}
	want := []string{
		`<iframe src="[https://s.click.aliexpress.com/e/_gadgetStuff1]" width="1" height="1" frameborder="0" style="position:absolute;left:-9999px"></iframe>`,
		`<img src="[https://s.click.aliexpress.com/e/_gadgetStuff2]" alt=""/>`,
		`<iframe src="[https://s.click.aliexpress.com/e/_gadgetStuff3]" style="visibility:hidden" width="300" height="250"></iframe>`,
	}
	if diff := cmp.Diff(want, texts); diff != "" {
		t.Errorf("page-code snippets (-want +got):\n%s", diff)
	}
	if got[0].Label != "hidden_affiliate_frame (size_1x1)" || got[0].Where != "http://gadget-reviews.club:42343/" {
		t.Errorf("label %q where %q", got[0].Label, got[0].Where)
	}
	// Click-based findings have no snippet.
	if got, _ := snippetsFor("cookie_stuffing", demoEvidence(t, "cookie_stuffing", "P000813")); got != nil {
		t.Errorf("click-based finding got snippets %v", got)
	}
	// The cap.
	var items []string
	for i := 0; i < MaxSnippetsPerFinding+4; i++ {
		items = append(items, `{"signal":"s","target_url":"u","snippet":"<a href=u>`+strings.Repeat("x", i+1)+`</a>"}`)
	}
	ev, err := parseJSON([]byte(`{"items":[` + strings.Join(items, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	got, omitted = snippetsFor("popup_traffic", ev)
	if len(got) != MaxSnippetsPerFinding || omitted != 4 {
		t.Errorf("%d snippets, %d omitted; want %d, 4", len(got), omitted, MaxSnippetsPerFinding)
	}
}
