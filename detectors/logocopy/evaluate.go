package logocopy

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"affwatch/detectors"
	"affwatch/rules"
)

// Corpus sizes of the quality measurement (testdata/README.md).
const (
	ProceduralNegatives = 300
	MaxIconNegatives    = 400
)

// Evaluate measures the detector on the test matrix of the pack's
// reference logos (every transformation of Transformations) and on the
// non-brand logos: one score per transformation, "negatives" and "all".
func Evaluate(ctx context.Context, pack *rules.Pack) ([]detectors.CorpusScore, error) {
	rule, err := pack.Rule(RuleName)
	if err != nil {
		return nil, err
	}
	p, err := ParamsFrom(rule)
	if err != nil {
		return nil, err
	}
	refs, err := LoadReferences(pack, p)
	if err != nil {
		return nil, err
	}
	m := &Matcher{Refs: refs, P: p}
	var cases []Case
	for _, b := range pack.Brands {
		for _, path := range b.Logos {
			data, err := pack.ReadLogo(path)
			if err != nil {
				return nil, err
			}
			ds, _ := DecodeAll(data, int64(p.MaxPixels))
			if len(ds) == 0 {
				return nil, fmt.Errorf("reference %s does not decode", path)
			}
			cases = append(cases, PositiveCases(path, ds[0].Img)...)
		}
	}
	cases = append(cases, NegativeCases(ProceduralNegatives, MaxIconNegatives)...)
	scores := map[string]*detectors.CorpusScore{}
	type note struct {
		class, text string
		key         float64
	}
	var notes []note
	all := &detectors.CorpusScore{Detector: detectors.LogoCopy, Class: "all"}
	closest, closestName := Match{Mean: 2}, ""
	hardest, hardestName := Match{Mean: 2}, ""
	type far struct {
		m    Match
		name string
	}
	farthest := map[string]far{}
	for _, c := range cases {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := scores[c.Class]
		if s == nil {
			s = &detectors.CorpusScore{Detector: detectors.LogoCopy, Class: c.Class}
			scores[c.Class] = s
		}
		a := m.Prepare(c.Bytes)
		// a positive counts when its own reference matches; a negative is
		// a false positive when any reference does
		hit, best := false, Match{Mean: 2}
		for _, r := range refs {
			if c.Ref != "" && r.Path != c.Ref {
				continue
			}
			mt := m.Compare(a, r)
			if mt.Matched {
				hit = true
			}
			if mt.Mean < best.Mean {
				best = mt
			}
		}
		switch {
		case c.Ref != "" && hit:
			s.TP++
			all.TP++
			if f, ok := farthest[c.Class]; !ok || best.Mean > f.m.Mean {
				farthest[c.Class] = far{best, c.Name}
			}
		case c.Ref != "":
			s.FN++
			all.FN++
			notes = append(notes, note{c.Class, fmt.Sprintf("missed %s: distances %v, mean %.3f", c.Name, best.Distances, best.Mean), -best.Mean})
		case hit:
			s.FP++
			all.FP++
			notes = append(notes, note{c.Class, fmt.Sprintf("false positive %s: distances %v, mean %.3f", c.Name, best.Distances, best.Mean), best.Mean})
		default:
			s.TN++
			all.TN++
			if best.Mean < closest.Mean || strings.HasPrefix(c.Name, "hard:") && best.Mean < hardest.Mean {
				if strings.HasPrefix(c.Name, "hard:") {
					hardest, hardestName = best, c.Name
				}
			}
			if best.Mean < closest.Mean {
				closest, closestName = best, c.Name
			}
		}
	}
	sort.SliceStable(notes, func(i, j int) bool { return notes[i].key < notes[j].key })
	for _, n := range notes {
		if len(scores[n.class].Notes) < 10 {
			scores[n.class].Notes = append(scores[n.class].Notes, n.text)
		}
		if len(all.Notes) < 10 {
			all.Notes = append(all.Notes, n.class+": "+n.text)
		}
	}
	if s := scores["negatives"]; s != nil && closestName != "" && len(s.Notes) < 10 {
		s.Notes = append(s.Notes, fmt.Sprintf("closest true negative %s: distances %v, mean %.3f", closestName, closest.Distances, closest.Mean))
	}
	for cl, f := range farthest {
		if s := scores[cl]; len(s.Notes) < 10 {
			s.Notes = append(s.Notes, fmt.Sprintf("farthest copy found %s: distances %v, mean %.3f", f.name, f.m.Distances, f.m.Mean))
		}
	}
	if s := scores["negatives"]; s != nil && hardestName != "" && len(s.Notes) < 10 {
		s.Notes = append(s.Notes, fmt.Sprintf("closest hard negative %s: distances %v, mean %.3f", hardestName, hardest.Distances, hardest.Mean))
	}
	var out []detectors.CorpusScore
	for _, cl := range append(append([]string{}, Transformations...), "negatives") {
		if s := scores[cl]; s != nil {
			out = append(out, *s)
		}
	}
	return append(out, *all), nil
}
