package prohibited

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The committed cue file parses, names every category of the default rule
// plus the offer and inform groups, and every entry folds to words.
func TestDefaultCuesParse(t *testing.T) {
	cs, err := parseCues(DefaultCues())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range defaultModel(t).Categories() {
		if _, ok := cs.index[c.Name]; !ok {
			t.Errorf("category %s has no [%s] group of cue words", c.Name, c.Name)
		}
	}
	if cs.offer < 0 || cs.inform < 0 {
		t.Errorf("offer %d inform %d: both groups are needed for the crossed features", cs.offer, cs.inform)
	}
	if got, want := cs.denseLen(), len(cs.groups)*densePerGroup+2*len(cs.cats); got != want {
		t.Errorf("denseLen %d, want %d", got, want)
	}
}

func TestParseCuesRejects(t *testing.T) {
	for name, text := range map[string]string{
		"entry before a group": "casino*\n[gambling]\n",
		"group repeated":       "[gambling]\ncasino\n[gambling]\nbet\n",
		"no group":             "# nothing\n",
		"short wildcard":       "[gambling]\nbe*\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseCues(text); err == nil {
				t.Errorf("parseCues accepted %q", text)
			}
		})
	}
}

// Dense features count distinct cues in the title and meta and in the
// text, their density per 100 words, and the category's cues crossed with
// how much the page sells and informs; words in other languages and
// inflections meet the same cue.
func TestCueDense(t *testing.T) {
	cues := "[gambling]\ncasino*\napuesta*\nfree spins\n[adult]\nescort*\n[offer]\nbuy\nprice*\ndeposit\nbonus\n[inform]\nlaw\n"
	c, err := CompileCues(cues)
	if err != nil {
		t.Fatal(err)
	}
	p := Page{Title: "Casinos online", Text: "Las mejores apuestas: casino, free spins, bonus y deposit. Buy now, prices low."}
	_, dense := PageFeatures(p, 1<<10, 65536, c)
	cs := c.cs
	g, a := cs.index["gambling"], cs.index["adult"]
	ln := func(n float64) float32 { return float32(math.Log1p(n)) }
	got := map[string]float32{
		"gambling head":    dense[g*densePerGroup+denseHead],
		"gambling text":    dense[g*densePerGroup+denseText],
		"gambling density": dense[g*densePerGroup+denseDensity],
		"adult text":       dense[a*densePerGroup+denseText],
	}
	want := map[string]float32{
		"gambling head":    ln(1),               // casinos
		"gambling text":    ln(3),               // apuestas, casino, free spins
		"gambling density": ln(100 * 3.0 / 100), // three cues, short page counted as 100 words
		"adult text":       0,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("dense features (-want +got):\n%s", d)
	}
	// crossed with offer: 4 distinct offer cues (buy, price*, deposit,
	// bonus) is the full amount; gambling has 1+3 distinct cues
	G := len(cs.groups)
	offerCross := dense[G*densePerGroup+indexOf(cs.cats, g)]
	if want := ln(4); math.Abs(float64(offerCross-want)) > 1e-6 {
		t.Errorf("gambling × offer = %v, want %v", offerCross, want)
	}
	informCross := dense[G*densePerGroup+len(cs.cats)+indexOf(cs.cats, g)]
	if informCross != 0 {
		t.Errorf("gambling × inform = %v on a page without inform cues, want 0", informCross)
	}
}

func indexOf(xs []int, x int) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
