package crawler

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults: a compliance crawl needs the landing page and a handful of
// pages linked from it, not a mirror of the site.
const (
	DefaultMaxPages            = 5
	DefaultRequestTimeout      = 10 * time.Second
	DefaultSiteTimeout         = 60 * time.Second
	DefaultMaxBodyBytes        = 4 << 20  // raw and decompressed: real landing pages are well under 1 MiB
	DefaultMaxHeaderBytes      = 64 << 10 // net/http's default is 1 MiB; honest servers send a few KiB
	DefaultMaxRedirects        = 10       // HTTP 3xx plus meta-refresh and script redirects, per page
	DefaultMaxAssets           = 8        // favicons, logos, og:image per site
	DefaultMaxAssetBytes       = 1 << 20
	DefaultMaxStoredAssetBytes = 256 << 10 // bytes kept in the database for logo/favicon comparison
	DefaultMaxStoredHTMLBytes  = 512 << 10
	DefaultConcurrency         = 16
	DefaultHostDelay           = 250 * time.Millisecond // between two requests to one host
	DefaultRecrawlTTL          = 7 * 24 * time.Hour
)

// UserAgent names the tool and its purpose, so a site operator can tell
// who is visiting and why.
func UserAgent(version string) string {
	return "affwatch/" + version + " (+compliance crawler)"
}

// Options configure a Crawler. Zero values take the defaults above.
type Options struct {
	Version        string
	MaxPages       int
	RequestTimeout time.Duration
	SiteTimeout    time.Duration
	MaxBodyBytes   int64
	MaxHeaderBytes int64
	MaxRedirects   int
	MaxAssets      int
	MaxAssetBytes  int64
	MaxStoredAsset int64
	MaxStoredHTML  int64
	MaxImagePixels int64
	Concurrency    int
	// HostDelay is the pause between two requests to one host; negative
	// means none.
	HostDelay time.Duration
	// IgnoreRobots fetches pages robots.txt disallows (sites under
	// enforcement: the program's terms let it inspect a publisher's site).
	IgnoreRobots bool
	// DoNotFetchHosts are hosts (and their subdomains) the crawler records
	// as a redirect target but never requests: fetching the program's own
	// tracking links would generate the very clicks we are judging.
	DoNotFetchHosts []string

	Resolver *Resolver
	Guard    *Guard
	// DialControl runs after the guard on every connection (tests and the
	// benchmark: LoopbackOnly).
	DialControl func(network, address string, c syscall.RawConn) error
	// RootCAs replaces the system roots (tests: the loopback TLS server).
	RootCAs *x509.CertPool
	// Progress, if set, is told after each site.
	Progress func(done, total, failed int)
}

