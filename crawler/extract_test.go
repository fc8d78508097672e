package crawler

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExtractPageCode(t *testing.T) {
	base, _ := url.Parse("http://deals.example/page")
	for _, tc := range []struct {
		name     string
		html     string
		want     []CodeItem // Snippet is not compared
		redirect string
	}{
		{
			name: "hidden iframe by style",
			html: `<iframe src="https://s.click.aliexpress.com/e/_abc" style="visibility:hidden"></iframe>`,
			want: []CodeItem{{Kind: CodeHiddenFrame, Hidden: "visibility_hidden", URL: "https://s.click.aliexpress.com/e/_abc"}},
		},
		{
			name: "1x1 image by attributes",
			html: `<img src="//click.aliexpress.com/e/_x?aff_fcid=1" width="1" height="1">`,
			want: []CodeItem{{Kind: CodeHiddenImage, Hidden: "size_1x1", URL: "http://click.aliexpress.com/e/_x?aff_fcid=1"}},
		},
		{
			name: "off-screen iframe",
			html: `<iframe src="/x" style="position:absolute; left:-5000px; top:0; width:300px"></iframe>`,
			want: []CodeItem{{Kind: CodeHiddenFrame, Hidden: "offscreen", URL: "http://deals.example/x"}},
		},
		{
			name: "inside hidden parent",
			html: `<div style="display:none"><img src="/a.gif"></div>`,
			want: []CodeItem{{Kind: CodeHiddenImage, Hidden: "inside_hidden_parent", URL: "http://deals.example/a.gif"}},
		},
		{
			name: "visible iframe is not page code",
			html: `<iframe src="https://www.youtube.com/embed/x" width="560" height="315"></iframe>`,
		},
		{
			name:     "meta refresh",
			html:     `<meta http-equiv="refresh" content="0; url='https://s.click.aliexpress.com/e/_r'">`,
			want:     []CodeItem{{Kind: CodeMetaRefresh, URL: "https://s.click.aliexpress.com/e/_r"}},
			redirect: "https://s.click.aliexpress.com/e/_r",
		},
		{
			name:     "script redirect",
			html:     `<script>setTimeout(function(){ window.location.href = "https://s.click.aliexpress.com/e/_s"; }, 10)</script>`,
			want:     []CodeItem{{Kind: CodeScriptRedirect, URL: "https://s.click.aliexpress.com/e/_s"}},
			redirect: "https://s.click.aliexpress.com/e/_s",
		},
		{
			name: "window.open on any click of the body",
			html: `<script>document.addEventListener("click", function(){ window.open("https://ads.example/pop"); window.focus(); }, {once:true})</script>`,
			want: []CodeItem{{Kind: CodeWindowOpen, Trigger: "body_click", URL: "https://ads.example/pop"}},
		},
		{
			name: "window.open on load via body attribute",
			html: `<body onload="window.open('/promo','p','width=1,height=1')">hi</body>`,
			want: []CodeItem{{Kind: CodeWindowOpen, Trigger: "load", URL: "http://deals.example/promo"}},
		},
		{
			name: "external scripts",
			html: `<script src="https://cdn.popcash.net/show.js"></script><script async src="/app.js"></script>`,
			want: []CodeItem{{Kind: CodeScriptSrc, URL: "https://cdn.popcash.net/show.js"}, {Kind: CodeScriptSrc, URL: "http://deals.example/app.js"}},
		},
		{
			name: "forced download by script click",
			html: `<a id="d" href="/setup.exe">get</a><script>document.getElementById("d").click()</script>`,
			want: []CodeItem{{Kind: CodeForcedDownload, Trigger: "script_click", URL: "http://deals.example/setup.exe"}},
		},
		{
			name: "registration wall",
			html: `<div style="position:fixed;top:0;left:0;width:100%;height:100%"><a href="/signup">Sign up to see the coupons</a></div>`,
			want: []CodeItem{{Kind: CodeRegistrationWall, Trigger: "overlay", URL: "http://deals.example/signup"}},
		},
		{
			name: "script that builds a hidden iframe to an affiliate link",
			html: `<script>(function(){var f=document.createElement('iframe');f.src='https://s.click.aliexpress.com/e/_inj';f.style.display='none';document.body.appendChild(f)})()</script>`,
			want: []CodeItem{{Kind: CodeScriptURL, Trigger: "injects_iframe", URL: "https://s.click.aliexpress.com/e/_inj"}},
		},
		{
			name: "pop-under network snippet loading its script",
			html: `<script>(function(){var s=document.createElement("script");s.src="//c1.popads.net/pop.js";document.head.appendChild(s)})()</script>`,
			want: []CodeItem{{Kind: CodeScriptURL, Trigger: "injects_script", URL: "https://c1.popads.net/pop.js"}},
		},
		{
			name: "xhr.open in a click handler is not a window",
			html: `<script>document.addEventListener("click", function(){ var x = new XMLHttpRequest(); x.open("POST", "/track"); reopen(1); })</script><body onload="xhr.open('GET','/a')">`,
		},
		{
			name: "a link that opens a window on its own click is a click, not a body click",
			html: `<a href="#" onclick="window.open('/x')">x</a>`,
			want: []CodeItem{{Kind: CodeWindowOpen, Trigger: "click", URL: "http://deals.example/x"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := Extract(base, []byte(tc.html))
			var got []CodeItem
			for _, c := range info.Code {
				if c.Snippet == "" {
					t.Errorf("no snippet for %+v", c)
				}
				c.Snippet = ""
				got = append(got, c)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("code (-want +got):\n%s", diff)
			}
			if info.Redirect != tc.redirect {
				t.Errorf("redirect %q, want %q", info.Redirect, tc.redirect)
			}
		})
	}
}

// TestExtractHostileNesting: a page built to make extraction quadratic
// (deep nesting, thousands of hidden images at the bottom) stays fast.
func TestExtractHostileNesting(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Repeat(`<div style="position:fixed;width:100%;height:100%">`, 20000))
	b.WriteString(strings.Repeat(`<img src="/p.gif" width="1" height="1"><a href="/signup">sign up</a>`, 20000))
	base, _ := url.Parse("http://deep.example/")
	t0 := time.Now()
	info := Extract(base, []byte(b.String()))
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("extraction took %s", d)
	}
	if len(info.Code) != MaxCodePerPage || info.Code[0].Kind != CodeHiddenImage || info.Code[0].Hidden != "size_1x1" {
		t.Errorf("%d code items (want the cap %d): %+v", len(info.Code), MaxCodePerPage, info.Code[:min(1, len(info.Code))])
	}
	if !strings.Contains(info.ParseProblem, "512") {
		t.Errorf("parse problem %q", info.ParseProblem)
	}
}

