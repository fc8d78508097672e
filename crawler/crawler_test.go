package crawler

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"affwatch/fixtures/sites"
)

// testWorld is a loopback name server and loopback web servers. The
// crawler under test may reach exactly the listeners it is told about,
// and its fail-safe dial check refuses anything that is not loopback.
type testWorld struct {
	t     *testing.T
	zone  *sites.Zone
	dns   *sites.DNSServer
	mux   map[string]http.Handler // by host name
	web   *httptest.Server
	port  string
	guard *Guard
}

func newWorld(t *testing.T) *testWorld {
	t.Helper()
	w := &testWorld{t: t, zone: sites.NewZone(), mux: map[string]http.Handler{}}
	var err error
	if w.dns, err = sites.StartDNS(w.zone); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.dns.Close)
	w.web = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		if h, ok := w.mux[host]; ok {
			h.ServeHTTP(rw, r)
			return
		}
		http.NotFound(rw, r)
	}))
	t.Cleanup(w.web.Close)
	_, w.port, _ = net.SplitHostPort(w.web.Listener.Addr().String())
	w.guard = &Guard{Allow: map[netip.AddrPort]bool{netip.MustParseAddrPort(w.web.Listener.Addr().String()): true}}
	return w
}

// site serves h at http://host:port/ with host resolving to 127.0.0.1.
func (w *testWorld) site(host string, h http.Handler) string {
	w.zone.MustAdd(host+". 60 IN A 127.0.0.1", host+". 60 IN NS ns1."+host+".", host+". 60 IN MX 10 mail."+host+".",
		host+`. 60 IN TXT "v=spf1 -all"`)
	w.mux[host] = h
	return "http://" + host + ":" + w.port + "/"
}

func (w *testWorld) allow(addr net.Addr) {
	w.guard.Allow[netip.MustParseAddrPort(addr.String())] = true
}

