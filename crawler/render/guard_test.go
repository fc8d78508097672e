package render

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"affwatch/crawler"
)

// TestGuardBrowserReachesNothing renders pages that try every way out of
// the guard — the cloud metadata address, another loopback port, a name
// resolving to a private address, DNS rebinding between two lookups, an
// HTTP redirect and a meta refresh to those, a WebSocket, an affiliate
// frame — and checks at the proxy's dial hook that nothing but the
// fixture's own listener was ever connected to. The hook also refuses
// every non-loopback address, so a broken guard fails the test instead of
// sending a packet. Each profile's browser is checked: the honest profile
// renders in the headless shell when it is installed, the shopper in the
// full browser.
func TestGuardBrowserReachesNothing(t *testing.T) {
	for _, profile := range []string{ProfileHonest, ProfileShopper} {
		t.Run(profile, func(t *testing.T) { testGuardBrowserReachesNothing(t, profile) })
	}
}

func testGuardBrowserReachesNothing(t *testing.T, profile string) {
	w := startWorld(t)
	// A second loopback service the page must not reach.
	secret, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	secretHits := 0
	secretSrv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { secretHits++ }), ReadHeaderTimeout: time.Second}
	go secretSrv.Serve(secret)
	defer secretSrv.Close()
	secretURL := "http://" + secret.Addr().String() + "/admin"

	w.dns.set("intranet.test", "10.0.0.5")
	w.dns.set("metadata.test", "169.254.169.254")
	// Rebinding: the first answer is the fixture, every later one the
	// metadata address.
	w.dns.set("rebind.test", "127.0.0.1", "169.254.169.254")
	w.handle("rebind.test", "/", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		rw.Write([]byte(`<html><body>rebind<script>
			setTimeout(() => { fetch('/secret').catch(() => {}); new Image().src = '/pixel.gif?again'; }, 100);
		</script></body></html>`))
	})
	w.dns.set("rebind.test", "127.0.0.1", "169.254.169.254")

	w.html("hostile.test", "/", `<html><body><h1>hostile</h1>
		<img src="http://169.254.169.254/latest/meta-data/">
		<img src="`+secretURL+`">
		<img src="http://intranet.test:`+w.port+`/x.png">
		<img src="http://metadata.test/latest/meta-data/iam">
		<iframe src="https://s.click.aliexpress.com/e/_stuff" style="display:none"></iframe>
		<script>
		fetch('http://169.254.169.254/latest/api/token', {method: 'PUT'}).catch(() => {});
		fetch('`+secretURL+`?xhr').catch(() => {});
		try { new WebSocket('ws://`+secret.Addr().String()+`/ws'); } catch (e) {}
		try { new WebSocket('ws://169.254.169.254/ws'); } catch (e) {}
		</script></body></html>`)
	w.handle("redirector.test", "/", func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	w.html("refresher.test", "/", `<html><head><meta http-equiv="refresh" content="0;url=`+secretURL+`"></head><body>moving</body></html>`)

	r := newRenderer(t, w, func(o *Options) { o.HonestOnly = profile == ProfileHonest })
	prof := r.honest
	if profile == ProfileShopper {
		prof = r.shopper
	}
	ctx := context.Background()
	visits := map[string]*Visit{}
	for _, host := range []string{"hostile.test", "redirector.test", "refresher.test", "rebind.test"} {
		v := r.Visit(ctx, w.site(host), prof)
		visits[host] = v
		t.Logf("%s (%s): status %s %s in %s; pages %+v; refused %v", host, v.Browser, v.Status, v.Error, v.FinishedAt.Sub(v.StartedAt), v.Pages, refusedAt(v))
	}

	_, noShell := FindHeadlessShell()
	wantShell := profile == ProfileHonest && noShell == nil
	for host, v := range visits {
		if strings.Contains(v.Browser, "headless shell") != wantShell {
			t.Errorf("%s rendered in %q; in the headless shell: want %v", host, v.Browser, wantShell)
		}
	}
	if len(w.stranger) > 0 {
		t.Fatalf("the guard let dials through to addresses outside the allow-list: %v", w.stranger)
	}
	if secretHits != 0 {
		t.Errorf("the other loopback service was reached %d times", secretHits)
	}
	h := visits["hostile.test"]
	for _, want := range []string{"169.254.169.254:80", secret.Addr().String(), "10.0.0.5:" + w.port} {
		if !slices.Contains(refusedAt(h), want) {
			t.Errorf("hostile.test: no refusal of %s at the dial hook; refused %v", want, refusedAt(h))
		}
	}
	if !hasEvent(h, "blocked", "s.click.aliexpress.com") {
		t.Errorf("hostile.test: the affiliate frame was not intercepted; events %+v", h.Events)
	}
	if n := w.dns.count("s.click.aliexpress.com"); n != 0 {
		t.Errorf("the affiliate host was looked up %d times: an intercepted request must not even be resolved", n)
	}
	if !slices.Contains(refusedAt(visits["redirector.test"]), "169.254.169.254:80") {
		t.Errorf("redirector.test: the redirect to the metadata address was not refused at the dial hook: %v", refusedAt(visits["redirector.test"]))
	}
	if !slices.Contains(refusedAt(visits["refresher.test"]), secret.Addr().String()) {
		t.Errorf("refresher.test: the meta refresh to another loopback port was not refused: %v", refusedAt(visits["refresher.test"]))
	}
	// Rebinding: the resolver asks once per run and the proxy dials the
	// checked address, so the second request cannot land elsewhere.
	if n := w.dns.count("rebind.test"); n > 1 {
		rb := visits["rebind.test"]
		if !slices.Contains(refusedAt(rb), "169.254.169.254:"+w.port) {
			t.Errorf("rebind.test asked %d times and the rebound address was not refused: %v", n, refusedAt(rb))
		}
	}
	if w.hitCount("rebind.test", "/secret") == 0 && w.dns.count("rebind.test") <= 1 {
		t.Errorf("rebind.test: the page's second request never arrived (the test exercises nothing)")
	}
	if w.allowed.Load() == 0 {
		t.Error("no dial reached the fixture at all: the test exercises nothing")
	}
}

