// Command train-content trains the learned path of the prohibited_content
// detector (detectors/prohibited, issue 18) and measures it honestly.
//
//	train-content [--cache DIR] [--out FILE]    train on the real corpus and the
//	                                            hand-written one, write the model
//	train-content --eval [--folds 5]            grouped cross-validation, per
//	                                            category and language, plus the
//	                                            blind round and the own corpus
//
// Training needs the real-page corpus in the cache (content-corpus build
// fills it from the fetched repositories the manifest names); the
// committed model records the manifest's hash. Everything is
// deterministic: the same corpus gives the same model file, byte for byte.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"affwatch/crawler"
	"affwatch/detectors/prohibited"
	"affwatch/fixtures/pages"
	"affwatch/fixtures/pages/real"
	"affwatch/rules"
)

// trainOpt is the trainer's settings (flags for experiments; the
// committed model uses the defaults).
var trainOpt prohibited.TrainOptions

// oofPath, when set, receives the out-of-fold scores of --eval.
var oofPath string

// cueText is the cue file the models of this run are trained with ("" with --no-cues).
var cueText string

// usePackThresholds judges out-of-fold probabilities by the rule pack's
// thresholds instead of the one each fold's model chose.
var usePackThresholds bool

// noCues trains without the cue features (for comparison).
var noCues bool

// perCategory judges (with --eval) and reports (when training) the
// threshold chosen per category instead of the shared one.
var perCategory bool

// withPending adds the rows waiting for the next training (pending.csv)
// to the corpus of --eval; allowMissing lets training go on without
// every manifest page.
var withPending, allowMissing bool

// headingsAsHead reads the page's h1 and h2 headings as part of its title
// (an experiment: the crawler does not keep headings, so a model trained
// so cannot be shipped).
var headingsAsHead bool

// foldSeed draws the cross-validation's folds (0: the deterministic draw
// by site size).
var foldSeed uint64

type page struct {
	prohibited.TrainPage
	lang     string
	source   string // real, own, heldout
	adjacent bool
	id       string
	page     prohibited.Page
}

func main() {
	cache := flag.String("cache", real.DefaultCache, "directory of the real-page corpus (content-corpus build)")
	out := flag.String("out", "detectors/prohibited/model/content.model.gz", "model file to write")
	evalMode := flag.Bool("eval", false, "measure instead of training: grouped cross-validation per category and language")
	folds := flag.Int("folds", 5, "folds of the grouped cross-validation")
	heldout := flag.String("heldout", "fixtures/pages/heldout", "the blind round, never trained on")
	flag.BoolVar(&usePackThresholds, "pack-thresholds", false, "with --eval: judge the model by the rule pack's <category>_min_probability instead of the threshold each fold's model chose on its own training pages")
	flag.BoolVar(&withPending, "pending", false, "with --eval: add the rows waiting for the next training (fixtures/pages/real/pending.csv) to the corpus, to measure them before they are promoted (content-corpus promote)")
	flag.BoolVar(&allowMissing, "allow-missing", false, "train although some manifest pages are not in --cache (the model then differs from one trained on the whole corpus; the header counts the missing pages)")
	flag.BoolVar(&headingsAsHead, "headings-as-head", false, "with --eval: read the h1 and h2 headings of the real pages as part of their title (an experiment; the crawler does not keep headings)")
	flag.BoolVar(&noCues, "no-cues", false, "train without the cue-word features (for comparison)")
	flag.StringVar(&oofPath, "oof", "", "with --eval: write each real page's fold, its fold's threshold, the categories the model and the phrase path flag, and its out-of-fold probabilities to this CSV (for diagnosis)")
	flag.IntVar(&trainOpt.Epochs, "epochs", 0, "training passes (0: the default)")
	flag.Float64Var(&trainOpt.L2, "l2", 0, "weight decay (0: the default)")
	flag.Float64Var(&trainOpt.MaxPosRatio, "pos-weight", 0, "most a positive page weighs, in negatives (0: the default)")
	flag.Float64Var(&trainOpt.GroupPower, "group-power", 0, "pages weigh 1/group size^this (0: the default, 1: every site weighs the same; negative: unweighted)")
	flag.Uint64Var(&foldSeed, "fold-seed", 0, "with --eval: draw the folds with this seed (0: sites dealt by size, the committed figures' folds)")
	flag.StringVar(&trainOpt.ThresholdRule, "threshold-rule", "", "how the trainer chooses its threshold: "+strings.Join(prohibited.ThresholdRules, ", ")+" (empty: the default); --eval reports every rule side by side on the same fold models and judges the tables by this one")
	flag.IntVar(&trainOpt.CalibFolds, "calib-folds", 0, "grouped folds of the out-of-fold scores the calibration and the threshold are fitted on (0: the default)")
	flag.BoolVar(&perCategory, "per-category", false, "judge the model (--eval) by the threshold each fold's model chose per category on its own training pages, and print the per-category thresholds when training (the shared threshold is reported beside it)")
	flag.Float64Var(&trainOpt.AdjacentWeight, "adjacent-weight", 0, "topic-adjacent clean pages weigh this many times their site weight in training (0: the default, 1; 3 for comparison: over three fold draws of the tenth corpus round's final corpus, 3 raised recall by 0.010 and lowered precision by 0.002 and raised the adjacent FPR by 0.002 on the means, docs/BENCHMARKS.md)")
	flag.IntVar(&trainOpt.Dim, "dim", 0, "hashed feature buckets, a power of two (0: the default, 2^20; 262144 for the 2^18 of models before pack 2026.12.14, for comparison)")
	flag.IntVar(&trainOpt.MinGroups, "min-groups", 0, "learn only features that pages of this many groups carry (0: the default, negative: all)")
	flag.IntVar(&trainOpt.Features.CharMin, "char-min", 0, "shortest character n-gram of a word (0: the default, 3)")
	flag.IntVar(&trainOpt.Features.CharMax, "char-max", 0, "longest character n-gram of a word (0: the default, 5)")
	flag.BoolVar(&trainOpt.Features.URLPath, "url-path", true, "read the words of the page's URL path as a field of their own (in grouped cross-validation of the eighth corpus round, over three fold draws, precision and recall higher on average than without and the same adjacent false-positive rate, docs/BENCHMARKS.md; --url-path=false for comparison)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: train-content [--eval] [flags]\n\nTrains (or, with --eval, cross-validates) the learned classifier of prohibited_content.\nThe real-page corpus must be in --cache: run `go run ./cmd/content-corpus build` first.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if d := trainOpt.Dim; d != 0 && (d < 1<<10 || d > 1<<22 || d&(d-1) != 0) {
		fmt.Fprintf(os.Stderr, "train-content: --dim %d: want a power of two from 1024 (2^10) to 4194304 (2^22)\n", d)
		os.Exit(2)
	}
	if trainOpt.Features.CharMin == 0 {
		trainOpt.Features.CharMin = prohibited.DefaultFeatureSettings.CharMin
	}
	if trainOpt.Features.CharMax == 0 {
		trainOpt.Features.CharMax = prohibited.DefaultFeatureSettings.CharMax
	}
	if err := run(*cache, *out, *heldout, *evalMode, *folds); err != nil {
		fmt.Fprintf(os.Stderr, "train-content: %v\n", err)
		os.Exit(1)
	}
}

