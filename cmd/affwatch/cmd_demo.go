package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"affwatch/fixtures"
	"affwatch/fixtures/sites"
	"affwatch/pipeline"
)

const demoHelp = `
Self-contained demonstration: generates two weeks of synthetic traffic with
labeled fraud into a temporary directory, serves the fixture web sites
(fixtures/sites: clean blogs and coupon sites, cookie stuffing, pop-unders,
look-alike names, hostile redirects) and their DNS on loopback, adds them to
the sites dataset, runs the whole nightly batch on it (the crawler may reach
exactly the fixture web server; every other private or loopback address
stays refused) and writes every output into --out. Open report.html in a
browser.`

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
	web, err := sites.Start()
	if err != nil {
		return fmt.Errorf("start fixture sites: %w", err)
	}
	defer web.Close()
	if err := appendSites(in, web.Rows()); err != nil {
		return err
	}
	log.Info("fixture sites on loopback", "web", web.HTTPAddr, "dns", web.DNS.Addr, "sites", len(web.Rows()))
	// A demo starts from an empty database so it shows a full first run.
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	os.Remove(filepath.Join(out, "affwatch.duckdb"))
	os.Remove(filepath.Join(out, "affwatch.duckdb.wal"))
	// The generator's sites have public-looking names: asked of the fixture
	// name server they are NXDOMAIN, so the demo never leaves the machine.
	o := runOptions{in: in, out: out, dnsServer: web.DNS.Addr}
	// The reference lists: the known-bot list `make reflists` installed
	// (unavailable, and said so, without it) and the synthetic world's own
	// CIDR files, through a pack extending the default.
	bots, _ := filepath.Abs(filepath.FromSlash(".cache/reflists/node_modules/crawler-user-agents/crawler-user-agents.json"))
	if o.rulesPath, err = fixtures.WriteReferencePack(filepath.Join(out, "reference-lists"), bots); err != nil {
		return fmt.Errorf("demo reference lists: %w", err)
	}
	o.crawl.Allow = web.Allow()
	o.crawl.HostDelay = -1
	cfg, err := o.config(log, stderr)
	if err != nil {
		return err
	}
	res, err := pipeline.Run(ctx, cfg)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(filepath.Join(out, "report.html"))
	fmt.Fprintf(stdout, "demo: %d finding(s), %d recommendation(s) from generated data\n",
		res.Findings, res.Recommendations)
	if keep {
		fmt.Fprintf(stdout, "input and ground truth (labels.csv) kept in %s\n", in)
	}
	fmt.Fprintf(stdout, "report: file://%s\n", abs)
	return nil
}

// appendSites adds the fixture sites to the generated sites dataset.
func appendSites(in string, rows []sites.Row) error {
	path := filepath.Join(in, "sites.csv")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("add fixture sites to %s: %w", path, err)
	}
	w := csv.NewWriter(f)
	for _, r := range rows {
		w.Write([]string{r.PublisherID, r.URL, r.Kind})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("add fixture sites to %s: %w", path, err)
	}
	return f.Close()
}
