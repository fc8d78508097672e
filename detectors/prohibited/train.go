package prohibited

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
)

// TrainPage is one labelled page for Train: its features and the
// categories it is about; pages of one Group (a site, a repository) are
// kept on one side of every split.
type TrainPage struct {
	Features []Feature
	Dense    []float32 // cue features (cues.go); the same length on every page
	Labels   map[string]bool
	Group    string
	// What the threshold is chosen on (chooseThreshold): Written marks a
	// page written for training and tests, not a real one (the targets
	// speak of real pages); Adjacent a clean page on a topic near a
	// category; Flagged the categories the phrase and concept paths
	// already flag on the page, so the threshold is chosen for the
	// detector's whole decision
	Written  bool
	Adjacent bool
	Flagged  map[string]bool
}

// TrainOptions are the trainer's settings; zero values take the defaults.
type TrainOptions struct {
	Dim         int     // hashed buckets (DefaultDim)
	Epochs      int     // passes over the pages (12)
	Rate        float64 // AdaGrad step (0.4)
	L2          float64 // weight decay per step on touched weights (1e-6)
	MaxPosRatio float64 // positives weigh at most this many negatives (1: unweighted; the Platt step maps the weighted scores back to probabilities)
	// GroupPower weighs each page by 1/size^GroupPower of its group (1,
	// every site weighs the same; negative: every page weighs the same).
	// A site of 150 documentation pages otherwise outweighs the single
	// pages of 40 others, and the clean side learns that site's words
	// rather than what explaining pages share (grouped cross-validation
	// of the fifth corpus round, docs/BENCHMARKS.md)
	GroupPower float64
	// AdjacentWeight multiplies the weight of the topic-adjacent clean
	// pages (1: weighed as any page). The pages that talk about a category
	// without offering it are the negatives the model confuses most (legal
	// IPTV player guides, a gun shop's training classes, drug information);
	// weighing them 3 times was as good as 1 on the starting corpus of the
	// tenth round but traded precision and adjacent FPR for recall on its
	// final corpus, over three fold draws each (docs/BENCHMARKS.md), so it
	// stays a flag for comparison
	AdjacentWeight float64
	// MinGroups: a feature is learned only when pages of at least this many
	// groups carry it (3; negative: every feature). A word only one site
	// uses (its name, its template's labels) tells that site apart, not
	// the category: on a site never seen it is noise
	MinGroups int
	// CalibFolds is the grouped folds of the out-of-fold scores that Platt
	// scaling and the threshold are fitted on (5). With 3, each score came
	// from a model trained on two thirds of the pages, further from the
	// shipped model than with 5 (four fifths): in grouped cross-validation
	// of the seventh corpus round a run's fold thresholds spread 0.21 apart
	// with 3 and 0.13–0.19 with 5, recall 0.49–0.60 across four fold draws
	// with 3 and 0.56–0.59 with 5 (docs/BENCHMARKS.md)
	CalibFolds int
	// The threshold stored in the model is the lowest at which, on the
	// out-of-fold scores of the real training pages, the detector's
	// decision reaches TargetPrecision (0.95) and flags at most
	// MaxAdjacentFPR (0.05) of the topic-adjacent clean pages, by
	// ThresholdRule
	TargetPrecision float64
	MaxAdjacentFPR  float64
	// ThresholdRule is how that threshold is chosen (ThresholdRules;
	// ThresholdBagged by default)
	ThresholdRule string
	Seed          uint64 // shuffling (1)
	// Features are the feature settings the pages' Features were computed
	// with (DefaultFeatureSettings when zero): recorded in the header
	Features FeatureSettings
}

func (o *TrainOptions) defaults() {
	if o.Dim == 0 {
		o.Dim = DefaultDim
	}
	if o.Epochs == 0 {
		o.Epochs = 12
	}
	if o.Rate == 0 {
		o.Rate = 0.4
	}
	if o.L2 == 0 {
		o.L2 = 1e-6
	}
	if o.MaxPosRatio == 0 {
		o.MaxPosRatio = 1
	}
	switch {
	case o.MinGroups == 0:
		o.MinGroups = 3
	case o.MinGroups < 0:
		o.MinGroups = 0
	}
	switch {
	case o.GroupPower == 0:
		o.GroupPower = 1
	case o.GroupPower < 0:
		o.GroupPower = 0
	}
	if o.TargetPrecision == 0 {
		o.TargetPrecision = 0.95
	}
	if o.MaxAdjacentFPR == 0 {
		o.MaxAdjacentFPR = 0.05
	}
	if o.AdjacentWeight == 0 {
		o.AdjacentWeight = DefaultAdjacentWeight
	}
	if o.CalibFolds == 0 {
		o.CalibFolds = 5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.ThresholdRule == "" {
		o.ThresholdRule = ThresholdBagged
	}
	if o.Features.CharMin == 0 && o.Features.CharMax == 0 {
		o.Features.CharMin, o.Features.CharMax = charMin, charMax
	}
}

// Train fits one calibrated logistic model per category that has at least
// one positive page. It is deterministic: the same pages in the same order
// with the same options give the same bytes.
func Train(ps []TrainPage, categories []string, opt TrainOptions) (LearnedHeader, [][]int8, error) {
	h, w, _, err := TrainThresholds(ps, categories, opt)
	return h, w, err
}

// TrainThresholds is Train that also returns the threshold every rule of
// ThresholdRules chooses on the same out-of-fold scores (the header
// records opt.ThresholdRule's): procedures compared on one model.
func TrainThresholds(ps []TrainPage, categories []string, opt TrainOptions) (LearnedHeader, [][]int8, map[string]float64, error) {
	h, w, th, err := TrainAllThresholds(ps, categories, opt)
	return h, w, th.Shared, err
}

// ChosenThresholds are what the threshold procedures choose on one model's
// out-of-fold scores of its training pages: Shared, one threshold for
// every category by each rule of ThresholdRules; PerCategory, a threshold
// per category (chooseCategoryThresholds), for categories with a model.
type ChosenThresholds struct {
	Shared      map[string]float64
	PerCategory map[string]float64
}

// TrainAllThresholds is TrainThresholds that also returns the
// per-category thresholds chosen on the same out-of-fold scores.
func TrainAllThresholds(ps []TrainPage, categories []string, opt TrainOptions) (LearnedHeader, [][]int8, ChosenThresholds, error) {
	opt.defaults()
	h := LearnedHeader{Version: LearnedVersion, Dim: opt.Dim, CharMin: opt.Features.CharMin, CharMax: opt.Features.CharMax, URLPath: opt.Features.URLPath, TrainedPages: len(ps)}
	// categories are independent: fit them side by side, keep their order
	type fitted struct {
		ok  bool
		cat LearnedCategory
		q   []int8
	}
	for _, p := range ps {
		if len(p.Dense) != len(ps[0].Dense) {
			return h, nil, ChosenThresholds{}, fmt.Errorf("pages have %d and %d cue features", len(ps[0].Dense), len(p.Dense))
		}
	}
	res := make([]fitted, len(categories))
	oof := make([][]float64, len(categories)) // calibrated out-of-fold probabilities
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for ci, cat := range categories {
		pos := 0
		for _, p := range ps {
			if p.Labels[cat] {
				pos++
			}
		}
		if pos == 0 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(ci int, cat string, pos int) {
			defer func() { <-sem; wg.Done() }()
			lm := fitOne(ps, cat, opt)
			a, b, probs := calibrate(ps, cat, opt)
			oof[ci] = probs
			res[ci] = fitted{true, LearnedCategory{Name: cat, Bias: lm.bias, Scale: lm.scale, PlattA: a, PlattB: b, Positives: pos, Dense: lm.dense}, lm.q}
		}(ci, cat, pos)
	}
	wg.Wait()
	ths := chooseThresholds(ps, categories, oof, opt)
	h.Threshold = ths[opt.ThresholdRule]
	all := ChosenThresholds{Shared: ths, PerCategory: chooseCategoryThresholds(ps, categories, oof, opt)}
	var weights [][]int8
	for _, r := range res {
		if r.ok {
			h.Categories = append(h.Categories, r.cat)
			weights = append(weights, r.q)
		}
	}
	if len(h.Categories) == 0 {
		return h, nil, ChosenThresholds{}, fmt.Errorf("no category has a positive page")
	}
	return h, weights, all, nil
}

// calibrate fits Platt scaling on out-of-fold raw scores of grouped
// folds: scores of pages the model did not see, as in production. It
// returns the calibrated out-of-fold probabilities too.
func calibrate(ps []TrainPage, cat string, opt TrainOptions) (a, b float64, probs []float64) {
	folds := GroupFolds(ps, opt.CalibFolds)
	raws := make([]float64, len(ps))
	for f := 0; f < opt.CalibFolds; f++ {
		var train []TrainPage
		var test []int
		for i, p := range ps {
			if folds[i] == f {
				test = append(test, i)
			} else {
				train = append(train, p)
			}
		}
		if len(test) == 0 || len(train) == 0 {
			continue
		}
		lm := fitOne(train, cat, opt)
		for _, i := range test {
			raws[i] = lm.raw(ps[i])
		}
	}
	labels := make([]bool, len(ps))
	for i, p := range ps {
		labels[i] = p.Labels[cat]
	}
	a, b = fitPlatt(raws, labels)
	if !(a < 0) {
		// out of fold the model ranks no better than chance (a category
		// with a few pages from one site): a calibration that rises as the
		// score falls would flag everything else, so keep the model's own
		// probability instead
		a, b = -1, 0
	}
	probs = make([]float64, len(raws))
	for i, r := range raws {
		probs[i] = 1 / (1 + math.Exp(a*r+b))
	}
	return a, b, probs
}

// DefaultAdjacentWeight is TrainOptions.AdjacentWeight when unset.
const DefaultAdjacentWeight = 1

// Bounds of the threshold the trainer chooses.
const (
	minThreshold  = 0.5 // below, a calibrated probability says the page is more likely not about the category
	maxThreshold  = 0.95
	thresholdStep = 0.05
)

// Threshold rules: how the trainer turns the out-of-fold scores of its
// real training pages into the one threshold it records.
const (
	// ThresholdLowest (the trainer's rule up to pack 2026.12.5) is the
	// lowest threshold of the grid at which the detector's decision on the
	// out-of-fold scores reaches TargetPrecision with at most
	// MaxAdjacentFPR of the topic-adjacent clean pages flagged. Where the
	// pooled precision hovers near the target over a range of thresholds
	// (the sixth corpus round: 0.946–0.952 from 0.60 to 0.80), a few pages
	// more or less move it from one end of the range to the other
	ThresholdLowest = "lowest"
	// ThresholdBagged applies the same rule to bootstrapRounds resamples of
	// the training sites (drawn with replacement, every page of a drawn site
	// counted) and records the mean of their choices: a choice that a few
	// sites decide is averaged with the choices of the samples without
	// them, so it moves by a fraction of a step where the lowest rule jumps.
	// The default: in grouped cross-validation over four fold draws as
	// good on average as the lowest rule, with steadier thresholds per fold
	// and per corpus (docs/BENCHMARKS.md, the seventh corpus round)
	ThresholdBagged = "bagged"
	// ThresholdLowerBound is the lowest threshold at which the one-sided
	// 90 % Wilson lower bound of the detector's precision reaches
	// TargetPrecision (adjacent FPR as for the lowest rule)
	ThresholdLowerBound = "lower-bound"
)

// ThresholdRules lists the rules TrainThresholds reports.
var ThresholdRules = []string{ThresholdLowest, ThresholdBagged, ThresholdLowerBound}

// bootstrapRounds is how many site resamples the bagged rule averages.
const bootstrapRounds = 200

// thresholdGrid is the trainer's candidate thresholds, minThreshold to
// maxThreshold by thresholdStep.
func thresholdGrid() []float64 {
	var g []float64
	for k := 0; ; k++ {
		t := math.Round((minThreshold+float64(k)*thresholdStep)*100) / 100
		if t > maxThreshold+1e-9 {
			return g
		}
		g = append(g, t)
	}
}

// gridCounts is, per grid threshold, the detector's counts on some real
// pages: right (a category the page carries is flagged), wrong (flagged,
// none right), adjacent clean pages and how many of them are flagged.
type gridCounts struct{ right, wrong, adj, adjFlagged []float64 }

func newGridCounts(n int) gridCounts {
	return gridCounts{make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)}
}

