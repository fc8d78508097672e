package rules

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed clauses.yaml
var clausesYAML []byte

// clause is one entry of clauses.yaml.
type clause struct {
	Ref     string   `yaml:"ref"`
	Source  string   `yaml:"source"`
	Aliases []string `yaml:"aliases"`
	Lead    string   `yaml:"lead"`
	Text    string   `yaml:"text"`
}

// clauses holds clauses.yaml by reference and alias. The file is embedded
// and tested, so a malformed one is a programming error.
var clauses = func() map[string]clause {
	var f struct {
		Clauses []clause `yaml:"clauses"`
	}
	if err := yaml.Unmarshal(clausesYAML, &f); err != nil {
		panic("rules: clauses.yaml: " + err.Error())
	}
	m := map[string]clause{}
	for _, c := range f.Clauses {
		for _, k := range append([]string{c.Ref}, c.Aliases...) {
			if _, dup := m[clauseKey(k)]; dup || c.Text == "" || c.Source == "" {
				panic(fmt.Sprintf("rules: clauses.yaml: %q repeated, or without text or source", k))
			}
			m[clauseKey(k)] = c
		}
	}
	return m
}()

// clauseKey folds the spellings of one reference: case, spacing, and the
// hyphen or en dash a writer may use.
func clauseKey(ref string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(ref, "–", "-")), " "))
}

// ClauseText returns the verbatim text of one clause of the program's terms
// (a single reference such as "E.10.j", "1.6" or "ePN rule 2"; split a
// composite policy_ref with SplitPolicyRef first) and the policy file it is
// quoted from. A lettered item comes after its clause's opening words and
// " … ", so that it reads as the terms do. Whitespace runs are collapsed.
func ClauseText(ref string) (text, source string, ok bool) {
	c, ok := clauses[clauseKey(ref)]
	if !ok {
		// "ePN rule 3: what it is about": the reference before the colon.
		if head, _, cut := strings.Cut(ref, ":"); cut {
			c, ok = clauses[clauseKey(head)]
		}
	}
	if !ok {
		return "", "", false
	}
	text = collapseSpace(c.Text)
	if c.Lead != "" {
		text = collapseSpace(c.Lead) + " … " + text
	}
	return text, c.Source, true
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// letterRange and numberRange are the ranges a policy_ref abbreviates:
// "C.6.c–q" (items c to q of C.6) and "7.8–7.9".
var (
	letterRange = regexp.MustCompile(`^(.*\.)([a-z])\s*[–-]\s*([a-z])$`)
	numberRange = regexp.MustCompile(`^(\d+)\.(\d+)\s*[–-]\s*(\d+)\.(\d+)$`)
)

// SplitPolicyRef splits a finding's or a rule's policy_ref into single
// references, in order and without repeats: "B.5.a–b, 8.3; ePN rule 1" is
// B.5.a, B.5.b, 8.3 and "ePN rule 1". Ranges of letters and of numbered
// clauses are expanded; anything else is kept as written.
func SplitPolicyRef(ref string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, group := range strings.Split(ref, ";") {
		for _, part := range strings.Split(group, ",") {
			part = strings.TrimSpace(part)
			if m := letterRange.FindStringSubmatch(part); m != nil && m[2] <= m[3] {
				for c := m[2][0]; c <= m[3][0]; c++ {
					add(m[1] + string(rune(c)))
				}
				continue
			}
			if m := numberRange.FindStringSubmatch(part); m != nil && m[1] == m[3] {
				lo, _ := strconv.Atoi(m[2])
				hi, _ := strconv.Atoi(m[4])
				if lo <= hi && hi-lo < 50 {
					for n := lo; n <= hi; n++ {
						add(m[1] + "." + strconv.Itoa(n))
					}
					continue
				}
			}
			add(part)
		}
	}
	return out
}