// TestDeepNestingCannotHideStuffing: 600 unclosed elements make the tree
// builder give up; the token scan still finds the hidden frame, the
// redirect and the pop-under.
func TestDeepNestingCannotHideStuffing(t *testing.T) {
	page := "<html><head><title>Deals</title><meta name=description content=cheap></head><body onload=\"window.open('/pop')\">" +
		strings.Repeat("<span>", 600) + `Hello <iframe src="https://s.click.aliexpress.com/e/_deep" style="display:none"></iframe>
<script src="https://c1.popads.net/pop.js"></script><script>location.replace("https://s.click.aliexpress.com/e/_go")</script><a href="/next">next</a>`
	base, _ := url.Parse("http://deep.example/")
	info := Extract(base, []byte(page))
	var kinds []string
	for _, c := range info.Code {
		kinds = append(kinds, c.Kind+" "+c.URL)
	}
	want := []string{"window_open http://deep.example/pop", "hidden_frame https://s.click.aliexpress.com/e/_deep",
		"script_src https://c1.popads.net/pop.js", "script_redirect https://s.click.aliexpress.com/e/_go"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("code (-want +got)\n%s", diff)
	}
	if info.Title != "Deals" || info.Description != "cheap" || info.Text != "Hello next" || info.Redirect != "https://s.click.aliexpress.com/e/_go" || len(info.Links) != 1 {
		t.Errorf("info %+v", info)
	}
}

func TestVisibleTextAndAssets(t *testing.T) {
	base, _ := url.Parse("https://blog.example/")
	info := Extract(base, []byte(`<html><head><title> A  title </title><link rel="shortcut icon" href="/f.ico">
<meta property="og:image" content="https://cdn.example/og.jpg"></head><body>
<nav><a href="/"><img src="/brand.png"></a></nav><header><a href="/"><img src="/top.png"></a></header>
<p>Visible<span hidden>no</span> <span style="visibility: hidden">no</span><noscript>no</noscript></p>
<template>no</template><input type="hidden" value="no"><script>no()</script><style>.no{}</style>
<p>Ünïcode ✓</p><a href="mailto:x@y">mail</a><a href="javascript:void(0)">js</a><a href="/p?q=1#frag">p</a></body></html>`))
	if info.Title != "A title" {
		t.Errorf("title %q", info.Title)
	}
	if want := "Visible Ünïcode ✓ mail js p"; info.Text != want {
		t.Errorf("text %q, want %q", info.Text, want)
	}
	if diff := cmp.Diff([]string{"https://blog.example/", "https://blog.example/p?q=1"}, info.Links); diff != "" {
		t.Errorf("links: %s", diff)
	}
	want := []AssetRef{{"https://cdn.example/og.jpg", "og_image"}, {"https://blog.example/f.ico", "icon"},
		{"https://blog.example/brand.png", "logo"}, {"https://blog.example/top.png", "logo"}}
	if diff := cmp.Diff(want, info.Icons); diff != "" {
		t.Errorf("assets: %s", diff)
	}
}