func run(cache, out, heldoutDir string, evalMode bool, folds int) error {
	pack, err := rules.Default()
	if err != nil {
		return err
	}
	rule, err := pack.Rule(prohibited.RuleName)
	if err != nil {
		return err
	}
	model, err := prohibited.NewModel(rule)
	if err != nil {
		return err
	}
	var cats []string
	for _, c := range model.Categories() {
		cats = append(cats, c.Name)
	}
	maxText := int(model.Thresholds().MaxTextChars)
	rows, err := real.Manifest()
	if err != nil {
		return err
	}
	if withPending {
		if !evalMode {
			return fmt.Errorf("--pending measures the pending rows (with --eval); to train on them, promote them first: go run ./cmd/content-corpus promote")
		}
		pending, err := real.Pending()
		if err != nil {
			return err
		}
		fmt.Printf("With the %d rows waiting for the next training (pending.csv).\n", len(pending))
		rows = append(rows, pending...)
	}
	realPages, missing, err := real.Load(cache, rows)
	if err != nil {
		return err
	}
	if len(realPages) == 0 && evalMode {
		fmt.Printf("The real-page corpus is not in %s (%d pages in the manifest): grouped cross-validation needs it (go run ./cmd/content-corpus build, with the repositories fetched).\nScoring the committed model instead.\n\n", cache, len(rows))
		return evalCommitted(heldoutDir, model, maxText, cats)
	}
	if len(realPages) == 0 {
		return fmt.Errorf("no page of the real corpus in %s (%d in the manifest): run `go run ./cmd/content-corpus build` with the repositories fetched", cache, len(rows))
	}
	if err := checkMissing(missing, len(rows), cache, evalMode, allowMissing); err != nil {
		return err
	}
	if missing > 0 {
		fmt.Fprintf(os.Stderr, "train-content: %d of %d manifest pages are not in %s; using the %d present\n", missing, len(rows), cache, len(realPages))
	}
	var cues *prohibited.Cues
	if !noCues {
		if cues, err = prohibited.CompileCues(prohibited.DefaultCues()); err != nil {
			return err
		}
		cueText = cues.Text()
	}
	featuresOf := func(p prohibited.Page) ([]prohibited.Feature, []float32) {
		return prohibited.PageFeaturesWith(p, trainOpt.Features, featureDim(), maxText, cues)
	}
	var train []page
	for _, rp := range realPages {
		// the URL the page would be crawled at, not its repository path
		u, _ := url.Parse("https://" + strings.ReplaceAll(rp.Group, "/", ".") + ".example" + real.ServedPath(rp.Path))
		info := crawler.Extract(u, real.Prepare(rp.Path, rp.HTML))
		p := prohibited.Page{URL: u.String(), Title: info.Title, Description: info.Description, Keywords: info.Keywords, Text: info.Text}
		if headingsAsHead {
			p.Title = strings.TrimSpace(p.Title + " " + headings(real.Prepare(rp.Path, rp.HTML)))
		}
		labels := map[string]bool{}
		if rp.Label != real.Clean {
			for _, l := range rp.Labels() {
				labels[l] = true
			}
		}
		fs, dense := featuresOf(p)
		train = append(train, page{TrainPage: prohibited.TrainPage{Features: fs, Dense: dense, Labels: labels, Group: "real:" + rp.Group},
			lang: rp.Language, source: "real", adjacent: rp.Adjacent, id: rp.ID, page: p})
	}
	own, err := pages.Load()
	if err != nil {
		return err
	}
	for _, op := range own {
		p := prohibited.CorpusPage(op.File, op.HTML)
		labels := map[string]bool{}
		for _, c := range op.Categories {
			labels[c] = true
		}
		// each hand-written page stands for a site of its own
		fs, dense := featuresOf(p)
		train = append(train, page{TrainPage: prohibited.TrainPage{Features: fs, Dense: dense, Labels: labels, Group: "own:" + op.File},
			lang: op.Language, source: "own", adjacent: len(op.Categories) == 0 && adjacentNote(op.Note), id: op.File, page: p})
	}
	tps := make([]prohibited.TrainPage, len(train))
	for i, p := range train {
		// what the threshold is chosen on: real pages, the topic-adjacent
		// ones, and what the phrase and concept paths already flag
		p.Written = p.source != "real"
		p.Adjacent = p.adjacent
		p.Flagged = map[string]bool{}
		for _, cr := range model.ClassifyRules(p.page).Flagged() {
			p.Flagged[cr.Category] = true
		}
		train[i] = p
		tps[i] = p.TrainPage
	}
	if !evalMode {
		start := time.Now()
		h, w, chosen, err := prohibited.TrainAllThresholds(tps, cats, trainOpt)
		if err != nil {
			return err
		}
		ruleTh := chosen.Shared
		if cues != nil {
			h.Cues = cues.Text()
		}
		h.ManifestSHA256 = real.ManifestSHA256()
		h.OwnSHA256 = ownHash(own)
		h.Trainer = fmt.Sprintf("train-content: logistic regression per category (AdaGrad, 12 epochs), hashed words, word pairs and character 3-5-grams carried by pages of at least 3 groups, and dense features of the cue words (model/cues.txt), %s, Platt-calibrated on 5 grouped folds; one threshold chosen on the same out-of-fold scores (the mean over 200 site resamples of the lowest threshold with detector precision ≥ 0.95 and topic-adjacent FPR ≤ 0.05 on real pages); %d real pages (%d unreachable) + %d hand-written", adjacentWeighting(), len(realPages), missing, len(own))
		var buf bytes.Buffer
		if err := prohibited.WriteLearned(&buf, h, w); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s: %d bytes, %d categories, %d pages, %.1fs; threshold chosen on the training pages: %.2f (set every <category>_min_probability of the rule pack to it)\n", out, buf.Len(), len(h.Categories), len(tps), time.Since(start).Seconds(), h.Threshold)
		for _, c := range h.Categories {
			fmt.Printf("  %-20s positives %4d\n", c.Name, c.Positives)
		}
		fmt.Printf("thresholds every rule chooses on the same out-of-fold scores:")
		for _, r := range prohibited.ThresholdRules {
			fmt.Printf(" %s %.2f", r, ruleTh[r])
		}
		fmt.Println()
		fmt.Printf("thresholds per category on the same out-of-fold scores%s:", map[bool]string{true: " (--per-category: set each <category>_min_probability to its own)", false: ""}[perCategory])
		for _, c := range h.Categories {
			fmt.Printf(" %s %.2f", c.Name, chosen.PerCategory[c.Name])
		}
		fmt.Println()
		return nil
	}
	return evaluate(train, tps, cats, folds, heldoutDir, rule, model, maxText)
}

