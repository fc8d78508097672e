// Package eval measures detection quality: it generates labeled data with
// the fixtures generator for several seeds and scales, loads each data set
// into a fresh DuckDB, runs the detectors and scores their findings against
// the ground truth at publisher level (issue 4: precision ≥ 0.95, recall ≥
// 0.90 per detector on every seed, no hard negative flagged).
//
// A label speaks only for its detector (fixtures/doc.go): a publisher
// flagged by detector D counts as a false positive of D when it is clean
// (no label at all) or a hard negative of D; a publisher labeled only for
// another detector is neither, and is listed as "other-labeled" so a
// reviewer still sees it.
package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/fixtures"
	"affwatch/loaders"
	"affwatch/loaders/reflists"
	"affwatch/rules"
	"affwatch/store"
)

// Targets of issue 4, per detector and data set.
const (
	TargetPrecision = 0.95
	TargetRecall    = 0.90
)

// Config says what to evaluate.
type Config struct {
	Seeds  []int64
	Scales []int // clicks per data set; raised to the generator's minimum
	// Format of the generated files (default parquet: fastest to load).
	Format string
	// DataDir keeps generated data sets between runs (one folder per seed
	// and scale, reused when its labels.csv exists). Empty: a temporary
	// folder removed at the end.
	DataDir   string
	Detectors []detectors.Detector
	Pack      *rules.Pack // nil: the default pack
	// Night evaluates nightly operation instead of one backfill: the
	// detectors run once per day of the data with that day as the night
	// (the look-back from the same tables), and a publisher counts as
	// flagged when any night flagged it, as an operator running affwatch
	// every night would see. Data is loaded once, as a backfill.
	Night bool
	// Log receives one line per step; nil discards.
	Log io.Writer
	// BotList overrides the pack's known-bot list path (--bot-list).
	BotList string
}

// Score is one detector's result on one data set.
type Score struct {
	Detector            string
	TP, FP, FN          int
	FalsePositives      []string // publisher ids: clean or hard negatives of this detector
	FalseNegatives      []string // "id (variant)"
	HardNegativeFlagged []string // "id (variant)"
	OtherLabeled        []string // flagged, labeled only for another detector
	Findings            int
	Seconds             float64
	// Unlabeled is set for a code the generator's publisher labels do not
	// speak for (invalid_commission audits orders, not publishers: a
	// refund is no one's fault); it is printed, never scored.
	Unlabeled bool
	Flagged   int // publishers flagged
}

// unlabeled are the codes publisher labels do not speak for.
var unlabeled = map[string]bool{detectors.InvalidCommission: true}

// Precision is TP/(TP+FP); 1 when nothing was flagged.
func (s Score) Precision() float64 {
	if s.TP+s.FP == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FP)
}

// Recall is TP/(TP+FN); 1 when there was nothing to find.
func (s Score) Recall() float64 {
	if s.TP+s.FN == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FN)
}