func TestRobots(t *testing.T) {
	r := ParseRobots([]byte("User-agent: googlebot\nDisallow: /\n\nUser-agent: *\nDisallow: /private\nAllow: /private/ok\nDisallow: /*.pdf$\n"), "affwatch")
	for path, want := range map[string]bool{"/": true, "/private": false, "/private/x": false, "/private/ok/1": true, "/a.pdf": false, "/a.pdf?x": true} {
		if got := r.Allowed(path); got != want {
			t.Errorf("Allowed(%s) = %v", path, got)
		}
	}
	mine := ParseRobots([]byte("User-agent: *\nAllow: /\n\nUser-agent: AffWatch\nDisallow: /\n"), "affwatch")
	if mine.Allowed("/x") {
		t.Error("the group naming us must win over *")
	}
}

func TestInspectICO(t *testing.T) {
	png := encodePNG(32, 32)
	ico := []byte{0, 0, 1, 0, 1, 0, 32, 32, 0, 0, 1, 0, 32, 0}
	ico = append(ico, le32(uint32(len(png)))...)
	ico = append(ico, le32(22)...)
	ico = append(ico, png...)
	info := InspectImage(ico, 0)
	if info.Format != "ico" || info.Width != 32 || info.Height != 32 || info.AHash == "" || info.Problem != "" {
		t.Errorf("%+v", info)
	}
	// a directory that claims a 256×256 entry but embeds a 20000×20000 PNG
	big := tinyPNGBytes(20000, 20000)
	bomb := []byte{0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 32, 0}
	bomb = append(bomb, le32(uint32(len(big)))...)
	bomb = append(bomb, le32(22)...)
	bomb = append(bomb, big...)
	info = InspectImage(bomb, 0)
	if info.Width != 20000 || !strings.Contains(info.Problem, "over the cap") {
		t.Errorf("%+v", info)
	}
}

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

func tinyPNGBytes(w, h int) []byte { return tinyPNG(w, h) }

// FuzzExtract: any bytes a hostile server sends must parse without panic,
// within the per-page bounds, with the invariants of checkPageInfo, the
// same way twice; the token-by-token extractor (used for pages the tree
// builder refuses) is held to the same. Seeds: testdata/fuzz/seeds/*.html
// and testdata/fuzz/FuzzExtract.
func FuzzExtract(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/seeds/*.html")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<iframe src=x style="display:none">`))
	f.Fuzz(fuzzExtract)
}

// FuzzInspectImage: image headers and ICO directories from hostile servers
// (seeds in testdata/fuzz/FuzzInspectImage: ICO directories that lie about
// sizes and offsets, PNG bombs, truncated bitmaps).
func FuzzInspectImage(f *testing.F) {
	f.Add(encodePNG(4, 4))
	f.Add(tinyPNG(20000, 20000))
	f.Add([]byte{0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 32, 0, 0xff, 0xff, 0xff, 0x7f, 22, 0, 0, 0})
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info := InspectImage(b, 1<<16)
		if info.AHash != "" && int64(info.Width)*int64(info.Height) > 1<<16 {
			t.Fatalf("decoded %dx%d over the cap", info.Width, info.Height)
		}
		// A hash is 16 hex digits of a picture that has pixels, and a
		// decoded picture has no problem.
		if info.AHash != "" && (len(info.AHash) != 16 || strings.Trim(info.AHash, "0123456789abcdef") != "" ||
			info.Width <= 0 || info.Height <= 0 || info.Problem != "") {
			t.Fatalf("hash %q of a %dx%d picture with problem %q", info.AHash, info.Width, info.Height, info.Problem)
		}
		if again := InspectImage(b, 1<<16); again != info {
			t.Fatalf("not deterministic: %+v then %+v", info, again)
		}
	})
}

// FuzzParseRobots: robots.txt from hostile servers.
func FuzzParseRobots(f *testing.F) {
	f.Add([]byte("User-agent: *\nDisallow: /a*b$\nAllow: /a\n"), "/ab")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		ParseRobots(body, "affwatch").Allowed(path)
	})
}
