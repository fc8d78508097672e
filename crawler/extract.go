package crawler

import (
	"bytes"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// Extraction limits: a hostile page can hold millions of links or
// elements; what we keep per page is bounded.
const (
	MaxLinksPerPage = 500
	MaxCodePerPage  = 200
	MaxTextBytes    = 64 << 10
	MaxSnippetBytes = 600
	// tinyPx: a frame or image this many pixels wide or high, or less, is
	// not meant to be seen (tracking pixels are 0×0 or 1×1).
	tinyPx = 1
	// offscreenPx: absolute positions this far out put an element off
	// every screen.
	offscreenPx = 1000
	// maxElementsExamined and maxDepth bound the work on a hostile page
	// (hundreds of thousands of nested elements would otherwise cost
	// elements × depth): real pages have a few hundred frames and images
	// and nest a few dozen levels.
	maxElementsExamined = 5000
	maxDepth            = 256
)

// Code item kinds: generic page-code candidates. Whether a candidate is an
// affiliate link or an ad network is decided by detectors/pagecode against
// the rule pack, not here.
const (
	CodeHiddenFrame      = "hidden_frame"      // iframe/frame/object/embed invisible or tiny
	CodeHiddenImage      = "hidden_image"      // img invisible or tiny
	CodeMetaRefresh      = "meta_refresh"      // <meta http-equiv=refresh>
	CodeScriptRedirect   = "script_redirect"   // location=, location.href=, location.replace(…)
	CodeWindowOpen       = "window_open"       // window.open(…), Trigger says when
	CodeScriptSrc        = "script_src"        // external script
	CodeForcedDownload   = "forced_download"   // download link that is auto-clicked or fills the page
	CodeRegistrationWall = "registration_wall" // full-page overlay demanding sign-up
	CodeScriptURL        = "script_url"        // a URL literal in an inline script; Trigger says what the script builds with it
)

// CodeItem is one page-code candidate with the HTML that shows it.
type CodeItem struct {
	Kind    string
	Trigger string // window_open: load, body_click, click, timer, inline; others: ""
	Hidden  string // why an element is invisible: display_none, visibility_hidden, size_0x0, offscreen, …
	URL     string // absolute target (src, href, redirect target); "" when not literal
	Snippet string // the offending HTML, truncated
}

// PageInfo is what a page says about itself.
type PageInfo struct {
	Title       string
	Description string
	Keywords    string
	Text        string
	Links       []string
	Icons       []AssetRef
	Code        []CodeItem
	// Redirect is where the page sends the visitor by itself (meta refresh
	// or an obvious script redirect), "" if nowhere.
	Redirect     string
	RedirectKind string
	// ParseProblem says the page could not be parsed as a tree and was
	// scanned token by token (no ancestors, no layout context).
	ParseProblem string
}

// AssetRef is an image a page points at.
type AssetRef struct {
	URL  string
	Role string // icon, apple_touch_icon, favicon_ico, logo, og_image
}

var (
	// obvious script redirects; anything cleverer is out of scope without a JS engine
	scriptRedirectRe = regexp.MustCompile(`(?:(?:window|document|top|self|parent)\s*\.\s*)?location(?:\s*\.\s*href)?\s*=\s*["']([^"']{1,1000})["']|location\s*\.\s*(?:replace|assign)\s*\(\s*["']([^"']{1,1000})["']`)
	windowOpenRe     = regexp.MustCompile(`(?:window\s*\.\s*)?open\s*\(\s*(?:["']([^"']{0,1000})["'])?`)
	onLoadRe         = regexp.MustCompile(`(?:window\s*\.\s*onload\s*=|addEventListener\s*\(\s*["'](?:load|DOMContentLoaded)["']|document\s*\.\s*readyState|^\s*\(?\s*function)`)
	bodyClickRe      = regexp.MustCompile(`(?:document(?:\s*\.\s*body)?|window)\s*\.\s*(?:addEventListener\s*\(\s*["'](?:click|mousedown|mouseup|touchstart|pointerdown)["']|onclick\s*=)`)
	timerRe          = regexp.MustCompile(`set(?:Timeout|Interval)\s*\(`)
	autoClickRe      = regexp.MustCompile(`\.click\s*\(\s*\)`)
	refreshURLRe     = regexp.MustCompile(`(?i)^\s*\d*(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?['"]?([^'"]*)['"]?\s*$`)
	executableExtRe  = regexp.MustCompile(`(?i)\.(?:exe|msi|apk|dmg|pkg|scr|bat|cmd|jar|vbs|crx|xpi)(?:$|[?#])`)
	registrationRe   = regexp.MustCompile(`(?i)(?:sign[\s_-]?up|register|registration|create[\s_-]?account|join[\s_-]?now|регистрац)`)
	spaceRe          = regexp.MustCompile(`\s+`)
	// URL literals in inline scripts: pop-under networks and stuffers load
	// their code and frames from script (popads' snippet inserts
	// //c1.popads.net/pop.js; a stuffer builds an iframe to s.click…).
	scriptURLRe    = regexp.MustCompile(`["'](?:https?:)?//([a-zA-Z0-9.-]+\.[a-zA-Z]{2,})(?::\d+)?(/[^"'\s]{0,1000})?["']`)
	injectFrameRe  = regexp.MustCompile(`createElement\s*\(\s*["'](?:iframe|frame)["']`)
	injectImageRe  = regexp.MustCompile(`createElement\s*\(\s*["']img["']|new\s+Image\s*\(`)
	injectScriptRe = regexp.MustCompile(`createElement\s*\(\s*["']script["']`)
)

// Extract reads an HTML page fetched from base. It never fails: malformed
// HTML is parsed the way browsers do (html5 error recovery).
func Extract(base *url.URL, body []byte) PageInfo {
	var info PageInfo
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		// The tree builder gives up on hostile pages (more than 512 open
		// elements); a browser does not, so neither may we: scan tokens.
		info = extractFlat(base, body)
		info.ParseProblem = "html tree: " + err.Error() + "; analysed token by token"
		return info
	}
	if b, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if u, err := base.Parse(strings.TrimSpace(b)); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			base = u
		}
	}
	abs := func(ref string) string { return resolveRef(base, ref) }

	info.Title = clean(doc.Find("title").First().Text(), 512)
	doc.Find("meta").Each(func(_ int, s *goquery.Selection) {
		name := strings.ToLower(attr(s, "name") + attr(s, "property"))
		content := attr(s, "content")
		switch name {
		case "description":
			info.Description = clean(content, 2048)
		case "keywords":
			info.Keywords = clean(content, 2048)
		case "og:image", "og:image:url", "og:image:secure_url":
			if u := abs(content); u != "" {
				info.Icons = appendAsset(info.Icons, AssetRef{u, "og_image"})
			}
		}
		if strings.EqualFold(attr(s, "http-equiv"), "refresh") && info.Redirect == "" {
			if m := refreshURLRe.FindStringSubmatch(content); m != nil && strings.TrimSpace(m[1]) != "" {
				if u := abs(m[1]); u != "" {
					info.Redirect, info.RedirectKind = u, CodeMetaRefresh
					info.addCode(CodeItem{Kind: CodeMetaRefresh, URL: u, Snippet: snippet(s)})
				}
			}
		}
	})
	doc.Find("link[rel][href]").Each(func(_ int, s *goquery.Selection) {
		rel := strings.ToLower(attr(s, "rel"))
		role := ""
		switch {
		case strings.Contains(rel, "apple-touch-icon"):
			role = "apple_touch_icon"
		case strings.Contains(rel, "icon"):
			role = "icon"
		}
		if role != "" {
			if u := abs(attr(s, "href")); u != "" {
				info.Icons = appendAsset(info.Icons, AssetRef{u, role})
			}
		}
	})
	doc.Find("img").Each(func(_ int, s *goquery.Selection) {
		if isLogo(s) {
			if u := abs(attr(s, "src")); u != "" {
				info.Icons = appendAsset(info.Icons, AssetRef{u, "logo"})
			}
		}
	})

	// Page code: frames and images that nobody can see.
	doc.Find("iframe, frame, img, object, embed").EachWithBreak(func(i int, s *goquery.Selection) bool {
		if i >= maxElementsExamined || len(info.Code) >= MaxCodePerPage {
			return false
		}
		src := attr(s, "src")
		if src == "" {
			src = attr(s, "data")
		}
		if src == "" {
			return true
		}
		if why := hiddenReason(s); why != "" {
			kind := CodeHiddenFrame
			if goquery.NodeName(s) == "img" {
				kind = CodeHiddenImage
			}
			info.addCode(CodeItem{Kind: kind, Hidden: why, URL: abs(src), Snippet: snippet(s)})
		}
		return true
	})
	bodyOnload := attr(doc.Find("body").First(), "onload")
	bodyOnclick := attr(doc.Find("body").First(), "onclick")
	for _, h := range []struct{ code, trigger string }{{bodyOnload, "load"}, {bodyOnclick, "body_click"}} {
		for _, c := range windowOpens(h.code, 5) {
			info.addCode(CodeItem{Kind: CodeWindowOpen, Trigger: h.trigger, URL: abs(c.target), Snippet: truncate(h.code, MaxSnippetBytes)})
		}
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if src := attr(s, "src"); src != "" {
			if u := abs(src); u != "" {
				info.addCode(CodeItem{Kind: CodeScriptSrc, URL: u, Snippet: snippet(s)})
			}
			return
		}
		code := s.Text()
		if len(code) > 256<<10 {
			code = code[:256<<10] // regexes over megabytes of minified JS gain nothing
		}
		scriptCode(&info, code, abs)
		if autoClickRe.MatchString(code) {
			doc.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
				href := attr(a, "href")
				if executableExtRe.MatchString(href) || a.AttrOr("download", "\x00") != "\x00" {
					info.addCode(CodeItem{Kind: CodeForcedDownload, Trigger: "script_click", URL: abs(href), Snippet: snippet(a)})
				}
			})
		}
	})
	doc.Find("[onclick]").Each(func(_ int, s *goquery.Selection) {
		if goquery.NodeName(s) == "body" {
			return
		}
		for _, c := range windowOpens(attr(s, "onclick"), 2) {
			info.addCode(CodeItem{Kind: CodeWindowOpen, Trigger: "click", URL: abs(c.target), Snippet: snippet(s)})
		}
	})
	// Overlays that cover the page and leave only a sign-up or a download.
	doc.Find("div, section, a, aside").EachWithBreak(func(i int, s *goquery.Selection) bool {
		if i >= maxElementsExamined || len(info.Code) >= MaxCodePerPage {
			return false
		}
		if !coversPage(attr(s, "style")) {
			return true
		}
		s.Find("a[href]").AddBackFiltered("a[href]").Each(func(_ int, a *goquery.Selection) {
			href := attr(a, "href")
			switch {
			case executableExtRe.MatchString(href) || a.AttrOr("download", "\x00") != "\x00":
				info.addCode(CodeItem{Kind: CodeForcedDownload, Trigger: "overlay", URL: abs(href), Snippet: snippet(s)})
			case registrationRe.MatchString(href) || registrationRe.MatchString(a.Text()):
				info.addCode(CodeItem{Kind: CodeRegistrationWall, Trigger: "overlay", URL: abs(href), Snippet: snippet(s)})
			}
		})
		return true
	})

	seen := map[string]bool{}
	doc.Find("a[href], area[href]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		u := abs(attr(s, "href"))
		if u != "" && !seen[u] {
			seen[u] = true
			info.Links = append(info.Links, u)
		}
		return len(info.Links) < MaxLinksPerPage
	})
	info.Text = VisibleText(doc)
	return info
}

