package crawler

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// extractFlat reads a page token by token, for pages the tree builder
// refuses. It sees each element's own attributes only: hidden ancestors and
// overlays are not evaluated, but hidden frames and images, redirects,
// window.open and external scripts are found as in Extract.
func extractFlat(base *url.URL, body []byte) PageInfo {
	var info PageInfo
	abs := func(ref string) string { return resolveRef(base, ref) }
	z := html.NewTokenizer(bytes.NewReader(body))
	z.SetMaxBuf(len(body) + 1)
	var text strings.Builder
	var inTitle, inScript, skipText int
	var script strings.Builder
	seen := map[string]bool{}
	tokens := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tokens++
		if tokens > 1_000_000 {
			break // a page of a million tokens has told us enough
		}
		switch tt {
		case html.TextToken:
			t := string(z.Text())
			switch {
			case inTitle > 0 && info.Title == "":
				info.Title = clean(t, 512)
			case inScript > 0:
				if script.Len() < 256<<10 {
					script.WriteString(t)
				}
			case skipText == 0 && text.Len() < MaxTextBytes:
				text.WriteString(t)
				text.WriteByte(' ')
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if _, dup := attrs[string(k)]; !dup {
					attrs[string(k)] = strings.TrimSpace(string(v))
				}
			}
			get := func(k string) (string, bool) { v, ok := attrs[k]; return v, ok }
			raw := truncate(string(z.Raw()), MaxSnippetBytes)
			switch tag {
			case "title":
				inTitle++
			case "style", "noscript", "template":
				if tt == html.StartTagToken {
					skipText++
				}
			case "script":
				if src := attrs["src"]; src != "" {
					if u := abs(src); u != "" {
						info.addCode(CodeItem{Kind: CodeScriptSrc, URL: u, Snippet: raw})
					}
				}
				if tt == html.StartTagToken {
					inScript++
					script.Reset()
				}
			case "meta":
				flatMeta(&info, attrs, abs, raw)
			case "link":
				rel := strings.ToLower(attrs["rel"])
				if u := abs(attrs["href"]); u != "" && strings.Contains(rel, "icon") {
					role := "icon"
					if strings.Contains(rel, "apple-touch-icon") {
						role = "apple_touch_icon"
					}
					info.Icons = appendAsset(info.Icons, AssetRef{u, role})
				}
			case "iframe", "frame", "img", "object", "embed":
				src := attrs["src"]
				if src == "" {
					src = attrs["data"]
				}
				if src != "" {
					if why := ownHidden(get); why != "" {
						kind := CodeHiddenFrame
						if tag == "img" {
							kind = CodeHiddenImage
						}
						info.addCode(CodeItem{Kind: kind, Hidden: why, URL: abs(src), Snippet: raw})
					}
				}
			case "body":
				// onload before onclick, as Extract does: a map's order
				// would change the report between identical runs.
				for _, h := range [...]struct{ attr, trigger string }{{"onload", "load"}, {"onclick", "body_click"}} {
					for _, c := range windowOpens(attrs[h.attr], 5) {
						info.addCode(CodeItem{Kind: CodeWindowOpen, Trigger: h.trigger, URL: abs(c.target), Snippet: raw})
					}
				}
			case "a", "area":
				if u := abs(attrs["href"]); u != "" && !seen[u] && len(info.Links) < MaxLinksPerPage {
					seen[u] = true
					info.Links = append(info.Links, u)
				}
			}
			if tag != "body" {
				for _, c := range windowOpens(attrs["onclick"], 2) {
					info.addCode(CodeItem{Kind: CodeWindowOpen, Trigger: "click", URL: abs(c.target), Snippet: raw})
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "title":
				inTitle = max(0, inTitle-1)
			case "style", "noscript", "template":
				skipText = max(0, skipText-1)
			case "script":
				if inScript > 0 {
					inScript--
					scriptCode(&info, script.String(), abs)
				}
			}
		}
	}
	info.Text = clean(text.String(), MaxTextBytes)
	return info
}

func flatMeta(info *PageInfo, attrs map[string]string, abs func(string) string, raw string) {
	content := attrs["content"]
	switch strings.ToLower(attrs["name"] + attrs["property"]) {
	case "description":
		info.Description = clean(content, 2048)
	case "keywords":
		info.Keywords = clean(content, 2048)
	case "og:image", "og:image:url", "og:image:secure_url":
		if u := abs(content); u != "" {
			info.Icons = appendAsset(info.Icons, AssetRef{u, "og_image"})
		}
	}
	if strings.EqualFold(attrs["http-equiv"], "refresh") && info.Redirect == "" {
		if m := refreshURLRe.FindStringSubmatch(content); m != nil && strings.TrimSpace(m[1]) != "" {
			if u := abs(m[1]); u != "" {
				info.Redirect, info.RedirectKind = u, CodeMetaRefresh
				info.addCode(CodeItem{Kind: CodeMetaRefresh, URL: u, Snippet: raw})
			}
		}
	}
}

// scriptCode records what an inline script does: redirects, window.open
// calls and, once each, the other URLs it names.
func scriptCode(info *PageInfo, code string, abs func(string) string) {
	named := map[string]bool{}
	for _, m := range scriptRedirectRe.FindAllStringSubmatch(code, 3) {
		if u := abs(m[1] + m[2]); u != "" {
			if info.Redirect == "" {
				info.Redirect, info.RedirectKind = u, CodeScriptRedirect
			}
			named[u] = true
			info.addCode(CodeItem{Kind: CodeScriptRedirect, URL: u, Snippet: around(code, m[0], MaxSnippetBytes)})
		}
	}
	if calls := windowOpens(code, 5); len(calls) > 0 {
		trigger := scriptTrigger(code)
		for _, c := range calls {
			u := abs(c.target)
			named[u] = true
			info.addCode(CodeItem{Kind: CodeWindowOpen, Trigger: trigger, URL: u, Snippet: around(code, c.call, MaxSnippetBytes)})
		}
	}
	for _, c := range scriptURLs(code) {
		if u := abs(c.target); u != "" && !named[u] {
			named[u] = true
			info.addCode(CodeItem{Kind: CodeScriptURL, Trigger: c.trigger, URL: u, Snippet: around(code, c.call, MaxSnippetBytes)})
		}
	}
}

// scriptTrigger guesses when a script's window.open runs.
func scriptTrigger(code string) string {
	switch {
	case bodyClickRe.MatchString(code):
		return "body_click"
	case onLoadRe.MatchString(code):
		return "load"
	case timerRe.MatchString(code):
		return "timer"
	}
	return "inline"
}
