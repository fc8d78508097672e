package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/inspector"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"affwatch/crawler"
)

// Defaults: two profiles of a few pages each must fit the crawl's night.
const (
	DefaultTabs        = 4
	DefaultMaxPages    = 2                // the landing page and one linked page: stuffing on a second page is a known trick
	DefaultPageTimeout = 8 * time.Second  // navigation to snapshot of one page
	DefaultSiteTimeout = 30 * time.Second // one site in one profile, every page
	DefaultSettle      = 150 * time.Millisecond
	// DefaultTimerWait is how long the render waits for the page's
	// timers after the load event; the instrumentation shortens every
	// timer to at most 150 ms, so a pop-under scheduled for minutes fires
	// within it.
	DefaultTimerWait       = 350 * time.Millisecond
	DefaultClickWait       = 250 * time.Millisecond
	DefaultMaxDOMNodes     = 50000     // beyond it the element walk stops early and says so
	DefaultMaxScreenshot   = 384 << 10 // PNG bytes kept per site
	DefaultViewportW       = 1280
	DefaultViewportH       = 800
	DefaultScreenshotScale = 0.5 // 640×400: enough for a reviewer to recognise the page
	DefaultMaxRequests     = 1000
	DefaultMaxAssetBytes   = 256 << 10
	// DefaultRecycleTabAfter bounds what a reused tab's renderer
	// accumulates over a night (bench-render: peak PSS grew from 0.9 GB
	// after 40 sites to 1.7 GB after 1,000 without it); a new tab every
	// 200 visits is a fraction of a percent of their work.
	DefaultRecycleTabAfter   = 200
	defaultBrowserStartLimit = 20 * time.Second
)

// DefaultHonestTabs is half the tabs, at least one: the honest visit in
// the headless shell takes less than half a site's time (bench-render),
// and every tab is a renderer process's memory.
func DefaultHonestTabs(tabs int) int { return max(1, (tabs+1)/2) }

// Profile is who the render pretends to be.
type Profile struct {
	Name          string // honest, shopper
	UserAgent     string
	Referrer      string // of the first page; "{host}" is replaced by the site's host
	RespectRobots bool
	Mobile        bool
	Width, Height int64
	// Scale is the device pixel ratio (0: 1); Touch emulates a touch
	// screen, and the synthetic click is a tap.
	Scale float64
	Touch bool
	// Metadata is what the browser says of itself in client hints
	// (Sec-CH-UA-*, navigator.userAgentData); nil keeps Chromium's.
	Metadata *emulation.UserAgentMetadata
	// Screenshot takes the first viewport of page 0. One screenshot per
	// site is what the report shows (the shopper's, what a visitor is
	// shown; affwatch's own when the pack forbids posing as a shopper):
	// Profiles sets it on the last profile only, and a screenshot is a
	// seventh of a visit's CPU (bench-render).
	Screenshot bool
}

// Profile names.
const (
	ProfileHonest  = "honest"
	ProfileShopper = "shopper"
)

// HonestProfile announces affwatch and respects robots.txt.
func HonestProfile(version string) Profile {
	return Profile{Name: ProfileHonest, UserAgent: crawler.UserAgent(version), RespectRobots: true, Width: DefaultViewportW, Height: DefaultViewportH}
}

// ShopperProfile looks like a current desktop Chrome arriving from a
// search engine's results: what a cloaking publisher serves its stuffing
// to. chromeMajor is the installed browser's major version, so the user
// agent matches what the engine really does.
func ShopperProfile(chromeMajor string) Profile {
	if chromeMajor == "" {
		chromeMajor = "140"
	}
	return Profile{Name: ProfileShopper,
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/" + chromeMajor + ".0.0.0 Safari/537.36",
		// A search engine sends its origin only (Google's referrer policy).
		Referrer: "https://www.google.com/", Width: DefaultViewportW, Height: DefaultViewportH}
}

// Mobile viewport: a common Android phone's CSS pixels and pixel ratio.
const (
	MobileViewportW = 412
	MobileViewportH = 915
	MobileScale     = 2.625
)

// MobileShopperProfile is ShopperProfile on a current Android phone:
// Chrome's mobile user agent (its reduced form: Android 10, model "K"),
// matching client hints, a phone's viewport and pixel ratio, a touch
// screen. Some publishers serve their stuffing to phones only.
func MobileShopperProfile(chromeMajor string) Profile {
	if chromeMajor == "" {
		chromeMajor = "140"
	}
	p := ShopperProfile(chromeMajor)
	p.UserAgent = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/" + chromeMajor + ".0.0.0 Mobile Safari/537.36"
	p.Mobile, p.Touch, p.Scale = true, true, MobileScale
	p.Width, p.Height = MobileViewportW, MobileViewportH
	p.Metadata = &emulation.UserAgentMetadata{
		Brands:   []*emulation.UserAgentBrandVersion{{Brand: "Chromium", Version: chromeMajor}, {Brand: "Google Chrome", Version: chromeMajor}, {Brand: "Not_A Brand", Version: "24"}},
		Platform: "Android", PlatformVersion: "10.0.0", Model: "K", Mobile: true,
	}
	return p
}

// Options configure a Renderer. Zero values take the defaults.
type Options struct {
	Version string
	// ExecPath is the browser; empty looks up chromium, chromium-browser,
	// google-chrome in PATH.
	ExecPath string
	// HonestExecPath is the browser of the honest profile; empty takes
	// Chromium's old headless shell when it is installed (about half the
	// CPU of a visit in the full browser, bench-render), ExecPath's
	// browser otherwise. ExecPath's own path renders both in one browser.
	HonestExecPath string
	// HonestTabs are the tabs of the honest profile's browser when it is
	// not the shopper's (0: DefaultHonestTabs(Tabs)): each site's visits
	// run one after the other, and the honest visit is the shorter.
	HonestTabs int
	Resolver   *crawler.Resolver
	Guard      *crawler.Guard
	// DialControl runs after the guard on every proxy connection (tests:
	// crawler.LoopbackOnly).
	DialControl func(network, address string, c syscall.RawConn) error
	// BlockHosts are never contacted (the affiliate hosts and the brand's
	// own domains, with their subdomains): requests there are refused by
	// the proxy and recorded as intercepted.
	BlockHosts []string
	// ShopperOnly false renders with both profiles; HonestOnly renders
	// as affwatch alone (programs whose terms forbid posing as a shopper).
	HonestOnly bool
	// MobileShopper renders the shopper as a phone (MobileShopperProfile)
	// instead of a desktop browser.
	MobileShopper bool
	Tabs          int
	MaxPages      int
	PageTimeout   time.Duration
	SiteTimeout   time.Duration
	Settle        time.Duration
	TimerWait     time.Duration
	ClickWait     time.Duration
	MaxDOMNodes   int
	// MaxScreenshot is the largest PNG kept; a bigger one is dropped with
	// an event. Negative disables screenshots.
	MaxScreenshot int
	// ScreenshotEveryProfile takes a screenshot in every profile instead
	// of the site's last one only.
	ScreenshotEveryProfile bool
	// RecycleTabAfter closes a tab after this many visits and opens a new
	// one (0: DefaultRecycleTabAfter).
	RecycleTabAfter int
	MaxBodyBytes    int64
	MaxRequests     int
	MaxAssetBytes   int
	Progress        func(done, total, failed int)
	ExtraFlags      map[string]any // more Chromium switches: tests (a secure origin for a service worker), bench-render --flag
	BrowserLogf     func(string, ...any)
	StartupTimeout  time.Duration
}