// adjacentWeight is the weight of the topic-adjacent pages this run trains with.
// checkMissing refuses to train on part of the corpus unless asked to:
// the committed model must be the one the manifest gives on any machine,
// and a model of part of the corpus is a different model. Measuring
// (--eval) on the pages present is allowed; it says how many are missing.
func checkMissing(missing, total int, cache string, evalMode, allow bool) error {
	if missing == 0 || evalMode || allow {
		return nil
	}
	return fmt.Errorf("%d of %d manifest pages are not in %s: rebuild the corpus (go run ./cmd/content-corpus build lists the repositories to fetch), or train on the pages present with --allow-missing", missing, total, cache)
}

// headings returns the text of a page's h1 and h2 headings, at most 512
// bytes.
func headings(html []byte) string {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(html))
	if err != nil {
		return ""
	}
	var b strings.Builder
	doc.Find("h1, h2").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		b.WriteString(strings.Join(strings.Fields(s.Text()), " "))
		b.WriteByte(' ')
		return b.Len() < 512
	})
	out := b.String()
	if len(out) > 512 {
		out = strings.ToValidUTF8(out[:512], "")
	}
	return out
}

func adjacentWeight() float64 {
	if trainOpt.AdjacentWeight == 0 {
		return prohibited.DefaultAdjacentWeight
	}
	return trainOpt.AdjacentWeight
}