func (info *PageInfo) addCode(c CodeItem) {
	if len(info.Code) < MaxCodePerPage {
		info.Code = append(info.Code, c)
	}
}

func appendAsset(xs []AssetRef, a AssetRef) []AssetRef {
	for _, x := range xs {
		if x.URL == a.URL {
			return xs
		}
	}
	return append(xs, a)
}

// VisibleText is the text a visitor sees: scripts, styles, templates and
// hidden elements removed, whitespace collapsed, bounded.
func VisibleText(doc *goquery.Document) string {
	body := doc.Find("body")
	if body.Length() == 0 {
		body = doc.Selection
	}
	var b strings.Builder
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		if b.Len() >= MaxTextBytes || depth > maxDepth {
			return
		}
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			b.WriteByte(' ')
			return
		case html.ElementNode:
			switch n.Data {
			case "script", "style", "noscript", "template", "head", "iframe", "object", "embed", "svg", "canvas":
				return
			}
			if nodeHidden(n) {
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth+1)
		}
	}
	for _, n := range body.Nodes {
		walk(n, 0)
	}
	return clean(b.String(), MaxTextBytes)
}

func nodeHidden(n *html.Node) bool {
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "hidden":
			return true
		case "aria-hidden":
			// aria-hidden elements are still painted; only screen readers skip them.
		case "style":
			st := parseStyle(a.Val)
			if st["display"] == "none" || st["visibility"] == "hidden" {
				return true
			}
		case "type":
			if n.Data == "input" && strings.EqualFold(a.Val, "hidden") {
				return true
			}
		}
	}
	return false
}