func (o *Options) fill() {
	if o.Tabs <= 0 {
		o.Tabs = DefaultTabs
	}
	if o.HonestTabs <= 0 {
		o.HonestTabs = DefaultHonestTabs(o.Tabs)
	}
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultMaxPages
	}
	if o.PageTimeout <= 0 {
		o.PageTimeout = DefaultPageTimeout
	}
	if o.SiteTimeout <= 0 {
		o.SiteTimeout = DefaultSiteTimeout
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if o.TimerWait <= 0 {
		o.TimerWait = DefaultTimerWait
	}
	if o.ClickWait <= 0 {
		o.ClickWait = DefaultClickWait
	}
	if o.MaxDOMNodes <= 0 {
		o.MaxDOMNodes = DefaultMaxDOMNodes
	}
	if o.MaxScreenshot == 0 {
		o.MaxScreenshot = DefaultMaxScreenshot
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = DefaultMaxRequests
	}
	if o.RecycleTabAfter <= 0 {
		o.RecycleTabAfter = DefaultRecycleTabAfter
	}
	if o.MaxAssetBytes <= 0 {
		o.MaxAssetBytes = DefaultMaxAssetBytes
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Guard == nil {
		o.Guard = &crawler.Guard{}
	}
	if o.StartupTimeout <= 0 {
		o.StartupTimeout = defaultBrowserStartLimit
	}
}

// ErrNoBrowser says no Chromium was found: rendered signals are
// unavailable, everything else goes on.
var ErrNoBrowser = errors.New("no chromium found: rendered signals unavailable (install Debian's chromium package)")

// FindBrowser returns the path of an installed Chromium, or ErrNoBrowser.
func FindBrowser(path string) (string, error) {
	if path != "" {
		if p, err := exec.LookPath(path); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("browser %q: %w", path, ErrNoBrowser)
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// FindHeadlessShell returns the path of Chromium's old headless shell
// (Debian's chromium-headless-shell), or ErrNoBrowser. Debian's
// /usr/bin/chromium-headless-shell is a shell script that starts the
// binary without exec: killing it (a restart, Close) would leave the
// browser running, so the binary itself comes first.
func FindHeadlessShell() (string, error) {
	for _, n := range []string{"/usr/lib/chromium/chromium-headless-shell", "chrome-headless-shell", "chromium-headless-shell"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

func isHeadlessShell(path string) bool {
	return strings.Contains(filepath.Base(path), "headless-shell")
}

// describe names the engine's browser for the record.
func (e *engine) describe() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shell {
		return e.version + " headless shell"
	}
	return e.version
}

// Visit is one site rendered in one profile.
type Visit struct {
	Site       crawler.Site
	Profile    string
	UserAgent  string
	Status     string // ok, robots_disallowed, error, timeout, crashed
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
	Pages      []Page
	Requests   []Request
	Navs       []Nav
	Opens      []Open
	Elements   []Element
	Assets     []Asset
	Events     []Event
	Screenshot []byte // PNG of the first viewport of page 0, scaled
	Dialogs    int
	// Browser is the Chromium that rendered the visit: its version, and
	// "headless shell" for Chromium's old headless shell.
	Browser string
}

// Visit statuses.
const (
	StatusOK               = "ok"
	StatusRobotsDisallowed = "robots_disallowed"
	StatusError            = "error"   // the landing page did not render
	StatusCrashed          = "crashed" // the browser died or hung: restarted
)

// Page is one rendered document.
type Page struct {
	No       int
	URL      string // requested
	FinalURL string // the document's URL at the snapshot
	Title    string
	Text     string // document.body.innerText, capped
	Nodes    int
	Err      string
	Elapsed  time.Duration
}

// Request is one request the browser made (or tried to).
type Request struct {
	PageNo        int
	RequestID     string
	URL           string
	FirstURL      string // the URL the request started as (redirect chains)
	Host          string
	Type          string // Document, Image, Script, XHR, Fetch, …
	FrameID       string
	MainFrame     bool
	InitiatorType string
	InitiatorURL  string
	UserGesture   bool
	RedirectFrom  string // set when a 3xx brought the browser here
	Blocked       bool   // an affiliate or brand host: refused by the proxy, never sent
	Phase         string // load, timer, click
	// FrameVisibility is the computed visibility of the element that
	// made the request (its iframe or img): "visible", a hidden reason,
	// or "not_in_document" when no element carries the URL at snapshot.
	FrameVisibility string
}

// Nav is a navigation the page itself asked for.
type Nav struct {
	PageNo    int
	FrameID   string
	MainFrame bool
	URL       string
	Reason    string // Chromium's reason: scriptInitiated, metaTagRefresh, httpHeaderRefresh, anchorClick, …
	Phase     string
}

// Open is a window.open attempt.
type Open struct {
	PageNo      int
	DocumentURL string
	URL         string
	UserGesture bool
	FromTimer   bool
	Phase       string
	Source      string // script (our instrumentation) or browser (Page.windowOpen)
}

// Element is a frame, image, embed or object of a rendered page.
type Element struct {
	PageNo      int
	DocumentURL string
	Tag         string
	Src         string
	Hidden      string // "" when visible; display_none, visibility_hidden, opacity, offscreen, size_WxH, clipped_by_ancestor, clip_path
	HiddenBy    string // self, or the ancestor that hides it (tag#id.class)
	W, H, X, Y  float64
	Opacity     float64
	ZIndex      string
	Classes     string
	Snippet     string
}

// Asset is a favicon or logo as the browser loaded it.
type Asset struct {
	Role        string // icon, logo
	URL         string
	ContentType string
	Bytes       []byte
	Err         string
}

// Event is a refusal, limit or error met during the render: evidence.
type Event struct {
	At      time.Time
	Stage   string // proxy, browser, page, limit, dialog, download
	Kind    string // blocked, refused, dns_error, limit, error
	URL     string
	Address string
	Detail  string
}

// Renderer renders sites in headless Chromium, restarted when it dies or
// hangs: the shopper in the full browser, the honest profile in
// Chromium's old headless shell when it is installed (see engineFor).
type Renderer struct {
	opt     Options
	blocked func(string) bool
	sink    *Proxy // --proxy-server of the whole browser: refuses everything
	proxies []*Proxy
	// main renders the shopper (and every profile when no headless shell
	// is installed); honestEng renders the honest profile, main itself
	// when it is the same browser.
	main      *engine
	honestEng *engine
	shopper   Profile
	mobile    Profile
	honest    Profile

	Restarts atomic.Int64
	// BrowserVer is the version of the main browser (the shopper's).
	BrowserVer string
}

// engine is one Chromium process tree and its tabs, restarted when it
// dies or hangs.
type engine struct {
	exec string
	// shell: Chromium's old headless shell (chromium-headless-shell)
	shell    bool
	slots    chan *slot
	allSlots []*slot

	mu          sync.Mutex
	openMu      sync.Mutex
	gen         int
	allocCancel context.CancelFunc
	browserCtx  context.Context
	browserStop context.CancelFunc
	userDir     string
	version     string
}

// New starts the proxies and the browser. It returns ErrNoBrowser
// (wrapped) when no Chromium is installed.
func New(ctx context.Context, o Options) (*Renderer, error) {
	o.fill()
	if o.Resolver == nil {
		return nil, errors.New("render: a Resolver is required")
	}
	path, err := FindBrowser(o.ExecPath)
	if err != nil {
		return nil, err
	}
	honestPath := path
	if o.HonestExecPath != "" {
		if honestPath, err = FindBrowser(o.HonestExecPath); err != nil {
			return nil, err
		}
	} else if shell, err := FindHeadlessShell(); err == nil {
		honestPath = shell
	}
	r := &Renderer{opt: o}
	r.blocked = hostMatcher(o.BlockHosts)
	r.sink, err = NewProxy(ProxyOptions{RefuseAll: true})
	if err != nil {
		return nil, err
	}
	newEngine := func(exec string, tabs int) (*engine, error) {
		e := &engine{exec: exec, shell: isHeadlessShell(exec), slots: make(chan *slot, tabs)}
		for range tabs {
			p, err := NewProxy(ProxyOptions{Resolver: o.Resolver, Guard: o.Guard, DialControl: o.DialControl, Blocked: r.blocked,
				MaxBodyBytes: o.MaxBodyBytes, Timeout: o.PageTimeout})
			if err != nil {
				return e, err
			}
			r.proxies = append(r.proxies, p)
			sl := &slot{proxy: p, dialogs: make(chan struct{}, 8)}
			e.allSlots = append(e.allSlots, sl)
			e.slots <- sl
		}
		return e, r.start(ctx, e)
	}
	// A program that forbids the shopper profile needs no second browser.
	if !o.HonestOnly {
		if r.main, err = newEngine(path, o.Tabs); err != nil {
			r.Close()
			return nil, err
		}
	}
	honestTabs := o.HonestTabs
	if r.main == nil {
		honestTabs = o.Tabs // the only browser
	}
	if r.main != nil && honestPath == path {
		r.honestEng = r.main
	} else if r.honestEng, err = newEngine(honestPath, honestTabs); err != nil {
		r.Close()
		return nil, err
	}
	if r.main == nil {
		r.main = r.honestEng
	}
	r.BrowserVer = r.main.version
	major, _, _ := strings.Cut(r.BrowserVer, ".")
	r.shopper = ShopperProfile(major)
	r.mobile = MobileShopperProfile(major)
	r.honest = HonestProfile(o.Version)
	return r, nil
}

// BrowserFor says which browser renders profile p: its version, and
// "headless shell" for Chromium's old headless shell.
func (r *Renderer) BrowserFor(p Profile) string { return r.engineFor(p).describe() }

// engines are the distinct browsers of the renderer.
func (r *Renderer) engines() []*engine {
	var es []*engine
	for _, e := range []*engine{r.main, r.honestEng} {
		if e != nil && (len(es) == 0 || es[0] != e) {
			es = append(es, e)
		}
	}
	return es
}

// engineFor is the browser a profile is rendered in. The honest profile
// announces affwatch and pretends nothing, so the headless shell's tells
// (no window.chrome, no plugins, "HeadlessChrome" among the client-hint
// brands) cost it nothing; the shopper must look like a visitor's browser
// to a cloaking publisher, so it keeps the full one.
func (r *Renderer) engineFor(prof Profile) *engine {
	if prof.Name == ProfileHonest {
		return r.honestEng
	}
	return r.main
}

func hostMatcher(hosts []string) func(string) bool {
	list := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(h, "."))); h != "" {
			list = append(list, h)
		}
	}
	return func(host string) bool {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		for _, h := range list {
			if host == h || strings.HasSuffix(host, "."+h) {
				return true
			}
		}
		return false
	}
}

// browserFlags keep Chromium off the network except through our proxy.
func (r *Renderer) browserFlags(e *engine) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(e.exec),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Headless,
		chromedp.UserDataDir(e.userDir),
		// Everything through affwatch's proxy; the global one refuses
		// all (the browser's own background traffic), each site's
		// browser context gets its own.
		chromedp.ProxyServer(r.sink.URL()),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		// Chromium's own resolver answers nothing: names are resolved by
		// the proxy, with affwatch's resolver, or not at all.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("force-webrtc-ip-handling-policy", "disable_non_proxied_udp"),
		chromedp.Flag("webrtc-ip-handling-policy", "disable_non_proxied_udp"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("disable-hang-monitor", true),
		chromedp.Flag("disable-prompt-on-repost", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		// One renderer process per tab instead of one per site in every
		// frame: frames of every origin stay in the page's target (their
		// requests are seen) and memory stays bounded on 2 cores.
		chromedp.Flag("disable-site-isolation-trials", true),
		// The WebUI omnibox popups: the full browser preloads two per
		// window, in a renderer process of their own, and updates them on
		// every navigation of the window's tab (bench-render, 200 sites:
		// 0.145 against 0.172 CPU-s per visit, 250 MB less PSS).
		chromedp.Flag("disable-features", "IsolateOrigins,site-per-process,Translate,OptimizationHints,MediaRouter,NetworkPrediction,InterestFeedContentSuggestions,AutofillServerCommunication,PrivacySandboxSettings4,ServiceWorkerPaymentApps,DialMediaRouteProvider,CertificateTransparencyComponentUpdater,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup"),
		chromedp.Flag("disable-blink-features", "AutomationControlled"),
		chromedp.Flag("js-flags", "--max-old-space-size=256"),
		chromedp.WindowSize(DefaultViewportW, DefaultViewportH),
	}
	if os.Geteuid() == 0 {
		// Chromium refuses to start as root with its sandbox; the render
		// proxy and the guard are the network boundary either way.
		opts = append(opts, chromedp.NoSandbox)
	}
	for k, v := range r.opt.ExtraFlags {
		opts = append(opts, chromedp.Flag(k, v))
	}
	return opts
}

func (r *Renderer) start(ctx context.Context, e *engine) error {
	dir, err := os.MkdirTemp("", "affwatch-chromium-")
	if err != nil {
		return fmt.Errorf("render: profile dir: %w", err)
	}
	e.userDir = dir
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), r.browserFlags(e)...)
	var copts []chromedp.ContextOption
	if r.opt.BrowserLogf != nil {
		copts = append(copts, chromedp.WithErrorf(r.opt.BrowserLogf))
	}
	bctx, bstop := chromedp.NewContext(allocCtx, copts...)
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	t := time.NewTimer(r.opt.StartupTimeout)
	defer t.Stop()
	select {
	case err = <-started:
	case <-t.C:
		err = errors.New("browser did not start within " + r.opt.StartupTimeout.String())
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		bstop()
		allocCancel()
		os.RemoveAll(dir)
		return fmt.Errorf("render: start %s: %w", e.exec, err)
	}
	vctx, cancel := context.WithTimeout(bctx, 5*time.Second)
	v, err := chromedp.CallBrowser(vctx, browser.GetVersion, cdp.Empty{})
	cancel()
	if err == nil {
		e.version = strings.TrimPrefix(strings.TrimPrefix(v.Product, "HeadlessChrome/"), "Chrome/")
	}
	e.allocCancel, e.browserCtx, e.browserStop = allocCancel, bctx, bstop
	e.gen++
	return nil
}

