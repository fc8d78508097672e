package branddomain

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"affwatch/detectors"
	"affwatch/rules"
)

// realDomains are ≥ 5,000 real domains unrelated to the brands (testdata/README.md).
//
//go:embed testdata/real_domains.txt
var realDomains string

// RealDomains returns the negative corpus of the quality test.
func RealDomains() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(realDomains))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// Corpus is the labeled corpus of the quality test: generated look-alikes
// of every keyword of the pack's brands by class, and the real domains.
type Corpus struct {
	Positives map[string][]string // class → hosts
	Negatives []string
	// Excluded are generated hosts that are not imitations by the pack's
	// own terms: a brand's own domain or an exception, or a host whose
	// label is a stop word (a real word such as mall.com from tmall).
	Excluded map[string][]string
}

// BuildCorpus generates the labeled corpus for a matcher's pack.
func BuildCorpus(pack *rules.Pack, m *Matcher) Corpus {
	c := Corpus{Positives: map[string][]string{}, Excluded: map[string][]string{}, Negatives: RealDomains()}
	seen := map[string]bool{}
	for _, b := range pack.Brands {
		for _, kw := range b.Keywords {
			perms := Permutations(strings.ToLower(kw))
			for _, class := range PermutationClasses {
				for _, h := range perms[class] {
					if seen[h] {
						continue
					}
					seen[h] = true
					n := Normalize(h)
					if _, own := m.Own(n); own || m.isStopHost(n) {
						c.Excluded[class] = append(c.Excluded[class], h)
						continue
					}
					c.Positives[class] = append(c.Positives[class], h)
				}
			}
		}
	}
	return c
}

// isStopHost: the registrable label (or a hyphen part of it) is a stop word.
func (m *Matcher) isStopHost(n Name) bool {
	for _, l := range n.Labels {
		if l.Sub {
			continue
		}
		if m.stop[l.Joined] || m.stop[l.Skeleton] {
			return true
		}
	}
	return false
}

// Evaluate measures brand_domain on the labeled corpus: recall per
// permutation class, the false-positive rate on the real domains, and the
// whole ("all").
func Evaluate(ctx context.Context, pack *rules.Pack) ([]detectors.CorpusScore, error) {
	rule, err := pack.Rule(RuleName)
	if err != nil {
		return nil, err
	}
	p, err := ParamsFrom(rule)
	if err != nil {
		return nil, err
	}
	var hosts []rules.Exception
	for _, e := range rule.Exceptions {
		if strings.Contains(e.Value, ".") {
			hosts = append(hosts, e)
		}
	}
	m, err := NewMatcher(pack, rule, p, hosts)
	if err != nil {
		return nil, err
	}
	corpus := BuildCorpus(pack, m)
	all := detectors.CorpusScore{Detector: detectors.BrandDomain, Class: "all"}
	var out []detectors.CorpusScore
	classes := make([]string, 0, len(corpus.Positives))
	for c := range corpus.Positives {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, class := range classes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := detectors.CorpusScore{Detector: detectors.BrandDomain, Class: class}
		for _, h := range corpus.Positives[class] {
			if mt, ok := m.MatchHost(h); ok && mt.Score >= p.MinScore {
				s.TP++
			} else {
				s.FN++
				if len(s.Notes) < 10 {
					s.Notes = append(s.Notes, "missed "+h+" ("+Normalize(h).Unicode+")")
				}
			}
		}
		if n := len(corpus.Excluded[class]); n > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("%d generated host(s) left out: own domains, exceptions or stop words (e.g. %s)", n, corpus.Excluded[class][0]))
		}
		all.TP += s.TP
		all.FN += s.FN
		out = append(out, s)
	}
	neg := detectors.CorpusScore{Detector: detectors.BrandDomain, Class: "real_domains"}
	for _, h := range corpus.Negatives {
		if mt, ok := m.MatchHost(h); ok && mt.Score >= p.MinScore {
			neg.FP++
			if len(neg.Notes) < 10 {
				neg.Notes = append(neg.Notes, fmt.Sprintf("flagged %s as %s (%s, distance %d)", h, mt.Keyword, mt.Class, mt.Distance))
			}
		} else {
			neg.TN++
		}
	}
	all.FP, all.TN = neg.FP, neg.TN
	out = append(out, neg, all)
	return out, nil
}