func (g gridCounts) addScaled(o gridCounts, w float64) {
	for i := range g.right {
		g.right[i] += w * o.right[i]
		g.wrong[i] += w * o.wrong[i]
		g.adj[i] += w * o.adj[i]
		g.adjFlagged[i] += w * o.adjFlagged[i]
	}
}

// siteGridCounts returns the counts per group of real training pages, the
// groups in order of first appearance (deterministic).
func siteGridCounts(ps []TrainPage, categories []string, oof [][]float64, grid []float64) ([]string, map[string]gridCounts) {
	var order []string
	by := map[string]gridCounts{}
	for i, p := range ps {
		if p.Written {
			continue
		}
		g, ok := by[p.Group]
		if !ok {
			g = newGridCounts(len(grid))
			by[p.Group] = g
			order = append(order, p.Group)
		}
		for k, t := range grid {
			got, right := false, false
			for ci, cat := range categories {
				if (oof[ci] != nil && oof[ci][i] >= t) || p.Flagged[cat] {
					got = true
					right = right || p.Labels[cat]
				}
			}
			switch {
			case right:
				g.right[k]++
			case got:
				g.wrong[k]++
			}
			if len(p.Labels) == 0 && p.Adjacent {
				g.adj[k]++
				if got {
					g.adjFlagged[k]++
				}
			}
		}
	}
	return order, by
}

