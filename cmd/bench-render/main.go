// Command bench-render measures the render stage (issue 17) on generated
// fixture sites served on loopback (fixtures/sites.StartSynthetic): sites
// per second rendered in both profiles with a screenshot each, and the peak
// memory of the rendering process plus its Chromium processes. The parent
// serves the sites; a child process (this binary with -child) renders them
// and stores the rows in a DuckDB file through the same Writer the nightly
// run uses, sampling the memory of itself and every process below it.
// Nothing leaves 127.0.0.1: the proxy's dials pass the guard (only the
// fixture listener is allowed) and then crawler.LoopbackOnly.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"affwatch/cmd/internal/benchutil"
	"affwatch/crawler"
	"affwatch/crawler/render"
	"affwatch/detectors/pagecode"
	"affwatch/fixtures/sites"
	"affwatch/rules"
	"affwatch/store"
)

type result struct {
	Sites       int     `json:"sites"`
	Visits      int     `json:"visits"`
	VisitsOK    int     `json:"visits_ok"`
	Pages       int     `json:"pages"`
	Screenshots int     `json:"screenshots"`
	Blocked     int     `json:"blocked_requests"`
	Restarts    int64   `json:"browser_restarts"`
	Seconds     float64 `json:"seconds"`
	SitesPerS   float64 `json:"sites_per_s"`
	PeakRSSMB   float64 `json:"peak_rss_mb"` // sum of RSS over the tree (shared pages counted in each process)
	PeakPSSMB   float64 `json:"peak_pss_mb"` // sum of PSS over the tree (shared pages divided): the memory the tree costs
	Processes   int     `json:"peak_processes"`
	Browser     string  `json:"browser"`
	// CPU seconds (user+system) over the run by process role: the render
	// process (affwatch's side: CDP, proxy, DuckDB writer) and Chromium's
	// browser, renderer, GPU and utility processes.
	CPU       map[string]float64 `json:"cpu_seconds"`
	Started   map[string]int     `json:"processes_started"` // by role, during the visits
	Load1     string             `json:"load_before"`
	LoadAfter string             `json:"load_after"`
}

func main() {
	var (
		n        = flag.Int("sites", 1000, "generated sites")
		tabs     = flag.Int("tabs", 8, "tabs rendering at once")
		pages    = flag.Int("pages", 1, "pages rendered per site and profile")
		appendTo = flag.String("append", "", "append a result section to this markdown file")
		child    = flag.Bool("child", false, "internal: render (run by the parent)")
		browserP = flag.String("browser", "", "Chromium executable (default: found in PATH)")
		honestT  = flag.Int("honest-tabs", 0, "tabs of the honest profile's browser when it is a second one (default: the renderer's)")
		honestP  = flag.String("honest-browser", "", "the honest profile's browser (default: Chromium's headless shell when installed; the main browser's path renders both in one)")
		waits    = flag.String("waits", "", "settle,timer,click waits (e.g. 150ms,350ms,250ms; default: the renderer's)")
		noShot   = flag.Bool("no-screenshot", false, "profiling only: skip the screenshot (the benchmark's figures are with it)")
		dnsAddr  = flag.String("dns", "", "internal: fixture name server")
		webAddr  = flag.String("web", "", "internal: fixture web server")
	)
	flags := map[string]any{}
	flag.Func("flag", "extra Chromium switch name=value or name (repeatable; for measuring a flag's effect)", func(v string) error {
		k, val, ok := strings.Cut(strings.TrimPrefix(v, "--"), "=")
		if !ok {
			flags[k] = true
		} else {
			flags[k] = val
		}
		return nil
	})
	flag.Parse()
	if *child {
		r, err := renderAll(*n, *tabs, *honestT, *pages, *dnsAddr, *webAddr, *browserP, *honestP, *waits, *noShot, flags)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-render child:", err)
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	extra := childArgs(*browserP, flags)
	if *honestT > 0 {
		extra = append(extra, fmt.Sprint("-honest-tabs=", *honestT))
	}
	if *honestP != "" {
		extra = append(extra, "-honest-browser="+*honestP)
	}
	if *noShot {
		extra = append(extra, "-no-screenshot")
	}
	if *waits != "" {
		extra = append(extra, "-waits="+*waits)
	}
	if err := parent(*n, *tabs, *pages, *appendTo, extra); err != nil {
		fmt.Fprintln(os.Stderr, "bench-render:", err)
		os.Exit(1)
	}
}

// childArgs passes the browser and its extra switches on to the child.
func childArgs(browser string, flags map[string]any) []string {
	var args []string
	if browser != "" {
		args = append(args, "-browser="+browser)
	}
	keys := make([]string, 0, len(flags))
	for k := range flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := flags[k].(string); ok {
			args = append(args, "-flag="+k+"="+v)
		} else {
			args = append(args, "-flag="+k)
		}
	}
	return args
}

