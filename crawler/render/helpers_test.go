package render

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"affwatch/crawler"
)

// testDNS is a loopback name server whose answers a test scripts per
// name; it counts the questions per name.
type testDNS struct {
	addr    string
	mu      sync.Mutex
	answers map[string][]string // name → A values, one per question in turn (the last repeats)
	asked   map[string]int
	srv     *dns.Server
}

func startDNS(t *testing.T) *testDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &testDNS{addr: pc.LocalAddr().String(), answers: map[string][]string{}, asked: map[string]int{}}
	started := make(chan struct{})
	d.srv = &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: func() { close(started) }}
	go d.srv.ActivateAndServe()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("dns server did not start")
	}
	t.Cleanup(func() { d.srv.Shutdown() })
	return d
}

func (d *testDNS) set(name string, addrs ...string) {
	d.mu.Lock()
	d.answers[strings.ToLower(name)] = addrs
	d.mu.Unlock()
}

func (d *testDNS) count(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.asked[strings.ToLower(name)]
}

func (d *testDNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	d.mu.Lock()
	list, ok := d.answers[name]
	n := d.asked[name]
	if q.Qtype == dns.TypeA {
		d.asked[name]++
	}
	d.mu.Unlock()
	if !ok {
		m.Rcode = dns.RcodeNameError
		w.WriteMsg(m)
		return
	}
	if q.Qtype == dns.TypeA && len(list) > 0 {
		a := list[min(n, len(list)-1)]
		rr, err := dns.NewRR(q.Name + " 0 IN A " + a)
		if err == nil {
			m.Answer = append(m.Answer, rr)
		}
	}
	w.WriteMsg(m)
}

// world is a loopback web server answering for any name, with its DNS.
type world struct {
	dns      *testDNS
	addr     string
	port     string
	mu       sync.Mutex
	pages    map[string]http.HandlerFunc // host+path → handler
	hits     map[string]int
	allowed  atomic.Int64            // dials the guard let through
	stranger []string                // dials let through to an address outside the allow-list
	allow    map[netip.AddrPort]bool // the guard's allow-list
}

func startWorld(t *testing.T) *world {
	t.Helper()
	w := &world{dns: startDNS(t), pages: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.addr = ln.Addr().String()
	_, w.port, _ = net.SplitHostPort(w.addr)
	w.allow = map[netip.AddrPort]bool{netip.MustParseAddrPort(w.addr): true}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		key := host + r.URL.Path
		w.mu.Lock()
		w.hits[key]++
		h := w.pages[key]
		w.mu.Unlock()
		if h == nil {
			http.NotFound(rw, r)
			return
		}
		h(rw, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return w
}

func (w *world) html(host, path, body string) {
	w.handle(host, path, func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Write([]byte(body))
	})
}

func (w *world) handle(host, path string, h http.HandlerFunc) {
	w.mu.Lock()
	w.pages[host+path] = h
	w.mu.Unlock()
	w.dns.set(host, "127.0.0.1")
}

func (w *world) hitCount(host, path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hits[host+path]
}

func (w *world) url(host, path string) string { return "http://" + host + ":" + w.port + path }

// dialHook records what the guard let through and refuses anything not on
// loopback (the tests' fail-safe).
func (w *world) dialHook(network, address string, c syscall.RawConn) error {
	if err := crawler.LoopbackOnly(network, address, c); err != nil {
		return err
	}
	w.allowed.Add(1)
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !w.allow[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] {
		w.mu.Lock()
		w.stranger = append(w.stranger, address)
		w.mu.Unlock()
	}
	return nil
}

// affiliateHosts in the tests: the program's tracking host and the brand.
var testBlock = []string{"s.click.aliexpress.com", "aliexpress.com", "aliexpress.ru", "aliexpress.us"}

// newRenderer starts Chromium for a test, or skips saying why.
func newRenderer(t *testing.T, w *world, mod func(*Options)) *Renderer {
	t.Helper()
	if _, err := FindBrowser(""); err != nil {
		t.Skip("chromium is not installed (make chromium installs Debian's package): " + err.Error())
	}
	res, err := crawler.NewResolver(crawler.ResolverOptions{Server: w.dns.addr, Timeout: time.Second, DialControl: crawler.LoopbackOnly})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Version: "test", Resolver: res, Guard: &crawler.Guard{Allow: w.allow}, DialControl: w.dialHook,
		BlockHosts: testBlock, Tabs: 2, PageTimeout: 5 * time.Second, SiteTimeout: 15 * time.Second}
	if mod != nil {
		mod(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func (w *world) site(host string) crawler.Site {
	return crawler.Site{PublisherID: "P-" + host, URL: w.url(host, "/")}
}

// refusedAt lists the addresses the proxy's guard refused in v.
func refusedAt(v *Visit) []string {
	var out []string
	for _, e := range v.Events {
		if e.Stage == "proxy" && e.Kind == "refused" && e.Address != "" {
			out = append(out, e.Address)
		}
	}
	return out
}

func hasEvent(v *Visit, kind, substr string) bool {
	for _, e := range v.Events {
		if e.Kind == kind && (strings.Contains(e.URL, substr) || strings.Contains(e.Address, substr) || strings.Contains(e.Detail, substr)) {
			return true
		}
	}
	return false
}

type urlURL = url.URL

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }
