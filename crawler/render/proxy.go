package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"affwatch/crawler"
)

// Proxy defaults.
const (
	// DefaultMaxBodyBytes caps one proxied response: a page that serves a
	// gigabyte must not fill the browser's memory or ours.
	DefaultMaxBodyBytes = 8 << 20
	// DefaultMaxTunnelBytes caps one CONNECT tunnel (TLS, WebSocket) in
	// both directions together.
	DefaultMaxTunnelBytes = 16 << 20
	// DefaultTunnelIdle closes a tunnel nobody writes to.
	DefaultTunnelIdle = 15 * time.Second
	// maxAddrsPerHost stops a name with hundreds of addresses from
	// multiplying our dial time (the crawler's rule too).
	maxAddrsPerHost = 4
)

// ProxyEvent is a request the proxy refused or could not serve: evidence.
type ProxyEvent struct {
	At      time.Time
	Kind    string // blocked (affiliate or brand host), refused (guard), dns_error, limit, error
	Method  string
	URL     string // absolute URL, or host:port of a CONNECT
	Host    string
	Address string // the refused address
	Detail  string
}

// ProxyOptions configure a Proxy.
type ProxyOptions struct {
	Resolver *crawler.Resolver
	Guard    *crawler.Guard
	// DialControl runs after the guard on every connection (tests and
	// benchmarks: crawler.LoopbackOnly).
	DialControl func(network, address string, c syscall.RawConn) error
	// Blocked says which hosts are never contacted: the program's
	// affiliate hosts and the brand's own domains.
	Blocked        func(host string) bool
	MaxBodyBytes   int64
	MaxTunnelBytes int64
	Timeout        time.Duration // dial and response headers
	// RefuseAll makes a proxy that contacts nothing (Chromium's own
	// background traffic goes there).
	RefuseAll bool
}

// Proxy is an HTTP forward proxy for one browser context at a time. It
// listens on 127.0.0.1 only; the browser reaches the world through it or
// not at all.
type Proxy struct {
	opt       ProxyOptions
	ln        net.Listener
	srv       *http.Server
	dialer    *net.Dialer
	transport *http.Transport

	mu   sync.Mutex
	sink func(ProxyEvent)
}