// hiddenReason says why an element cannot be seen from its own attributes
// and inline style, or "" if it can (we have no layout engine: stylesheet
// rules and ancestors' styles are not evaluated, except hidden ancestors
// with inline styles).
func hiddenReason(s *goquery.Selection) string {
	if why := ownHidden(func(k string) (string, bool) { v, ok := s.Attr(k); return strings.TrimSpace(v), ok }); why != "" {
		return why
	}
	for p, depth := s.Parent(), 0; p.Length() > 0 && depth < maxDepth; p, depth = p.Parent(), depth+1 {
		if goquery.NodeName(p) == "body" {
			break
		}
		pst := parseStyle(attr(p, "style"))
		if pst["display"] == "none" || pst["visibility"] == "hidden" {
			return "inside_hidden_parent"
		}
		if pw, ok := px(pst["width"]); ok && pw <= tinyPx && pst["overflow"] == "hidden" {
			return "inside_tiny_parent"
		}
		if pst["position"] == "absolute" || pst["position"] == "fixed" {
			for _, side := range []string{"left", "top"} {
				if v, ok := px(pst[side]); ok && v <= -offscreenPx {
					return "inside_offscreen_parent"
				}
			}
		}
	}
	return ""
}

func coversPage(style string) bool {
	st := parseStyle(style)
	if st["position"] != "fixed" && st["position"] != "absolute" {
		return false
	}
	full := func(v string) bool { return v == "100%" || v == "100vw" || v == "100vh" }
	if full(st["width"]) && full(st["height"]) {
		return true
	}
	return st["inset"] == "0" || (st["top"] == "0" && st["left"] == "0" && st["right"] == "0" && st["bottom"] == "0")
}