// lowestMeeting returns the lowest grid threshold whose counts meet the
// targets (precision by point value, or by its lower bound), maxThreshold
// when none does.
func lowestMeeting(c gridCounts, grid []float64, opt TrainOptions, lowerBound bool) float64 {
	for k, t := range grid {
		tp, fp := c.right[k], c.wrong[k]
		if tp <= 0 || c.adjFlagged[k] > opt.MaxAdjacentFPR*c.adj[k] {
			continue
		}
		prec := tp / (tp + fp)
		if lowerBound {
			prec = wilsonLower(tp, tp+fp, 1.2816)
		}
		if prec >= opt.TargetPrecision-1e-12 {
			return t
		}
	}
	return maxThreshold
}

// wilsonLower is the Wilson score lower bound of a proportion of k in n at
// z standard deviations.
func wilsonLower(k, n, z float64) float64 {
	if n <= 0 {
		return 0
	}
	p := k / n
	d := 1 + z*z/n
	c := p + z*z/(2*n)
	r := z * math.Sqrt(p*(1-p)/n+z*z/(4*n*n))
	return (c - r) / d
}

// chooseThresholds returns the threshold of every rule of ThresholdRules,
// each chosen from the same out-of-fold scores of the real training pages
// (the detector's decision: a page is right when a category it carries is
// flagged, by the model at the threshold or by the other paths). One
// threshold for all categories, because per-category thresholds chosen
// this way on 3–17 sites per category did not carry over to unseen sites
// (docs/DECISIONS.md).
func chooseThresholds(ps []TrainPage, categories []string, oof [][]float64, opt TrainOptions) map[string]float64 {
	grid := thresholdGrid()
	order, by := siteGridCounts(ps, categories, oof, grid)
	all := newGridCounts(len(grid))
	for _, g := range order {
		all.addScaled(by[g], 1)
	}
	out := map[string]float64{
		ThresholdLowest:     lowestMeeting(all, grid, opt, false),
		ThresholdLowerBound: lowestMeeting(all, grid, opt, true),
	}
	r := rand.New(rand.NewPCG(opt.Seed, 0x7468726573686f6c)) // "threshol"
	sum := 0.0
	for b := 0; b < bootstrapRounds; b++ {
		sample := newGridCounts(len(grid))
		for range order {
			sample.addScaled(by[order[r.IntN(len(order))]], 1)
		}
		sum += lowestMeeting(sample, grid, opt, false)
	}
	out[ThresholdBagged] = math.Round(sum/bootstrapRounds*100) / 100
	return out
}

// linear is one category's fitted model: int8 hashed weights with their
// scale, the cue weights, the bias.
type linear struct {
	bias, scale float64
	q           []int8
	dense       []float64
}

func (l linear) raw(p TrainPage) float64 {
	var s float64
	for _, f := range p.Features {
		s += float64(l.q[f.Index]) * float64(f.Value)
	}
	r := l.bias + l.scale*s
	for j, d := range l.dense {
		r += d * float64(p.Dense[j])
	}
	return r
}

