package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"affwatch/crawler"
	"affwatch/crawler/render"
	"affwatch/detectors"
	"affwatch/detectors/pagecode"
	"affwatch/rules"
	"affwatch/store"
)

// CrawlSummary counts a crawl's sites.
type CrawlSummary struct {
	Visited, Skipped, Failed int
}

// CrawlSites is the crawl stage: the due sites of the sites table (of the
// partition's publishers, for a partition), visited and stored under
// runID, then rendered when pack is set (issue 17).
func CrawlSites(ctx context.Context, st *store.Store, runID string, o Crawl, pack *rules.Pack, part detectors.Partition, toolVersion string, log *slog.Logger) (CrawlSummary, error) {
	var sum CrawlSummary
	if o.TTL == 0 {
		o.TTL = crawler.DefaultRecrawlTTL
	}
	due, skipped, err := crawler.Due(ctx, st.DB, time.Now(), o.TTL, o.Force)
	if err != nil {
		return sum, err
	}
	sum.Skipped = skipped
	if !part.Whole() {
		mine := due[:0]
		for _, s := range due {
			if part.Has(s.PublisherID) {
				mine = append(mine, s)
			}
		}
		due = mine
	}
	if len(due) == 0 {
		log.Info("crawl: no site due", "fresh", skipped)
		return sum, nil
	}
	res, err := crawler.NewResolver(crawler.ResolverOptions{Server: o.DNSServer, DialControl: o.DialControl})
	if err != nil {
		return sum, usagef("--dns-server: %v", err)
	}
	hostDelay := o.HostDelay
	if hostDelay == 0 {
		hostDelay = -1
	}
	c, err := crawler.New(crawler.Options{
		Version: toolVersion, MaxPages: o.MaxPages, Concurrency: o.Concurrency, HostDelay: hostDelay,
		IgnoreRobots: o.IgnoreRobots, Resolver: res, DialControl: o.DialControl,
		Guard:           &crawler.Guard{AllowPrivate: o.AllowPrivate, Allow: o.Allow},
		DoNotFetchHosts: append(append([]string{}, pagecode.AffiliateHosts...), doNotFetch(pack)...),
		Progress:        o.Progress,
	})
	if err != nil {
		return sum, err
	}
	defer c.Close()
	w, err := crawler.NewWriter(ctx, st.DB, runID)
	if err != nil {
		return sum, err
	}
	w.Forced = o.Force
	log.Info("crawl started", "sites", len(due), "fresh", skipped, "dns", orDefault(o.DNSServer, "/etc/resolv.conf"), "allow_private", o.AllowPrivate)
	err = c.Crawl(ctx, due, func(r *crawler.SiteResult) error {
		sum.Visited++
		if r.Status != crawler.StatusOK {
			sum.Failed++
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
	log.Info("crawl finished", "visited", sum.Visited, "not_ok", sum.Failed, "fresh", skipped)
	if pack != nil {
		if err := renderSites(ctx, st, runID, o, pack, toolVersion, log); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// doNotFetch are the program's tracking hosts (the pack's
// page_cookie_stuffing lists) and the brands' own domains.
func doNotFetch(p *rules.Pack) []string {
	if p == nil {
		return nil
	}
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

// renderSites is the render stage: each site the crawl reached in this
// run, opened in headless Chromium behind the crawler's guard, in the
// honest and (unless the pack says otherwise) the shopper profile. With no
// Chromium it logs that rendered signals are unavailable and returns nil:
// the run goes on with the crawler's evidence.
func renderSites(ctx context.Context, st *store.Store, runID string, co Crawl, pack *rules.Pack, toolVersion string, log *slog.Logger) error {
	ro := co.Render
	if ro.Tabs <= 0 {
		ro.Tabs = render.DefaultTabs // the demo and tests set no flags
	}
	if ro.Off {
		log.Info("--no-render: rendered signals unavailable")
		return nil
	}
	device, err := pagecode.RenderShopperDevice(pack)
	if err != nil {
		return err
	}
	honestOnly := device == pagecode.ShopperNone
	mobileShopper := device == pagecode.ShopperMobile
	rows, err := st.DB.QueryContext(ctx, `SELECT publisher_id, site_url FROM crawl_sites WHERE run_id = ? AND status = 'ok' ORDER BY publisher_id, site_url`, runID)
	if err != nil {
		return fmt.Errorf("render: sites: %w", err)
	}
	var sites []crawler.Site
	for rows.Next() {
		var s crawler.Site
		if err := rows.Scan(&s.PublisherID, &s.URL); err != nil {
			rows.Close()
			return err
		}
		sites = append(sites, s)
	}
	rows.Close()
	if len(sites) == 0 {
		log.Info("render: no site crawled in this run")
		return nil
	}
	res, err := crawler.NewResolver(crawler.ResolverOptions{Server: co.DNSServer, DialControl: co.DialControl})
	if err != nil {
		return usagef("--dns-server: %v", err)
	}
	r, err := render.New(ctx, render.Options{
		Version: toolVersion, ExecPath: ro.Browser, Resolver: res, DialControl: co.DialControl,
		Guard:      &crawler.Guard{AllowPrivate: co.AllowPrivate, Allow: co.Allow},
		BlockHosts: pagecode.InterceptHosts(pack), HonestOnly: honestOnly, MobileShopper: mobileShopper, Tabs: ro.Tabs, MaxPages: ro.MaxPages,
		Progress: co.RenderProgress,
	})
	if errors.Is(err, render.ErrNoBrowser) {
		log.Warn("rendered signals unavailable: "+err.Error(), "hint", "apt-get install chromium, or --chromium PATH")
		return nil
	}
	if err != nil {
		// A browser that will not start is a missing signal, not a failed night.
		log.Warn("rendered signals unavailable: the browser did not start", "error", err)
		return nil
	}
	defer r.Close()
	w, err := render.NewWriter(ctx, st.DB, runID, r.BrowserVer)
	if err != nil {
		return err
	}
	log.Info("render started", "sites", len(sites), "profiles", len(r.Profiles()), "tabs", ro.Tabs, "chromium", r.BrowserVer)
	t0 := time.Now()
	failed := 0
	err = r.Render(ctx, sites, func(vs []*render.Visit) error {
		for _, v := range vs {
			if v.Status != render.StatusOK && v.Status != render.StatusRobotsDisallowed {
				failed++
				log.Debug("site not rendered", "publisher", v.Site.PublisherID, "url", v.Site.URL, "profile", v.Profile, "status", v.Status, "error", v.Error)
			}
		}
		return w.Write(vs)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	log.Info("render finished", "sites", len(sites), "visits_not_ok", failed, "browser_restarts", r.Restarts.Load(), "seconds", fmt.Sprintf("%.1f", time.Since(t0).Seconds()))
	return nil
}

// RunCrawl is `affwatch crawl`: the crawl stage on its own, on a database the
// sites were loaded into, recorded in the runs table as a crawl.
func RunCrawl(ctx context.Context, db DB, outDir string, o Crawl, pack *rules.Pack, toolVersion string, log *slog.Logger) (runID string, sum CrawlSummary, err error) {
	st, err := db.Open(ctx, outDir)
	if err != nil {
		return "", sum, err
	}
	defer st.Close()
	started := time.Now().UTC()
	runID = NewRunID(started)
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO runs (run_id, command, started_at, status, tool_version) VALUES (?, 'crawl', ?, 'running', ?)`,
		runID, started, toolVersion); err != nil {
		return "", sum, fmt.Errorf("record run: %w", err)
	}
	sum, err = CrawlSites(ctx, st, runID, o, pack, detectors.Partition{}, toolVersion, log)
	status, msg := "succeeded", any(nil)
	if err != nil {
		status, msg = "failed", err.Error()
	}
	st.DB.ExecContext(context.WithoutCancel(ctx), `UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE run_id = ?`, status, msg, time.Now().UTC(), runID)
	return runID, sum, err
}