func (o *Options) fill() {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultMaxPages
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.SiteTimeout <= 0 {
		o.SiteTimeout = DefaultSiteTimeout
	}
	def(&o.MaxBodyBytes, DefaultMaxBodyBytes)
	def(&o.MaxHeaderBytes, DefaultMaxHeaderBytes)
	def(&o.MaxAssetBytes, DefaultMaxAssetBytes)
	def(&o.MaxStoredAsset, DefaultMaxStoredAssetBytes)
	def(&o.MaxStoredHTML, DefaultMaxStoredHTMLBytes)
	def(&o.MaxImagePixels, DefaultMaxImagePixels)
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.MaxAssets <= 0 {
		o.MaxAssets = DefaultMaxAssets
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	switch {
	case o.HostDelay == 0:
		o.HostDelay = DefaultHostDelay
	case o.HostDelay < 0:
		o.HostDelay = 0 // no delay (loopback tests and benchmarks)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Guard == nil {
		o.Guard = &Guard{}
	}
}

// Site is one row of the sites dataset to visit.
type Site struct {
	PublisherID string
	URL         string
}

// Site statuses.
const (
	StatusOK               = "ok"                // the site URL answered (any HTTP status)
	StatusInvalidURL       = "invalid_url"       // not an http(s) URL
	StatusDNSError         = "dns_error"         // NXDOMAIN, SERVFAIL, timeout, CNAME loop, no address
	StatusRefused          = "refused"           // every address was refused by the guard
	StatusRobotsDisallowed = "robots_disallowed" // robots.txt forbids the site URL
	StatusFetchError       = "fetch_error"       // TLS, connection, timeout, header limit, …
)

// SiteResult is everything one visit saw.
type SiteResult struct {
	Site       Site
	Host       string
	Domain     string // registrable domain
	StartedAt  time.Time
	FinishedAt time.Time
	Status     string
	Error      string
	DNS        []Answer
	Pages      []Page
	Assets     []Asset
	Events     []Event
}

// Page is one fetched document.
type Page struct {
	No           int // 0: the site URL
	RequestedURL string
	FinalURL     string
	Status       int
	ContentType  string
	Headers      map[string]string
	RemoteAddr   string
	BodyBytes    int64
	Truncated    string // why the body was cut ("" if complete)
	SHA256       string
	HTML         []byte // up to MaxStoredHTML bytes of an HTML body
	Redirects    []Redirect
	Info         PageInfo
	Code         []PageCode
	FetchedAt    time.Time
	Elapsed      time.Duration
	Err          string
}

// PageCode is a page-code candidate and the document it was found in
// (an intermediate page of a redirect chain counts too).
type PageCode struct {
	CodeItem
	DocumentURL string
}

// Redirect is one hop of a redirect chain.
type Redirect struct {
	Hop    int
	From   string
	To     string
	Kind   string // http, meta_refresh, script_redirect
	Status int    // HTTP status of a 3xx hop
	// Followed is false when the chain stopped here (limit, loop, refused
	// scheme, a do-not-fetch host).
	Followed bool
	Note     string
}

// Asset is an image the site shows as its identity.
type Asset struct {
	PageNo      int
	URL         string
	Role        string
	Status      int
	ContentType string
	Size        int64
	SHA256      string
	Image       ImageInfo
	Bytes       []byte // nil when larger than MaxStoredAsset or truncated
	Err         string
}

// Event is something that went wrong or was refused: evidence too.
type Event struct {
	At      time.Time
	Stage   string // dns, dial, tls, http, body, parse, robots, asset, limit
	Kind    string // refused, error, limit, charset (an undeclared one guessed)
	URL     string
	Address string
	Detail  string
}

// Crawler visits sites. It is safe for concurrent use.
type Crawler struct {
	opt       Options
	resolver  *Resolver
	dialer    *net.Dialer
	transport *http.Transport

	hostMu sync.Mutex
	hosts  map[string]*hostGate
}

// New builds a crawler. Options.Resolver is required: the crawler never
// uses the operating system's resolver (it must check what it dials).
func New(o Options) (*Crawler, error) {
	o.fill()
	if o.Resolver == nil {
		return nil, errors.New("crawler: a Resolver is required")
	}
	c := &Crawler{opt: o, resolver: o.Resolver, hosts: map[string]*hostGate{}}
	c.dialer = &net.Dialer{Timeout: o.RequestTimeout, Control: chainControl(o.Guard, o.DialControl)}
	c.transport = &http.Transport{
		Proxy:                  nil, // a proxy from the environment would dial addresses we never checked
		DialContext:            c.dialContext,
		TLSClientConfig:        &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    o.RequestTimeout,
		ResponseHeaderTimeout:  o.RequestTimeout,
		MaxResponseHeaderBytes: o.MaxHeaderBytes,
		DisableCompression:     true, // we decode ourselves, under a size cap
		MaxIdleConns:           o.Concurrency * 2,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	return c, nil
}

// Close releases idle connections.
func (c *Crawler) Close() { c.transport.CloseIdleConnections() }

type recKey struct{}

// recorder collects what the dialer learns during one site's visit.
type recorder struct {
	mu   sync.Mutex
	res  *SiteResult
	seen map[string]bool
}

func (r *recorder) answers(as []Answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range as {
		k := a.Type + " " + a.Name
		if !r.seen[k] {
			r.seen[k] = true
			r.res.DNS = append(r.res.DNS, a)
		}
	}
}

func (r *recorder) event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	if len(r.res.Events) < 200 {
		r.res.Events = append(r.res.Events, e)
	}
}

// DNSError is a host without a usable address.
type DNSError struct {
	Host    string
	Problem string
}

func (e *DNSError) Error() string { return e.Host + ": " + e.Problem }

// dialContext resolves with our resolver and dials the checked addresses
// themselves: the guard in the dialer's Control hook sees the literal
// address, so there is no gap for a second, different DNS answer.
func (c *Crawler) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port in %q", addr)
	}
	rec, _ := ctx.Value(recKey{}).(*recorder)
	res := c.resolver.ResolveHost(ctx, host)
	if rec != nil {
		rec.answers(res.Answers)
	}
	if len(res.Addrs) == 0 {
		return nil, &DNSError{Host: host, Problem: res.Problem}
	}
	addrs := append([]netip.Addr(nil), res.Addrs...)
	sort.SliceStable(addrs, func(i, j int) bool { return addrs[i].Is4() && !addrs[j].Is4() })
	if len(addrs) > 4 {
		addrs = addrs[:4] // a name with hundreds of addresses must not multiply our time
	}
	var errs []error
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a, uint16(port))
		conn, err := c.dialer.DialContext(ctx, "tcp", ap.String())
		if err == nil {
			return conn, nil
		}
		var refused *RefusedError
		if rec != nil && errors.As(err, &refused) {
			rec.event(Event{Stage: "dial", Kind: "refused", URL: host, Address: ap.String(), Detail: refused.Reason})
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

type hostGate struct {
	mu   sync.Mutex
	last time.Time
}

// politely runs fn with no other request to host in flight and at least
// HostDelay after the previous one.
func (c *Crawler) politely(ctx context.Context, host string, fn func()) {
	c.hostMu.Lock()
	g := c.hosts[host]
	if g == nil {
		g = &hostGate{}
		c.hosts[host] = g
	}
	c.hostMu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if wait := time.Until(g.last.Add(c.opt.HostDelay)); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	fn()
	g.last = time.Now()
}

// Crawl visits the sites with at most Concurrency visits at once and hands
// each result to sink, from one goroutine at a time, in completion order.
func (c *Crawler) Crawl(ctx context.Context, sites []Site, sink func(*SiteResult) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a failing sink stops the visits still to come
	jobs := make(chan Site)
	results := make(chan *SiteResult)
	var wg sync.WaitGroup
	for range min(c.opt.Concurrency, max(len(sites), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				results <- c.Visit(ctx, s)
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, s := range sites {
			select {
			case jobs <- s:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	var sinkErr error
	done, failed := 0, 0
	for r := range results {
		done++
		if r.Status != StatusOK {
			failed++
		}
		if sinkErr == nil {
			if sinkErr = sink(r); sinkErr != nil {
				cancel()
			}
		}
		if c.opt.Progress != nil {
			c.opt.Progress(done, len(sites), failed)
		}
	}
	if sinkErr != nil {
		return sinkErr
	}
	return context.Cause(ctx)
}

// Visit crawls one site within the per-site time limit.
func (c *Crawler) Visit(ctx context.Context, s Site) *SiteResult {
	res := &SiteResult{Site: s, StartedAt: time.Now().UTC()}
	defer func() { res.FinishedAt = time.Now().UTC() }()
	rec := &recorder{res: res, seen: map[string]bool{}}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, recKey{}, rec), c.opt.SiteTimeout)
	defer cancel()

	u, err := parseSiteURL(s.URL)
	if err != nil {
		res.Status, res.Error = StatusInvalidURL, err.Error()
		return res
	}
	res.Host = u.Hostname()
	res.Domain = RegistrableDomain(res.Host)

	// DNS first: the evidence tables want every record, and a site whose
	// every address is refused gets no request at all.
	hr := c.resolver.ResolveHost(ctx, res.Host)
	rec.answers(hr.Answers)
	if !timedOut(hr.Answers) {
		// A name server that does not answer for the host will not answer
		// NS, MX and TXT either; waiting for it again only burns the site's time.
		rec.answers(c.resolver.DomainRecords(ctx, res.Host))
	}
	if len(hr.Addrs) == 0 {
		res.Status, res.Error = StatusDNSError, hr.Problem
		rec.event(Event{Stage: "dns", Kind: "error", URL: s.URL, Detail: hr.Problem})
		return res
	}
	port := portOf(u)
	allowed := 0
	for _, a := range hr.Addrs {
		if err := c.opt.Guard.Check(netip.AddrPortFrom(a, port)); err != nil {
			var re *RefusedError
			errors.As(err, &re)
			rec.event(Event{Stage: "dns", Kind: "refused", URL: s.URL, Address: netip.AddrPortFrom(a, port).String(), Detail: re.Reason})
			continue
		}
		allowed++
	}
	if allowed == 0 {
		res.Status, res.Error = StatusRefused, "every address of "+res.Host+" is refused: "+res.Events[len(res.Events)-1].Detail
		return res
	}

	var robots *Robots
	if !c.opt.IgnoreRobots {
		robots = c.robots(ctx, rec, u)
		if !robots.Allowed(u.RequestURI()) {
			res.Status, res.Error = StatusRobotsDisallowed, "robots.txt disallows "+u.RequestURI()
			return res
		}
	}

	first := c.page(ctx, rec, 0, u.String())
	res.Pages = append(res.Pages, first)
	if first.Status == 0 {
		res.Status, res.Error = StatusFetchError, first.Err
		return res
	}
	res.Status = StatusOK
	final, _ := url.Parse(first.FinalURL)
	if final == nil {
		final = u
	}

	// Same-site pages linked from the landing page.
	fetched := map[string]bool{first.RequestedURL: true, first.FinalURL: true}
	siteDomain := RegistrableDomain(final.Hostname())
	for _, link := range first.Info.Links {
		if len(res.Pages) >= c.opt.MaxPages || ctx.Err() != nil {
			break
		}
		lu, err := url.Parse(link)
		if err != nil || fetched[link] || RegistrableDomain(lu.Hostname()) != siteDomain || skipByExtension(lu.Path) {
			continue
		}
		fetched[link] = true
		if robots != nil && lu.Host == u.Host && !robots.Allowed(lu.RequestURI()) {
			rec.event(Event{Stage: "robots", Kind: "limit", URL: link, Detail: "disallowed by robots.txt"})
			continue
		}
		res.Pages = append(res.Pages, c.page(ctx, rec, len(res.Pages), link))
	}

	// The site's identity images: declared icons, logos, og:image, /favicon.ico.
	refs := append([]AssetRef(nil), first.Info.Icons...)
	refs = appendAsset(refs, AssetRef{URL: (&url.URL{Scheme: final.Scheme, Host: final.Host, Path: "/favicon.ico"}).String(), Role: "favicon_ico"})
	for _, ref := range refs {
		if len(res.Assets) >= c.opt.MaxAssets || ctx.Err() != nil {
			break
		}
		res.Assets = append(res.Assets, c.asset(ctx, rec, ref))
	}
	if ctx.Err() != nil {
		rec.event(Event{Stage: "limit", Kind: "limit", URL: s.URL, Detail: "site time limit of " + c.opt.SiteTimeout.String() + " reached"})
	}
	return res
}

func parseSiteURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw // "example.com" in the dataset means the web site
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("site url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("site url %q: only http and https are crawled", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("site url %q: no host", raw)
	}
	u.Fragment = ""
	return u, nil
}

func portOf(u *url.URL) uint16 {
	if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		return uint16(p)
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

var skipExt = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".svg": true, ".ico": true,
	".pdf": true, ".zip": true, ".rar": true, ".gz": true, ".mp4": true, ".mp3": true, ".avi": true,
	".exe": true, ".msi": true, ".apk": true, ".dmg": true, ".css": true, ".js": true, ".xml": true,
}

func skipByExtension(p string) bool { return skipExt[strings.ToLower(path.Ext(p))] }

func (c *Crawler) doNotFetch(host string) bool {
	host = strings.ToLower(host)
	for _, h := range c.opt.DoNotFetchHosts {
		h = strings.ToLower(h)
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// response is one HTTP exchange, 3xx hops included.
type response struct {
	final     *url.URL
	status    int
	header    http.Header
	body      []byte
	truncated string
	remote    string
	hops      []Redirect
	err       error
}

var errStopChain = errors.New("redirect chain stopped")

// get fetches rawURL following HTTP redirects, with every limit applied.
func (c *Crawler) get(ctx context.Context, rawURL string, maxBytes int64, accept string) response {
	var r response
	u, err := url.Parse(rawURL)
	if err != nil {
		r.err = err
		return r
	}
	seen := map[string]bool{u.String(): true}
	client := &http.Client{
		Transport: c.transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			prev := via[len(via)-1]
			hop := Redirect{Hop: len(r.hops) + 1, From: prev.URL.String(), To: req.URL.String(), Kind: "http", Followed: true}
			if req.Response != nil {
				hop.Status = req.Response.StatusCode
			}
			switch {
			case req.URL.Scheme != "http" && req.URL.Scheme != "https":
				hop.Followed, hop.Note = false, "scheme "+req.URL.Scheme+" is not crawled"
			case seen[req.URL.String()]:
				hop.Followed, hop.Note = false, "redirect loop"
			case len(via) > c.opt.MaxRedirects:
				hop.Followed, hop.Note = false, fmt.Sprintf("more than %d redirects", c.opt.MaxRedirects)
			case c.doNotFetch(req.URL.Hostname()):
				hop.Followed, hop.Note = false, "do-not-fetch host (the program's tracking links)"
			}
			seen[req.URL.String()] = true
			r.hops = append(r.hops, hop)
			if !hop.Followed {
				return errStopChain
			}
			return nil
		},
	}
	rctx, cancel := context.WithTimeout(ctx, c.opt.RequestTimeout)
	defer cancel()
	// The address the answer came from: the connection's own, reused or new.
	var remote atomic.Value
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		remote.Store(info.Conn.RemoteAddr().String())
	}})
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("User-Agent", UserAgent(c.opt.Version))
	req.Header.Set("Accept", accept)
	req.Header.Set("Accept-Encoding", acceptEncoding)
	// The whole exchange, body included, holds the host's turn.
	c.politely(ctx, u.Host, func() { c.exchange(client, req, maxBytes, &r) })
	if a, ok := remote.Load().(string); ok {
		r.remote = a
	}
	return r
}