// adjacentWeighting says how the topic-adjacent clean pages weighed in
// training, for the model's header.
func adjacentWeighting() string {
	if w := adjacentWeight(); w != 1 {
		return fmt.Sprintf("topic-adjacent clean pages weighing %g times their site weight", w)
	}
	return "topic-adjacent clean pages weighing as much as the other pages of their site"
}

func adjacentNote(note string) bool {
	n := strings.ToLower(note)
	for _, w := range []string{"news", "law", "help", "review", "addiction", "regulat", "police", "court", "memorial", "parental", "security", "hunting", "recipe", "coupon", "pharmacy"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func ownHash(own []pages.Page) string {
	var b bytes.Buffer
	for _, p := range own {
		b.WriteString(p.File)
		b.Write(p.HTML)
	}
	return fmt.Sprintf("%x", sha256sum(b.Bytes()))
}

type counts struct{ tp, fp, fn, tn int }

func (c *counts) add(want, got bool) {
	switch {
	case want && got:
		c.tp++
	case !want && got:
		c.fp++
	case want && !got:
		c.fn++
	default:
		c.tn++
	}
}

func ratio(a, b int) string {
	if b == 0 {
		return "   –"
	}
	return fmt.Sprintf("%.3f", float64(a)/float64(b))
}

func evaluate(all []page, tps []prohibited.TrainPage, cats []string, k int, heldoutDir string, rule rules.Rule, rmodel *prohibited.Model, maxText int) error {
	start := time.Now()
	folds := prohibited.GroupFoldsSeeded(tps, k, foldSeed)
	probs := make([]map[string]float64, len(all))
	// each page is judged at the threshold its fold's model chose on its
	// own training pages (nested: the test fold never chose it); every
	// threshold rule chooses on the same fold model's training scores
	foldTh := make([]float64, k)
	ruleTh := map[string][]float64{}
	for _, r := range prohibited.ThresholdRules {
		ruleTh[r] = make([]float64, k)
	}
	catTh := make([]map[string]float64, k)
	for f := 0; f < k; f++ {
		var train []prohibited.TrainPage
		for i, p := range tps {
			if folds[i] != f {
				train = append(train, p)
			}
		}
		h, w, chosen, err := prohibited.TrainAllThresholds(train, cats, trainOpt)
		if err != nil {
			return err
		}
		for r, t := range chosen.Shared {
			ruleTh[r][f] = t
		}
		catTh[f] = chosen.PerCategory
		m, err := roundTrip(h, w)
		if err != nil {
			return err
		}
		for i := range all {
			if folds[i] == f {
				probs[i] = m.Probabilities(all[i].page, maxText)
			}
		}
		foldTh[f] = h.Threshold
		fmt.Fprintf(os.Stderr, "fold %d/%d done (%.0fs), threshold %.2f\n", f+1, k, time.Since(start).Seconds(), h.Threshold)
	}
	th := map[string]float64{}
	minProb, err := prohibited.MinProbabilities(rule)
	if err != nil {
		return err
	}
	for _, c := range cats {
		v, ok := minProb[c]
		if !ok {
			v = 0.5
		}
		th[c] = v
	}
	type decider func(i int, cat string) bool
	byCategory := func(i int, cat string) bool {
		t, ok := catTh[folds[i]][cat]
		return ok && probs[i][cat] >= t
	}
	learned := func(i int, cat string) bool {
		if usePackThresholds {
			return probs[i][cat] >= th[cat]
		}
		if perCategory {
			return byCategory(i, cat)
		}
		return probs[i][cat] >= foldTh[folds[i]]
	}
	rulesFlag := make([]map[string]bool, len(all))
	for i, p := range all {
		rulesFlag[i] = p.Flagged
	}
	rulesOnly := func(i int, cat string) bool { return rulesFlag[i][cat] }
	either := func(i int, cat string) bool { return learned(i, cat) || rulesOnly(i, cat) }

	if oofPath != "" {
		if err := writeOOF(oofPath, all, cats, probs, rulesFlag, folds, foldTh, learned); err != nil {
			return err
		}
	}
	nReal, nOwn := 0, 0
	perCat := map[string]int{}
	for _, p := range all {
		if p.source == "real" {
			nReal++
			for c := range p.Labels {
				perCat[c]++
			}
		} else {
			nOwn++
		}
	}
	fmt.Printf("Grouped %d-fold cross-validation (pages of one site or repository never on both sides): %d real pages from %d groups, %d hand-written pages; %.0fs\n", k, nReal, groups(all, "real"), nOwn, time.Since(start).Seconds())
	if usePackThresholds {
		fmt.Printf("The model's decisions at the rule pack's <category>_min_probability.\n\n")
	} else if perCategory {
		fmt.Printf("The model's decisions at the threshold per category each fold's model chose on its own training pages (nested, --per-category).\n\n")
	} else {
		fmt.Printf("The model's decisions at the threshold each fold's model chose on its own training pages (nested): %v.\n\n", foldTh)
	}
	// recallPerCategory is the recall on real pages of every category
	// with at least 20 of them, under decide.
	recallPerCategory := func(decide func(i int, cat string) bool) string {
		var per []string
		for _, cat := range cats {
			if perCat[cat] < 20 {
				continue
			}
			var cc counts
			for i, p := range all {
				if p.source == "real" {
					cc.add(p.Labels[cat], decide(i, cat))
				}
			}
			per = append(per, fmt.Sprintf("%s %s", cat, ratio(cc.tp, cc.tp+cc.fn)))
		}
		return strings.Join(per, ", ")
	}
	fmt.Printf("Folds drawn with seed %d. == threshold rules side by side (each fold judged at the threshold the rule chose on that fold's training pages; the detector's decision on real pages) ==\n", foldSeed)
	fmt.Printf("%-12s %-30s %9s %7s %10s %13s\n", "rule", "fold thresholds", "precision", "recall", "clean FPR", "adjacent FPR")
	for _, r := range prohibited.ThresholdRules {
		th := ruleTh[r]
		decide := func(i int, cat string) bool { return probs[i][cat] >= th[folds[i]] || rulesFlag[i][cat] }
		c, cl, ca := overall(all, cats, decide)
		var ts []string
		for _, t := range th {
			ts = append(ts, fmt.Sprintf("%.2f", t))
		}
		fmt.Printf("%-12s %-30s %9s %7s %10s %13s\n", r, strings.Join(ts, " "), ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn), ratio(cl.fp, cl.fp+cl.tn), ratio(ca.fp, ca.fp+ca.tn))
		fmt.Printf("%-12s recall per category (≥ 20 pages): %s\n", "", recallPerCategory(decide))
	}
	// the per-category procedure on the same fold models
	{
		decide := func(i int, cat string) bool { return byCategory(i, cat) || rulesFlag[i][cat] }
		c, cl, ca := overall(all, cats, decide)
		fmt.Printf("%-12s %-30s %9s %7s %10s %13s\n", "per-category", "(below)", ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn), ratio(cl.fp, cl.fp+cl.tn), ratio(ca.fp, ca.fp+ca.tn))
		var ths []string
		for _, cat := range cats {
			var ts []string
			for f := 0; f < k; f++ {
				if t, ok := catTh[f][cat]; ok {
					ts = append(ts, fmt.Sprintf("%.2f", t))
				}
			}
			if len(ts) > 0 {
				ths = append(ths, cat+" "+strings.Join(ts, "/"))
			}
		}
		fmt.Printf("%-12s recall per category (≥ 20 pages): %s\n", "", recallPerCategory(decide))
		fmt.Printf("%-12s fold thresholds per category: %s\n", "", strings.Join(ths, "; "))
	}
	fmt.Println()
	for _, d := range []struct {
		name string
		f    decider
	}{{"learned", learned}, {"phrases+concepts (before)", rulesOnly}, {"learned OR phrases+concepts (the detector)", either}} {
		fmt.Printf("== decision: %s ==\n", d.name)
		table(all, cats, d.f, perCat)
		fmt.Println()
	}
	// how the detector's decision moves with one threshold for every
	// category (chosen on these same folds: read it as a sensitivity, not
	// as an unseen measure)
	fmt.Println("== the detector's decision with one <category>_min_probability for all categories (real pages) ==")
	fmt.Printf("%-10s %9s %7s %10s %13s\n", "threshold", "precision", "recall", "clean FPR", "adjacent FPR")
	for _, t := range []float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.95} {
		c, cl, ca := overall(all, cats, func(i int, cat string) bool { return probs[i][cat] >= t || rulesFlag[i][cat] })
		fmt.Printf("%-10.2f %9s %7s %10s %13s\n", t, ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn), ratio(cl.fp, cl.fp+cl.tn), ratio(ca.fp, ca.fp+ca.tn))
	}
	fmt.Println()
	// blind round: the model trained on everything else
	hp, err := loadHeldOut(heldoutDir)
	if err != nil {
		fmt.Printf("blind round: not scored (%v)\n", err)
		return nil
	}
	h, w, err := prohibited.Train(tps, cats, trainOpt)
	if err != nil {
		return err
	}
	m, err := roundTrip(h, w)
	if err != nil {
		return err
	}
	type scored struct {
		pr       map[string]float64
		rf, want map[string]bool
	}
	var hs []scored
	for _, op := range hp {
		p := prohibited.CorpusPage(op.File, op.HTML)
		sc := scored{pr: m.Probabilities(p, maxText), rf: map[string]bool{}, want: map[string]bool{}}
		for _, cr := range rmodel.ClassifyRules(p).Flagged() {
			sc.rf[cr.Category] = true
		}
		for _, c := range op.Categories {
			sc.want[c] = true
		}
		hs = append(hs, sc)
	}
	blindTh := th
	if !usePackThresholds {
		blindTh = map[string]float64{}
		for _, c := range cats {
			blindTh[c] = h.Threshold
		}
	}
	var lc, rc, ec counts
	for _, sc := range hs {
		for _, c := range cats {
			lc.add(sc.want[c], sc.pr[c] >= blindTh[c])
			rc.add(sc.want[c], sc.rf[c])
			ec.add(sc.want[c], sc.pr[c] >= blindTh[c] || sc.rf[c])
		}
	}
	fmt.Printf("== blind round (fixtures/pages/heldout, %d pages, never trained on; category decisions) ==\n", len(hp))
	fmt.Printf("%-44s %4s %4s %4s %9s %7s\n", "decision", "TP", "FP", "FN", "precision", "recall")
	for _, r := range []struct {
		n string
		c counts
	}{{"learned", lc}, {"phrases+concepts (before)", rc}, {"learned OR phrases+concepts (the detector)", ec}} {
		fmt.Printf("%-44s %4d %4d %4d %9s %7s\n", r.n, r.c.tp, r.c.fp, r.c.fn, ratio(r.c.tp, r.c.tp+r.c.fp), ratio(r.c.tp, r.c.tp+r.c.fn))
	}
	for _, t := range []float64{0.5, 0.7, 0.8, 0.9, 0.95} {
		var c counts
		for _, sc := range hs {
			for _, cat := range cats {
				c.add(sc.want[cat], sc.pr[cat] >= t || sc.rf[cat])
			}
		}
		fmt.Printf("%-44s %4d %4d %4d %9s %7s\n", fmt.Sprintf("the detector, one threshold %.2f", t), c.tp, c.fp, c.fn, ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn))
	}
	return nil
}

