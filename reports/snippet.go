package reports

import (
	"sort"
	"strings"
	"unicode/utf8"

	"affwatch/detectors"
)

// Bounds of the page snippets shown under a finding.
const (
	// MaxSnippetsPerFinding caps the snippets quoted for one finding.
	MaxSnippetsPerFinding = 6
	// MaxSnippetRunes cuts one snippet (the detectors quote up to 300).
	MaxSnippetRunes = 600
)

// snippetView is one offending piece of a crawled page or an ad: where it
// was, and its text split into parts, the matched ones to be wrapped in
// <mark>. The template escapes every part; the highlighting is the
// template's own markup, never text from the page.
type snippetView struct {
	Label string // what was found (signal, phrase, field)
	Where string // the page or ad
	Parts []snippetPart
}

type snippetPart struct {
	Text string
	Mark bool
}

// snippetsFor collects the snippets of a finding's evidence: page-code
// items (cookie stuffing and pop-ups found on pages; the offending HTML
// with its target URL marked), prohibited-content matches (the phrase
// marked) and brand-misuse hits (the phrase marked). Identical snippets
// are merged, their marks combined.
func snippetsFor(detector string, ev *jsonValue) (out []snippetView, omitted int) {
	type item struct {
		label, where, text string
		marks              []string
	}
	var items []item
	switch detector {
	case detectors.CookieStuffing, detectors.PopupTraffic:
		for _, it := range evList(ev, "items") {
			marks := []string{evStr(it, "target_url")}
			if u := marks[0]; strings.Contains(u, "&") {
				marks = append(marks, strings.ReplaceAll(u, "&", "&amp;")) // as written in HTML
			}
			label := evStr(it, "signal")
			if h := evStr(it, "hidden"); h != "" {
				label += " (" + h + ")"
			}
			if tr := evStr(it, "trigger"); tr != "" {
				label += " (trigger: " + tr + ")"
			}
			items = append(items, item{label, evStr(it, "document_url"), evStr(it, "snippet"), marks})
		}
	case detectors.ProhibitedContent:
		for _, p := range evList(ev, "pages") {
			for _, m := range evList(p, "matches") {
				items = append(items, item{"“" + evStr(m, "phrase") + "” in the " + evStr(m, "field"), evStr(p, "url"), evStr(m, "snippet"), []string{evStr(m, "phrase")}})
			}
		}
	case detectors.BrandMisuse:
		for _, m := range evList(ev, "matches") {
			label := evStr(m, "kind") + ": “" + evStr(m, "phrase") + "” in the " + evStr(m, "field")
			items = append(items, item{label, evStr(m, "where"), evStr(m, "snippet"), []string{evStr(m, "phrase")}})
		}
	default:
		return nil, 0
	}
	// Merge identical snippets of one place: a page's title quoted for
	// three phrases is shown once with three marks.
	index := map[string]int{}
	var merged []item
	for _, it := range items {
		if strings.TrimSpace(it.text) == "" {
			continue
		}
		k := it.where + "\x00" + it.text
		if i, ok := index[k]; ok {
			merged[i].label += "; " + it.label
			merged[i].marks = append(merged[i].marks, it.marks...)
			continue
		}
		index[k] = len(merged)
		merged = append(merged, it)
	}
	if len(merged) > MaxSnippetsPerFinding {
		omitted = len(merged) - MaxSnippetsPerFinding
		merged = merged[:MaxSnippetsPerFinding]
	}
	for _, it := range merged {
		out = append(out, snippetView{
			Label: truncateRunes(it.label, MaxEvidenceCellRunes),
			Where: truncateRunes(it.where, MaxEvidenceCellRunes),
			Parts: highlight(it.text, it.marks, MaxSnippetRunes),
		})
	}
	return out, omitted
}

// highlight splits text into parts with every case-insensitive occurrence
// of the marks flagged, after cutting text to n runes. Overlapping and
// adjacent occurrences merge into one mark.
func highlight(text string, marks []string, n int) []snippetPart {
	text = truncateRunes(text, n)
	type span struct{ a, b int }
	var spans []span
	lower := strings.ToLower(text)
	for _, m := range marks {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		lm := strings.ToLower(m)
		if len(lm) != len(m) || len(lower) != len(text) {
			// Case folding changed byte lengths (rare scripts): match
			// exactly rather than mark the wrong bytes.
			lm = m
			for i := 0; ; {
				j := strings.Index(text[i:], lm)
				if j < 0 {
					break
				}
				spans = append(spans, span{i + j, i + j + len(lm)})
				i += j + len(lm)
			}
			continue
		}
		for i := 0; ; {
			j := strings.Index(lower[i:], lm)
			if j < 0 {
				break
			}
			spans = append(spans, span{i + j, i + j + len(lm)})
			i += j + len(lm)
		}
	}
	if len(spans) == 0 {
		return []snippetPart{{Text: text}}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a < spans[j].a })
	var parts []snippetPart
	at := 0
	for i := 0; i < len(spans); {
		a, b := spans[i].a, spans[i].b
		for i++; i < len(spans) && spans[i].a <= b; i++ {
			b = max(b, spans[i].b)
		}
		// Marks sit on character boundaries: a match found in the
		// lower-cased copy has the same byte offsets as the original.
		if !utf8.ValidString(text[a:b]) {
			continue
		}
		if a > at {
			parts = append(parts, snippetPart{Text: text[at:a]})
		}
		parts = append(parts, snippetPart{Text: text[a:b], Mark: true})
		at = b
	}
	if at < len(text) {
		parts = append(parts, snippetPart{Text: text[at:]})
	}
	return parts
}