func (e *engine) stopBrowser() {
	if e.browserStop != nil {
		e.browserStop()
		e.allocCancel()
		e.browserStop = nil
	}
	if e.userDir != "" {
		os.RemoveAll(e.userDir)
		e.userDir = ""
	}
}

// current returns the live browser context and its generation.
func (e *engine) current() (context.Context, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.browserCtx, e.gen
}

// healthy asks the browser for its version within a short time.
func (r *Renderer) healthy(bctx context.Context) bool {
	if bctx == nil || bctx.Err() != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(bctx, 3*time.Second)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	return err == nil
}

// restart replaces the browser of generation gen (once, whoever asks first).
func (r *Renderer) restart(ctx context.Context, e *engine, gen int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gen != gen {
		return nil // someone else restarted it already
	}
	e.stopBrowser()
	r.Restarts.Add(1)
	return r.start(ctx, e)
}

// Close stops the browser and the proxies.
func (r *Renderer) Close() {
	for _, e := range r.engines() {
		for _, sl := range e.allSlots {
			sl.drop()
		}
		e.mu.Lock()
		e.stopBrowser()
		e.mu.Unlock()
	}
	if r.sink != nil {
		r.sink.Close()
	}
	for _, p := range r.proxies {
		p.Close()
	}
}

// Profiles are the profiles each site is rendered in.
func (r *Renderer) Profiles() []Profile {
	shopper := r.shopper
	if r.opt.MobileShopper {
		shopper = r.mobile
	}
	ps := []Profile{r.honest, shopper}
	if r.opt.HonestOnly {
		ps = ps[:1]
	}
	for i := range ps {
		ps[i].Screenshot = r.opt.ScreenshotEveryProfile || i == len(ps)-1
	}
	return ps
}

// Render renders each site in every profile, at most Tabs at a time, and
// hands each site's visits to sink from one goroutine at a time.
func (r *Renderer) Render(ctx context.Context, sites []crawler.Site, sink func([]*Visit) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan crawler.Site)
	results := make(chan []*Visit)
	var wg sync.WaitGroup
	for range min(r.opt.Tabs, max(len(sites), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				var vs []*Visit
				for _, p := range r.Profiles() {
					vs = append(vs, r.Visit(ctx, s, p))
				}
				select {
				case results <- vs:
				case <-ctx.Done():
					return
				}
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
	for vs := range results {
		done++
		for _, v := range vs {
			if v.Status == StatusError || v.Status == StatusCrashed {
				failed++
				break
			}
		}
		if sinkErr == nil {
			if sinkErr = sink(vs); sinkErr != nil {
				cancel()
			}
		}
		if r.opt.Progress != nil {
			r.opt.Progress(done, len(sites), failed)
		}
	}
	if sinkErr != nil {
		return sinkErr
	}
	return ctx.Err()
}

// visitRec collects one visit's events from the browser and the proxy.
type visitRec struct {
	mu       sync.Mutex
	v        *Visit
	pageNo   int
	phase    string
	mainID   string
	first    map[string]string // request id → first URL
	loaded   chan struct{}
	crashed  chan struct{}
	maxReq   int
	reqLimit bool
	blocked  func(string) bool
	// screenshot: this visit's profile takes the site's screenshot
	screenshot bool
	profile    Profile
	// What the page still has going: documents (execution contexts) with
	// timers pending, by the instrumentation's word, and requests not yet
	// finished or failed. waitQuiet reads them.
	busy     map[runtime.ExecutionContextID]bool
	inflight map[network.RequestID]bool
	contexts map[string]runtime.ExecutionContextID // unique id → id
}

// quiet says whether no document has timers pending and no request is
// in flight.
func (rec *visitRec) quiet() bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.busy) == 0 && len(rec.inflight) == 0
}

func (rec *visitRec) event(e Event) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	if len(rec.v.Events) < 300 {
		rec.v.Events = append(rec.v.Events, e)
	}
}

func (rec *visitRec) setPhase(pageNo int, phase string) {
	rec.mu.Lock()
	rec.pageNo, rec.phase = pageNo, phase
	rec.mu.Unlock()
}

// onWorkerEvent records a service worker's requests (script: the
// worker's script URL): the same rows as the page's, initiated by
// "service_worker". Its request ids are its own: kept apart.
func (rec *visitRec) onWorkerEvent(ev any, script string) {
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if e.Request == nil {
			return
		}
		id := network.RequestID("sw:" + string(e.RequestID))
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.inflight) < 10000 {
			rec.inflight[id] = true
		}
		if len(rec.v.Requests) >= rec.maxReq {
			rec.reqLimit = true
			return
		}
		req := Request{PageNo: rec.pageNo, RequestID: string(id), URL: truncate(e.Request.URL, 4096), Type: string(e.Type),
			InitiatorType: "service_worker", InitiatorURL: script, UserGesture: e.HasUserGesture, Phase: rec.phase}
		if u, err := url.Parse(e.Request.URL); err == nil {
			req.Host = strings.ToLower(u.Hostname())
		}
		if e.RedirectResponse != nil {
			req.RedirectFrom = truncate(e.RedirectResponse.URL, 4096)
		}
		if f, ok := rec.first[string(id)]; ok {
			req.FirstURL = f
		} else {
			rec.first[string(id)] = req.URL
			req.FirstURL = req.URL
		}
		req.Blocked = req.Host != "" && rec.blocked(req.Host)
		rec.v.Requests = append(rec.v.Requests, req)
	case *network.EventLoadingFinished:
		rec.mu.Lock()
		delete(rec.inflight, network.RequestID("sw:"+string(e.RequestID)))
		rec.mu.Unlock()
	case *network.EventLoadingFailed:
		rec.mu.Lock()
		delete(rec.inflight, network.RequestID("sw:"+string(e.RequestID)))
		rec.mu.Unlock()
	}
}

// onEvent runs in chromedp's reader goroutine: it must return at once.
func (rec *visitRec) onEvent(ev any) {
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if e.Request == nil {
			return
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.inflight) < 10000 {
			rec.inflight[e.RequestID] = true
		}
		if len(rec.v.Requests) >= rec.maxReq {
			rec.reqLimit = true
			return
		}
		id := string(e.RequestID)
		req := Request{PageNo: rec.pageNo, RequestID: id, URL: truncate(e.Request.URL, 4096), Type: string(e.Type),
			FrameID: string(e.FrameID), UserGesture: e.HasUserGesture, Phase: rec.phase}
		if u, err := url.Parse(e.Request.URL); err == nil {
			req.Host = strings.ToLower(u.Hostname())
		}
		// The main frame's own document (a navigation or redirect of the
		// page), not the subresources it loads.
		req.MainFrame = rec.mainID != "" && req.FrameID == rec.mainID && e.Type == network.ResourceTypeDocument
		if e.Initiator != nil {
			req.InitiatorType = string(e.Initiator.Type)
			req.InitiatorURL = e.Initiator.URL
			if e.Initiator.Stack != nil && len(e.Initiator.Stack.CallFrames) > 0 {
				req.InitiatorURL = e.Initiator.Stack.CallFrames[0].URL
			}
			req.InitiatorURL = truncate(req.InitiatorURL, 2048)
		}
		if e.RedirectResponse != nil {
			req.RedirectFrom = truncate(e.RedirectResponse.URL, 4096)
		}
		if f, ok := rec.first[id]; ok {
			req.FirstURL = f
		} else {
			rec.first[id] = req.URL
			req.FirstURL = req.URL
		}
		req.Blocked = req.Host != "" && rec.blocked(req.Host)
		rec.v.Requests = append(rec.v.Requests, req)
	case *network.EventLoadingFinished:
		rec.mu.Lock()
		delete(rec.inflight, e.RequestID)
		rec.mu.Unlock()
	case *network.EventLoadingFailed:
		rec.mu.Lock()
		delete(rec.inflight, e.RequestID)
		rec.mu.Unlock()
	case *runtime.EventExecutionContextCreated:
		if e.Context != nil {
			rec.mu.Lock()
			if len(rec.contexts) < 1000 {
				rec.contexts[e.Context.UniqueID] = e.Context.ID
			}
			rec.mu.Unlock()
		}
	case *runtime.EventExecutionContextDestroyed:
		rec.mu.Lock()
		if id, ok := rec.contexts[e.ExecutionContextUniqueID]; ok {
			delete(rec.busy, id)
			delete(rec.contexts, e.ExecutionContextUniqueID)
		}
		rec.mu.Unlock()
	case *runtime.EventExecutionContextsCleared:
		rec.mu.Lock()
		clear(rec.busy)
		clear(rec.contexts)
		rec.mu.Unlock()
	case *page.EventFrameRequestedNavigation:
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.v.Navs) < 200 {
			rec.v.Navs = append(rec.v.Navs, Nav{PageNo: rec.pageNo, FrameID: string(e.FrameID), MainFrame: rec.mainID != "" && string(e.FrameID) == rec.mainID,
				URL: truncate(e.URL, 4096), Reason: string(e.Reason), Phase: rec.phase})
		}
	case *page.EventWindowOpen:
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.v.Opens) < 200 {
			rec.v.Opens = append(rec.v.Opens, Open{PageNo: rec.pageNo, URL: truncate(e.URL, 4096), UserGesture: e.UserGesture, Phase: rec.phase, Source: "browser"})
		}
	case *runtime.EventBindingCalled:
		if e.Name != bindingName {
			return
		}
		var m struct {
			K       string `json:"k"`
			URL     string `json:"url"`
			Gesture bool   `json:"gesture"`
			Timer   bool   `json:"timer"`
			Doc     string `json:"doc"`
		}
		if json.Unmarshal([]byte(e.Payload), &m) != nil {
			return
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		switch m.K {
		case "open":
			if len(rec.v.Opens) < 200 {
				rec.v.Opens = append(rec.v.Opens, Open{PageNo: rec.pageNo, DocumentURL: truncate(m.Doc, 4096), URL: truncate(m.URL, 4096),
					UserGesture: m.Gesture, FromTimer: m.Timer, Phase: rec.phase, Source: "script"})
			}
		case "dialog":
			rec.v.Dialogs++
		case "busy":
			if len(rec.busy) < 1000 {
				rec.busy[e.ExecutionContextID] = true
			}
		case "idle":
			delete(rec.busy, e.ExecutionContextID)
		}
	case *page.EventJavascriptDialogOpening:
		rec.mu.Lock()
		rec.v.Dialogs++
		rec.mu.Unlock()
	case *page.EventLoadEventFired:
		select {
		case rec.loaded <- struct{}{}:
		default:
		}
	case *inspector.EventTargetCrashed:
		select {
		case rec.crashed <- struct{}{}:
		default:
		}
	}
}

