package prohibited

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/detectors"
	"affwatch/rules"
)

func TestStem(t *testing.T) {
	for in, want := range map[string]string{
		// Russian: one inflectional ending, the stem keeps 3 letters
		"ставки": "ставк", "ставкам": "ставк", "ставка": "ставк", "казино": "казин", "клады": "клад", "кладов": "клад",
		"пистолеты": "пистолет", "пистолетов": "пистолет", "купить": "куп", "играться": "игр", "мир": "мир",
		// Latin plurals; -us, -is, -ss stay
		"bets": "bet", "apuestas": "apuesta", "armes": "arme", "pistolas": "pistola", "casinos": "casino", "bonus": "bonus",
		"cannabis": "cannabis", "glass": "glass", "parties": "party", "matches": "match", "bet": "bet", "odds": "odd",
		// other scripts and short words are left alone
		"🔞": "🔞", "gas": "gas", "3 mmc": "3 mmc",
	} {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func conceptModel(t *testing.T) *Model {
	t.Helper()
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(pack.Rules[RuleName])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The concept path recognizes pages by co-occurring groups, not by a
// known phrase: wording the phrase lists never saw is found, and one
// topic word among shop words, or a topic among news cues, is not.
func TestConceptPath(t *testing.T) {
	m := conceptModel(t)
	for _, tc := range []struct {
		name, title, text string
		want              map[string]string // category → basis
	}{
		{"drug shop in unseen wording", "Kush and hash delivered",
			"Fresh kush buds and Moroccan hash in stock. Order from 3 grams, we ship discreet in vacuum sealed bags. Pay with bitcoin.",
			map[string]string{"drugs": "concepts"}},
		{"Russian dead drops, inflected", "Магазин",
			"В наличии гашиш и мефедрон, вес от 1 грамма. Оплата криптой, клады по всему городу, координаты сразу после оплаты.",
			map[string]string{"drugs": "concepts"}},
		{"the same substances in a police report", "Police seize drugs",
			"Police said officers seized hash and cocaine worth a million. The suspects sold the drugs for bitcoin and shipped parcels, according to prosecutors. The court will rule next month.",
			nil},
		{"one topic word among shop words", "Massage gun sale",
			"Massage gun for sale: price $59, in stock, free delivery, pay with PayPal. Also glue gun and heat gun kits in our shop.",
			nil},
		{"interest rates are not bets", "Ставки по вкладам",
			"Ставки по вкладам выросли: депозит под 19% годовых, бонус новым клиентам, вывод средств без потерь. Ставки по кредитам тоже растут.",
			nil},
		{"a shared word counts for each category that reads it", "Cash out to PayPal",
			"Earn coins for every visit to partner sites and for every click on ads. Cash out to PayPal from $1, invite friends.",
			map[string]string{"incentivized": "concepts"}},
		{"negated offer", "Our pharmacy",
			"We never sell xanax or tramadol without a prescription, and we do not ship pills abroad. Ask your pharmacist.",
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			// the concept path is under test: without the learned model
			for _, c := range m.ClassifyRules(Page{Title: tc.title, Text: tc.text}).Flagged() {
				got[c.Category] = c.Basis
				if c.Basis == "concepts" {
					if c.Score > m.th.ConceptMaxScore || c.Concepts == nil || len(c.Concepts.Groups) < 2 {
						t.Errorf("%s: score %v, figures %+v", c.Category, c.Score, c.Concepts)
					}
					for _, mt := range c.Matches {
						if mt.Tier == "concept" && (mt.Group == "" || mt.Snippet == "") {
							t.Errorf("%s: concept match without group or snippet: %+v", c.Category, mt)
						}
					}
				}
			}
			if len(tc.want) == 0 {
				tc.want = map[string]string{}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("flagged (-want +got)\n%s", diff)
			}
		})
	}
}

// Evidence of a concept-flagged category quotes one word of each group
// first, so an analyst sees why the groups were taken together.
func TestConceptEvidence(t *testing.T) {
	m := conceptModel(t)
	r := m.ClassifyRules(Page{Title: "Semaglutide shipped overnight", Text: "Semaglutide and tirzepatide vials, no script needed. Order online, we ship overnight in a discreet box, pay by card or crypto."})
	var cr *CategoryResult
	for i := range r.Categories {
		if r.Categories[i].Category == "prescription_drugs" {
			cr = &r.Categories[i]
		}
	}
	if cr == nil || !cr.Flagged || cr.Basis != "concepts" {
		t.Fatalf("prescription_drugs: %+v", cr)
	}
	seen := map[string]bool{}
	for i, mt := range cr.Matches {
		if i < len(cr.Concepts.Groups) {
			if seen[mt.Group] {
				t.Errorf("group %s shown twice before every group was shown: %+v", mt.Group, cr.Matches)
			}
			seen[mt.Group] = true
		}
		if !strings.Contains(strings.ToLower(mt.Snippet), strings.ToLower(strings.TrimSuffix(strings.Fields(mt.Phrase)[0], "*"))) {
			t.Errorf("snippet %q does not show %q", mt.Snippet, mt.Phrase)
		}
	}
	for _, g := range []string{"med", "noscript", "delivery"} {
		if !seen[g] {
			t.Errorf("no %s word first in %+v", g, cr.Matches)
		}
	}
}

func TestConceptRuleErrors(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ entry, want string }{
		{"gambling = game!, nosuchgroup", "nosuchgroup"},
		{"nosuchcategory = game", "nosuchcategory"},
		{"gambling game", "gambling game"},
	} {
		r := pack.Rules[RuleName]
		lists := map[string][]string{}
		for k, v := range r.Lists {
			lists[k] = v
		}
		lists["concepts"] = []string{tc.entry}
		r.Lists = lists
		if _, err := NewModel(r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v", tc.entry, err)
		}
	}
}

func TestStemMatcher(t *testing.T) {
	m := newStemMatcher(3)
	for _, e := range []struct{ text, group string }{
		{"ставка", "a.concept.x"}, {"=nudes", "a.concept.y"}, {"paypal", "concept.payment"}, {"paypal", "b.concept.payout"}, {"🔞", "a.concept.y"},
	} {
		if err := m.add(e.text, e.group, "concept", 1); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, h := range m.findEach(tokenize("Ставками 🔞 nudes nude PayPal", 0), conceptOwner) {
		got = append(got, m.phrases[h.phrase].text+"@"+m.phrases[h.phrase].group)
	}
	want := []string{"ставка@a.concept.x", "🔞@a.concept.y", "=nudes@a.concept.y", "paypal@b.concept.payout", "paypal@concept.payment"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// A site flagged on concepts alone says so in its summary and evidence,
// and its severity stays at the concept path's cap.
func TestRunConceptFinding(t *testing.T) {
	env := newEnv(t)
	withoutLearned(env.Pack)
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	crawl(t, env, "r/1", "WEED", "https://greens.example/", at, Page{URL: "https://greens.example/menu", Title: "Kush and hash delivered",
		Text: "Fresh kush buds and Moroccan hash in stock. Order from 3 grams, we ship discreet in vacuum sealed bags. Pay with bitcoin."})
	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 {
		t.Fatalf("findings: %+v", fs)
	}
	f := fs[0]
	if f.Severity != "medium" || f.Score > 0.69 || !strings.Contains(f.Summary, "co-occurring concepts (") || !strings.Contains(f.Summary, "substance") {
		t.Errorf("severity %s score %v summary %q", f.Severity, f.Score, f.Summary)
	}
	var ev struct {
		Pages []struct {
			Basis    string          `json:"basis"`
			Concepts *ConceptFigures `json:"concepts"`
			Matches  []Match         `json:"matches"`
		} `json:"pages"`
	}
	if err := json.Unmarshal(f.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Pages) != 1 || ev.Pages[0].Basis != "concepts" || ev.Pages[0].Concepts == nil || len(ev.Pages[0].Matches) == 0 || ev.Pages[0].Matches[0].Group == "" || ev.Pages[0].Matches[0].Snippet == "" {
		t.Errorf("evidence %s", f.Evidence)
	}
}

// withoutLearned drops the rule's <category>_min_probability keys: the
// learned path is off, the phrase and concept paths are under test.
func withoutLearned(p *rules.Pack) {
	th, err := thresholds.Of(p)
	if err != nil {
		panic(err)
	}
	drop := map[string]float64{}
	for k := range th.PerCategory {
		if strings.HasSuffix(k, "_min_probability") {
			drop[k] = math.NaN()
		}
	}
	q, err := p.WithThresholds(RuleName, drop)
	if err != nil {
		panic(err)
	}
	*p = *q
}
