package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"affwatch/fixtures"
)

const demoHelp = `
Self-contained demonstration: generates two weeks of synthetic traffic with
labeled fraud into a temporary directory, runs the whole nightly batch on it
and writes every output into --out. Open report.html in a browser.`

// demoClicks keeps the demo under a minute on a laptop while giving every
// labeled publisher enough traffic to be judged.
const demoClicks = 200_000

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		out  string
		seed int64
		lg   logging
		keep bool
	)
	fs := newFlagSet("demo", "affwatch demo [--out DIR]", demoHelp, stderr)
	fs.StringVar(&out, "out", "demo-out", "output directory")
	fs.Int64Var(&seed, "seed", 1, "random seed of the generated data")
	fs.BoolVar(&keep, "keep-input", false, "keep the generated input directory and print its path")
	lg.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := lg.logger(stderr)
	if err != nil {
		return err
	}
	in, err := os.MkdirTemp("", "affwatch-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(in)
	}
	log.Info("generating demo data", "dir", in, "clicks", demoClicks, "seed", seed)
	if _, err := fixtures.Generate(ctx, fixtures.Config{Seed: seed, Clicks: demoClicks, Out: in, Format: "csv"}); err != nil {
		return fmt.Errorf("generate demo data: %w", err)
	}
	// A demo starts from an empty database so it shows a full first run.
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	os.Remove(filepath.Join(out, "affwatch.duckdb"))
	os.Remove(filepath.Join(out, "affwatch.duckdb.wal"))
	o := runOptions{in: in, out: out, noCrawl: true}
	res, err := runBatch(ctx, o, log, stderr)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(filepath.Join(out, "report.html"))
	fmt.Fprintf(stdout, "demo: %d finding(s), %d recommendation(s) from generated data\n",
		res.written.Findings, res.written.Recommendations)
	if keep {
		fmt.Fprintf(stdout, "input and ground truth (labels.csv) kept in %s\n", in)
	}
	fmt.Fprintf(stdout, "report: file://%s\n", abs)
	return nil
}
