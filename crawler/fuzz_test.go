package crawler

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// codeTriggers lists, per code kind, the triggers Extract may give it.
var codeTriggers = map[string][]string{
	CodeHiddenFrame:      {""},
	CodeHiddenImage:      {""},
	CodeMetaRefresh:      {""},
	CodeScriptRedirect:   {""},
	CodeWindowOpen:       {"load", "body_click", "click", "timer", "inline"},
	CodeScriptSrc:        {""},
	CodeForcedDownload:   {"script_click", "overlay"},
	CodeRegistrationWall: {"overlay"},
	CodeScriptURL:        {"", "injects_iframe", "injects_image", "injects_script"},
}

// checkPageInfo asserts what every extraction promises, whatever the page:
// bounded lists, known kinds and triggers, absolute http(s) URLs without a
// fragment, a redirect backed by its code item, unique links and icons, and
// text with its whitespace collapsed.
func checkPageInfo(t *testing.T, what string, info PageInfo) {
	t.Helper()
	if len(info.Links) > MaxLinksPerPage || len(info.Code) > MaxCodePerPage || len(info.Text) > MaxTextBytes+len("…") {
		t.Fatalf("%s: bounds: %d links %d code %d text", what, len(info.Links), len(info.Code), len(info.Text))
	}
	checkURL := func(field, u string) {
		if u == "" {
			return
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" && p.Opaque == "" || p.Fragment != "" {
			t.Fatalf("%s: %s %q is not an absolute http(s) URL without a fragment (err %v)", what, field, u, err)
		}
	}
	for _, c := range info.Code {
		triggers, ok := codeTriggers[c.Kind]
		if !ok {
			t.Fatalf("%s: unknown code kind %+v", what, c)
		}
		found := false
		for _, tr := range triggers {
			found = found || tr == c.Trigger
		}
		if !found {
			t.Fatalf("%s: trigger %q not one of %q for %+v", what, c.Trigger, triggers, c)
		}
		if hidden := c.Kind == CodeHiddenFrame || c.Kind == CodeHiddenImage; hidden != (c.Hidden != "") {
			t.Fatalf("%s: Hidden %q on a %s item", what, c.Hidden, c.Kind)
		}
		if len(c.Snippet) > MaxSnippetBytes+len("…") {
			t.Fatalf("%s: snippet of %d bytes", what, len(c.Snippet))
		}
		checkURL(c.Kind, c.URL)
		if c.URL == "" && c.Kind != CodeWindowOpen && c.Kind != CodeHiddenFrame && c.Kind != CodeHiddenImage && c.Kind != CodeForcedDownload && c.Kind != CodeRegistrationWall {
			t.Fatalf("%s: %s item without a URL: %+v", what, c.Kind, c)
		}
	}
	checkURL("redirect", info.Redirect)
	if (info.Redirect == "") != (info.RedirectKind == "") {
		t.Fatalf("%s: redirect %q of kind %q", what, info.Redirect, info.RedirectKind)
	}
	if info.Redirect != "" && len(info.Code) < MaxCodePerPage {
		backed := false
		for _, c := range info.Code {
			backed = backed || (c.Kind == info.RedirectKind && c.URL == info.Redirect)
		}
		if !backed {
			t.Fatalf("%s: redirect %s %q has no code item", what, info.RedirectKind, info.Redirect)
		}
	}
	seen := map[string]bool{}
	for _, l := range info.Links {
		if l == "" || seen[l] {
			t.Fatalf("%s: link %q empty or repeated", what, l)
		}
		seen[l] = true
		checkURL("link", l)
	}
	icons := map[string]bool{}
	for _, a := range info.Icons {
		if a.URL == "" || icons[a.URL] {
			t.Fatalf("%s: icon %q empty or repeated", what, a.URL)
		}
		icons[a.URL] = true
		checkURL("icon", a.URL)
	}
	for field, s := range map[string]string{"text": info.Text, "title": info.Title, "description": info.Description, "keywords": info.Keywords} {
		if strings.ContainsAny(s, "\t\n\r\f") || strings.Contains(s, "  ") || strings.TrimSpace(s) != s {
			t.Fatalf("%s: %s %q keeps raw whitespace", what, field, s)
		}
	}
}

// fuzzBase is the page every fuzzed body is served from.
var fuzzBase, _ = url.Parse("http://fuzz.example/dir/page")

// fuzzExtract runs both extractors on b, twice each: each result must keep
// checkPageInfo's promises and be the same on the second run (a report
// that changes between identical runs cannot be evidence).
func fuzzExtract(t *testing.T, b []byte) {
	info := Extract(fuzzBase, b)
	checkPageInfo(t, "tree", info)
	if diff := cmp.Diff(info, Extract(fuzzBase, b)); diff != "" {
		t.Fatalf("tree extraction not deterministic (-first +second):\n%s", diff)
	}
	flat := extractFlat(fuzzBase, b)
	checkPageInfo(t, "flat", flat)
	if diff := cmp.Diff(flat, extractFlat(fuzzBase, b)); diff != "" {
		t.Fatalf("token extraction not deterministic (-first +second):\n%s", diff)
	}
}

// TestFuzzRegressions replays, by name, the inputs on which the fuzz
// targets of this package once failed, with what must now hold.
func TestFuzzRegressions(t *testing.T) {
	deep := strings.Repeat("<span>", 600) // over the tree builder's 512: token scan
	for _, tc := range []struct {
		name string
		page string
		want []string // kind trigger URL of the code items, in order
	}{
		{
			// extractFlat ranged over a map of body handlers: the two
			// window.open items swapped places between identical runs.
			name: "token scan: body onload and onclick in a fixed order",
			page: deep + `<body onload="window.open('/a')" onclick="window.open('/b')">x</body>`,
			want: []string{"window_open load http://fuzz.example/a", "window_open body_click http://fuzz.example/b"},
		},
		{
			// resolveRef kept "https:", which parses as a URL without a
			// host, as the page's redirect and as links.
			name: "meta refresh and links to a scheme alone",
			page: `<metA http-equiv="refresh"Content=https:><a href="http:">a</a><a href="https:?q">b</a><iframe src="https:" hidden></iframe>`,
			want: []string{"hidden_frame  "},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 {
				fuzzExtract(t, []byte(tc.page))
			}
			var got []string
			for _, c := range Extract(fuzzBase, []byte(tc.page)).Code {
				got = append(got, c.Kind+" "+c.Trigger+" "+c.URL)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("code (-want +got):\n%s", diff)
			}
		})
	}
}