func (w *testWorld) crawler(mod func(*Options)) *Crawler {
	w.t.Helper()
	res, err := NewResolver(ResolverOptions{Server: w.dns.Addr, Timeout: 300 * time.Millisecond, Retries: 1, DialControl: LoopbackOnly})
	if err != nil {
		w.t.Fatal(err)
	}
	o := Options{
		Version: "test", Resolver: res, Guard: w.guard, DialControl: LoopbackOnly,
		RequestTimeout: 2 * time.Second, SiteTimeout: 5 * time.Second, HostDelay: -1,
		MaxBodyBytes: 256 << 10,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(c.Close)
	return c
}

func hasEvent(r *SiteResult, stage, kind, detail string) bool {
	for _, e := range r.Events {
		if e.Stage == stage && e.Kind == kind && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

func dumpEvents(r *SiteResult) string {
	var b strings.Builder
	for _, e := range r.Events {
		fmt.Fprintf(&b, "  %s/%s %s %s: %s\n", e.Stage, e.Kind, e.URL, e.Address, e.Detail)
	}
	return b.String()
}

const cleanHome = `<!doctype html><html><head><title>Tea &amp; Travel</title>
<meta name="description" content="Notes on tea.">
<meta name="keywords" content="tea, travel">
<meta property="og:image" content="/og.png">
<link rel="icon" href="/icon.png"><link rel="apple-touch-icon" href="/touch.png">
<style>body{color:red}</style><script>var x = 1;</script></head>
<body><header><a href="/"><img class="site-logo" src="/logo.png" alt="Tea"></a></header>
<h1>Green tea</h1><p>Steep it <b>cool</b>.</p><div style="display:none">secret hidden text</div>
<a href="/about">About</a> <a href="/private/x">Private</a> <a href="/moved">Moved</a>
<a href="https://elsewhere.example/">Elsewhere</a> <a href="/about#team">About again</a>
</body></html>`

func tinyPNG(w, h int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

func TestCleanSite(t *testing.T) {
	w := newWorld(t)
	var privateHits atomic.Int32
	png := realPNG(t)
	siteURL := w.site("tea.example", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			rw.Header().Set("Server", "nginx")
			fmt.Fprint(rw, cleanHome)
		case "/robots.txt":
			fmt.Fprint(rw, "User-agent: *\nDisallow: /private/\n")
		case "/about":
			if ua := r.Header.Get("User-Agent"); ua != "affwatch/test (+compliance crawler)" {
				t.Errorf("User-Agent %q", ua)
			}
			fmt.Fprint(rw, "<html><title>About</title><body>We write about tea.</body></html>")
		case "/moved":
			http.Redirect(rw, r, "/about-us", http.StatusMovedPermanently)
		case "/about-us":
			fmt.Fprint(rw, "<html><title>About us</title><body>Moved here.</body></html>")
		case "/private/x":
			privateHits.Add(1)
		case "/icon.png", "/logo.png", "/og.png", "/touch.png":
			rw.Header().Set("Content-Type", "image/png")
			rw.Write(png)
		default:
			http.NotFound(rw, r)
		}
	}))
	r := w.crawler(nil).Visit(context.Background(), Site{PublisherID: "P1", URL: siteURL})
	if r.Status != StatusOK {
		t.Fatalf("status %s: %s\n%s", r.Status, r.Error, dumpEvents(r))
	}
	home := r.Pages[0]
	if home.Status != 200 || home.Info.Title != "Tea & Travel" || home.Info.Description != "Notes on tea." || home.Info.Keywords != "tea, travel" {
		t.Errorf("home: %d %q %q %q", home.Status, home.Info.Title, home.Info.Description, home.Info.Keywords)
	}
	if want := "Green tea Steep it cool . About Private Moved Elsewhere About again"; home.Info.Text != want {
		t.Errorf("text %q, want %q", home.Info.Text, want)
	}
	for _, p := range r.Pages {
		if p.RemoteAddr != "127.0.0.1:"+w.port {
			t.Errorf("page %d remote %q", p.No, p.RemoteAddr)
		}
	}
	if home.Headers["Server"] != "nginx" || home.SHA256 == "" || len(home.HTML) == 0 {
		t.Errorf("headers %v sha %q html %d", home.Headers, home.SHA256, len(home.HTML))
	}
	var urls []string
	for _, p := range r.Pages {
		urls = append(urls, strings.TrimPrefix(p.FinalURL, "http://tea.example:"+w.port))
	}
	if got, want := strings.Join(urls, " "), "/ /about /about-us"; got != want {
		t.Errorf("pages %q, want %q (robots.txt must keep /private/ out, offsite links out)", got, want)
	}
	if privateHits.Load() != 0 {
		t.Error("a page robots.txt disallows was fetched")
	}
	moved := r.Pages[2]
	if len(moved.Redirects) != 1 || moved.Redirects[0].Status != 301 || !strings.HasSuffix(moved.Redirects[0].To, "/about-us") {
		t.Errorf("redirect chain %+v", moved.Redirects)
	}
	roles := map[string]Asset{}
	for _, a := range r.Assets {
		roles[a.Role] = a
	}
	for _, role := range []string{"icon", "apple_touch_icon", "logo", "og_image"} {
		a := roles[role]
		if a.Status != 200 || a.Image.Width != 16 || a.Image.Height != 16 || a.Image.Format != "png" || a.Image.AHash == "" || len(a.Bytes) != len(png) {
			t.Errorf("asset %s: %+v", role, a)
		}
	}
	if roles["favicon_ico"].Status != 404 {
		t.Errorf("favicon.ico %+v", roles["favicon_ico"])
	}
	types := map[string]bool{}
	for _, a := range r.DNS {
		if a.Name == "tea.example" && a.Rcode == "NOERROR" && len(a.Records) > 0 {
			types[a.Type] = true
		}
	}
	for _, typ := range []string{"A", "NS", "MX", "TXT"} {
		if !types[typ] {
			t.Errorf("no %s answer recorded: %+v", typ, r.DNS)
		}
	}
}

// TestHostileServers: each ends in recorded evidence, and the visit returns.
func TestHostileServers(t *testing.T) {
	w := newWorld(t)
	var bomb bytes.Buffer
	gz := gzip.NewWriter(&bomb)
	gz.Write(make([]byte, 16<<20)) // 16 MiB of zeros in ~16 KiB
	gz.Close()

	// a second loopback server the guard was never told about
	var strayHits atomic.Int32
	stray := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { strayHits.Add(1) }))
	defer stray.Close()

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { fmt.Fprint(rw, "<title>tls</title>") }))
	defer tlsSrv.Close()
	w.allow(tlsSrv.Listener.Addr())
	_, tlsPort, _ := net.SplitHostPort(tlsSrv.Listener.Addr().String())
	w.zone.MustAdd("selfsigned.example. 60 IN A 127.0.0.1")

	html := func(body string) http.HandlerFunc {
		return func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "text/html")
			fmt.Fprint(rw, body)
		}
	}
	w.zone.MustAdd("intranet.example. 60 IN A 10.0.0.5", "loop-a.example. 60 IN CNAME loop-b.example.", "loop-b.example. 60 IN CNAME loop-a.example.")
	w.zone.ServFail("servfail.example").Drop("silent.example")

	for _, tc := range []struct {
		name    string
		url     string
		handler http.Handler // served at the url's host
		opts    func(*Options)
		check   func(t *testing.T, r *SiteResult)
	}{
		{
			name: "slow drip", url: "drip.example",
			handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", "text/html")
				for i := 0; i < 200 && r.Context().Err() == nil; i++ {
					rw.Write([]byte("<p>x"))
					rw.(http.Flusher).Flush()
					time.Sleep(20 * time.Millisecond)
				}
			}),
			opts: func(o *Options) { o.RequestTimeout = 300 * time.Millisecond },
			check: func(t *testing.T, r *SiteResult) {
				p := r.Pages[0]
				if p.Status != 200 || !strings.Contains(p.Truncated, "incomplete") || p.BodyBytes == 0 || p.BodyBytes >= 800 {
					t.Errorf("page %d truncated %q bytes %d", p.Status, p.Truncated, p.BodyBytes)
				}
				if !hasEvent(r, "body", "limit", "incomplete") {
					t.Errorf("no body event\n%s", dumpEvents(r))
				}
			},
		},
		{
			name: "endless body", url: "endless.example",
			handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", "text/html")
				chunk := bytes.Repeat([]byte("<p>spam</p>"), 3000)
				for i := 0; i < 10000 && r.Context().Err() == nil; i++ { // bounded: ~330 MB at most
					if _, err := rw.Write(chunk); err != nil {
						return
					}
				}
			}),
			opts: func(o *Options) { o.MaxBodyBytes = 64 << 10 },
			check: func(t *testing.T, r *SiteResult) {
				p := r.Pages[0]
				if p.BodyBytes != 64<<10 || !strings.Contains(p.Truncated, "body over 65536 bytes") {
					t.Errorf("bytes %d truncated %q", p.BodyBytes, p.Truncated)
				}
			},
		},
		{
			name: "gzip bomb", url: "bomb.example",
			handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", "text/html")
				rw.Header().Set("Content-Encoding", "gzip")
				rw.Write(bomb.Bytes())
			}),
			opts: func(o *Options) { o.MaxBodyBytes = 64 << 10 },
			check: func(t *testing.T, r *SiteResult) {
				p := r.Pages[0]
				if p.BodyBytes != 64<<10 || !strings.Contains(p.Truncated, "decompression bomb") {
					t.Errorf("bytes %d truncated %q", p.BodyBytes, p.Truncated)
				}
				if !hasEvent(r, "body", "limit", "decompression bomb") {
					t.Errorf("no event\n%s", dumpEvents(r))
				}
			},
		},
		{
			name: "redirect loop", url: "loop.example",
			handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/a" {
					http.Redirect(rw, r, "/b", http.StatusFound)
					return
				}
				http.Redirect(rw, r, "/a", http.StatusFound)
			}),
			check: func(t *testing.T, r *SiteResult) {
				p := r.Pages[0]
				last := p.Redirects[len(p.Redirects)-1]
				if len(p.Redirects) != 3 || last.Followed || last.Note != "redirect loop" || p.Status != 302 {
					t.Errorf("status %d chain %+v", p.Status, p.Redirects)
				}
			},
		},
		{
			name: "redirect to another loopback port", url: "sneaky.example",
			handler: http.RedirectHandler(stray.URL+"/admin", http.StatusFound),
			check: func(t *testing.T, r *SiteResult) {
				if strayHits.Load() != 0 {
					t.Fatal("the guard let a redirect reach a loopback port it was not given")
				}
				if !hasEvent(r, "dial", "refused", "loopback") {
					t.Errorf("no refusal recorded\n%s", dumpEvents(r))
				}
				if p := r.Pages[0]; p.Status != 0 || !strings.Contains(p.Err, "refused to connect to 127.0.0.1") || len(p.Redirects) != 1 {
					t.Errorf("page %+v", p)
				}
			},
		},
		{
			name: "redirect to the metadata address", url: "meta.example",
			handler: http.RedirectHandler("http://169.254.169.254/latest/meta-data/", http.StatusFound),
			check: func(t *testing.T, r *SiteResult) {
				if !hasEvent(r, "dial", "refused", "link-local") {
					t.Errorf("no refusal recorded\n%s", dumpEvents(r))
				}
			},
		},
		{
			name: "redirect to ::1 and to a decimal-encoded 127.0.0.1", url: "v6.example",
			handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/" {
					http.Redirect(rw, r, "http://[::1]:"+w.port+"/x", http.StatusFound)
					return
				}
			}),
			check: func(t *testing.T, r *SiteResult) {
				if !hasEvent(r, "dial", "refused", "loopback") {
					t.Errorf("no refusal recorded\n%s", dumpEvents(r))
				}
			},
		},
		{
			name: "redirect to a decimal-encoded address is a name, and unknown", url: "decimal.example",
			handler: http.RedirectHandler("http://2130706433:"+w.port+"/", http.StatusFound),
			check: func(t *testing.T, r *SiteResult) {
				if p := r.Pages[0]; p.Status != 0 || !strings.Contains(p.Err, "NXDOMAIN") {
					t.Errorf("page %+v", p)
				}
			},
		},
		{
			name: "redirect to file://", url: "file.example",
			handler: http.RedirectHandler("file:///etc/passwd", http.StatusFound),
			check: func(t *testing.T, r *SiteResult) {
				p := r.Pages[0]
				if p.Status != 302 || len(p.Redirects) != 1 || p.Redirects[0].Followed || !strings.Contains(p.Redirects[0].Note, "scheme file") {
					t.Errorf("page %d chain %+v err %q", p.Status, p.Redirects, p.Err)
				}
			},
		},
		{
			name: "allow-private-networks reaches a loopback port off the allow-list", url: "private-ok.example",
			handler: http.RedirectHandler(stray.URL+"/ok", http.StatusFound),
			opts:    func(o *Options) { o.Guard = &Guard{AllowPrivate: true} },
			check: func(t *testing.T, r *SiteResult) {
				if p := r.Pages[0]; p.Status != 200 || strayHits.Load() == 0 {
					t.Errorf("page %d, stray hits %d\n%s", p.Status, strayHits.Load(), dumpEvents(r))
				}
			},
		},
		{
			name: "redirect to a name with a private address", url: "bounce.example",
			handler: http.RedirectHandler("http://intranet.example/", http.StatusFound),
			check: func(t *testing.T, r *SiteResult) {
				if !hasEvent(r, "dial", "refused", "private network") {
					t.Errorf("no refusal at the dial\n%s", dumpEvents(r))
				}
			},
		},
		{
			name: "dns answer with a private address", url: "http://intranet.example/",
			check: func(t *testing.T, r *SiteResult) {
				if r.Status != StatusRefused || len(r.Pages) != 0 || !hasEvent(r, "dns", "refused", "private network") {
					t.Errorf("status %s pages %d\n%s", r.Status, len(r.Pages), dumpEvents(r))
				}
			},
		},
		{
			name: "cname loop", url: "http://loop-a.example/",
			check: func(t *testing.T, r *SiteResult) {
				if r.Status != StatusDNSError || !strings.Contains(r.Error, "CNAME loop") {
					t.Errorf("status %s error %q", r.Status, r.Error)
				}
			},
		},
		{
			name: "nxdomain", url: "http://nowhere.example/",
			check: func(t *testing.T, r *SiteResult) {
				if r.Status != StatusDNSError || !strings.Contains(r.Error, "NXDOMAIN") {
					t.Errorf("status %s error %q", r.Status, r.Error)
				}
			},
		},
		{
			name: "servfail", url: "http://servfail.example/",
			check: func(t *testing.T, r *SiteResult) {
				if r.Status != StatusDNSError || !strings.Contains(r.Error, "SERVFAIL") {
					t.Errorf("status %s error %q", r.Status, r.Error)
				}
			},
		},
		{
			name: "dns timeout", url: "http://silent.example/",
			check: func(t *testing.T, r *SiteResult) {
				if r.Status != StatusDNSError || !strings.Contains(r.Error, "timeout") {
					t.Errorf("status %s error %q", r.Status, r.Error)
				}
			},
		},
		{
			name: "invalid tls", url: "https://selfsigned.example:" + tlsPort + "/",
			check: func(t *testing.T, r *SiteResult) {
				if r.Status != StatusFetchError || !hasEvent(r, "tls", "error", "certificate") {
					t.Errorf("status %s\n%s", r.Status, dumpEvents(r))
				}
			},
		},
		{
			name: "huge headers", url: "headers.example",
			handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				for i := range 64 {
					rw.Header().Set(fmt.Sprintf("X-Junk-%d", i), strings.Repeat("j", 4000))
				}
				fmt.Fprint(rw, "hi")
			}),
			opts: func(o *Options) { o.MaxHeaderBytes = 16 << 10 },
			check: func(t *testing.T, r *SiteResult) {
				if r.Status != StatusFetchError || !hasEvent(r, "http", "error", "header") {
					t.Errorf("status %s\n%s", r.Status, dumpEvents(r))
				}
			},
		},
		{
			name: "non-html content type", url: "binary.example",
			handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", "application/octet-stream")
				rw.Write([]byte("\x00\x01\x02<html><title>not parsed</title>"))
			}),
			check: func(t *testing.T, r *SiteResult) {
				p := r.Pages[0]
				if r.Status != StatusOK || p.Info.Title != "" || p.HTML != nil || p.BodyBytes != 34 || !hasEvent(r, "body", "error", "not HTML") {
					t.Errorf("page %+v\n%s", p, dumpEvents(r))
				}
			},
		},
		{
			name: "malformed html", url: "broken.example",
			handler: html(`<html><head><title>Half</title><body><div><p>open <b>bold <iframe src="https://s.click.aliexpress.com/e/_x" style="display: none"></iframe><table><tr><td>cell</div><p>unclosed <img src=/px.gif width=0 height=0 <a href=/next>next`),
			check: func(t *testing.T, r *SiteResult) {
				p := r.Pages[0]
				if p.Info.Title != "Half" || p.Info.Text != "open bold cell unclosed next" {
					t.Errorf("title %q text %q", p.Info.Title, p.Info.Text)
				}
				if len(p.Code) != 2 || p.Code[1].Kind != CodeHiddenImage || p.Code[1].Hidden != "size_0x0" || p.Code[0].Kind != CodeHiddenFrame || p.Code[0].Hidden != "display_none" || p.Code[0].URL != "https://s.click.aliexpress.com/e/_x" {
					t.Errorf("code %+v", p.Code)
				}
			},
		},
		{
			name: "20000x20000 png favicon", url: "hugeicon.example",
			handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/favicon.ico" {
					rw.Header().Set("Content-Type", "image/png")
					rw.Write(tinyPNG(20000, 20000))
					return
				}
				fmt.Fprint(rw, "<html><title>x</title></html>")
			}),
			check: func(t *testing.T, r *SiteResult) {
				a := r.Assets[0]
				if a.Image.Width != 20000 || a.Image.Height != 20000 || a.Image.AHash != "" || !strings.Contains(a.Image.Problem, "over the cap") {
					t.Errorf("asset %+v", a)
				}
				if !hasEvent(r, "asset", "limit", "over the cap") {
					t.Errorf("no event\n%s", dumpEvents(r))
				}
			},
		},
		{
			name: "site that times out", url: "tarpit.example",
			handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			}),
			opts: func(o *Options) { o.RequestTimeout = 200 * time.Millisecond; o.SiteTimeout = 2 * time.Second },
			check: func(t *testing.T, r *SiteResult) {
				if r.Status != StatusFetchError || !strings.Contains(r.Error, "timeout") && !strings.Contains(r.Error, "deadline") {
					t.Errorf("status %s error %q", r.Status, r.Error)
				}
			},
		},
		{
			name: "ftp url", url: "ftp://files.example/",
			check: func(t *testing.T, r *SiteResult) {
				if r.Status != StatusInvalidURL {
					t.Errorf("status %s", r.Status)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.url
			if tc.handler != nil {
				u = w.site(tc.url, tc.handler)
			}
			t0 := time.Now()
			r := w.crawler(func(o *Options) {
				o.IgnoreRobots = true
				if tc.opts != nil {
					tc.opts(o)
				}
			}).Visit(context.Background(), Site{PublisherID: "P", URL: u})
			if d := time.Since(t0); d > 6*time.Second {
				t.Errorf("visit took %s", d)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestCrawlMany(t *testing.T) {
	w := newWorld(t)
	var list []Site
	for i := range 20 {
		host := fmt.Sprintf("s%02d.example", i)
		list = append(list, Site{PublisherID: fmt.Sprint(i), URL: w.site(host, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(rw, "<title>%s</title><a href='/p'>p</a>", host)
		}))})
	}
	list = append(list, Site{PublisherID: "x", URL: "http://nowhere.example/"})
	var got, failedSeen int
	c := w.crawler(func(o *Options) {
		o.Concurrency = 4
		o.Progress = func(done, total, failed int) { failedSeen = failed }
	})
	if err := c.Crawl(context.Background(), list, func(r *SiteResult) error { got++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got != 21 || failedSeen != 1 {
		t.Errorf("results %d failed %d", got, failedSeen)
	}
	// A sink that fails (the database is gone) stops the crawl.
	boom := errors.New("disk full")
	calls := 0
	err := c.Crawl(context.Background(), list, func(*SiteResult) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("err %v after %d sink calls", err, calls)
	}
}

func realPNG(t *testing.T) []byte {
	t.Helper()
	return encodePNG(16, 16)
}

var _ = url.Parse

// TestPoliteness: requests to one host are spaced by HostDelay.
func TestPoliteness(t *testing.T) {
	w := newWorld(t)
	var times []time.Time
	u := w.site("polite.example", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		times = append(times, time.Now())
		fmt.Fprint(rw, `<html><a href="/a">a</a><a href="/b">b</a></html>`)
	}))
	c := w.crawler(func(o *Options) { o.HostDelay = 100 * time.Millisecond; o.IgnoreRobots = true; o.MaxAssets = 1 })
	r := c.Visit(context.Background(), Site{URL: u})
	if len(r.Pages) != 3 || len(times) != 4 {
		t.Fatalf("pages %d requests %d", len(r.Pages), len(times))
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 95*time.Millisecond {
			t.Errorf("request %d came %s after the previous one", i, gap)
		}
	}
}