func (c *Crawler) exchange(client *http.Client, req *http.Request, maxBytes int64, r *response) {
	resp, err := client.Do(req)
	if err != nil && !errors.Is(err, errStopChain) {
		r.err = err
		return
	}
	if resp == nil {
		r.err = errors.New("no response")
		return
	}
	defer resp.Body.Close()
	r.final, r.status, r.header = resp.Request.URL, resp.StatusCode, resp.Header
	if errors.Is(err, errStopChain) {
		return // the 3xx itself is the answer; its body is not needed
	}
	r.body, r.truncated, r.err = readBody(resp, maxBytes)
}

func (c *Crawler) robots(ctx context.Context, rec *recorder, u *url.URL) *Robots {
	ru := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	r := c.get(ctx, ru.String(), MaxRobotsBytes, "text/plain")
	switch {
	case r.err != nil:
		// Unreachable robots.txt: RFC 9309 treats it like a 5xx.
		rec.event(Event{Stage: "robots", Kind: "error", URL: ru.String(), Detail: describe(r.err)})
		return &Robots{}
	case r.status >= 500:
		rec.event(Event{Stage: "robots", Kind: "error", URL: ru.String(), Detail: fmt.Sprintf("HTTP %d: treated as disallow-all (RFC 9309)", r.status)})
		return &Robots{DisallowAll: true}
	case r.status >= 400:
		return &Robots{} // no robots.txt: everything allowed
	}
	return ParseRobots(r.body, "affwatch")
}