// parseStyle reads an inline style attribute into lower-cased
// property → value (the last declaration wins, as in CSS).
func parseStyle(style string) map[string]string {
	out := map[string]string{}
	for _, decl := range strings.Split(style, ";") {
		k, v, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		v = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "!important")))
		out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return out
}

func numberOK(v string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return f, err == nil
}

// px reads a CSS or attribute length in pixels ("0", "1px", "1"); other
// units (%, em) are unknown.
func px(v string) (float64, bool) {
	v = strings.TrimSpace(strings.ToLower(v))
	if v == "" {
		return 0, false
	}
	v = strings.TrimSuffix(v, "px")
	return numberOK(v)
}

func isLogo(s *goquery.Selection) bool {
	hint := strings.ToLower(attr(s, "class") + " " + attr(s, "id") + " " + attr(s, "alt") + " " + attr(s, "src"))
	if strings.Contains(hint, "logo") {
		return true
	}
	// the first image of the page header or of a link to the home page
	if s.ParentsFiltered("header, #header, .header, nav").Length() > 0 {
		if p := s.ParentsFiltered("a[href]"); p.Length() > 0 {
			href := attr(p.First(), "href")
			return href == "/" || href == "./" || href == "index.html"
		}
	}
	return false
}

func attr(s *goquery.Selection, name string) string {
	v, _ := s.Attr(name)
	return strings.TrimSpace(v)
}

func resolveRef(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) > 4096 {
		return ""
	}
	u, err := base.Parse(ref)
	// "https:" alone parses as a URL without a host: nowhere to go.
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.Fragment = ""
	return u.String()
}

func snippet(s *goquery.Selection) string {
	h, err := goquery.OuterHtml(s)
	if err != nil {
		return ""
	}
	return truncate(h, MaxSnippetBytes)
}

// around returns up to n bytes of code centred on the match.
func around(code, match string, n int) string {
	i := strings.Index(code, match)
	if i < 0 || len(code) <= n {
		return truncate(strings.TrimSpace(code), n)
	}
	start := max(0, i-n/3)
	return truncate(strings.TrimSpace(code[start:]), n)
}

func clean(s string, n int) string {
	return truncate(strings.TrimSpace(spaceRe.ReplaceAllString(s, " ")), n)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "\uFFFD") + "…"
}

// bareCall reports whether the call starting at i is a plain open(…) (the
// global window.open), not a method of another object such as xhr.open.
func bareCall(code string, i int) bool {
	j := i - 1
	for j >= 0 && (code[j] == ' ' || code[j] == '\t' || code[j] == '\n' || code[j] == '\r') {
		j--
	}
	if j < 0 {
		return true
	}
	c := code[j]
	return !(c == '.' || c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
}

type openCall struct{ call, target, trigger string }

// windowOpens finds up to n window.open(…) calls in code and their literal
// targets ("" when the target is computed).
func windowOpens(code string, n int) []openCall {
	var out []openCall
	for _, l := range windowOpenRe.FindAllStringSubmatchIndex(code, n) {
		call := code[l[0]:l[1]]
		if !strings.Contains(call, "window") && !bareCall(code, l[0]) {
			continue // xhr.open(…), reopen(…): not a window
		}
		c := openCall{call: call}
		if l[2] >= 0 {
			c.target = code[l[2]:l[3]]
		}
		out = append(out, c)
	}
	return out
}

// ownHidden says why an element is invisible from its own attributes and
// inline style alone.
func ownHidden(get func(string) (string, bool)) string {
	a := func(k string) string { v, _ := get(k); return v }
	st := parseStyle(a("style"))
	switch {
	case st["display"] == "none":
		return "display_none"
	case st["visibility"] == "hidden" || st["visibility"] == "collapse":
		return "visibility_hidden"
	}
	if v, ok := numberOK(st["opacity"]); ok && v == 0 {
		return "opacity_0"
	}
	if _, ok := get("hidden"); ok {
		return "hidden_attribute"
	}
	w, wok := px(a("width"))
	h, hok := px(a("height"))
	if v, ok := px(st["width"]); ok {
		w, wok = v, true
	}
	if v, ok := px(st["height"]); ok {
		h, hok = v, true
	}
	if (wok && w <= tinyPx) || (hok && h <= tinyPx) {
		return "size_" + strconv.Itoa(int(w)) + "x" + strconv.Itoa(int(h))
	}
	if st["position"] == "absolute" || st["position"] == "fixed" {
		for _, side := range []string{"left", "top", "right", "bottom"} {
			if v, ok := px(st[side]); ok && (v <= -offscreenPx || v >= 10*offscreenPx) {
				return "offscreen"
			}
		}
	}
	if v, ok := px(st["text-indent"]); ok && v <= -offscreenPx {
		return "offscreen"
	}
	return ""
}

// maxScriptURLs bounds the URL literals kept per script.
const maxScriptURLs = 10

// scriptURLs lists the URL literals of an inline script, with what the
// script builds (injects_iframe, injects_image, injects_script, or "").
func scriptURLs(code string) []openCall {
	locs := scriptURLRe.FindAllStringIndex(code, maxScriptURLs)
	if len(locs) == 0 {
		return nil
	}
	trigger := ""
	switch {
	case injectFrameRe.MatchString(code):
		trigger = "injects_iframe"
	case injectImageRe.MatchString(code):
		trigger = "injects_image"
	case injectScriptRe.MatchString(code):
		trigger = "injects_script"
	}
	out := make([]openCall, 0, len(locs))
	for _, l := range locs {
		lit := code[l[0]+1 : l[1]-1]
		if strings.HasPrefix(lit, "//") {
			lit = "https:" + lit
		}
		out = append(out, openCall{call: code[l[0]:l[1]], target: lit, trigger: trigger})
	}
	return out
}
