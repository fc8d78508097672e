package brandmisuse

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"affwatch/detectors"
	"affwatch/rules"
)

//go:embed testdata/ads.jsonl
var corpusAds []byte

//go:embed testdata/pages.jsonl
var corpusPages []byte

// CorpusAd is one labeled search ad (testdata/ads.jsonl); Expect is
// "brand" (the ad uses a brand: E.10.i) or "none".
type CorpusAd struct {
	ID         string `json:"id"`
	Lang       string `json:"lang"`
	Expect     string `json:"expect"`
	Keyword    string `json:"keyword"`
	Title      string `json:"title"`
	Text       string `json:"text"`
	DisplayURL string `json:"display_url"`
	Note       string `json:"note"`
}

// CorpusPage is one labeled page's title, meta tags and headings
// (testdata/pages.jsonl); Expect is "claim", "mention" or "none".
type CorpusPage struct {
	ID          string   `json:"id"`
	Lang        string   `json:"lang"`
	Expect      string   `json:"expect"`
	URL         string   `json:"url"`
	Title       string   `json:"title"`
	Description string   `json:"meta_description"`
	Keywords    string   `json:"meta_keywords"`
	Headings    []string `json:"headings"`
	Note        string   `json:"note"`
}

// LoadCorpus reads the embedded labeled corpus.
func LoadCorpus() ([]CorpusAd, []CorpusPage, error) {
	var ads []CorpusAd
	var pages []CorpusPage
	if err := readJSONL("testdata/ads.jsonl", corpusAds, func(b []byte) error {
		var a CorpusAd
		err := json.Unmarshal(b, &a)
		ads = append(ads, a)
		return err
	}); err != nil {
		return nil, nil, err
	}
	if err := readJSONL("testdata/pages.jsonl", corpusPages, func(b []byte) error {
		var p CorpusPage
		err := json.Unmarshal(b, &p)
		pages = append(pages, p)
		return err
	}); err != nil {
		return nil, nil, err
	}
	return ads, pages, nil
}

func readJSONL(name string, data []byte, each func([]byte) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := each(sc.Bytes()); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	return sc.Err()
}

// Outcome is one corpus item judged: its label and the detector's verdict
// ("" for nothing; "brand" for an ad; "mention" or "claim" for a page).
type Outcome struct {
	ID, Lang, Source, Expect, Got, Note string
}

// Judge runs the model over the corpus.
func Judge(md *Model, ads []CorpusAd, pages []CorpusPage) []Outcome {
	var out []Outcome
	for _, a := range ads {
		r := md.AnalyzeAd(Ad{ID: a.ID, Keyword: a.Keyword, Title: a.Title, Text: a.Text, DisplayURL: a.DisplayURL})
		got := ""
		if r.Flagged() {
			got = "brand"
		}
		out = append(out, Outcome{a.ID, a.Lang, "ads", label(a.Expect), got, a.Note})
	}
	for _, p := range pages {
		got := Verdict(md.JudgePage(Page{URL: p.URL, Title: p.Title, Description: p.Description, Keywords: p.Keywords, Headings: p.Headings}))
		out = append(out, Outcome{p.ID, p.Lang, "pages", label(p.Expect), got, p.Note})
	}
	return out
}

func label(s string) string {
	if s == "none" {
		return ""
	}
	return s
}

// add counts one outcome. A positive is found only with the right verdict:
// a mention taken for a claim is a false accusation (FP), a claim taken
// for a mention a miss (FN).
func add(s *detectors.CorpusScore, o Outcome) {
	note := func(what string) {
		if len(s.Notes) < 10 {
			s.Notes = append(s.Notes, fmt.Sprintf("%s %s (%s): want %q, got %q", what, o.ID, o.Note, o.Expect, o.Got))
		}
	}
	switch {
	case o.Expect == "" && o.Got == "":
		s.TN++
	case o.Expect == "":
		s.FP++
		note("false positive")
	case o.Got == o.Expect:
		s.TP++
	case o.Expect == KindMention && o.Got == KindClaim:
		s.FP++
		note("over-accused")
	default:
		s.FN++
		note("missed")
	}
}

// Evaluate scores brand_misuse on the labeled corpus (testdata/): classes
// "ads", "pages", each language, and "all".
func Evaluate(ctx context.Context, pack *rules.Pack) ([]detectors.CorpusScore, error) {
	rule, err := pack.Rule(RuleName)
	if err != nil {
		return nil, err
	}
	md, err := NewModel(pack, rule)
	if err != nil {
		return nil, err
	}
	ads, pages, err := LoadCorpus()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	outcomes := Judge(md, ads, pages)
	classes := append([]string{"ads", "pages"}, Languages...)
	classes = append(classes, "all")
	scores := map[string]*detectors.CorpusScore{}
	for _, c := range classes {
		scores[c] = &detectors.CorpusScore{Detector: detectors.BrandMisuse, Class: c}
	}
	for _, o := range outcomes {
		for _, c := range []string{o.Source, o.Lang, "all"} {
			if s, ok := scores[c]; ok {
				add(s, o)
			}
		}
	}
	out := make([]detectors.CorpusScore, 0, len(classes))
	for _, c := range classes {
		out = append(out, *scores[c])
	}
	return out, nil
}
