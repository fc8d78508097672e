package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"affwatch/crawler"
	"affwatch/crawler/render"
	"affwatch/detectors/pagecode"
	"affwatch/rules"
	"affwatch/store"
)

// renderOptions are the render stage's flags (run and crawl).
type renderOptions struct {
	off      bool
	tabs     int
	maxPages int
	browser  string
	// honestOnly and mobileShopper come from the pack
	// (page_cookie_stuffing render_shopper_profile: 0 or 2), not from a
	// flag.
	honestOnly, mobileShopper bool
}

func (o *renderOptions) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.off, "no-render", false, "do not open pages in headless Chromium (rendered signals unavailable)")
	fs.IntVar(&o.tabs, "render-tabs", render.DefaultTabs, "Chromium tabs rendering at once")
	fs.IntVar(&o.maxPages, "render-pages", render.DefaultMaxPages, "pages rendered per site and profile: the site URL and same-site pages linked from it")
	fs.StringVar(&o.browser, "chromium", "", "the Chromium binary (default: chromium in PATH)")
}

// renderSites is the render stage: each site the crawl reached in this
// run, opened in headless Chromium behind the crawler's guard, in the
// honest and (unless the pack says otherwise) the shopper profile. With no
// Chromium it logs that rendered signals are unavailable and returns nil:
// the run goes on with the crawler's evidence.
func renderSites(ctx context.Context, st *store.Store, runID string, co crawlOptions, pack *rules.Pack, log *slog.Logger, stderr io.Writer) error {
	ro := co.render
	if ro.tabs <= 0 {
		ro.tabs = render.DefaultTabs // the demo and tests set no flags
	}
	if ro.off {
		log.Info("--no-render: rendered signals unavailable")
		return nil
	}
	device, err := pagecode.RenderShopperDevice(pack)
	if err != nil {
		return err
	}
	ro.honestOnly = device == pagecode.ShopperNone
	ro.mobileShopper = device == pagecode.ShopperMobile
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
	if co.dialControl == nil {
		co.dialControl = testDialControl
	}
	res, err := crawler.NewResolver(crawler.ResolverOptions{Server: co.dnsServer, DialControl: co.dialControl})
	if err != nil {
		return usagef("--dns-server: %v", err)
	}
	r, err := render.New(ctx, render.Options{
		Version: version, ExecPath: ro.browser, Resolver: res, DialControl: co.dialControl,
		Guard:      &crawler.Guard{AllowPrivate: co.allowPrivate, Allow: co.allow},
		BlockHosts: pagecode.InterceptHosts(pack), HonestOnly: ro.honestOnly, MobileShopper: ro.mobileShopper, Tabs: ro.tabs, MaxPages: ro.maxPages,
		Progress: newRenderProgress(stderr),
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
	log.Info("render started", "sites", len(sites), "profiles", len(r.Profiles()), "tabs", ro.tabs, "chromium", r.BrowserVer)
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

// newRenderProgress draws sites rendered / total on a terminal.
func newRenderProgress(stderr io.Writer) func(done, total, failed int) {
	if !isTerminal(stderr) {
		return nil
	}
	start := time.Now()
	return func(done, total, failed int) {
		fmt.Fprintf(stderr, "\r\033[Krendering %s, %d not ok", bar(done, total), failed)
		if done == total {
			fmt.Fprintf(stderr, " — done in %s\n", time.Since(start).Round(time.Millisecond))
		}
	}
}
