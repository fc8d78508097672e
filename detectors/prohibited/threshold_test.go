package prohibited

import (
	"fmt"
	"math"
	"testing"
)

func TestWilsonLower(t *testing.T) {
	// 95 of 100 at z = 1.2816 (one-sided 90 %): (0.9582 − 0.0291) / 1.0164
	if got := wilsonLower(95, 100, 1.2816); math.Abs(got-0.9141) > 0.0005 {
		t.Errorf("wilsonLower(95, 100) = %.4f, want 0.9141", got)
	}
	if got := wilsonLower(0, 0, 1.2816); got != 0 {
		t.Errorf("wilsonLower of nothing = %v, want 0", got)
	}
}

// knifeEdgePages: 40 violating sites of 5 pages scored 0.9 and 20 clean
// sites, one page each, scored 0.72: precision is 200/220 = 0.909 from
// 0.5 to 0.70 and 1 from 0.75 on; two clean sites scored 0.92 keep it at
// 200/202 = 0.990 above 0.90.
func knifeEdgePages() ([]TrainPage, [][]float64) {
	var ps []TrainPage
	var probs []float64
	for s := 0; s < 40; s++ {
		for i := 0; i < 5; i++ {
			ps = append(ps, TrainPage{Group: fmt.Sprintf("bad%d", s), Labels: map[string]bool{"gambling": true}})
			probs = append(probs, 0.9)
		}
	}
	for s := 0; s < 22; s++ {
		ps = append(ps, TrainPage{Group: fmt.Sprintf("clean%d", s), Labels: map[string]bool{}, Adjacent: true})
		if s < 2 {
			probs = append(probs, 0.92)
		} else {
			probs = append(probs, 0.72)
		}
	}
	return ps, [][]float64{probs}
}

func TestChooseThresholds(t *testing.T) {
	ps, oof := knifeEdgePages()
	opt := TrainOptions{}
	opt.defaults()
	opt.MaxAdjacentFPR = 1 // precision alone decides here
	th := chooseThresholds(ps, []string{"gambling"}, oof, opt)
	if th[ThresholdLowest] != 0.75 {
		t.Errorf("lowest rule chose %v, want 0.75 (the first threshold above the clean pages' 0.72)", th[ThresholdLowest])
	}
	if th[ThresholdLowerBound] != 0.75 {
		t.Errorf("lower-bound rule chose %v, want 0.75 (200 of 202 right: lower bound 0.977)", th[ThresholdLowerBound])
	}
	if th[ThresholdBagged] < 0.75-1e-9 || th[ThresholdBagged] > 0.95 {
		t.Errorf("bagged rule chose %v, want within [0.75, 0.95]", th[ThresholdBagged])
	}
	again := chooseThresholds(ps, []string{"gambling"}, oof, opt)
	if again[ThresholdBagged] != th[ThresholdBagged] {
		t.Errorf("bagged rule not deterministic: %v then %v", th[ThresholdBagged], again[ThresholdBagged])
	}
}

func TestGroupFoldsSeeded(t *testing.T) {
	ps, _ := knifeEdgePages()
	base := GroupFolds(ps, 5)
	zero := GroupFoldsSeeded(ps, 5, 0)
	for i := range ps {
		if base[i] != zero[i] {
			t.Fatalf("seed 0 differs from GroupFolds at page %d", i)
		}
	}
	one, two := GroupFoldsSeeded(ps, 5, 1), GroupFoldsSeeded(ps, 5, 2)
	differ := false
	fold := map[string]int{}
	for i, p := range ps {
		if f, ok := fold[p.Group]; ok && f != one[i] {
			t.Fatalf("group %s split across folds %d and %d", p.Group, f, one[i])
		}
		fold[p.Group] = one[i]
		differ = differ || one[i] != two[i]
	}
	if !differ {
		t.Error("seeds 1 and 2 drew the same folds")
	}
}

// Piracy pages score 0.9 and the topic-adjacent clean pages 0.72 for
// piracy; gambling pages score 0.6 and nothing clean scores over 0.3 for
// it. One shared threshold must stay above 0.72 and so finds no gambling
// page; a threshold per category keeps piracy above the clean pages and
// lowers gambling to its pages.
func TestChooseCategoryThresholds(t *testing.T) {
	var ps []TrainPage
	piracy, gambling := []float64{}, []float64{}
	for s := 0; s < 20; s++ {
		for i := 0; i < 3; i++ {
			ps = append(ps, TrainPage{Group: fmt.Sprintf("iptv%d", s), Labels: map[string]bool{"piracy": true}})
			piracy, gambling = append(piracy, 0.9), append(gambling, 0.1)
			ps = append(ps, TrainPage{Group: fmt.Sprintf("casino%d", s), Labels: map[string]bool{"gambling": true}})
			piracy, gambling = append(piracy, 0.1), append(gambling, 0.6)
		}
		ps = append(ps, TrainPage{Group: fmt.Sprintf("player%d", s), Labels: map[string]bool{}, Adjacent: true})
		piracy, gambling = append(piracy, 0.72), append(gambling, 0.3)
	}
	opt := TrainOptions{}
	opt.defaults()
	cats := []string{"piracy", "gambling", "weapons"}
	oof := [][]float64{piracy, gambling, nil}
	shared := chooseThresholds(ps, cats, oof, opt)
	if shared[ThresholdLowest] != 0.75 {
		t.Errorf("shared lowest rule chose %v, want 0.75", shared[ThresholdLowest])
	}
	th := chooseCategoryThresholds(ps, cats, oof, opt)
	if th["piracy"] != 0.75 {
		t.Errorf("piracy threshold %v, want 0.75 (the lowest above the clean pages' 0.72)", th["piracy"])
	}
	if th["gambling"] != 0.5 {
		t.Errorf("gambling threshold %v, want 0.5 (nothing clean scores near its pages)", th["gambling"])
	}
	if _, ok := th["weapons"]; ok {
		t.Errorf("a category without a model got a threshold: %v", th)
	}
	again := chooseCategoryThresholds(ps, cats, oof, opt)
	if again["piracy"] != th["piracy"] || again["gambling"] != th["gambling"] {
		t.Errorf("not deterministic: %v then %v", th, again)
	}
}