// overall is the detector's page-level counts on real pages (a violating
// page flagged only for another category is a miss and a false alarm), on
// the clean ones and on the topic-adjacent clean ones.
func overall(all []page, cats []string, decide func(int, string) bool) (c, clean, adjacent counts) {
	for i, p := range all {
		if p.source != "real" {
			continue
		}
		want := len(p.Labels) > 0
		got, right := false, false
		for _, cat := range cats {
			if decide(i, cat) {
				got = true
				right = right || p.Labels[cat]
			}
		}
		tally(&c, &clean, &adjacent, want, got, right, p.adjacent)
	}
	return c, clean, adjacent
}

// tally counts one page or site: into c by addPage, and, when it is clean,
// into clean and (topic-adjacent) adjacent as flagged or not.
func tally(c, clean, adjacent *counts, want, got, right, isAdjacent bool) {
	c.addPage(want, got, right)
	if !want {
		clean.add(false, got)
		if isAdjacent {
			adjacent.add(false, got)
		}
	}
}

func groups(all []page, source string) int {
	g := map[string]bool{}
	for _, p := range all {
		if p.source == source {
			g[p.Group] = true
		}
	}
	return len(g)
}

// table prints page-level figures: a page is positive when it carries any
// label, flagged when any category is decided on it (category-level
// counts per category row); FPR on clean and topic-adjacent clean pages.
func table(all []page, cats []string, decide func(int, string) bool, perCat map[string]int) {
	fmt.Printf("%-22s %5s %4s %4s %4s %5s %9s %7s\n", "row", "pages", "TP", "FP", "FN", "TN", "precision", "recall")
	row := func(name string, keep func(p page) bool, onlyCat string) {
		var c counts
		n := 0
		for i, p := range all {
			if !keep(p) {
				continue
			}
			n++
			if onlyCat != "" {
				c.add(p.Labels[onlyCat], decide(i, onlyCat))
				continue
			}
			want := len(p.Labels) > 0
			got := false
			right := false
			for _, cat := range cats {
				if decide(i, cat) {
					got = true
					if p.Labels[cat] {
						right = true
					}
				}
			}
			c.addPage(want, got, right)
		}
		fmt.Printf("%-22s %5d %4d %4d %4d %5d %9s %7s\n", name, n, c.tp, c.fp, c.fn, c.tn, ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn))
	}
	isReal := func(p page) bool { return p.source == "real" }
	row("real: all", isReal, "")
	for _, c := range cats {
		if perCat[c] == 0 {
			continue
		}
		c := c
		row("real: "+c, isReal, c)
	}
	langs := map[string]bool{}
	for _, p := range all {
		if p.source == "real" {
			langs[p.lang] = true
		}
	}
	var ls []string
	for l := range langs {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	for _, l := range ls {
		l := l
		row("real lang "+l, func(p page) bool { return p.source == "real" && p.lang == l }, "")
	}
	var cl, ca counts
	for i, p := range all {
		if p.source != "real" || len(p.Labels) > 0 {
			continue
		}
		got := false
		for _, cat := range cats {
			got = got || decide(i, cat)
		}
		cl.add(false, got)
		if p.adjacent {
			ca.add(false, got)
		}
	}
	fmt.Printf("%-22s %5d FPR %s\n", "real: clean", cl.fp+cl.tn, ratio(cl.fp, cl.fp+cl.tn))
	fmt.Printf("%-22s %5d FPR %s\n", "real: topic-adjacent", ca.fp+ca.tn, ratio(ca.fp, ca.fp+ca.tn))
	sites := realSites(all, cats, decide)
	s, sc, sa := bySite(sites)
	fmt.Printf("%-22s %5d %4d %4d %4d %5d %9s %7s  clean sites FPR %s of %d, topic-adjacent %s of %d\n", "real: sites", len(sites), s.tp, s.fp, s.fn, s.tn,
		ratio(s.tp, s.tp+s.fp), ratio(s.tp, s.tp+s.fn), ratio(sc.fp, sc.fp+sc.tn), sc.fp+sc.tn, ratio(sa.fp, sa.fp+sa.tn), sa.fp+sa.tn)
	recall, cleanFPR := crawledSites(sites, crawler.DefaultMaxPages)
	fmt.Printf("%-22s a crawl reads up to %d pages of a site; over random draws of that many of its pages: recall %.3f, clean sites flagged %.3f\n", "real: sites crawled", crawler.DefaultMaxPages, recall, cleanFPR)
	row("own corpus (CV)", func(p page) bool { return p.source == "own" }, "")
}