const bindingName = "__awReport"

// Visit renders one site in one profile. Failures are recorded in the
// visit, never returned: one hostile site does not stop the others.
func (r *Renderer) Visit(ctx context.Context, s crawler.Site, prof Profile) *Visit {
	v := &Visit{Site: s, Profile: prof.Name, UserAgent: prof.UserAgent, StartedAt: time.Now().UTC()}
	defer func() { v.FinishedAt = time.Now().UTC() }()
	rec := &visitRec{v: v, first: map[string]string{}, loaded: make(chan struct{}, 1),
		busy: map[runtime.ExecutionContextID]bool{}, inflight: map[network.RequestID]bool{}, contexts: map[string]runtime.ExecutionContextID{},
		crashed: make(chan struct{}, 1), maxReq: r.opt.MaxRequests, blocked: r.blocked, phase: "load", screenshot: prof.Screenshot, profile: prof}

	u, err := url.Parse(strings.TrimSpace(s.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		v.Status, v.Error = StatusError, fmt.Sprintf("site url %q: only http(s) URLs are rendered", s.URL)
		return v
	}
	eng := r.engineFor(prof)
	v.Browser = eng.describe()
	var sl *slot
	select {
	case sl = <-eng.slots:
	case <-ctx.Done():
		v.Status, v.Error = StatusError, ctx.Err().Error()
		return v
	}
	defer func() { eng.slots <- sl }()
	sl.proxy.SetSink(func(e ProxyEvent) {
		rec.event(Event{At: e.At, Stage: "proxy", Kind: e.Kind, URL: e.URL, Address: e.Address, Detail: e.Detail})
	})
	defer sl.proxy.SetSink(nil)

	if prof.RespectRobots {
		if allowed, why := r.robotsAllow(ctx, sl.proxy, u, prof.UserAgent); !allowed {
			v.Status, v.Error = StatusRobotsDisallowed, why
			return v
		}
	}
	fail := func(status, msg string) *Visit {
		v.Status, v.Error = status, truncate(msg, 1024)
		return v
	}
	bctx, gen := eng.current()
	if bctx == nil {
		return fail(StatusCrashed, "browser not running")
	}
	if sl.tabCtx == nil || sl.gen != gen || sl.tabCtx.Err() != nil {
		sl.drop()
		if err := r.openTab(ctx, eng, sl, bctx, gen); err != nil {
			if !r.healthy(bctx) {
				r.restart(ctx, eng, gen)
				return fail(StatusCrashed, "browser did not answer; restarted: "+err.Error())
			}
			return fail(StatusError, "open tab: "+err.Error())
		}
	}
	rec.mainID = sl.mainID
	sl.cur.Store(rec)
	keep := false
	defer func() {
		sl.cur.Store(nil)
		sl.visits++
		// A tab that misbehaved is not reused; one that served
		// RecycleTabAfter visits makes way for a new one, with what its
		// renderer heap grew to.
		if !keep || sl.visits >= r.opt.RecycleTabAfter || !r.resetTab(sl, v) {
			sl.drop()
		}
	}()

	visitCtx, cancelVisit := context.WithTimeout(sl.tabCtx, r.opt.SiteTimeout)
	defer cancelVisit()
	stopOnParent := context.AfterFunc(ctx, cancelVisit)
	defer stopOnParent()
	sctx, cancel := context.WithTimeout(visitCtx, r.opt.PageTimeout)
	err = chromedp.Do(sctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: prof.UserAgent, AcceptLanguage: "en-US,en;q=0.9",
			Platform: map[bool]string{true: "Linux armv81"}[prof.Mobile], UserAgentMetadata: prof.Metadata}); err != nil {
			return err
		}
		if sl.touch != prof.Touch {
			if _, err := cdp.Call(ctx, t, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: prof.Touch, MaxTouchPoints: map[bool]int64{true: 5, false: 1}[prof.Touch]}); err != nil {
				return err
			}
			sl.touch = prof.Touch
		}
		// A resize relayouts the page: only when the profile's viewport
		// differs from the tab's.
		scale := max(prof.Scale, 1)
		if sl.width == prof.Width && sl.height == prof.Height && sl.mobile == prof.Mobile && sl.scale == scale {
			return nil
		}
		_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: prof.Width, Height: prof.Height, DeviceScaleFactor: scale, Mobile: prof.Mobile})
		if err == nil {
			sl.width, sl.height, sl.mobile, sl.scale = prof.Width, prof.Height, prof.Mobile, scale
		}
		return err
	}))
	cancel()
	if err != nil {
		if !r.healthy(bctx) {
			r.restart(ctx, eng, gen)
			return fail(StatusCrashed, "browser did not answer; restarted: "+err.Error())
		}
		return fail(StatusError, "set up tab: "+err.Error())
	}

	referrer := strings.ReplaceAll(prof.Referrer, "{host}", url.QueryEscape(u.Hostname()))
	queue := []string{u.String()}
	queued := map[string]bool{u.String(): true}
	clean := true
	for no := 0; no < len(queue) && no < r.opt.MaxPages; no++ {
		if visitCtx.Err() != nil {
			rec.event(Event{Stage: "limit", Kind: "limit", URL: queue[no], Detail: "site time limit of " + r.opt.SiteTimeout.String() + " reached"})
			clean = false
			break
		}
		p, snap := r.renderPage(visitCtx, rec, no, queue[no], referrer)
		referrer = queue[no]
		v.Pages = append(v.Pages, p)
		if p.Err != "" {
			clean = false
		}
		select {
		case <-rec.crashed:
			r.restartIfDead(ctx, bctx, eng, gen)
			return fail(StatusCrashed, "the page crashed the renderer")
		default:
		}
		if no == 0 && p.Err != "" && snap == nil {
			if !r.healthy(bctx) {
				r.restart(ctx, eng, gen)
				return fail(StatusCrashed, "browser hung or died on "+queue[no]+"; restarted: "+p.Err)
			}
			v.Status, v.Error = StatusError, p.Err
			break
		}
		if snap != nil {
			for _, l := range snap.Links {
				if !queued[l] && len(queue) < r.opt.MaxPages && !skipLink(l) {
					queued[l] = true
					queue = append(queue, l)
				}
			}
			r.collectAssets(visitCtx, rec, no, snap)
		}
	}
	keep = clean
	if v.Status == "" {
		v.Status = StatusOK
	}
	rec.mu.Lock()
	if rec.reqLimit {
		v.Events = append(v.Events, Event{At: time.Now().UTC(), Stage: "limit", Kind: "limit", URL: s.URL, Detail: fmt.Sprintf("more than %d requests: the rest not recorded", r.opt.MaxRequests)})
	}
	rec.mu.Unlock()
	frameVisibility(v)
	return v
}

