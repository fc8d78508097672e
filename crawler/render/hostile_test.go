package render

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestHostilePages renders pages built to hang, flood or exhaust the
// browser. Each must end within the site's deadline with what it did
// recorded, and the next site must render normally. Each profile's browser
// is checked (the honest profile renders in the headless shell when it is
// installed).
func TestHostilePages(t *testing.T) {
	for _, profile := range []string{ProfileHonest, ProfileShopper} {
		t.Run(profile, func(t *testing.T) { testHostilePages(t, profile) })
	}
}

func testHostilePages(t *testing.T, profile string) {
	w := startWorld(t)
	w.html("loop.test", "/", `<html><body><p>spinning</p><script>while (true) {}</script></body></html>`)
	w.html("alerts.test", "/", `<html><body><p>alerts</p><script>for (let i = 0; i < 1000; i++) { alert('win ' + i); confirm('sure?'); }
		setTimeout(function again() { alert('more'); setTimeout(again, 0); }, 0);</script></body></html>`)
	w.html("bigdom.test", "/", `<html><body><div id="root"></div><script>
		const root = document.getElementById('root'); const frag = document.createDocumentFragment();
		for (let i = 0; i < 100000; i++) { const d = document.createElement('span'); d.textContent = i % 10; frag.appendChild(d); }
		root.appendChild(frag);</script></body></html>`)
	w.handle("download.test", "/", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		rw.Write([]byte(`<html><body><p>free stuff</p><iframe src="/setup.exe" style="display:none"></iframe>
			<script>const a = document.createElement('a'); a.href = '/setup.exe'; a.download = 'setup.exe'; document.body.appendChild(a); a.click();
			location.href = '/setup.exe';</script></body></html>`))
	})
	w.handle("download.test", "/setup.exe", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/octet-stream")
		rw.Header().Set("Content-Disposition", `attachment; filename="setup.exe"`)
		rw.Write([]byte("MZ not really a program"))
	})
	w.handle("huge.test", "/", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		rw.Write([]byte("<html><body><p>"))
		chunk := []byte(strings.Repeat("gigabyte ", 1<<14))
		for sent := 0; sent < 1<<30; sent += len(chunk) { // 1 GiB, unless the reader stops us
			if _, err := rw.Write(chunk); err != nil {
				return
			}
		}
	})
	w.html("popups.test", "/", `<html><body><p>popups</p><script>
		for (let i = 0; i < 500; i++) window.open('https://s.click.aliexpress.com/e/_pop' + i);
		document.addEventListener('click', () => { for (let i = 0; i < 500; i++) window.open('/p' + i); });
		setInterval(() => window.open('https://s.click.aliexpress.com/e/_tick'), 0);</script></body></html>`)
	w.html("calm.test", "/", `<html><body><h1>calm</h1><p>after the storm</p></body></html>`)

	r := newRenderer(t, w, func(o *Options) {
		o.HonestOnly = profile == ProfileHonest
		o.PageTimeout = 8 * time.Second
		o.SiteTimeout = 20 * time.Second
		o.MaxBodyBytes = 2 << 20
		o.MaxPages = 1
	})
	ctx := context.Background()
	limit := 20*time.Second + 8*time.Second // the site deadline plus closing the tab on a loaded machine
	visit := func(host string) *Visit {
		t0 := time.Now()
		prof := r.honest
		if profile == ProfileShopper {
			prof = r.shopper
		}
		v := r.Visit(ctx, w.site(host), prof)
		if d := time.Since(t0); d > limit {
			t.Errorf("%s took %s, over the site deadline", host, d)
		}
		t.Logf("%s: %s %q, %d pages, %d opens, %d dialogs, %d events in %s", host, v.Status, v.Error, len(v.Pages), len(v.Opens), v.Dialogs, len(v.Events), time.Since(t0).Round(time.Millisecond))
		return v
	}

	if v := visit("loop.test"); v.Status == StatusOK && len(v.Pages) > 0 && v.Pages[0].Err == "" {
		t.Errorf("infinite loop: page rendered without an error: %+v", v.Pages)
	}
	if v := visit("alerts.test"); v.Dialogs == 0 {
		t.Errorf("alert storm: no dialog recorded")
	}
	v := visit("bigdom.test")
	if v.Status != StatusOK || len(v.Pages) == 0 || v.Pages[0].Nodes < 100000 {
		t.Errorf("100k-node DOM: status %s pages %+v", v.Status, v.Pages)
	}
	if v := visit("download.test"); !hasEvent(v, "download", "setup.exe") {
		t.Errorf("download attempt not recorded: %+v", v.Events)
	}
	if v := visit("huge.test"); !hasEvent(v, "limit", "cut at") {
		t.Errorf("1 GiB body: no cut recorded: %+v", v.Events)
	}
	v = visit("popups.test")
	if len(v.Opens) == 0 || len(v.Opens) > 200 {
		t.Errorf("popup storm: %d opens recorded, want 1..200", len(v.Opens))
	}
	if n := w.dns.count("s.click.aliexpress.com"); n != 0 {
		t.Errorf("popup storm: the affiliate host was resolved %d times", n)
	}
	if v := visit("calm.test"); v.Status != StatusOK || len(v.Pages) != 1 || !strings.Contains(v.Pages[0].Text, "after the storm") {
		t.Errorf("the site after the hostile ones did not render: %s %s %+v", v.Status, v.Error, v.Pages)
	}
	if len(w.stranger) > 0 {
		t.Fatalf("dials outside the allow-list: %v", w.stranger)
	}
}

// TestBrowserRestart kills the browser under the renderer: the site being
// rendered is recorded as crashed, the browser restarted, and the next
// site renders.
func TestBrowserRestart(t *testing.T) {
	w := startWorld(t)
	w.html("one.test", "/", `<html><body><h1>one</h1></body></html>`)
	w.html("two.test", "/", `<html><body><h1>two</h1></body></html>`)
	r := newRenderer(t, w, func(o *Options) { o.HonestOnly = true; o.MaxPages = 1 })
	ctx := context.Background()
	if v := r.Visit(ctx, w.site("one.test"), r.honest); v.Status != StatusOK {
		t.Fatalf("first visit: %s %s", v.Status, v.Error)
	}
	bctx, _ := r.honestEng.current()
	proc := chromedp.FromContext(bctx).Browser.Process()
	if proc == nil {
		t.Skip("no browser process to kill")
	}
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	proc.Wait()
	v := r.Visit(ctx, w.site("two.test"), r.honest)
	if v.Status != StatusCrashed {
		t.Errorf("visit on a dead browser: status %s %q, want %s", v.Status, v.Error, StatusCrashed)
	}
	if r.Restarts.Load() != 1 {
		t.Errorf("%d restarts, want 1", r.Restarts.Load())
	}
	v = r.Visit(ctx, w.site("two.test"), r.honest)
	if v.Status != StatusOK || len(v.Pages) != 1 || !strings.Contains(v.Pages[0].Text, "two") {
		t.Errorf("after the restart: %s %q %+v", v.Status, v.Error, v.Pages)
	}
	_ = fmt.Sprint()
}
