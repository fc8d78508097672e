package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"affwatch/crawler"
	"affwatch/detectors"
	"affwatch/detectors/pagecode"
	"affwatch/rules"
	"affwatch/store"
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
	dnsServer    string
	allowPrivate bool
	force        bool
	ignoreRobots bool
	ttl          time.Duration
	maxPages     int
	concurrency  int
	hostDelay    time.Duration
	// allow lists exact listeners the crawler may reach although they are
	// not public (the demo's fixture web server); never set from a flag.
	allow map[netip.AddrPort]bool
	// doNotFetch are hosts recorded as redirect targets but never requested:
	// the program's tracking hosts and the brands' own domains (requesting
	// them would generate the very clicks and visits we judge).
	doNotFetch []string
	// dialControl is a last-resort dial check (tests: crawler.LoopbackOnly).
	dialControl func(network, address string, c syscall.RawConn) error
	// part limits the visits to the sites of one partition's publishers
	// (affwatch run --partition): the other partitions visit theirs.
	part detectors.Partition
	// render is the render stage after the crawl (issue 17); pack, when
	// set, turns it on (its lists say which hosts are never contacted).
	render renderOptions
	pack   *rules.Pack
}

// registerTuning adds the flags beyond the contract's three (DESIGN §4).
func (o *crawlOptions) registerTuning(fs *flag.FlagSet) {
	fs.BoolVar(&o.force, "force-crawl", false, "visit every site, even those visited within --recrawl-after")
	fs.BoolVar(&o.ignoreRobots, "ignore-robots", false, "fetch pages robots.txt disallows (sites under enforcement)")
	fs.DurationVar(&o.ttl, "recrawl-after", crawler.DefaultRecrawlTTL, "a site visited more recently than this is not visited again")
	fs.IntVar(&o.maxPages, "max-pages", crawler.DefaultMaxPages, "pages per site: the site URL and same-site pages linked from it")
	fs.IntVar(&o.concurrency, "crawl-concurrency", crawler.DefaultConcurrency, "sites visited at once")
	fs.DurationVar(&o.hostDelay, "host-delay", crawler.DefaultHostDelay, "pause between two requests to one host")
	o.render.register(fs)
}

// testDialControl is set by this package's tests to crawler.LoopbackOnly,
// so that a broken guard fails a test instead of reaching the network.
var testDialControl func(network, address string, c syscall.RawConn) error

type crawlSummary struct {
	visited, skipped, failed int
}

// crawlSites is the crawl stage: the due sites of the sites table, visited
// and stored under runID.
func crawlSites(ctx context.Context, st *store.Store, runID string, o crawlOptions, log *slog.Logger, stderr io.Writer) (crawlSummary, error) {
	var sum crawlSummary
	if o.ttl == 0 {
		o.ttl = crawler.DefaultRecrawlTTL
	}
	due, skipped, err := crawler.Due(ctx, st.DB, time.Now(), o.ttl, o.force)
	if err != nil {
		return sum, err
	}
	sum.skipped = skipped
	if !o.part.Whole() {
		mine := due[:0]
		for _, s := range due {
			if o.part.Has(s.PublisherID) {
				mine = append(mine, s)
			}
		}
		due = mine
	}
	if len(due) == 0 {
		log.Info("crawl: no site due", "fresh", skipped)
		return sum, nil
	}
	if o.dialControl == nil {
		o.dialControl = testDialControl
	}
	res, err := crawler.NewResolver(crawler.ResolverOptions{Server: o.dnsServer, DialControl: o.dialControl})
	if err != nil {
		return sum, usagef("--dns-server: %v", err)
	}
	hostDelay := o.hostDelay
	if hostDelay == 0 {
		hostDelay = -1
	}
	c, err := crawler.New(crawler.Options{
		Version: version, MaxPages: o.maxPages, Concurrency: o.concurrency, HostDelay: hostDelay,
		IgnoreRobots: o.ignoreRobots, Resolver: res, DialControl: o.dialControl,
		Guard:           &crawler.Guard{AllowPrivate: o.allowPrivate, Allow: o.allow},
		DoNotFetchHosts: append(append([]string{}, pagecode.AffiliateHosts...), o.doNotFetch...),
		Progress:        newCrawlProgress(stderr),
	})
	if err != nil {
		return sum, err
	}
	defer c.Close()
	w, err := crawler.NewWriter(ctx, st.DB, runID)
	if err != nil {
		return sum, err
	}
	w.Forced = o.force
	log.Info("crawl started", "sites", len(due), "fresh", skipped, "dns", orDefault(o.dnsServer, "/etc/resolv.conf"), "allow_private", o.allowPrivate)
	err = c.Crawl(ctx, due, func(r *crawler.SiteResult) error {
		sum.visited++
		if r.Status != crawler.StatusOK {
			sum.failed++
			log.Debug("site not crawled", "publisher", r.Site.PublisherID, "url", r.Site.URL, "status", r.Status, "error", r.Error)
		}
		return w.Write(r)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sum, fmt.Errorf("crawl: %w", err)
	}
	log.Info("crawl finished", "visited", sum.visited, "not_ok", sum.failed, "fresh", skipped)
	if o.pack != nil {
		if err := renderSites(ctx, st, runID, o, o.pack, log, stderr); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// doNotFetch are the program's tracking hosts (the pack's
// page_cookie_stuffing lists) and the brands' own domains.
func doNotFetch(p *rules.Pack) []string {
	out := pagecode.TrackingHosts(p)
	for _, b := range p.Brands {
		out = append(out, b.Domains...)
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func runCrawl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		o         crawlOptions
		db        dbOptions
		lg        logging
		out       string
		rulesPath string
	)
	fs := newFlagSet("crawl", "affwatch crawl --db FILE [flags]", crawlHelp, stderr)
	fs.StringVar(&o.dnsServer, "dns-server", "", "send every crawler DNS lookup to HOST:PORT (default: /etc/resolv.conf)")
	fs.BoolVar(&o.allowPrivate, "allow-private-networks", false, "let the crawler reach private, loopback and link-local addresses")
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
	o.doNotFetch = doNotFetch(pack)
	o.pack = pack
	st, err := db.open(ctx, out)
	if err != nil {
		return err
	}
	defer st.Close()
	started := time.Now().UTC()
	runID := newRunID(started)
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO runs (run_id, command, started_at, status, tool_version) VALUES (?, 'crawl', ?, 'running', ?)`,
		runID, started, version); err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	sum, err := crawlSites(ctx, st, runID, o, log, stderr)
	status, msg := "succeeded", any(nil)
	if err != nil {
		status, msg = "failed", err.Error()
	}
	st.DB.ExecContext(context.WithoutCancel(ctx), `UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE run_id = ?`, status, msg, time.Now().UTC(), runID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "crawl %s: %d site(s) visited (%d not ok), %d fresh site(s) skipped\n", runID, sum.visited, sum.failed, sum.skipped)
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