// slot is one tab of the renderer with its own proxy. The tab lives in a
// browser context of its own (cookies, storage, cache and the proxy apart
// from the other tabs) and is reused from visit to visit after its
// cookies, the visited origins' storage and its cache are cleared: a new
// context and renderer process per visit cost more CPU than the page.
type slot struct {
	proxy   *Proxy
	gen     int
	tabCtx  context.Context
	cancel  context.CancelFunc
	mainID  string
	bcID    cdp.BrowserContextID
	cur     atomic.Pointer[visitRec]
	dialogs chan struct{}
	// the viewport and touch emulation set on the tab
	width, height int64
	mobile, touch bool
	scale         float64
	visits        int // visits since the tab was opened
	// service workers of the tab's browser context the render attached
	// to, by target: their requests are recorded as the page's
	workerMu sync.Mutex
	workers  map[target.ID]context.CancelFunc
}

// maxWorkers bounds the service workers one tab attaches to.
const maxWorkers = 8

// attachWorker attaches to a service worker of the tab's browser context
// and records its requests in the current visit. Its traffic goes through
// the context's proxy like the page's (the guard and the interception of
// affiliate hosts apply to it); attaching is for the record, with the
// worker's script as the initiator.
func (sl *slot) attachWorker(tabCtx context.Context, info *target.Info) {
	sl.workerMu.Lock()
	if sl.workers == nil {
		sl.workers = map[target.ID]context.CancelFunc{}
	}
	if _, ok := sl.workers[info.TargetID]; ok || len(sl.workers) >= maxWorkers || tabCtx.Err() != nil {
		sl.workerMu.Unlock()
		return
	}
	script := truncate(info.URL, 2048)
	wctx, cancel := chromedp.NewContext(tabCtx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel(),
		// from the target's first message: its first requests too
		chromedp.WithListener(func(ev any) {
			if rec := sl.cur.Load(); rec != nil {
				rec.onWorkerEvent(ev, script)
			}
		}))
	sl.workers[info.TargetID] = cancel
	sl.workerMu.Unlock()
	go func() {
		// The first call attaches, with the context's own lifetime (the
		// target's reader lives as long as it); a hung browser must not
		// hang us.
		done := make(chan error, 1)
		go func() {
			done <- chromedp.Listen(wctx, func(any) {})
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(3 * time.Second):
			err = errors.New("no answer within 3s")
		}
		if err != nil {
			if rec := sl.cur.Load(); rec != nil {
				rec.event(Event{Stage: "page", Kind: "error", URL: script, Detail: "service worker not attached: " + truncate(err.Error(), 300)})
			}
			sl.workerMu.Lock()
			delete(sl.workers, info.TargetID)
			sl.workerMu.Unlock()
			cancel()
		}
	}()
}

func (sl *slot) dropWorkers() {
	sl.workerMu.Lock()
	defer sl.workerMu.Unlock()
	for id, cancel := range sl.workers {
		cancel()
		delete(sl.workers, id)
	}
}

// onEvent gets the events of the tab of tabCtx (chromedp's reader
// goroutine: it must return at once).
func (sl *slot) onEvent(tabCtx context.Context, ev any) {
	if e, ok := ev.(*target.EventTargetCreated); ok {
		// Target discovery reports every target of the browser: a service
		// worker of this tab's context is the page's. (The context's id
		// was set before the tab's first event.)
		bc := chromedp.FromContext(tabCtx).BrowserContextID
		if info := e.TargetInfo; info != nil && info.Type == "service_worker" && bc != "" && info.BrowserContextID == bc {
			go sl.attachWorker(tabCtx, info)
		}
		return
	}
	if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
		select {
		case sl.dialogs <- struct{}{}:
		default:
		}
	}
	if rec := sl.cur.Load(); rec != nil {
		rec.onEvent(ev)
	}
}

func (sl *slot) drop() {
	sl.dropWorkers()
	if sl.tabCtx != nil && sl.tabCtx.Err() == nil {
		// A page stuck in a script loop keeps its renderer spinning a
		// core after its tab is closed (the hang monitor is off):
		// interrupt the script first, then crash the renderer so its
		// process goes with the tab.
		ctx, cancel := context.WithTimeout(sl.tabCtx, time.Second)
		chromedp.Call(ctx, runtime.TerminateExecution, cdp.Empty{})
		chromedp.Call(ctx, page.Crash, cdp.Empty{})
		cancel()
	}
	if sl.cancel != nil {
		sl.cancel()
	}
	sl.cancel, sl.tabCtx, sl.mainID = nil, nil, ""
	sl.width, sl.height, sl.mobile, sl.touch, sl.scale = 0, 0, false, false, 0
}

// openTab creates the slot's browser context and tab and instruments it.
func (r *Renderer) openTab(ctx context.Context, e *engine, sl *slot, bctx context.Context, gen int) error {
	// One tab opens at a time: eight browser contexts and renderer
	// processes started at once on two busy cores take longer than any
	// sane timeout, and a tab given up on still costs a process.
	e.openMu.Lock()
	defer e.openMu.Unlock()
	tabCtx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext(func(p *target.CreateBrowserContextParams) {
		p.ProxyServer = sl.proxy.URL()
		p.ProxyBypassList = "<-loopback>"
	}))
	done := make(chan error, 1)
	go func() {
		// The first call creates the target; a hung browser must not
		// hang us, hence the timer below.
		if err := chromedp.Listen(tabCtx, func(ev any) { sl.onEvent(tabCtx, ev) }); err != nil {
			done <- err
			return
		}
		setup := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			// chromedp enables DOM, CSS and Log for its own selectors; the
			// render reads the page through one snapshot script, and the
			// events of every DOM mutation cost the browser more CPU than
			// the page itself.
			for _, c := range []cdp.Command[cdp.Empty, cdp.Empty]{dom.Disable, css.Disable, cdplog.Disable} {
				if _, err := cdp.Call(ctx, t, c, cdp.Empty{}); err != nil {
					return err
				}
			}
			// No HTTP cache: the shopper profile must not be served the
			// honest visit's cached page (nor the other way round).
			if _, err := cdp.Call(ctx, t, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
				return err
			}
			if _, err := cdp.Call(ctx, t, runtime.AddBinding, runtime.AddBindingParams{Name: bindingName}); err != nil {
				return err
			}
			if _, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: instrumentJS}); err != nil {
				return err
			}
			ft, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
			if err != nil {
				return err
			}
			if ft.FrameTree != nil && ft.FrameTree.Frame != nil {
				sl.mainID = string(ft.FrameTree.Frame.ID)
			}
			return nil
		})
		sctx, scancel := context.WithTimeout(tabCtx, r.opt.PageTimeout)
		defer scancel()
		if err := chromedp.Do(sctx, setup); err != nil {
			done <- err
			return
		}
		sl.bcID = chromedp.FromContext(tabCtx).BrowserContextID
		_, err := chromedp.CallBrowser(sctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorDeny, BrowserContextID: sl.bcID, EventsEnabled: ptr(true)})
		done <- err
	}()
	openLimit := 2 * r.opt.PageTimeout
	t := time.NewTimer(openLimit)
	defer t.Stop()
	var err error
	select {
	case err = <-done:
	case <-t.C:
		err = errors.New("the browser did not open a tab within " + openLimit.String())
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		go cancel() // closing a hung tab may itself wait
		return err
	}
	sl.tabCtx, sl.cancel, sl.gen, sl.visits = tabCtx, cancel, gen, 0
	go func() {
		for {
			select {
			case <-sl.dialogs:
				dctx, dcancel := context.WithTimeout(tabCtx, time.Second)
				chromedp.Call(dctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
				dcancel()
			case <-tabCtx.Done():
				return
			}
		}
	}()
	return nil
}