// fitOne trains one category's logistic regression with AdaGrad and
// quantizes the hashed weights to int8 (scale = max |w| / 127); the few
// cue weights stay floats.
func fitOne(ps []TrainPage, cat string, opt TrainOptions) linear {
	w := make([]float64, opt.Dim)
	g := make([]float64, opt.Dim)
	var nDense int
	if len(ps) > 0 {
		nDense = len(ps[0].Dense)
	}
	wd := make([]float64, nDense)
	gd := make([]float64, nDense)
	var b, gb float64
	pos := 0
	for _, p := range ps {
		if p.Labels[cat] {
			pos++
		}
	}
	pageW := groupWeights(ps, opt.GroupPower)
	if opt.AdjacentWeight != 1 {
		for i, p := range ps {
			if len(p.Labels) == 0 && p.Adjacent {
				pageW[i] *= opt.AdjacentWeight
			}
		}
	}
	shared := sharedFeatures(ps, opt.Dim, opt.MinGroups)
	var posSum, negSum float64
	for i, p := range ps {
		if p.Labels[cat] {
			posSum += pageW[i]
		} else {
			negSum += pageW[i]
		}
	}
	posW := 1.0
	if posSum > 0 {
		posW = math.Min(opt.MaxPosRatio, math.Max(1, negSum/posSum))
	}
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	for e := 0; e < opt.Epochs; e++ {
		r := rand.New(rand.NewPCG(opt.Seed, uint64(e)))
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			p := ps[i]
			z := b
			for _, f := range p.Features {
				z += w[f.Index] * float64(f.Value)
			}
			for j, d := range p.Dense {
				z += wd[j] * float64(d)
			}
			y, cw := 0.0, pageW[i]
			if p.Labels[cat] {
				y, cw = 1, posW*pageW[i]
			}
			grad := cw * (sigmoid(z) - y)
			for _, f := range p.Features {
				if !shared[f.Index] {
					continue
				}
				gi := grad*float64(f.Value) + opt.L2*w[f.Index]
				g[f.Index] += gi * gi
				w[f.Index] -= opt.Rate * gi / (math.Sqrt(g[f.Index]) + 1e-8)
			}
			for j, d := range p.Dense {
				if d == 0 {
					continue
				}
				gi := grad*float64(d) + opt.L2*wd[j]
				gd[j] += gi * gi
				wd[j] -= opt.Rate * gi / (math.Sqrt(gd[j]) + 1e-8)
			}
			gb += grad * grad
			b -= opt.Rate * grad / (math.Sqrt(gb) + 1e-8)
		}
	}
	maxAbs := 0.0
	for _, x := range w {
		maxAbs = math.Max(maxAbs, math.Abs(x))
	}
	scale := maxAbs / 127
	if scale == 0 {
		scale = 1
	}
	q := make([]int8, opt.Dim)
	for i, x := range w {
		q[i] = int8(math.Round(x / scale))
	}
	var dense []float64
	if nDense > 0 {
		dense = wd
	}
	return linear{bias: b, scale: scale, q: q, dense: dense}
}

// sharedFeatures marks the features that pages of at least minGroups
// groups carry (all of them when minGroups ≤ 1).
func sharedFeatures(ps []TrainPage, dim, minGroups int) []bool {
	ok := make([]bool, dim)
	if minGroups <= 1 {
		for i := range ok {
			ok[i] = true
		}
		return ok
	}
	groupOf := map[string]int32{}
	for _, p := range ps {
		if _, seen := groupOf[p.Group]; !seen {
			groupOf[p.Group] = int32(len(groupOf) + 1)
		}
	}
	last := make([]int32, dim) // the last group counted at each feature
	count := make([]uint16, dim)
	// a group's pages may be anywhere in ps: count each feature once per
	// group by visiting the pages group by group
	byGroup := make([][]int, len(groupOf)+1)
	for i, p := range ps {
		g := groupOf[p.Group]
		byGroup[g] = append(byGroup[g], i)
	}
	for g, idx := range byGroup {
		for _, i := range idx {
			for _, f := range ps[i].Features {
				if last[f.Index] != int32(g) {
					last[f.Index] = int32(g)
					if count[f.Index] < 65535 {
						count[f.Index]++
					}
				}
			}
		}
	}
	for i, c := range count {
		ok[i] = int(c) >= minGroups
	}
	return ok
}