// siteDecisions are one site's (group's) real pages under one decision.
type siteDecisions struct {
	labels   map[string]bool // the categories any of its pages carries
	flagged  map[string]bool // the categories decided on any of its pages
	adjacent bool            // one of its clean pages is topic-adjacent
	pages    int
	flaggedN int // pages flagged for any category
	rightN   int // pages flagged for one of the site's categories
	decided  []map[string]bool
}

// realSites gathers the out-of-fold decisions of the real pages by group,
// in the order the groups first appear (a group's pages are all in one
// test fold).
func realSites(all []page, cats []string, decide func(int, string) bool) []*siteDecisions {
	byGroup := map[string]*siteDecisions{}
	var order []*siteDecisions
	for i, p := range all {
		if p.source != "real" {
			continue
		}
		s := byGroup[p.Group]
		if s == nil {
			s = &siteDecisions{labels: map[string]bool{}, flagged: map[string]bool{}}
			byGroup[p.Group] = s
			order = append(order, s)
		}
		for l := range p.Labels {
			s.labels[l] = true
		}
		s.adjacent = s.adjacent || p.adjacent
		s.pages++
		d := map[string]bool{}
		for _, cat := range cats {
			if decide(i, cat) {
				s.flagged[cat] = true
				d[cat] = true
			}
		}
		s.decided = append(s.decided, d)
	}
	// a page is right when it is flagged for one of its site's categories,
	// known only once every page of the site is read
	for _, s := range order {
		for _, d := range s.decided {
			if len(d) > 0 {
				s.flaggedN++
			}
			for cat := range d {
				if s.labels[cat] {
					s.rightN++
					break
				}
			}
		}
	}
	return order
}