func parent(n, tabs, pages int, appendTo string, extra []string) error {
	f, err := sites.StartSynthetic(n)
	if err != nil {
		return err
	}
	defer f.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, append([]string{"-child", fmt.Sprint("-sites=", n), fmt.Sprint("-tabs=", tabs), fmt.Sprint("-pages=", pages),
		"-dns=" + f.DNS.Addr, "-web=" + f.HTTPAddr}, extra...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("child: %w", err)
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("child output %q: %w", out, err)
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	line := fmt.Sprintf("%d sites × 2 profiles (%d visits, %d ok, %d pages, %d screenshots, %d affiliate requests intercepted, %d browser restarts) in %.1f s: **%.2f sites/s** (target ≥ 3: %s); peak memory of the render process + Chromium: **PSS %.0f MB**, RSS sum %.0f MB over %d processes (target ≤ 2048 MB: %s by PSS). Chromium %s. Load average before %s, after %s.",
		r.Sites, r.Visits, r.VisitsOK, r.Pages, r.Screenshots, r.Blocked, r.Restarts, r.Seconds, r.SitesPerS, verdict(r.SitesPerS >= 3),
		r.PeakPSSMB, r.PeakRSSMB, r.Processes, verdict(r.PeakPSSMB <= 2048), r.Browser, r.Load1, r.LoadAfter)
	var cpuTotal float64
	var roles []string
	for role, sec := range r.CPU {
		cpuTotal += sec
		roles = append(roles, role)
	}
	sort.Slice(roles, func(i, j int) bool { return r.CPU[roles[i]] > r.CPU[roles[j]] })
	var parts []string
	for _, role := range roles {
		parts = append(parts, fmt.Sprintf("%s %.3f", role, r.CPU[role]/float64(max(r.Visits, 1))))
	}
	line += fmt.Sprintf(" CPU per visit %.3f s (%s); %.1f s of CPU in %.1f s of wall time: the tree had %.2f of the %d cores.",
		cpuTotal/float64(max(r.Visits, 1)), strings.Join(parts, ", "), cpuTotal, r.Seconds, cpuTotal/max(r.Seconds, 1e-9), runtime.NumCPU())
	if n := r.Started["renderer"] + r.Started["shell renderer"]; n > 0 {
		line += fmt.Sprintf(" Renderer processes started during the visits: %d.", n)
	}
	if len(extra) > 0 {
		line += " Options: " + strings.Join(extra, " ") + "."
	}
	fmt.Println(line)
	if appendTo == "" {
		return nil
	}
	host, _ := os.Hostname()
	md := fmt.Sprintf("\n## Render benchmark, %s\n\nCommand: `go run -tags duckdb_arrow ./cmd/bench-render --sites %d --tabs %d --pages %d --append %s` (`make bench-render`)\n\nMachine: %s, %s/%s, %d CPUs, %s — **shared**: other sessions build and test at the same time, so the figures are noisy; the load average before and after is printed. Sites generated by fixtures/sites.StartSynthetic (served and resolved on loopback by the parent process; every tenth hides an affiliate frame); the child renders each site in the honest and the shopper profile (the honest one in Chromium's headless shell when it is installed; each tab in its own browser context and proxy, cookies and storage cleared between visits, cache off; load, timers, one synthetic click, snapshot; one 640×400 PNG of the first viewport per site, in the shopper profile, as the report shows it), every request through affwatch's guarded proxy, rows written to a DuckDB file. Memory is sampled every second (CPU times every 250 ms, the sampler's own CPU left out) over the child and every process below it (Chromium's browser, renderer, GPU/utility processes): PSS sums shared pages once, the RSS sum counts them in each process.\n\n- %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), n, tabs, pages, appendTo, host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), line)
	return benchutil.AppendMarkdown(appendTo, md)
}

// cpuTicks is the CPU time of every process seen below the render
// process, by pid: the last sample of a process that exits between two
// samples loses at most one sampling interval of its time.
type cpuTicks struct {
	role  map[int]string
	ticks map[int]int64
}

// role names a process of the tree by Chromium's --type switch.
func processRole(pid, self int) string {
	if pid == self {
		return "affwatch"
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	// Chromium's children rewrite their command line as one string with
	// spaces (setproctitle), the browser keeps NUL-separated arguments.
	// The headless shell's processes (the honest profile's browser) are
	// counted apart from the full browser's.
	prefix := ""
	if strings.Contains(string(b), "headless-shell") {
		prefix = "shell "
	}
	for _, a := range strings.FieldsFunc(string(b), func(r rune) bool { return r == 0 || r == ' ' }) {
		if t, ok := strings.CutPrefix(a, "--type="); ok {
			if t == "gpu-process" {
				return prefix + "gpu"
			}
			return prefix + t // renderer, utility, zygote
		}
	}
	return prefix + "browser"
}

// userHZ is the kernel's clock tick for /proc stat times (100 on Linux
// everywhere Go runs).
const userHZ = 100

// rusageThread is Linux's RUSAGE_THREAD (not in package syscall).
const rusageThread = 1

// treeMemory records the CPU ticks of pid and its descendants in cpu and,
// with memory, sums their RSS and PSS (KiB): smaps_rollup walks a
// process's page tables, the costly part of a sample.
func treeMemory(root int, cpu *cpuTicks, memory bool) (rss, pss int64, procs int) {
	ents, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	ticks := map[int]int64{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[pid] = pp
		if len(f) > 12 {
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			stt, _ := strconv.ParseInt(f[12], 10, 64)
			ticks[pid] = ut + stt
		}
	}
	in := func(pid int) bool {
		for p := pid; p > 1; p = parent[p] {
			if p == root {
				return true
			}
		}
		return false
	}
	for pid := range parent {
		if !in(pid) {
			continue
		}
		procs++
		// A process forked by a zygote shows the zygote's command line
		// until it has set its own.
		if role, ok := cpu.role[pid]; !ok || role == "zygote" {
			cpu.role[pid] = processRole(pid, root)
		}
		cpu.ticks[pid] = max(cpu.ticks[pid], ticks[pid])
		if !memory {
			continue
		}
		fh, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := sc.Text()
			var dst *int64
			switch {
			case strings.HasPrefix(line, "Rss:"):
				dst = &rss
			case strings.HasPrefix(line, "Pss:"):
				dst = &pss
			default:
				continue
			}
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				*dst += v
			}
		}
		fh.Close()
	}
	return rss, pss, procs
}

func renderAll(n, tabs, honestTabs, pages int, dnsAddr, webAddr, browser, honestBrowser, waits string, noShot bool, flags map[string]any) (result, error) {
	var wait [3]time.Duration
	if waits != "" {
		for i, f := range strings.SplitN(waits, ",", 3) {
			d, err := time.ParseDuration(strings.TrimSpace(f))
			if err != nil {
				return result{}, fmt.Errorf("--waits: %w", err)
			}
			wait[i] = d
		}
	}
	ctx := context.Background()
	r := result{Sites: n, Load1: benchutil.LoadAvg()}
	dir, err := os.MkdirTemp("", "bench-render-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, filepath.Join(dir, "bench.duckdb"), store.Options{})
	if err != nil {
		return r, err
	}
	defer st.Close()
	pack, err := rules.Default()
	if err != nil {
		return r, err
	}
	_, port, _ := strings.Cut(webAddr, ":")
	list := make([]crawler.Site, n)
	for i := range list {
		list[i] = crawler.Site{PublisherID: fmt.Sprintf("PBENCH%05d", i), URL: fmt.Sprintf("http://site-%05d.bench.test:%s/", i, port)}
	}
	res, err := crawler.NewResolver(crawler.ResolverOptions{Server: dnsAddr, DialControl: crawler.LoopbackOnly})
	if err != nil {
		return r, err
	}

	var mu sync.Mutex
	cpu := &cpuTicks{role: map[int]string{}, ticks: map[int]int64{}}
	var samplerCPU time.Duration
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		// The sampler reads /proc of every process of the machine four
		// times a second; its own thread's CPU is not the render's.
		runtime.LockOSThread()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			rss, pss, procs := treeMemory(os.Getpid(), cpu, i%4 == 0)
			var ru syscall.Rusage
			syscall.Getrusage(rusageThread, &ru)
			mu.Lock()
			samplerCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			r.PeakRSSMB = max(r.PeakRSSMB, float64(rss)/1024)
			r.PeakPSSMB = max(r.PeakPSSMB, float64(pss)/1024)
			r.Processes = max(r.Processes, procs)
			mu.Unlock()
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}()

	rd, err := render.New(ctx, render.Options{Version: "bench", Resolver: res, DialControl: crawler.LoopbackOnly,
		Guard:      &crawler.Guard{Allow: map[netip.AddrPort]bool{netip.MustParseAddrPort(webAddr): true}},
		BlockHosts: pagecode.InterceptHosts(pack), Tabs: tabs, MaxPages: pages, ExecPath: browser, HonestExecPath: honestBrowser, HonestTabs: honestTabs, ExtraFlags: flags,
		MaxScreenshot: map[bool]int{true: -1}[noShot], Settle: wait[0], TimerWait: wait[1], ClickWait: wait[2],
		Progress: func(done, total, failed int) {
			if done%100 == 0 || done == total {
				fmt.Fprintf(os.Stderr, "bench-render: %d/%d sites, %d with a visit not ok\n", done, total, failed)
			}
		}})
	if err != nil {
		return r, err
	}
	defer rd.Close()
	r.Browser = rd.BrowserVer
	if ps := rd.Profiles(); len(ps) > 0 {
		if honest := rd.BrowserFor(ps[0]); honest != rd.BrowserVer {
			r.Browser += ", the honest profile in " + honest
		}
	}
	w, err := render.NewWriter(ctx, st.DB, "bench", rd.BrowserVer)
	if err != nil {
		return r, err
	}
	// CPU spent starting the browser is not the visits'.
	base := &cpuTicks{role: map[int]string{}, ticks: map[int]int64{}}
	treeMemory(os.Getpid(), base, false)
	mu.Lock()
	samplerBase := samplerCPU
	mu.Unlock()
	t0 := time.Now()
	err = rd.Render(ctx, list, func(vs []*render.Visit) error {
		for _, v := range vs {
			r.Visits++
			if v.Status == render.StatusOK {
				r.VisitsOK++
			} else if os.Getenv("BENCH_RENDER_VERBOSE") != "" {
				fmt.Fprintf(os.Stderr, "bench-render: %s %s: %s %s\n", v.Site.URL, v.Profile, v.Status, v.Error)
			}
			r.Pages += len(v.Pages)
			if len(v.Screenshot) > 0 {
				r.Screenshots++
			}
			for _, q := range v.Requests {
				if q.Blocked {
					r.Blocked++
				}
			}
		}
		return w.Write(vs)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	r.Seconds = time.Since(t0).Seconds()
	close(stop)
	<-sampled
	if err != nil {
		return r, err
	}
	r.CPU = map[string]float64{}
	mu.Lock()
	r.CPU["affwatch"] -= (samplerCPU - samplerBase).Seconds()
	r.Started = map[string]int{}
	for pid, t := range cpu.ticks {
		r.CPU[cpu.role[pid]] += float64(t-base.ticks[pid]) / userHZ
		if _, ok := base.ticks[pid]; !ok {
			r.Started[cpu.role[pid]]++
		}
	}
	mu.Unlock()
	r.SitesPerS = float64(n) / r.Seconds
	r.Restarts = rd.Restarts.Load()
	r.LoadAfter = benchutil.LoadAvg()
	return r, nil
}