// F1 is the harmonic mean of precision and recall.
func (s Score) F1() float64 {
	p, r := s.Precision(), s.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Meets reports whether the score meets the targets.
func (s Score) Meets() bool {
	if s.Unlabeled {
		return true
	}
	return s.Precision() >= TargetPrecision && s.Recall() >= TargetRecall && len(s.HardNegativeFlagged) == 0
}

// Result is one data set's scores.
type Result struct {
	Seed       int64
	Clicks     int64 // click rows in the data set
	Publishers int
	Scores     []Score
}

// Run evaluates every seed × scale.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if len(cfg.Seeds) == 0 || len(cfg.Scales) == 0 {
		return nil, errors.New("eval: no seeds or scales")
	}
	if len(cfg.Detectors) == 0 {
		return nil, errors.New("eval: no detectors")
	}
	if cfg.Format == "" {
		cfg.Format = "parquet"
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	pack := cfg.Pack
	if pack == nil {
		var err error
		if pack, err = rules.Default(); err != nil {
			return nil, err
		}
	}
	dataDir := cfg.DataDir
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "affwatch-eval-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	var out []Result
	for _, clicks := range cfg.Scales {
		for _, seed := range cfg.Seeds {
			r, err := runOne(ctx, cfg, pack, dataDir, seed, clicks)
			if err != nil {
				return nil, fmt.Errorf("eval seed %d, %d clicks: %w", seed, clicks, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// Generated returns an in-memory store loaded with the generator's data
// set for seed and scale (generated into dataDir once, then reused) and its
// ground truth. The caller closes the store.
func Generated(ctx context.Context, dataDir string, seed int64, clicks int, format string, logw io.Writer) (*store.Store, []fixtures.Label, error) {
	if format == "" {
		format = "parquet"
	}
	if logw == nil {
		logw = io.Discard
	}
	// The generator's version is part of the name: a cache made by an older
	// generator is never mistaken for this one's data.
	dir := filepath.Join(dataDir, fmt.Sprintf("gen%s-seed%d-clicks%d-%s", fixtures.Version, seed, clicks, format))
	labelsPath := filepath.Join(dir, "labels.csv")
	if _, err := os.Stat(labelsPath); err != nil {
		t0 := time.Now()
		os.RemoveAll(dir)
		if _, err := fixtures.Generate(ctx, fixtures.Config{Seed: seed, Clicks: clicks, Out: dir, Format: format}); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(logw, "generated seed %d, %d clicks in %.1fs\n", seed, clicks, time.Since(t0).Seconds())
	}
	labels, err := fixtures.ReadLabels(labelsPath)
	if err != nil {
		return nil, nil, err
	}
	files, err := loaders.Discover(dir)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	t0 := time.Now()
	if _, err := loaders.Load(ctx, st, files, loaders.Options{RunID: "eval", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		st.Close()
		return nil, nil, err
	}
	fmt.Fprintf(logw, "loaded seed %d in %.1fs\n", seed, time.Since(t0).Seconds())
	return st, labels, nil
}

func runOne(ctx context.Context, cfg Config, pack *rules.Pack, dataDir string, seed int64, clicks int) (Result, error) {
	st, labels, err := Generated(ctx, dataDir, seed, clicks, cfg.Format, cfg.Log)
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	// Traffic is labeled from the pack's reference lists, as a run does.
	lists, err := reflists.Label(ctx, st.DB, pack, "eval", reflists.Options{BotList: cfg.BotList})
	if err != nil {
		return Result{}, err
	}
	for _, l := range lists.Lists {
		fmt.Fprintf(cfg.Log, "reference list %s %s: %d entries, %d clicks or orders matched\n", l.Name, l.Version, l.Entries, l.Matched)
	}
	for _, u := range lists.Unavailable {
		fmt.Fprintf(cfg.Log, "reference list unavailable: %s\n", u.Reason)
	}
	res := Result{Seed: seed}
	if err := st.DB.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM clicks), (SELECT count(*) FROM publishers)`).Scan(&res.Clicks, &res.Publishers); err != nil {
		return Result{}, err
	}
	backfill, err := detectors.ResolveNight(ctx, st.DB, detectors.BackfillNight())
	if err != nil {
		return Result{}, err
	}
	scopes := []detectors.Night{backfill}
	if cfg.Night {
		var first, last time.Time
		if err := st.DB.QueryRowContext(ctx, `SELECT min(ts), max(ts) FROM clicks`).Scan(&first, &last); err != nil {
			return Result{}, err
		}
		scopes = nil
		for d := first.UTC().Truncate(24 * time.Hour); !d.After(last); d = d.AddDate(0, 0, 1) {
			scopes = append(scopes, detectors.NightOf(d))
		}
	}
	// Several detectors may enforce one code (behaviour and page code both
	// find cookie_stuffing): a code is scored on all their findings.
	var codes []string
	found := map[string][]detectors.Finding{}
	took := map[string]float64{}
	for _, d := range cfg.Detectors {
		t0 := time.Now()
		code := d.Code()
		if _, seen := found[code]; !seen {
			codes = append(codes, code)
			found[code] = nil
		}
		for _, sc := range scopes {
			env := detectors.Env{DB: st.DB, RunID: "eval", Night: sc, Pack: pack, Signals: &detectors.Signals{}}
			got, err := detectors.RunOne(ctx, env, d)
			if err != nil {
				return Result{}, fmt.Errorf("detector %s (night %s): %w", code, sc.Date.Format(time.DateOnly), err)
			}
			found[code] = append(found[code], got...)
		}
		took[code] += time.Since(t0).Seconds()
	}
	for _, code := range codes {
		s := score(code, found[code], labels)
		s.Seconds = took[code]
		res.Scores = append(res.Scores, s)
	}
	return res, nil
}

// score compares one detector's findings with the labels.
func score(code string, fs []detectors.Finding, labels []fixtures.Label) Score {
	s := Score{Detector: code, Findings: len(fs)}
	flagged := map[string]bool{}
	for _, f := range fs {
		if f.Detector == code {
			flagged[f.PublisherID] = true
		}
	}
	s.Flagged = len(flagged)
	if unlabeled[code] {
		s.Unlabeled = true
		return s
	}
	mine := map[string]fixtures.Label{}
	labeledElsewhere := map[string]bool{}
	for _, l := range labels {
		if l.Detector == code {
			mine[l.PublisherID] = l
		} else {
			labeledElsewhere[l.PublisherID] = true
		}
	}
	for id, l := range mine {
		if l.Label != fixtures.Positive {
			continue
		}
		if flagged[id] {
			s.TP++
		} else {
			s.FN++
			s.FalseNegatives = append(s.FalseNegatives, fmt.Sprintf("%s (%s)", id, l.Variant))
		}
	}
	for id := range flagged {
		l, ok := mine[id]
		switch {
		case ok && l.Label == fixtures.Positive:
		case ok:
			s.FP++
			s.FalsePositives = append(s.FalsePositives, id)
			s.HardNegativeFlagged = append(s.HardNegativeFlagged, fmt.Sprintf("%s (%s)", id, l.Variant))
		case labeledElsewhere[id]:
			s.OtherLabeled = append(s.OtherLabeled, id)
		default:
			s.FP++
			s.FalsePositives = append(s.FalsePositives, id)
		}
	}
	for _, xs := range [][]string{s.FalsePositives, s.FalseNegatives, s.HardNegativeFlagged, s.OtherLabeled} {
		sort.Strings(xs)
	}
	return s
}

// Print writes the per-data-set tables and a verdict; it reports whether
// every detector met the targets on every data set.
func Print(w io.Writer, results []Result) bool {
	ok := true
	for _, r := range results {
		fmt.Fprintf(w, "\nseed %d · %d clicks · %d publishers\n", r.Seed, r.Clicks, r.Publishers)
		fmt.Fprintf(w, "  %-18s %4s %4s %4s %9s %7s %6s %8s  %s\n", "detector", "TP", "FP", "FN", "precision", "recall", "F1", "seconds", "verdict")
		for _, s := range r.Scores {
			if s.Unlabeled {
				fmt.Fprintf(w, "  %-18s %4s %4s %4s %9s %7s %6s %8.2f  %s\n", s.Detector, "-", "-", "-", "-", "-", "-", s.Seconds,
					fmt.Sprintf("not scored: order-level audit, %d finding(s) on %d publisher(s); its tests check each reason", s.Findings, s.Flagged))
				continue
			}
			verdict := "ok"
			if !s.Meets() {
				verdict = "MISSED"
				ok = false
			}
			fmt.Fprintf(w, "  %-18s %4d %4d %4d %9.3f %7.3f %6.3f %8.2f  %s\n", s.Detector, s.TP, s.FP, s.FN, s.Precision(), s.Recall(), s.F1(), s.Seconds, verdict)
			if len(s.HardNegativeFlagged) > 0 {
				fmt.Fprintf(w, "      hard negatives flagged: %s\n", strings.Join(s.HardNegativeFlagged, ", "))
			}
			if len(s.FalseNegatives) > 0 {
				fmt.Fprintf(w, "      missed: %s\n", strings.Join(s.FalseNegatives, ", "))
			}
			if clean := without(s.FalsePositives, s.HardNegativeFlagged); len(clean) > 0 {
				fmt.Fprintf(w, "      clean publishers flagged: %s\n", strings.Join(clean, ", "))
			}
			if len(s.OtherLabeled) > 0 {
				fmt.Fprintf(w, "      flagged, labeled for another detector only (not counted): %s\n", strings.Join(s.OtherLabeled, ", "))
			}
		}
	}
	fmt.Fprintln(w)
	if ok {
		fmt.Fprintf(w, "every detector met precision ≥ %.2f, recall ≥ %.2f and flagged no hard negative on every data set\n", TargetPrecision, TargetRecall)
	} else {
		fmt.Fprintf(w, "targets (precision ≥ %.2f, recall ≥ %.2f, no hard negative flagged) MISSED on at least one data set\n", TargetPrecision, TargetRecall)
	}
	return ok
}

func without(xs, drop []string) []string {
	d := map[string]bool{}
	for _, x := range drop {
		d[strings.SplitN(x, " ", 2)[0]] = true
	}
	var out []string
	for _, x := range xs {
		if !d[x] {
			out = append(out, x)
		}
	}
	return out
}
