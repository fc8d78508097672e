package prohibited

import (
	"math"
	"math/rand/v2"
)

// chooseCategoryThresholds chooses one threshold per category on the
// out-of-fold scores of the real training pages, under the same targets as
// the shared threshold (the detector's precision ≥ TargetPrecision and at
// most MaxAdjacentFPR of the topic-adjacent clean pages flagged, the
// phrase and concept paths counted). The shared threshold is set by the
// categories whose neighbours look most like them (IPTV player guides and
// piracy, a gun shop's classes and weapons) and holds back the categories
// whose pages stand apart; a threshold per category lets the first stay
// high and the second go lower. The choice is greedy: every category
// starts at maxThreshold, and each step lowers the category whose next
// pages add the most right decisions per wrong one while the targets
// still hold. As the bagged shared rule, it is the mean over site
// resamples of the greedy choice (a choice a few sites decide moves by a
// fraction of a step). Categories without a model are left out.
func chooseCategoryThresholds(ps []TrainPage, categories []string, oof [][]float64, opt TrainOptions) map[string]float64 {
	grid := thresholdGrid()
	var pages []int
	groupOf := map[string]int{}
	var group []int
	for i, p := range ps {
		if p.Written {
			continue
		}
		g, ok := groupOf[p.Group]
		if !ok {
			g = len(groupOf)
			groupOf[p.Group] = g
		}
		pages = append(pages, i)
		group = append(group, g)
	}
	// level[c][j]: the highest grid index at which the model flags page j
	// for category c, so every threshold at or below it flags it (-1:
	// none); fixed[c][j]: the phrase
	// and concept paths flag it whatever the threshold
	level := make([][]int, len(categories))
	fixed := make([][]bool, len(categories))
	for ci, cat := range categories {
		level[ci] = make([]int, len(pages))
		fixed[ci] = make([]bool, len(pages))
		for j, i := range pages {
			fixed[ci][j] = ps[i].Flagged[cat]
			level[ci][j] = -1
			if oof[ci] == nil {
				continue
			}
			for k, t := range grid {
				if oof[ci][i] >= t {
					level[ci][j] = k
				}
			}
		}
	}
	// byLevel[c][k]: the pages whose level for c is k
	byLevel := make([][][]int, len(categories))
	for ci := range categories {
		byLevel[ci] = make([][]int, len(grid)+1)
		for j := range pages {
			if !fixed[ci][j] && level[ci][j] >= 0 {
				byLevel[ci][level[ci][j]] = append(byLevel[ci][level[ci][j]], j)
			}
		}
	}
	levelWeight := func(ci, k int, weight []float64) float64 {
		var w float64
		for _, j := range byLevel[ci][k] {
			w += weight[group[j]]
		}
		return w
	}
	greedy := func(weight []float64) []int {
		at := make([]int, len(categories))
		nRight := make([]int, len(pages)) // flagged categories the page carries
		nFlag := make([]int, len(pages))
		var right, wrong, adj, adjFlagged float64
		flag := func(ci, j int, sign int) {
			p := ps[pages[j]]
			w := weight[group[j]]
			wasRight, wasFlagged := nRight[j] > 0, nFlag[j] > 0
			nFlag[j] += sign
			if p.Labels[categories[ci]] {
				nRight[j] += sign
			}
			isRight, isFlagged := nRight[j] > 0, nFlag[j] > 0
			b := func(x bool) float64 {
				if x {
					return 1
				}
				return 0
			}
			right += w * (b(isRight) - b(wasRight))
			wrong += w * (b(isFlagged && !isRight) - b(wasFlagged && !wasRight))
			if len(p.Labels) == 0 && p.Adjacent {
				adjFlagged += w * (b(isFlagged) - b(wasFlagged))
			}
		}
		for j := range pages {
			p := ps[pages[j]]
			if len(p.Labels) == 0 && p.Adjacent {
				adj += weight[group[j]]
			}
		}
		for ci := range categories {
			at[ci] = len(grid) - 1
			if oof[ci] == nil {
				at[ci] = len(grid)
			}
			for j := range pages {
				if fixed[ci][j] || level[ci][j] >= at[ci] {
					flag(ci, j, 1)
				}
			}
		}
		meets := func() bool {
			if right+wrong > 0 && right/(right+wrong) < opt.TargetPrecision-1e-12 {
				return false
			}
			return adjFlagged <= opt.MaxAdjacentFPR*adj+1e-12
		}
		// lower moves category ci from at[ci] to k, flagging (sign 1) or
		// unflagging (sign -1) the pages in between
		lower := func(ci, from, to, sign int) {
			for k := to; k < from; k++ {
				for _, j := range byLevel[ci][k] {
					flag(ci, j, sign)
				}
			}
		}
		for {
			best, bestTo := -1, 0
			bestGain, bestCost := 0.0, 0.0
			for ci := range categories {
				if at[ci] == 0 || at[ci] == len(grid) {
					continue
				}
				// the next step that moves a page (empty steps are free)
				for to := at[ci] - 1; to >= 0; to-- {
					r0, w0, a0 := right, wrong, adjFlagged
					lower(ci, at[ci], to, 1)
					gain, cost, ok := right-r0, (wrong-w0)+(adjFlagged-a0), meets()
					lower(ci, at[ci], to, -1)
					if gain == 0 && cost == 0 {
						continue
					}
					if ok && gain > 0 && (best < 0 || gain/(1+cost) > bestGain/(1+bestCost)+1e-12) {
						best, bestTo, bestGain, bestCost = ci, to, gain, cost
					}
					break
				}
			}
			if best < 0 {
				// the lowest threshold that makes the same decisions, as the
				// shared rules choose the lowest that meets the targets
				for ci := range categories {
					for at[ci] > 0 && at[ci] < len(grid) && levelWeight(ci, at[ci]-1, weight) == 0 {
						at[ci]--
					}
				}
				return at
			}
			lower(best, at[best], bestTo, 1)
			at[best] = bestTo
		}
	}
	nGroups := len(groupOf)
	sum := make([]float64, len(categories))
	r := rand.New(rand.NewPCG(opt.Seed, 0x7065722d636174)) // "per-cat"
	weight := make([]float64, nGroups)
	for b := 0; b < bootstrapRounds; b++ {
		for g := range weight {
			weight[g] = 0
		}
		for range nGroups {
			weight[r.IntN(nGroups)]++
		}
		for ci, k := range greedy(weight) {
			if k < len(grid) {
				sum[ci] += grid[k]
			}
		}
	}
	out := map[string]float64{}
	for ci, cat := range categories {
		if oof[ci] != nil {
			out[cat] = math.Round(sum[ci]/bootstrapRounds*100) / 100
		}
	}
	return out
}