// resetTab leaves the visited page and forgets everything it stored, so
// the next visit (the other profile of the same site, or another site)
// starts as a first-time visitor. It reports whether the tab is reusable.
func (r *Renderer) resetTab(sl *slot, v *Visit) bool {
	if sl.tabCtx == nil || sl.tabCtx.Err() != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(sl.tabCtx, 3*time.Second)
	defer cancel()
	origins := map[string]bool{}
	for _, p := range v.Pages {
		for _, raw := range []string{p.URL, p.FinalURL} {
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				origins[u.Scheme+"://"+u.Host] = true
			}
		}
	}
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		// No about:blank in between: the next visit's navigation replaces
		// the document anyway, and an extra navigation per visit was a
		// measurable share of the browser's CPU.
		for o := range origins {
			if _, err := cdp.Call(ctx, t, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: o,
				StorageTypes: "local_storage,indexeddb,service_workers,cache_storage,file_systems"}); err != nil {
				return err
			}
		}
		return nil
	}))
	if err == nil {
		_, err = chromedp.CallBrowser(ctx, storage.ClearCookies, storage.ClearCookiesParams{BrowserContextID: sl.bcID})
	}
	return err == nil
}

func (r *Renderer) restartIfDead(ctx, bctx context.Context, e *engine, gen int) {
	if !r.healthy(bctx) {
		r.restart(ctx, e, gen)
	}
}

var skipExt = []string{".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".ico", ".pdf", ".zip", ".exe", ".apk", ".dmg", ".mp4", ".mp3", ".css", ".js", ".xml"}

func skipLink(l string) bool {
	u, err := url.Parse(l)
	if err != nil {
		return true
	}
	p := strings.ToLower(u.Path)
	for _, e := range skipExt {
		if strings.HasSuffix(p, e) {
			return true
		}
	}
	return false
}

// snapshot is what snapshotJS returns.
type snapshot struct {
	URL    string `json:"url"`
	Title  string `json:"title"`
	Nodes  int    `json:"nodes"`
	Capped bool   `json:"capped"`
	Huge   bool   `json:"huge"`
	Els    []struct {
		Tag     string  `json:"tag"`
		Src     string  `json:"src"`
		Hidden  string  `json:"hidden"`
		By      string  `json:"by"`
		W       float64 `json:"w"`
		H       float64 `json:"h"`
		X       float64 `json:"x"`
		Y       float64 `json:"y"`
		Op      float64 `json:"op"`
		Z       string  `json:"z"`
		Cls     string  `json:"cls"`
		Snippet string  `json:"snippet"`
	} `json:"els"`
	Links   []string `json:"links"`
	Icons   []string `json:"icons"`
	Logos   []string `json:"logos"`
	Text    string   `json:"text"`
	Refresh []string `json:"refresh"`
	Click   *struct {
		X  float64 `json:"x"`
		Y  float64 `json:"y"`
		On string  `json:"on"`
	} `json:"click"`
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// renderPage loads one page and walks it through the phases: load, the
// page's timers, one synthetic click on an empty spot.
func (r *Renderer) renderPage(tabCtx context.Context, rec *visitRec, no int, rawURL, referrer string) (p Page, _ *snapshot) {
	p = Page{No: no, URL: rawURL}
	t0 := time.Now()
	defer func() { p.Elapsed = time.Since(t0) }()
	pctx, cancel := context.WithTimeout(tabCtx, r.opt.PageTimeout)
	defer cancel()
	rec.setPhase(no, "load")
	select {
	case <-rec.loaded: // a stale load event of the previous page
	default:
	}
	res, err := chromedp.Call(pctx, page.Navigate, page.NavigateParams{URL: rawURL, Referrer: referrer, ReferrerPolicy: page.ReferrerPolicyOrigin})
	if err != nil {
		p.Err = "navigate: " + describe(err, pctx)
		return p, nil
	}
	if res.ErrorText != "" {
		p.Err = "navigate: " + res.ErrorText
		return p, nil
	}
	// The load event may never come (a stalled body, a download, a
	// script that never yields): wait for it only as long as leaves the
	// page its timers, then look at whatever is there.
	lctx, lcancel := context.WithTimeout(pctx, max(r.opt.PageTimeout-r.opt.Settle-r.opt.TimerWait, r.opt.PageTimeout/2))
	select {
	case <-rec.loaded:
	case <-lctx.Done():
		rec.event(Event{Stage: "limit", Kind: "limit", URL: rawURL, Detail: "no load event within " + r.opt.PageTimeout.String()})
	}
	lcancel()
	// The page's timers (shortened by the instrumentation) and the
	// requests they make, until nothing is left pending or the bound;
	// what happens after Settle is the timer phase.
	waitQuiet(pctx, rec, r.opt.Settle+r.opt.TimerWait, r.opt.Settle, func() { rec.setPhase(no, "timer") })

	// The snapshot, screenshot and click have their own budget: a page
	// that used its navigation time must still be looked at.
	sctx, scancel := context.WithTimeout(tabCtx, r.opt.PageTimeout)
	defer scancel()
	pctx = sctx
	snap, err := r.snapshot(pctx, rec)
	if err != nil {
		p.Err = "snapshot: " + describe(err, pctx)
		return p, nil
	}
	p.FinalURL, p.Title, p.Text, p.Nodes = snap.URL, snap.Title, snap.Text, snap.Nodes
	if snap.Nodes > r.opt.MaxDOMNodes || snap.Capped || snap.Huge {
		rec.event(Event{Stage: "limit", Kind: "limit", URL: snap.URL, Detail: fmt.Sprintf("large document: %d elements; text read without layout, no synthetic click, element walk capped at 300", snap.Nodes)})
	}
	rec.mu.Lock()
	for _, target := range snap.Refresh {
		// A meta refresh in the rendered document (also one a script
		// wrote) that has not fired yet within our bounded wait.
		if len(rec.v.Navs) < 200 {
			rec.v.Navs = append(rec.v.Navs, Nav{PageNo: no, FrameID: rec.mainID, MainFrame: true, URL: truncate(target, 4096), Reason: "metaTagRefresh", Phase: "declared"})
		}
	}
	for _, e := range snap.Els {
		rec.v.Elements = append(rec.v.Elements, Element{PageNo: no, DocumentURL: truncate(snap.URL, 4096), Tag: e.Tag, Src: e.Src,
			Hidden: e.Hidden, HiddenBy: e.By, W: e.W, H: e.H, X: e.X, Y: e.Y, Opacity: e.Op, ZIndex: e.Z, Classes: e.Cls, Snippet: e.Snippet})
	}
	rec.mu.Unlock()
	if no == 0 && rec.screenshot && r.opt.MaxScreenshot > 0 {
		r.screenshot(pctx, rec, rec.profile)
	}
	if snap.Click != nil && pctx.Err() == nil {
		rec.setPhase(no, "click")
		click := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if rec.profile.Touch {
				// a tap: the browser makes the click (and the gesture) of it
				if _, err := cdp.Call(ctx, t, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchStart,
					TouchPoints: []*input.TouchPoint{{X: snap.Click.X, Y: snap.Click.Y}}}); err != nil {
					return err
				}
				_, err := cdp.Call(ctx, t, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}})
				return err
			}
			for _, typ := range []input.DispatchMouseEventType{input.DispatchMouseEventTypeMousePressed, input.DispatchMouseEventTypeMouseReleased} {
				if _, err := cdp.Call(ctx, t, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: typ, X: snap.Click.X, Y: snap.Click.Y,
					Button: input.MouseButtonLeft, Buttons: 1, ClickCount: 1}); err != nil {
					return err
				}
			}
			return nil
		})
		if err := chromedp.Do(pctx, click); err != nil {
			rec.event(Event{Stage: "page", Kind: "error", URL: snap.URL, Detail: "synthetic click: " + describe(err, pctx)})
		}
		waitQuiet(pctx, rec, r.opt.ClickWait, 0, nil)
	}
	return p, snap
}

