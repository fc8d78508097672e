package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// policyDir holds the program's terms clauses.yaml quotes (outside the
// module: the verbatim check runs where the shared folder is present).
var policyDir = filepath.Join("..", "..", "shared", "policy")

// TestClausesCoverDefaultPack: every reference the default pack cites
// (rule policies, prohibited-content categories, the ladder's actions and
// the appeal clause) resolves to a quoted clause.
func TestClausesCoverDefaultPack(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]string{} // ref → where it is cited
	for _, name := range p.RuleNames() {
		r := p.Rules[name]
		if r.Policy == "" {
			t.Errorf("rule %s cites no policy", name)
		}
		for _, ref := range SplitPolicyRef(r.Policy) {
			refs[ref] = "rules." + name + ".policy"
		}
		for _, c := range r.Lists["categories"] {
			_, clause, ok := strings.Cut(c, "=")
			if !ok {
				t.Errorf("rules.%s.lists.categories: %q has no '='", name, c)
				continue
			}
			for _, ref := range SplitPolicyRef(clause) {
				refs[ref] = "rules." + name + ".lists.categories"
			}
		}
	}
	// Clause F.11's measures, which the penalty ladder cites per action.
	for _, ref := range SplitPolicyRef("F.11.a–g") {
		refs[ref] = "penalty ladder"
	}
	refs["G.12"] = "appeal deadline"
	if len(refs) < 20 {
		t.Fatalf("only %d references collected from the default pack: %v", len(refs), refs)
	}
	for ref, where := range refs {
		text, source, ok := ClauseText(ref)
		if !ok {
			t.Errorf("%s cites %q: not in clauses.yaml", where, ref)
			continue
		}
		if len(text) < 15 || !strings.HasSuffix(source, ".txt") {
			t.Errorf("%q: text %q from %q", ref, text, source)
		}
	}
}

func TestClauseText(t *testing.T) {
	tests := []struct {
		ref, wantSource string
		want            []string // substrings, in order
	}{
		{"E.10.j", "portals-rules-agreement-faq.txt", []string{"10.Participants shall not engage in any of the following conduct: … j.Engaging in any dishonest", "making purchases"}},
		{"1.6", "portals-rules-agreement-faq.txt", []string{"1.6 “Fraud” means", "robots, frames, iframes, scripts"}},
		{"F.11.a", "portals-rules-agreement-faq.txt", []string{"enforcement measures against such members: … a.Giving written warnings;"}},
		{"G.12", "portals-rules-agreement-faq.txt", []string{"within 5 working days (the “Claim Period”)"}},
		{"B.5.b", "portals-rules-agreement-faq.txt", []string{"b.Contain any content", "i.Using URLs that are similar", "ii.Using URLs"}},
		{"8.4", "portals-rules-agreement-faq.txt", []string{"8.4 Participant shall not copy or modify any icons"}},
		{"ePN rule 2", "epn-rates-and-rules.txt", []string{"trademark usage", "… 2. The header of the website", "favicon cannot be copied"}},
		{"ePN rule 3: refund content", "epn-rates-and-rules.txt", []string{"3. Sources of traffic", "refund - content"}},
		{"ePN rule 3", "epn-rates-and-rules.txt", []string{"third-party website"}},
		{"ePN: motivated traffic", "epn-rates-and-rules.txt", []string{"willing and conscious desire"}},
		{"e.10.J", "portals-rules-agreement-faq.txt", []string{"j.Engaging"}}, // case folded
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			text, source, ok := ClauseText(tc.ref)
			if !ok || source != tc.wantSource {
				t.Fatalf("ClauseText(%q) = %q, %q, %v", tc.ref, text, source, ok)
			}
			rest := text
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("ClauseText(%q) lacks %q (in order) in %q", tc.ref, w, text)
				}
				rest = rest[i+len(w):]
			}
			if strings.Contains(text, "  ") || strings.Contains(text, "\n") {
				t.Errorf("whitespace not collapsed: %q", text)
			}
		})
	}
	for _, bad := range []string{"", "E.10", "E.10.z", "Z.1", "ePN rule 9"} {
		if text, _, ok := ClauseText(bad); ok {
			t.Errorf("ClauseText(%q) = %q, want not found", bad, text)
		}
	}
}

func TestSplitPolicyRef(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"E.10.c", []string{"E.10.c"}},
		{"1.6", []string{"1.6"}},
		{"B.5.a–b, 8.3; ePN rule 1", []string{"B.5.a", "B.5.b", "8.3", "ePN rule 1"}},
		{"C.6.a-b, E.10.i; ePN rule 3", []string{"C.6.a", "C.6.b", "E.10.i", "ePN rule 3"}},
		{"7.8–7.9, 1.12; ePN commission terms", []string{"7.8", "7.9", "1.12", "ePN commission terms"}},
		{"C.6.c–q, D.7", []string{"C.6.c", "C.6.d", "C.6.e", "C.6.f", "C.6.g", "C.6.h", "C.6.i", "C.6.j", "C.6.k", "C.6.l",
			"C.6.m", "C.6.n", "C.6.o", "C.6.p", "C.6.q", "D.7"}},
		{"C.6.h, D.7, C.6.h", []string{"C.6.h", "D.7"}},
		{"C.6.q–c", []string{"C.6.q–c"}}, // backwards: kept as written
		{"", nil},
		{" ; , ", nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, SplitPolicyRef(tc.in)); diff != "" {
			t.Errorf("SplitPolicyRef(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// TestClausesVerbatim: every quoted text (and lead) is an excerpt of its
// policy file, whitespace aside, so a reviewer can quote the report to a
// publisher.
func TestClausesVerbatim(t *testing.T) {
	if _, err := os.Stat(policyDir); err != nil {
		t.Skipf("policy files not present at %s: %v", policyDir, err)
	}
	var f struct {
		Clauses []clause `yaml:"clauses"`
	}
	if err := yaml.Unmarshal(clausesYAML, &f); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, c := range f.Clauses {
		if _, ok := files[c.Source]; !ok {
			b, err := os.ReadFile(filepath.Join(policyDir, c.Source))
			if err != nil {
				t.Errorf("%s: %v", c.Ref, err)
				continue
			}
			files[c.Source] = collapseSpace(string(b))
		}
		for _, part := range []string{c.Lead, c.Text} {
			if part != "" && !strings.Contains(files[c.Source], collapseSpace(part)) {
				t.Errorf("%s: not verbatim in %s: %q", c.Ref, c.Source, part)
			}
		}
	}
	if len(f.Clauses) < 50 {
		t.Errorf("clauses.yaml holds %d clauses, want the 56 the pack and ladder cite", len(f.Clauses))
	}
}