// TestProxyRefusesDirectAndForeign checks the proxy on its own: an
// absolute URL to a refused address, a CONNECT to the metadata address, a
// CONNECT to an affiliate host, and the refuse-all proxy.
func TestProxyRefusesDirectAndForeign(t *testing.T) {
	w := startWorld(t)
	w.html("ok.test", "/", "fine")
	r := newRenderer(t, w, nil)
	p := r.proxies[0]
	var events []ProxyEvent
	p.SetSink(func(e ProxyEvent) { events = append(events, e) })
	defer p.SetSink(nil)
	client := &http.Client{Transport: &http.Transport{Proxy: func(*http.Request) (*urlURL, error) { return parseURL(p.URL()) }}, Timeout: 5 * time.Second}
	resp, err := client.Get(w.url("ok.test", "/"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("allowed fixture through the proxy: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, u := range []string{"http://169.254.169.254/", "https://169.254.169.254/", "https://s.click.aliexpress.com/e/x", "http://intranet.test:" + w.port + "/"} {
		w.dns.set("intranet.test", "10.0.0.5")
		resp, err := client.Get(u)
		if err == nil {
			if resp.StatusCode < 400 {
				t.Errorf("%s: status %d through the proxy, want a refusal", u, resp.StatusCode)
			}
			resp.Body.Close()
		}
	}
	kinds := map[string]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	if kinds["refused"] < 3 || kinds["blocked"] < 1 {
		t.Errorf("proxy events %v, want ≥3 refused and ≥1 blocked", kinds)
	}
	if len(w.stranger) > 0 {
		t.Fatalf("dials outside the allow-list: %v", w.stranger)
	}
	sinkClient := &http.Client{Transport: &http.Transport{Proxy: func(*http.Request) (*urlURL, error) { return parseURL(r.sink.URL()) }}, Timeout: 5 * time.Second}
	if resp, err := sinkClient.Get(w.url("ok.test", "/")); err == nil {
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("refuse-all proxy answered %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
	if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
		t.Errorf("proxy listens on %s, want loopback", p.URL())
	}
}

// TestNoBrowser: without Chromium the renderer says so with ErrNoBrowser,
// which the run turns into "rendered signals unavailable" and goes on.
func TestNoBrowser(t *testing.T) {
	res, err := crawler.NewResolver(crawler.ResolverOptions{Server: "127.0.0.1:1", Timeout: time.Second, DialControl: crawler.LoopbackOnly})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Options{ExecPath: "/nonexistent/chromium", Resolver: res})
	if !errors.Is(err, ErrNoBrowser) {
		t.Fatalf("New with a missing browser: %v, want ErrNoBrowser", err)
	}
	if !strings.Contains(err.Error(), "rendered signals unavailable") {
		t.Errorf("error %q does not tell the user what is missing", err)
	}
}