// groupWeights gives each page 1/size^power of its group's size, scaled
// so that the weights average 1 (the step size keeps its meaning).
func groupWeights(ps []TrainPage, power float64) []float64 {
	w := make([]float64, len(ps))
	if power == 0 {
		for i := range w {
			w[i] = 1
		}
		return w
	}
	size := map[string]int{}
	for _, p := range ps {
		size[p.Group]++
	}
	var sum float64
	for i, p := range ps {
		w[i] = math.Pow(float64(size[p.Group]), -power)
		sum += w[i]
	}
	mean := sum / float64(len(ps))
	for i := range w {
		w[i] /= mean
	}
	return w
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// fitPlatt fits p = 1/(1+e^(a·raw+b)) by Newton's method on the log loss,
// with Platt's smoothed targets so a perfectly separated fold does not
// push the slope to infinity, and a backtracking line search so a nearly
// singular Hessian cannot throw the parameters off (each step must lower
// the loss).
func fitPlatt(raw []float64, y []bool) (a, b float64) {
	var np, nn float64
	for _, v := range y {
		if v {
			np++
		} else {
			nn++
		}
	}
	hi, lo := (np+1)/(np+2), 1/(nn+2)
	target := func(i int) float64 {
		if y[i] {
			return hi
		}
		return lo
	}
	loss := func(a, b float64) float64 {
		var l float64
		for i, r := range raw {
			f := a*r + b
			t := target(i)
			// −[t·log p + (1−t)·log(1−p)] with p = 1/(1+e^f), stably
			if f >= 0 {
				l += t*f + math.Log1p(math.Exp(-f))
			} else {
				l += (t-1)*f + math.Log1p(math.Exp(f))
			}
		}
		return l
	}
	a, b = 0, math.Log((nn+1)/(np+1))
	cur := loss(a, b)
	for it := 0; it < 100; it++ {
		var g1, g2, h11, h22, h21 float64
		for i, r := range raw {
			p := 1 / (1 + math.Exp(a*r+b))
			d := target(i) - p
			g1 += d * r
			g2 += d
			s := p * (1 - p)
			h11 += s * r * r
			h22 += s
			h21 += s * r
		}
		h11 += 1e-12
		h22 += 1e-12
		det := h11*h22 - h21*h21
		if det <= 0 {
			break
		}
		da := -(h22*g1 - h21*g2) / det
		db := -(-h21*g1 + h11*g2) / det
		step, improved := 1.0, false
		for k := 0; k < 30; k++ {
			na, nb := a+step*da, b+step*db
			if l := loss(na, nb); l < cur {
				a, b, cur, improved = na, nb, l, true
				break
			}
			step /= 2
		}
		if !improved || (math.Abs(step*da) < 1e-10 && math.Abs(step*db) < 1e-10) {
			break
		}
	}
	return a, b
}

// GroupFoldsSeeded is GroupFolds for seed 0; another seed deals the
// groups in an order shuffled by it, each to the fold with the fewest
// pages so far: other folds of the same pages, for measuring how much a
// figure depends on the draw.
func GroupFoldsSeeded(ps []TrainPage, k int, seed uint64) []int {
	if seed == 0 {
		return GroupFolds(ps, k)
	}
	var groups []string
	seen := map[string]bool{}
	size := map[string]int{}
	for _, p := range ps {
		size[p.Group]++
		if !seen[p.Group] {
			seen[p.Group] = true
			groups = append(groups, p.Group)
		}
	}
	sort.Strings(groups)
	r := rand.New(rand.NewPCG(seed, 0x666f6c6473)) // "folds"
	r.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	return fillFolds(ps, groups, size, k)
}

// GroupFolds assigns each page to one of k folds so that a group's pages
// share a fold: groups sorted by size (then name) go one by one to the
// fold with the fewest pages so far. Deterministic.
func GroupFolds(ps []TrainPage, k int) []int {
	size := map[string]int{}
	for _, p := range ps {
		size[p.Group]++
	}
	groups := make([]string, 0, len(size))
	for g := range size {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool {
		if size[groups[i]] != size[groups[j]] {
			return size[groups[i]] > size[groups[j]]
		}
		return groups[i] < groups[j]
	})
	return fillFolds(ps, groups, size, k)
}

// fillFolds deals the groups, in the order given, one by one to the fold
// with the fewest pages so far, and returns each page's fold.
func fillFolds(ps []TrainPage, groups []string, size map[string]int, k int) []int {
	load := make([]int, k)
	fold := map[string]int{}
	for _, g := range groups {
		best := 0
		for f := 1; f < k; f++ {
			if load[f] < load[best] {
				best = f
			}
		}
		fold[g] = best
		load[best] += size[g]
	}
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = fold[p.Group]
	}
	return out
}
