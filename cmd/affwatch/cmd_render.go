package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"affwatch/crawler/render"
	"affwatch/pipeline"
)

// registerRender adds the render stage's flags (run and crawl).
func registerRender(fs *flag.FlagSet, o *pipeline.Render) {
	fs.BoolVar(&o.Off, "no-render", false, "do not open pages in headless Chromium (rendered signals unavailable)")
	fs.IntVar(&o.Tabs, "render-tabs", render.DefaultTabs, "Chromium tabs rendering at once")
	fs.IntVar(&o.MaxPages, "render-pages", render.DefaultMaxPages, "pages rendered per site and profile: the site URL and same-site pages linked from it")
	fs.StringVar(&o.Browser, "chromium", "", "the Chromium binary (default: chromium in PATH)")
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
