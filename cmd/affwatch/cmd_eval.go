package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"affwatch/detectors"
	"affwatch/detectors/all"
	"affwatch/eval"
	"affwatch/rules"
)

const evalHelp = `
Measures detection quality on generated data with ground truth: for each
seed and scale it generates a data set (fixtures), loads it into a fresh
in-memory DuckDB, runs the detectors and prints, per detector, true and false
positives and negatives at publisher level, precision, recall, F1 and every
hard negative that was flagged. Targets (issue 4): precision ≥ 0.95 and
recall ≥ 0.90 for every detector on every data set, no hard negative flagged.
Exit status 1 when a target is missed.

Generated data is kept in --data and reused by later runs.

Examples:
  affwatch eval                                   # seeds 1,2,3 × 20k and 2M clicks
  affwatch eval --detector cookie_stuffing --seeds 4,5,6,7
  affwatch eval --rules my-pack.yaml              # try tuned thresholds`

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		seeds, scales, only, data, rulesPath, format, botList string
		night, corpus                                         bool
	)
	fs := newFlagSet("eval", "affwatch eval [--seeds 1,2,3] [--scales 20000,2000000] [--detector CODE,...]", evalHelp, stderr)
	fs.StringVar(&seeds, "seeds", "1,2,3", "comma-separated generator seeds")
	fs.StringVar(&scales, "scales", "20000,2000000", "comma-separated click counts (each raised to the generator's minimum)")
	fs.StringVar(&only, "detector", "", "comma-separated detector codes to evaluate (default: all registered)")
	fs.StringVar(&data, "data", ".cache/eval", "directory keeping generated data sets between runs")
	fs.StringVar(&rulesPath, "rules", "", "rule pack file (default: the embedded pack)")
	fs.StringVar(&format, "format", "parquet", "format of the generated data")
	fs.StringVar(&botList, "bot-list", "", "known-bot user-agent list (crawler-user-agents JSON) instead of the pack's reference_lists.bot_user_agents.path")
	fs.BoolVar(&corpus, "corpus", true, "also score the site detectors on their labeled corpora")
	fs.BoolVar(&night, "night", false, "evaluate nightly operation: one run per day of the data as its night, findings of all nights together")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	seedList, err := parseInts(seeds)
	if err != nil {
		return usagef("--seeds: %v", err)
	}
	scaleList, err := parseInts(scales)
	if err != nil {
		return usagef("--scales: %v", err)
	}
	pack, err := rules.Load(rulesPath)
	if err != nil {
		return err
	}
	ds, err := pickDetectors(only)
	if err != nil {
		return err
	}
	cfg := eval.Config{Format: format, DataDir: data, Detectors: ds, Pack: pack, Night: night, Log: stderr, BotList: botList}
	for _, s := range seedList {
		cfg.Seeds = append(cfg.Seeds, s)
	}
	for _, s := range scaleList {
		cfg.Scales = append(cfg.Scales, int(s))
	}
	results, err := eval.Run(ctx, cfg)
	if err != nil {
		return err
	}
	ok := eval.Print(stdout, results)
	var scored []eval.CorpusScore
	for _, c := range eval.Corpora() {
		if !corpus {
			break
		}
		if only != "" && !strings.Contains(","+only+",", ","+c.Code+",") {
			continue
		}
		scores, err := c.Evaluate(ctx, pack)
		if err != nil {
			return fmt.Errorf("corpus of %s: %w", c.Code, err)
		}
		scored = append(scored, scores...)
	}
	if !eval.PrintCorpus(stdout, scored) || !ok {
		return errEvalMissed
	}
	return nil
}

var errEvalMissed = errors.New("eval: targets missed (see the table above)")

func pickDetectors(only string) ([]detectors.Detector, error) {
	reg := all.Detectors()
	if only == "" {
		return reg, nil
	}
	var out []detectors.Detector
	for _, code := range strings.Split(only, ",") {
		code = strings.TrimSpace(code)
		found := false
		for _, d := range reg {
			if d.Code() == code {
				out = append(out, d)
				found = true
			}
		}
		if !found {
			var codes []string
			for _, d := range reg {
				codes = append(codes, d.Code())
			}
			return nil, usagef("--detector %q: not a registered detector (%s)", code, strings.Join(codes, ", "))
		}
	}
	return out, nil
}

func parseInts(s string) ([]int64, error) {
	var out []int64
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%q is not a non-negative integer", part)
		}
		out = append(out, v)
	}
	return out, nil
}
