package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"affwatch/crawler"
	"affwatch/pipeline"
	"affwatch/rules"
)

const crawlHelp = `
Visits the websites of the sites dataset already loaded into the database
(affwatch load, or a previous run) and stores what it saw: DNS answers,
pages, redirect chains, favicons and logos, page-code candidates, and every
refusal or error as evidence (tables crawl_*, migration 002).

A site visited within --recrawl-after is left alone unless --force-crawl.
Private, loopback and link-local addresses are refused after every DNS
answer and every redirect unless --allow-private-networks.`

// crawlOptions are the crawler flags shared by run and crawl.
type crawlOptions struct {
	pipeline.Crawl
}

// registerTuning adds the flags beyond the contract's three (DESIGN §4).
func (o *crawlOptions) registerTuning(fs *flag.FlagSet) {
	fs.BoolVar(&o.Force, "force-crawl", false, "visit every site, even those visited within --recrawl-after")
	fs.BoolVar(&o.IgnoreRobots, "ignore-robots", false, "fetch pages robots.txt disallows (sites under enforcement)")
	fs.DurationVar(&o.TTL, "recrawl-after", crawler.DefaultRecrawlTTL, "a site visited more recently than this is not visited again")
	fs.IntVar(&o.MaxPages, "max-pages", crawler.DefaultMaxPages, "pages per site: the site URL and same-site pages linked from it")
	fs.IntVar(&o.Concurrency, "crawl-concurrency", crawler.DefaultConcurrency, "sites visited at once")
	fs.DurationVar(&o.HostDelay, "host-delay", crawler.DefaultHostDelay, "pause between two requests to one host")
	registerRender(fs, &o.Render)
}

// stage is the crawl configuration a run hands the pipeline: the
// terminal's progress bars, and the tests' last-resort dial check.
func (o crawlOptions) stage(stderr io.Writer) pipeline.Crawl {
	c := o.Crawl
	if c.DialControl == nil {
		c.DialControl = testDialControl
	}
	c.Progress, c.RenderProgress = newCrawlProgress(stderr), newRenderProgress(stderr)
	return c
}

// testDialControl is set by this package's tests to crawler.LoopbackOnly,
// so that a broken guard fails a test instead of reaching the network.
var testDialControl func(network, address string, c syscall.RawConn) error

func runCrawl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		o         crawlOptions
		db        dbOptions
		lg        logging
		out       string
		rulesPath string
	)
	fs := newFlagSet("crawl", "affwatch crawl --db FILE [flags]", crawlHelp, stderr)
	fs.StringVar(&o.DNSServer, "dns-server", "", "send every crawler DNS lookup to HOST:PORT (default: /etc/resolv.conf)")
	fs.BoolVar(&o.AllowPrivate, "allow-private-networks", false, "let the crawler reach private, loopback and link-local addresses")
	fs.StringVar(&out, "out", "", "directory holding affwatch.duckdb when --db is not given")
	fs.StringVar(&rulesPath, "rules", "", "rule pack YAML (its brands' domains are never fetched)")
	o.registerTuning(fs)
	db.register(fs)
	lg.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if db.path == "" && out == "" {
		return usagef("crawl: --db or --out is required (see affwatch crawl --help)")
	}
	if db.path == "" {
		db.path = filepath.Join(out, "affwatch.duckdb")
	}
	if _, err := os.Stat(db.path); err != nil {
		return usagef("crawl: database %s: %v (load the sites first: affwatch load or affwatch run --no-crawl)", db.path, err)
	}
	log, err := lg.logger(stderr)
	if err != nil {
		return err
	}
	pack, err := rules.Load(rulesPath)
	if err != nil {
		return err
	}
	runID, sum, err := pipeline.RunCrawl(ctx, db.config(), out, o.stage(stderr), pack, version, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "crawl %s: %d site(s) visited (%d not ok), %d fresh site(s) skipped\n", runID, sum.Visited, sum.Failed, sum.Skipped)
	return nil
}

func init() {
	// After "load": the order a nightly pipeline runs them.
	for i, c := range commands {
		if c.name == "load" {
			commands = append(commands[:i+1], append([]command{{"crawl", "visit the publishers' websites and store DNS, page and page-code evidence", runCrawl}}, commands[i+1:]...)...)
			return
		}
	}
	commands = append(commands, command{"crawl", "visit the publishers' websites and store DNS, page and page-code evidence", runCrawl})
}

// newCrawlProgress draws sites done / total and the sites that were not ok
// on a terminal; elsewhere the log lines say it.
func newCrawlProgress(stderr io.Writer) func(done, total, failed int) {
	if !isTerminal(stderr) {
		return nil
	}
	start := time.Now()
	return func(done, total, failed int) {
		fmt.Fprintf(stderr, "\r\033[Kcrawling %s, %d not ok", bar(done, total), failed)
		if done == total {
			fmt.Fprintf(stderr, " — done in %s\n", time.Since(start).Round(time.Millisecond))
		}
	}
}