// page fetches one document and follows its own redirects (meta refresh,
// obvious script redirects) as further hops of the same chain.
func (c *Crawler) page(ctx context.Context, rec *recorder, no int, rawURL string) Page {
	p := Page{No: no, RequestedURL: rawURL, FetchedAt: time.Now().UTC()}
	t0 := time.Now()
	defer func() { p.Elapsed = time.Since(t0) }()
	target := rawURL
	seen := map[string]bool{}
	for {
		seen[target] = true
		r := c.get(ctx, target, c.opt.MaxBodyBytes, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
		for _, h := range r.hops {
			h.Hop = len(p.Redirects) + 1
			p.Redirects = append(p.Redirects, h)
		}
		if r.err != nil {
			p.Err = describe(r.err)
			stage := stageOf(r.err)
			kind := "error"
			if errors.Is(r.err, ErrRefused) {
				kind = "refused"
			}
			rec.event(Event{Stage: stage, Kind: kind, URL: target, Address: r.remote, Detail: p.Err})
			if r.status == 0 {
				return p
			}
		}
		p.FinalURL, p.Status, p.RemoteAddr = r.final.String(), r.status, r.remote
		p.Headers = keptHeaders(r.header)
		p.ContentType = r.header.Get("Content-Type")
		p.BodyBytes = int64(len(r.body))
		p.Truncated = r.truncated
		if r.truncated != "" {
			rec.event(Event{Stage: "body", Kind: "limit", URL: p.FinalURL, Detail: r.truncated})
		}
		sum := sha256.Sum256(r.body)
		p.SHA256 = hex.EncodeToString(sum[:])
		if !isHTML(p.ContentType, r.body) {
			p.HTML = nil
			p.Info = PageInfo{}
			if len(r.body) > 0 {
				rec.event(Event{Stage: "body", Kind: "error", URL: p.FinalURL, Detail: "not HTML: " + orUnknown(p.ContentType)})
			}
			return p
		}
		p.HTML = r.body
		if int64(len(p.HTML)) > c.opt.MaxStoredHTML {
			p.HTML = p.HTML[:c.opt.MaxStoredHTML]
		}
		// p.HTML keeps the bytes as served (their hash is the page's); the
		// words are read in the page's own charset.
		decoded, charset, source := DecodeHTML(p.ContentType, r.body)
		p.Info = Extract(r.final, decoded)
		if source == "guess" && charset != "utf-8" {
			rec.event(Event{Stage: "parse", Kind: "charset", URL: p.FinalURL, Detail: "no charset declared and not UTF-8: read as " + charset})
		}
		if p.Info.ParseProblem != "" {
			rec.event(Event{Stage: "parse", Kind: "limit", URL: p.FinalURL, Detail: p.Info.ParseProblem})
		}
		for _, ci := range p.Info.Code {
			p.Code = append(p.Code, PageCode{CodeItem: ci, DocumentURL: p.FinalURL})
		}
		next := p.Info.Redirect
		if next == "" {
			return p
		}
		hop := Redirect{Hop: len(p.Redirects) + 1, From: p.FinalURL, To: next, Kind: p.Info.RedirectKind, Followed: true}
		nu, _ := url.Parse(next)
		switch {
		case seen[next]:
			hop.Followed, hop.Note = false, "redirect loop"
		case len(p.Redirects) >= c.opt.MaxRedirects:
			hop.Followed, hop.Note = false, fmt.Sprintf("more than %d redirects", c.opt.MaxRedirects)
		case nu == nil || c.doNotFetch(nu.Hostname()):
			hop.Followed, hop.Note = false, "do-not-fetch host (the program's tracking links)"
		case ctx.Err() != nil:
			hop.Followed, hop.Note = false, "site time limit"
		}
		p.Redirects = append(p.Redirects, hop)
		if !hop.Followed {
			return p
		}
		target = next
	}
}

func (c *Crawler) asset(ctx context.Context, rec *recorder, ref AssetRef) Asset {
	a := Asset{URL: ref.URL, Role: ref.Role}
	u, err := url.Parse(ref.URL)
	if err != nil || c.doNotFetch(u.Hostname()) {
		a.Err = "not fetched"
		return a
	}
	r := c.get(ctx, ref.URL, c.opt.MaxAssetBytes, "image/*")
	if r.err != nil {
		a.Err = describe(r.err)
		rec.event(Event{Stage: "asset", Kind: kindOf(r.err), URL: ref.URL, Address: r.remote, Detail: a.Err})
		if r.status == 0 {
			return a
		}
	}
	a.Status, a.ContentType, a.Size = r.status, r.header.Get("Content-Type"), int64(len(r.body))
	sum := sha256.Sum256(r.body)
	a.SHA256 = hex.EncodeToString(sum[:])
	if r.status != http.StatusOK || len(r.body) == 0 {
		return a
	}
	if r.truncated != "" {
		a.Err = r.truncated
		rec.event(Event{Stage: "asset", Kind: "limit", URL: ref.URL, Detail: r.truncated})
		return a
	}
	a.Image = InspectImage(r.body, c.opt.MaxImagePixels)
	if a.Image.Problem != "" && a.Image.Width > 0 {
		rec.event(Event{Stage: "asset", Kind: "limit", URL: ref.URL, Detail: a.Image.Problem})
	}
	if int64(len(r.body)) <= c.opt.MaxStoredAsset {
		a.Bytes = r.body
	}
	return a
}

// keptHeaders are the response headers that say who runs the site and how
// it treats visitors; the rest is noise.
var keptHeaderNames = []string{"Content-Type", "Content-Length", "Content-Encoding", "Server", "X-Powered-By", "Location",
	"Refresh", "Set-Cookie", "Content-Security-Policy", "X-Frame-Options", "Last-Modified", "Link", "Via", "X-Robots-Tag"}

func keptHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for _, n := range keptHeaderNames {
		if vs := h.Values(n); len(vs) > 0 {
			out[n] = truncate(strings.Join(vs, "\n"), 2048)
		}
	}
	return out
}

func isHTML(contentType string, body []byte) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt == "" {
		mt, _, _ = mime.ParseMediaType(http.DetectContentType(body))
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

func orUnknown(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}

func describe(err error) string {
	var re *RefusedError
	if errors.As(err, &re) {
		return re.Error()
	}
	var de *DNSError
	if errors.As(err, &de) {
		return "dns: " + de.Error()
	}
	return truncate(err.Error(), 1024)
}

func kindOf(err error) string {
	if errors.Is(err, ErrRefused) {
		return "refused"
	}
	return "error"
}

func stageOf(err error) string {
	var re *RefusedError
	var de *DNSError
	var ce *tls.CertificateVerificationError
	switch {
	case errors.As(err, &re):
		return "dial"
	case errors.As(err, &de):
		return "dns"
	case errors.As(err, &ce), strings.Contains(err.Error(), "tls:"), strings.Contains(err.Error(), "x509:"):
		return "tls"
	case errors.Is(err, errBodyLimit):
		return "body"
	}
	return "http"
}

func timedOut(as []Answer) bool {
	for _, a := range as {
		if a.Err != "" {
			return true
		}
	}
	return false
}