// NewProxy starts a proxy on a loopback port.
func NewProxy(o ProxyOptions) (*Proxy, error) {
	if o.Resolver == nil && !o.RefuseAll {
		return nil, errors.New("render proxy: a Resolver is required")
	}
	if o.Guard == nil {
		o.Guard = &crawler.Guard{}
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxTunnelBytes <= 0 {
		o.MaxTunnelBytes = DefaultMaxTunnelBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("render proxy: listen: %w", err)
	}
	p := &Proxy{opt: o, ln: ln}
	guard, extra := o.Guard, o.DialControl
	p.dialer = &net.Dialer{Timeout: o.Timeout, Control: func(network, address string, c syscall.RawConn) error {
		if err := guard.Control(network, address, c); err != nil {
			return err
		}
		if extra != nil {
			return extra(network, address, c)
		}
		return nil
	}}
	p.transport = &http.Transport{
		Proxy:                  nil, // an environment proxy would dial what we never checked
		DialContext:            p.dialContext,
		ResponseHeaderTimeout:  o.Timeout,
		MaxResponseHeaderBytes: crawler.DefaultMaxHeaderBytes,
		DisableCompression:     true, // the browser decodes; we pass bytes through under a cap
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        30 * time.Second,
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: o.Timeout}
	go p.srv.Serve(ln)
	return p, nil
}

// URL is the proxy's address for --proxy-server.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Close stops the proxy and its tunnels.
func (p *Proxy) Close() {
	p.srv.Close()
	p.transport.CloseIdleConnections()
}

// SetSink directs the proxy's events to fn (the visit being rendered);
// nil drops them.
func (p *Proxy) SetSink(fn func(ProxyEvent)) {
	p.mu.Lock()
	p.sink = fn
	p.mu.Unlock()
	p.transport.CloseIdleConnections() // a kept-alive connection belongs to the last visit
}

func (p *Proxy) event(e ProxyEvent) {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	p.mu.Lock()
	fn := p.sink
	p.mu.Unlock()
	if fn != nil {
		fn(e)
	}
}

// dialContext resolves with affwatch's resolver and dials the checked
// literal addresses: the guard in Control sees exactly what is connected
// to, so a second, different DNS answer (rebinding) cannot slip between
// check and connect.
func (p *Proxy) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port in %q", addr)
	}
	res := p.opt.Resolver.ResolveHost(ctx, host)
	if len(res.Addrs) == 0 {
		p.event(ProxyEvent{Kind: "dns_error", URL: addr, Host: host, Detail: res.Problem})
		return nil, &crawler.DNSError{Host: host, Problem: res.Problem}
	}
	addrs := append([]netip.Addr(nil), res.Addrs...)
	sort.SliceStable(addrs, func(i, j int) bool { return addrs[i].Is4() && !addrs[j].Is4() })
	if len(addrs) > maxAddrsPerHost {
		addrs = addrs[:maxAddrsPerHost]
	}
	var errs []error
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a, uint16(port))
		conn, err := p.dialer.DialContext(ctx, "tcp", ap.String())
		if err == nil {
			return conn, nil
		}
		var refused *crawler.RefusedError
		if errors.As(err, &refused) {
			p.event(ProxyEvent{Kind: "refused", URL: addr, Host: host, Address: ap.String(), Detail: refused.Reason})
		} else if strings.Contains(err.Error(), "fail-safe") {
			p.event(ProxyEvent{Kind: "refused", URL: addr, Host: host, Address: ap.String(), Detail: err.Error()})
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// hopHeaders are connection-level headers a proxy must not forward.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// ServeHTTP implements the proxy: CONNECT tunnels and absolute-URI
// requests. Nothing else is served.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "affwatch render proxy: absolute http URL required", http.StatusBadRequest)
		return
	}
	host := r.URL.Hostname()
	if p.opt.RefuseAll {
		p.event(ProxyEvent{Kind: "refused", Method: r.Method, URL: r.URL.String(), Host: host, Detail: "browser background request"})
		http.Error(w, "refused", http.StatusForbidden)
		return
	}
	if p.opt.Blocked != nil && p.opt.Blocked(host) {
		p.event(ProxyEvent{Kind: "blocked", Method: r.Method, URL: r.URL.String(), Host: host, Detail: "affiliate or brand host: never contacted"})
		http.Error(w, "blocked by affwatch", http.StatusForbidden)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	if out.Body != nil {
		out.Body = io.NopCloser(io.LimitReader(r.Body, p.opt.MaxBodyBytes))
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		if !isRefusal(err) {
			p.event(ProxyEvent{Kind: "error", Method: r.Method, URL: r.URL.String(), Host: host, Detail: truncate(err.Error(), 512)})
		}
		http.Error(w, "affwatch render proxy: "+truncate(err.Error(), 200), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, h := range hopHeaders {
		resp.Header.Del(h)
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if cd := resp.Header.Get("Content-Disposition"); strings.HasPrefix(strings.ToLower(strings.TrimSpace(cd)), "attachment") {
		// The browser denies every download; the attempt is evidence.
		p.event(ProxyEvent{Kind: "download", Method: r.Method, URL: r.URL.String(), Host: host, Detail: "download offered (" + truncate(cd, 200) + "): denied by the browser"})
	}
	w.WriteHeader(resp.StatusCode)
	n, _ := io.Copy(w, io.LimitReader(resp.Body, p.opt.MaxBodyBytes))
	if n == p.opt.MaxBodyBytes {
		p.event(ProxyEvent{Kind: "limit", Method: r.Method, URL: r.URL.String(), Host: host, Detail: fmt.Sprintf("response cut at %d bytes", n)})
		// Abort the connection so the browser sees a broken body, not
		// a complete short one.
		panic(http.ErrAbortHandler)
	}
}

func isRefusal(err error) bool {
	var re *crawler.RefusedError
	var de *crawler.DNSError
	return errors.As(err, &re) || errors.As(err, &de) || strings.Contains(err.Error(), "fail-safe")
}

func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		http.Error(w, "bad CONNECT target", http.StatusBadRequest)
		return
	}
	if p.opt.RefuseAll {
		p.event(ProxyEvent{Kind: "refused", Method: "CONNECT", URL: r.Host, Host: host, Detail: "browser background request"})
		http.Error(w, "refused", http.StatusForbidden)
		return
	}
	if p.opt.Blocked != nil && p.opt.Blocked(host) {
		p.event(ProxyEvent{Kind: "blocked", Method: "CONNECT", URL: r.Host, Host: host, Detail: "affiliate or brand host: never contacted"})
		http.Error(w, "blocked by affwatch", http.StatusForbidden)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.opt.Timeout)
	up, err := p.dialContext(ctx, "tcp", r.Host)
	cancel()
	if err != nil {
		http.Error(w, "affwatch render proxy: "+truncate(err.Error(), 200), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "no hijack", http.StatusInternalServerError)
		return
	}
	down, buf, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	if _, err := down.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n")); err != nil {
		up.Close()
		down.Close()
		return
	}
	budget := &tunnelBudget{left: p.opt.MaxTunnelBytes}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn, first io.Reader) {
		defer func() { done <- struct{}{} }()
		b := make([]byte, 32<<10)
		if first != nil {
			if n := buf.Reader.Buffered(); n > 0 {
				pending := make([]byte, n)
				io.ReadFull(first, pending)
				dst.Write(pending)
			}
		}
		for {
			src.SetReadDeadline(time.Now().Add(DefaultTunnelIdle))
			n, err := src.Read(b)
			if n > 0 {
				if !budget.take(int64(n)) {
					p.event(ProxyEvent{Kind: "limit", Method: "CONNECT", URL: r.Host, Host: host, Detail: fmt.Sprintf("tunnel cut at %d bytes", p.opt.MaxTunnelBytes)})
					return
				}
				if _, werr := dst.Write(b[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(up, down, buf)
	go pipe(down, up, nil)
	<-done
	up.Close()
	down.Close()
	<-done
}

type tunnelBudget struct {
	mu   sync.Mutex
	left int64
}

func (b *tunnelBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.left -= n
	return b.left >= 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