// quietFor is how long a page must have had nothing pending to be done:
// a callback that a finished request or timer schedules arrives within it.
const quietFor = 40 * time.Millisecond

// waitQuiet waits until the page has had no timer pending and no request
// in flight for quietFor, or for limit, whichever comes first; after
// phaseAt it calls phase once (even when the page was quiet before).
func waitQuiet(ctx context.Context, rec *visitRec, limit, phaseAt time.Duration, phase func()) {
	t0 := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var quietSince time.Time
	for {
		elapsed := time.Since(t0)
		if phase != nil && elapsed >= phaseAt {
			phase()
			phase = nil
		}
		if rec.quiet() {
			if quietSince.IsZero() {
				quietSince = time.Now()
			} else if time.Since(quietSince) >= quietFor {
				break
			}
		} else {
			quietSince = time.Time{}
		}
		if elapsed >= limit {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
	if phase != nil {
		phase()
	}
}

func describe(err error, ctx context.Context) string {
	if ctx.Err() != nil {
		return "page deadline reached (the page did not yield): " + truncate(err.Error(), 300)
	}
	return truncate(err.Error(), 500)
}

func ptr[T any](v T) *T { return &v }

// snapshot reads the page in an isolated world of its main frame.
func (r *Renderer) snapshot(ctx context.Context, rec *visitRec) (*snapshot, error) {
	var out string
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		ft, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return err
		}
		if ft.FrameTree == nil || ft.FrameTree.Frame == nil {
			return errors.New("no main frame")
		}
		w, err := cdp.Call(ctx, t, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: ft.FrameTree.Frame.ID, WorldName: "affwatch"})
		if err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: snapshotJS, ContextID: w.ExecutionContextID,
			ReturnByValue: ptr(true), Silent: ptr(true), Timeout: runtime.TimeDelta(r.opt.PageTimeout.Milliseconds() / 2)})
		if err != nil {
			return err
		}
		if res.ExceptionDetails != nil {
			return errors.New("snapshot script: " + truncate(res.ExceptionDetails.Text, 300))
		}
		if res.Result == nil {
			return errors.New("snapshot script returned nothing")
		}
		return json.Unmarshal([]byte(res.Result.Value), &out)
	}))
	if err != nil {
		return nil, err
	}
	var s snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (r *Renderer) screenshot(ctx context.Context, rec *visitRec, prof Profile) {
	w, h := float64(prof.Width), float64(prof.Height)
	if w <= 0 || h <= 0 {
		w, h = DefaultViewportW, DefaultViewportH
	}
	// the same bytes whatever the device's pixel ratio: CSS pixels × scale
	shot, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng,
		Clip: &page.Viewport{X: 0, Y: 0, Width: w, Height: h, Scale: DefaultScreenshotScale / max(prof.Scale, 1)}, OptimizeForSpeed: ptr(true)})
	if err != nil {
		rec.event(Event{Stage: "page", Kind: "error", Detail: "screenshot: " + truncate(err.Error(), 300)})
		return
	}
	if len(shot.Data) > r.opt.MaxScreenshot {
		rec.event(Event{Stage: "limit", Kind: "limit", Detail: fmt.Sprintf("screenshot of %d bytes over the cap of %d: not kept", len(shot.Data), r.opt.MaxScreenshot)})
		return
	}
	rec.mu.Lock()
	rec.v.Screenshot = shot.Data
	rec.mu.Unlock()
}

// collectAssets keeps the favicon and logo bodies the browser loaded
// (page 0 only: the site's identity).
func (r *Renderer) collectAssets(ctx context.Context, rec *visitRec, no int, snap *snapshot) {
	if no != 0 {
		return
	}
	want := map[string]string{}
	for _, l := range snap.Logos {
		want[l] = "logo"
	}
	for _, i := range snap.Icons {
		want[i] = "icon"
	}
	if len(want) == 0 {
		return
	}
	rec.mu.Lock()
	ids := map[string]string{}
	for _, q := range rec.v.Requests {
		if role, ok := want[q.URL]; ok && !q.Blocked {
			ids[q.URL] = q.RequestID
			_ = role
		}
	}
	rec.mu.Unlock()
	for u, role := range want {
		a := Asset{Role: role, URL: truncate(u, 4096)}
		id, ok := ids[u]
		if !ok {
			a.Err = "not loaded by the browser"
			rec.mu.Lock()
			rec.v.Assets = append(rec.v.Assets, a)
			rec.mu.Unlock()
			continue
		}
		body, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: network.RequestID(id)})
		switch {
		case err != nil:
			a.Err = truncate(err.Error(), 300)
		default:
			b := body.Body
			if len(b) > r.opt.MaxAssetBytes {
				a.Err, b = fmt.Sprintf("larger than %d bytes: not kept", r.opt.MaxAssetBytes), nil
			}
			a.Bytes = b
			a.ContentType = http.DetectContentType(b)
		}
		rec.mu.Lock()
		rec.v.Assets = append(rec.v.Assets, a)
		rec.mu.Unlock()
	}
}

// robotsAllow fetches robots.txt through the same proxy (and so the same
// guard) as the browser.
func (r *Renderer) robotsAllow(ctx context.Context, proxy *Proxy, u *url.URL, ua string) (bool, string) {
	pu, _ := url.Parse(proxy.URL())
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}, Timeout: r.opt.PageTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > 5 {
				return errors.New("too many redirects")
			}
			return nil
		}}
	defer client.CloseIdleConnections()
	ru := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ru.String(), nil)
	if err != nil {
		return true, ""
	}
	req.Header.Set("User-Agent", ua)
	resp, err := client.Do(req)
	if err != nil {
		return true, "" // unreachable robots.txt: allowed (RFC 9309 §2.3.1.4)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, crawler.MaxRobotsBytes))
	switch {
	case resp.StatusCode >= 500:
		return false, fmt.Sprintf("robots.txt answered HTTP %d: treated as disallow-all (RFC 9309)", resp.StatusCode)
	case resp.StatusCode >= 400:
		return true, ""
	}
	if !crawler.ParseRobots(body, "affwatch").Allowed(u.RequestURI()) {
		return false, "robots.txt disallows " + u.RequestURI() + " for affwatch"
	}
	return true, ""
}

// frameVisibility gives every request of a frame or image the computed
// visibility of the element that made it.
func frameVisibility(v *Visit) {
	type key struct {
		page int
		src  string
	}
	els := map[key]string{}
	for _, e := range v.Elements {
		vis := "visible"
		if e.Hidden != "" {
			vis = e.Hidden
			if e.HiddenBy != "" && e.HiddenBy != "self" {
				vis += " by " + e.HiddenBy
			}
		}
		k := key{e.PageNo, e.Src}
		if _, ok := els[k]; !ok || vis == "visible" {
			els[k] = vis
		}
	}
	for i := range v.Requests {
		q := &v.Requests[i]
		if q.MainFrame || (q.Type != "Document" && q.Type != "Image") {
			continue
		}
		if vis, ok := els[key{q.PageNo, q.FirstURL}]; ok {
			q.FrameVisibility = vis
		} else if vis, ok := els[key{q.PageNo, q.URL}]; ok {
			q.FrameVisibility = vis
		} else {
			q.FrameVisibility = "not_in_document"
		}
	}
}