// crawledSites is the expected share of violating sites flagged for one of
// their categories, and of clean sites flagged at all, when a crawl reads
// k pages of each site drawn at random (all of them when it has fewer): a
// site escapes only when none of its k pages is flagged, so the chance is
// one minus C(n-f, k)/C(n, k), f its flagged pages of n. A real crawl
// starts at the home page and follows links, so this is a model of it,
// not a measurement.
func crawledSites(sites []*siteDecisions, k int) (recall, cleanFPR float64) {
	escape := func(n, f int) float64 {
		q := 1.0
		for i := 0; i < min(k, n); i++ {
			q *= float64(n-f-i) / float64(n-i)
			if q <= 0 {
				return 0
			}
		}
		return q
	}
	var violating, clean int
	for _, s := range sites {
		if len(s.labels) > 0 {
			violating++
			recall += 1 - escape(s.pages, s.rightN)
		} else {
			clean++
			cleanFPR += 1 - escape(s.pages, s.flaggedN)
		}
	}
	if violating > 0 {
		recall /= float64(violating)
	}
	if clean > 0 {
		cleanFPR /= float64(clean)
	}
	return recall, cleanFPR
}

// bySite counts groups of real pages (a site or a repository of one) the
// way the detector judges a site: flagged for a category when any of its
// pages is, violating when any of its pages is labelled; right when one of
// the flagged categories is one of its labels. It does not model the
// detector's extra weight for several flagged pages, so it is a bound on
// what reading every page of a site gives.
func bySite(sites []*siteDecisions) (c, clean, adjacent counts) {
	for _, s := range sites {
		right := false
		for cat := range s.flagged {
			right = right || s.labels[cat]
		}
		tally(&c, &clean, &adjacent, len(s.labels) > 0, len(s.flagged) > 0, right, s.adjacent)
	}
	return c, clean, adjacent
}

