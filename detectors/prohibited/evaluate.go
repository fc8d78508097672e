package prohibited

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"affwatch/crawler"
	"affwatch/detectors"
	"affwatch/rules"
)

// CorpusBase is the URL the corpus pages are read as if crawled from.
const CorpusBase = "https://corpus.example/"

// Evaluate classifies every page of a labeled corpus
// the way Run does, after the crawler's own extraction of title, meta and
// visible text, and scores each category of the pack: a page counts as
// positive for a category when it is labeled so, as flagged when the
// classifier says so. Class "all" pools every category's decisions.
func Evaluate(ctx context.Context, pack *rules.Pack, corpus []LabeledPage) ([]detectors.CorpusScore, error) {
	rule, err := pack.Rule(RuleName)
	if err != nil {
		return nil, err
	}
	model, err := NewModel(rule)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, c := range model.cats {
		known[c.Name] = true
	}
	scores := map[string]*detectors.CorpusScore{}
	all := &detectors.CorpusScore{Detector: detectors.ProhibitedContent, Class: "all"}
	for _, c := range model.cats {
		scores[c.Name] = &detectors.CorpusScore{Detector: detectors.ProhibitedContent, Class: c.Name}
	}
	for _, p := range corpus {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		labeled := map[string]bool{}
		for _, c := range p.Categories {
			if !known[c] {
				return nil, fmt.Errorf("corpus page %s: unknown category %q", p.File, c)
			}
			labeled[c] = true
		}
		res := model.Classify(CorpusPage(p.File, p.HTML))
		flagged := map[string]CategoryResult{}
		for _, cr := range res.Flagged() {
			flagged[cr.Category] = cr
		}
		for _, c := range model.cats {
			s := scores[c.Name]
			cr, got := flagged[c.Name]
			want := labeled[c.Name]
			for _, x := range []*detectors.CorpusScore{s, all} {
				switch {
				case want && got:
					x.TP++
				case !want && got:
					x.FP++
					x.Notes = appendNote(x.Notes, fmt.Sprintf("false positive %s: %s (score %.2f; %s)", p.File, c.Name, cr.Score, phrases(cr)))
				case want && !got:
					x.FN++
					x.Notes = appendNote(x.Notes, fmt.Sprintf("missed %s: %s (%s)", p.File, c.Name, near(res, c.Name)))
				default:
					x.TN++
				}
			}
		}
	}
	out := []detectors.CorpusScore{*all}
	names := make([]string, 0, len(scores))
	for n := range scores {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, *scores[n])
	}
	return out, nil
}

// LabeledPage is one page of a labeled corpus: its file name, its HTML and
// the categories it violates (none: a clean page). The corpora themselves
// live with the fixtures and the evaluation; the detector only reads them.
type LabeledPage struct {
	File       string
	Categories []string
	HTML       []byte
}

// CorpusPage extracts a corpus page as the crawler would have stored it.
//
// The page's URL is CorpusBase without the file name: our file names say
// the label ("adult-es-escort.html", "clean-en-gadget-review.html"), and a
// model that reads the words of the URL path (FeatureSettings.URLPath)
// would learn them in training and read them in every evaluation.
func CorpusPage(file string, html []byte) Page {
	base, _ := url.Parse(CorpusBase + file)
	decoded, _, _ := crawler.DecodeHTML("", html)
	info := crawler.Extract(base, decoded)
	return Page{URL: CorpusBase, Title: info.Title, Description: info.Description, Keywords: info.Keywords, Text: info.Text}
}

func appendNote(notes []string, n string) []string {
	if len(notes) >= 10 {
		return notes
	}
	return append(notes, n)
}

func phrases(cr CategoryResult) string {
	var ps []string
	for _, m := range cr.Matches {
		ps = append(ps, m.Phrase)
	}
	return strings.Join(ps, ", ")
}

func near(res PageResult, cat string) string {
	for _, cr := range res.Categories {
		if cr.Category == cat {
			return fmt.Sprintf("strength %.2f, distinct %d, strong %d, density %.1f, negated %d, discounted %d: %s",
				cr.Strength, cr.Distinct, cr.Strong, cr.Density, cr.Negated, cr.Discounted, phrases(cr))
		}
	}
	return "no phrase found"
}