func roundTrip(h prohibited.LearnedHeader, w [][]int8) (*prohibited.Learned, error) {
	h.Cues = cueText
	var buf bytes.Buffer
	if err := prohibited.WriteLearned(&buf, h, w); err != nil {
		return nil, err
	}
	return prohibited.ReadLearned(&buf)
}

func loadHeldOut(dir string) ([]pages.Page, error) {
	f, err := os.Open(filepath.Join(dir, "labels.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	var out []pages.Page
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s/labels.csv:%d: %v", dir, line, err)
		}
		if line == 1 || len(rec) < 3 {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, filepath.Base(rec[0])))
		if err != nil {
			continue
		}
		p := pages.Page{File: filepath.Base(rec[0]), Language: rec[1], HTML: body}
		for _, c := range strings.Split(rec[2], ";") {
			if c = strings.TrimSpace(c); c != "" {
				p.Categories = append(p.Categories, c)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func sha256sum(b []byte) [32]byte { return sha256.Sum256(b) }

// evalCommitted scores the committed model on the blind round and on the
// hand-written corpus (which it was trained on: an in-sample figure) when
// the real corpus is absent, as on a fresh clone.
func evalCommitted(heldoutDir string, model *prohibited.Model, maxText int, cats []string) error {
	if model.Learned() == nil {
		return fmt.Errorf("the rule sets no <category>_min_probability: no learned path to score")
	}
	own, err := pages.Load()
	if err != nil {
		return err
	}
	hp, err := loadHeldOut(heldoutDir)
	if err != nil {
		fmt.Printf("blind round: not scored (%v)\n", err)
	}
	fmt.Printf("%-46s %5s %4s %4s %4s %9s %7s\n", "pages (category decisions of the detector)", "pages", "TP", "FP", "FN", "precision", "recall")
	for _, set := range []struct {
		name string
		ps   []pages.Page
	}{{"blind round (never trained on)", hp}, {"own corpus (trained on: in-sample)", own}} {
		var c counts
		for _, op := range set.ps {
			res := model.Classify(prohibited.CorpusPage(op.File, op.HTML))
			want := map[string]bool{}
			for _, x := range op.Categories {
				want[x] = true
			}
			got := map[string]bool{}
			for _, cr := range res.Flagged() {
				got[cr.Category] = true
			}
			for _, cat := range cats {
				c.add(want[cat], got[cat])
			}
		}
		fmt.Printf("%-46s %5d %4d %4d %4d %9s %7s\n", set.name, len(set.ps), c.tp, c.fp, c.fn, ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn))
	}
	return nil
}

// writeOOF writes the out-of-fold probability of every category and the
// phrase path's flags per real page: what a diagnosis of misses reads.
// writeOOF writes one row per real page: its fold, the threshold that
// fold's model chose, the categories the model's decision and the phrase
// path flag, and the out-of-fold probability of every category.
func writeOOF(path string, all []page, cats []string, probs []map[string]float64, rulesFlag []map[string]bool,
	folds []int, foldTh []float64, learned func(i int, cat string) bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	head := []string{"id", "group", "lang", "label", "adjacent", "fold", "fold_threshold", "model", "phrases"}
	for _, c := range cats {
		head = append(head, c)
	}
	w.Write(head)
	for i, p := range all {
		if p.source != "real" {
			continue
		}
		label := "clean"
		var labels []string
		for c := range p.Labels {
			labels = append(labels, c)
		}
		if len(labels) > 0 {
			sort.Strings(labels)
			label = strings.Join(labels, "+")
		}
		var byModel, byPhrases []string
		for _, c := range cats {
			if learned(i, c) {
				byModel = append(byModel, c)
			}
			if rulesFlag[i][c] {
				byPhrases = append(byPhrases, c)
			}
		}
		rec := []string{p.id, p.Group, p.lang, label, fmt.Sprint(p.adjacent), fmt.Sprint(folds[i]), fmt.Sprintf("%.2f", foldTh[folds[i]]),
			strings.Join(byModel, ";"), strings.Join(byPhrases, ";")}
		for _, c := range cats {
			rec = append(rec, fmt.Sprintf("%.4f", probs[i][c]))
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// addPage counts one page: want, it violates; got, it was flagged; right,
// for one of its own categories. A violating page flagged only for
// another category is a miss and a false alarm.
func (c *counts) addPage(want, got, right bool) {
	switch {
	case want && right:
		c.tp++
	case want && got:
		c.fn++
		c.fp++
	case want:
		c.fn++
	case got:
		c.fp++
	default:
		c.tn++
	}
}

// featureDim is the number of hashed buckets the pages' features are
// computed for: the trainer's, so a model trained with --dim reads its own.
func featureDim() int {
	if trainOpt.Dim > 0 {
		return trainOpt.Dim
	}
	return prohibited.DefaultDim
}
