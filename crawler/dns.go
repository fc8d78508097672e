package crawler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"
)

// DNS defaults. A nightly crawl of thousands of sites must not hang on one
// dead name server, and one lost UDP packet must not become evidence.
const (
	DefaultDNSTimeout = 2 * time.Second // per attempt
	DefaultDNSRetries = 2               // attempts after the first, on timeouts and SERVFAIL
	// MaxCNAMEChain bounds how many CNAMEs are followed; a chain longer than
	// this, or one that loops, is recorded and not followed further.
	MaxCNAMEChain = 8
	// dnsUDPSize is the EDNS0 buffer we advertise: large enough for TXT-heavy
	// domains without forcing TCP for every answer.
	dnsUDPSize = 1232
)

// Record is one resource record of an answer.
type Record struct {
	Name  string
	Type  string
	TTL   uint32
	Value string
}

// Answer is the outcome of one question: the records, or why there are
// none. NXDOMAIN, SERVFAIL and timeouts are answers too: evidence.
type Answer struct {
	Name    string // the question's name, without the trailing dot
	Type    string // A, AAAA, CNAME, NS, MX, TXT
	Rcode   string // NOERROR, NXDOMAIN, SERVFAIL, …; "" when no reply came
	Records []Record
	Err     string // timeout or transport error after all retries
	Server  string
}

// Resolver asks DNS questions with miekg/dns and caches the answers for
// one run. It never uses the operating system's resolver, so the
// addresses the guard checks are exactly the ones we then dial.
type Resolver struct {
	servers []string
	timeout time.Duration
	retries int
	udp     *dns.Client
	tcp     *dns.Client

	mu    sync.Mutex
	cache map[cacheKey]*cacheEntry
}

type cacheKey struct {
	name  string
	qtype uint16
}

type cacheEntry struct {
	done chan struct{}
	ans  Answer
}

// ResolverOptions configure a Resolver.
type ResolverOptions struct {
	// Server receives every lookup (HOST:PORT, --dns-server); empty means
	// the name servers of /etc/resolv.conf.
	Server  string
	Timeout time.Duration
	Retries int
	// DialControl, when set, runs before the resolver connects to its
	// server (tests: LoopbackOnly).
	DialControl func(network, address string, c syscall.RawConn) error
}

// NewResolver returns a resolver that sends its questions to o.Server or
// the system's configured name servers.
func NewResolver(o ResolverOptions) (*Resolver, error) {
	var servers []string
	if o.Server != "" {
		if _, _, err := net.SplitHostPort(o.Server); err != nil {
			return nil, fmt.Errorf("dns server %q: want HOST:PORT", o.Server)
		}
		servers = []string{o.Server}
	} else {
		cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			return nil, fmt.Errorf("read /etc/resolv.conf (or pass --dns-server HOST:PORT): %w", err)
		}
		for _, s := range cfg.Servers {
			servers = append(servers, net.JoinHostPort(s, cfg.Port))
		}
		if len(servers) == 0 {
			return nil, errors.New("/etc/resolv.conf names no name server; pass --dns-server HOST:PORT")
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultDNSTimeout
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	dialer := &net.Dialer{Timeout: o.Timeout, Control: o.DialControl}
	return &Resolver{
		servers: servers, timeout: o.Timeout, retries: o.Retries,
		udp:   &dns.Client{Net: "udp", Timeout: o.Timeout, Dialer: dialer, UDPSize: dnsUDPSize},
		tcp:   &dns.Client{Net: "tcp", Timeout: o.Timeout, Dialer: dialer},
		cache: map[cacheKey]*cacheEntry{},
	}, nil
}

// Lookup asks one question, from the run's cache when it was asked before.
// Concurrent askers of the same question share one exchange.
func (r *Resolver) Lookup(ctx context.Context, name string, qtype uint16) Answer {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	key := cacheKey{name, qtype}
	r.mu.Lock()
	if e, ok := r.cache[key]; ok {
		r.mu.Unlock()
		select {
		case <-e.done:
			return e.ans
		case <-ctx.Done():
			return Answer{Name: name, Type: dns.TypeToString[qtype], Err: ctx.Err().Error()}
		}
	}
	e := &cacheEntry{done: make(chan struct{})}
	r.cache[key] = e
	r.mu.Unlock()
	e.ans = r.exchange(ctx, name, qtype)
	close(e.done)
	if e.ans.Err != "" && ctx.Err() != nil {
		// A cancelled caller must not poison the cache for the others.
		r.mu.Lock()
		delete(r.cache, key)
		r.mu.Unlock()
	}
	return e.ans
}

func (r *Resolver) exchange(ctx context.Context, name string, qtype uint16) Answer {
	ans := Answer{Name: name, Type: dns.TypeToString[qtype]}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(dnsUDPSize, false)
	var lastErr error
	for attempt := 0; attempt <= r.retries; attempt++ {
		server := r.servers[attempt%len(r.servers)]
		ans.Server = server
		actx, cancel := context.WithTimeout(ctx, r.timeout)
		in, _, err := r.udp.ExchangeContext(actx, m, server)
		if err == nil && in.Truncated {
			in, _, err = r.tcp.ExchangeContext(actx, m, server)
		}
		cancel()
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		ans.Rcode = dns.RcodeToString[in.Rcode]
		ans.Err = ""
		if in.Rcode == dns.RcodeServerFailure && attempt < r.retries {
			continue // SERVFAIL is often a transient upstream failure
		}
		for _, rr := range in.Answer {
			if rec, ok := toRecord(rr); ok {
				ans.Records = append(ans.Records, rec)
			}
		}
		return ans
	}
	if ans.Rcode == "" && lastErr != nil {
		ans.Err = describeDNSError(lastErr)
	}
	return ans
}

func describeDNSError(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return "timeout: " + err.Error()
	}
	return err.Error()
}

func toRecord(rr dns.RR) (Record, bool) {
	h := rr.Header()
	rec := Record{Name: strings.ToLower(strings.TrimSuffix(h.Name, ".")), Type: dns.TypeToString[h.Rrtype], TTL: h.Ttl}
	switch v := rr.(type) {
	case *dns.A:
		rec.Value = v.A.String()
	case *dns.AAAA:
		rec.Value = v.AAAA.String()
	case *dns.CNAME:
		rec.Value = strings.ToLower(strings.TrimSuffix(v.Target, "."))
	case *dns.NS:
		rec.Value = strings.ToLower(strings.TrimSuffix(v.Ns, "."))
	case *dns.MX:
		rec.Value = fmt.Sprintf("%d %s", v.Preference, strings.ToLower(strings.TrimSuffix(v.Mx, ".")))
	case *dns.TXT:
		rec.Value = strings.Join(v.Txt, "")
	default:
		return rec, false
	}
	return rec, true
}

// Resolution is what the crawler learned about one host name.
type Resolution struct {
	Host    string
	Addrs   []netip.Addr // addresses at the end of the CNAME chain
	Chain   []string     // CNAME targets followed, in order
	Answers []Answer     // every question asked, for the evidence tables
	Problem string       // why there is no usable address ("" when Addrs is set)
}

// ResolveHost follows host's CNAME chain and collects its A and AAAA
// addresses. A loop or an over-long chain stops with a Problem.
func (r *Resolver) ResolveHost(ctx context.Context, host string) Resolution {
	res := Resolution{Host: host}
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		res.Addrs = []netip.Addr{a.Unmap()}
		return res
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	seen := map[string]bool{name: true}
	for len(res.Chain) <= MaxCNAMEChain {
		var targets []string
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			ans := r.Lookup(ctx, name, qt)
			res.Answers = append(res.Answers, ans)
			ts, addrs := follow(ans, name)
			res.Addrs = append(res.Addrs, addrs...)
			if len(ts) > len(targets) {
				targets = ts
			}
		}
		if len(res.Addrs) > 0 {
			res.Chain = append(res.Chain, targets...)
			return res
		}
		if len(targets) == 0 {
			res.Problem = problemOf(res.Answers[len(res.Answers)-2:])
			return res
		}
		for _, t := range targets {
			res.Chain = append(res.Chain, t)
			if seen[t] {
				res.Problem = fmt.Sprintf("CNAME loop: %s", strings.Join(append([]string{host}, res.Chain...), " → "))
				return res
			}
			seen[t] = true
		}
		name = targets[len(targets)-1]
	}
	res.Problem = fmt.Sprintf("CNAME chain longer than %d: %s", MaxCNAMEChain, strings.Join(append([]string{host}, res.Chain...), " → "))
	return res
}

// follow reads an answer for name: the CNAMEs it walks through (a
// recursive resolver puts the whole chain in one answer) and the addresses
// at their end. A loop inside the answer ends the walk at the repeated name.
func follow(ans Answer, name string) ([]string, []netip.Addr) {
	cur := name
	seen := map[string]bool{name: true}
	var targets []string
	for range MaxCNAMEChain + 1 {
		next := ""
		for _, rec := range ans.Records {
			if rec.Name == cur && rec.Type == "CNAME" {
				next = rec.Value
				break
			}
		}
		if next == "" {
			break
		}
		targets = append(targets, next)
		if seen[next] {
			return targets, nil
		}
		seen[next] = true
		cur = next
	}
	var addrs []netip.Addr
	for _, rec := range ans.Records {
		if rec.Name == cur && (rec.Type == "A" || rec.Type == "AAAA") {
			if a, err := netip.ParseAddr(rec.Value); err == nil {
				addrs = append(addrs, a.Unmap())
			}
		}
	}
	return targets, addrs
}

func problemOf(answers []Answer) string {
	for _, a := range answers {
		if a.Err != "" {
			return fmt.Sprintf("dns %s %s: %s", a.Type, a.Name, a.Err)
		}
	}
	for _, a := range answers {
		if a.Rcode != "" && a.Rcode != "NOERROR" {
			return fmt.Sprintf("dns %s %s: %s", a.Type, a.Name, a.Rcode)
		}
	}
	return "dns: no A or AAAA record"
}

// RegistrableDomain is host's eTLD+1 (shop.example.co.uk → example.co.uk),
// or host itself when it has none (an IP address, a bare suffix).
func RegistrableDomain(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return host
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}

// domainQuestions are asked for the registrable domain (and the host, when
// it differs): who serves its DNS and mail, and what it publishes in TXT
// (verification tokens, SPF) tie sites of one operator together.
var domainQuestions = []uint16{dns.TypeNS, dns.TypeMX, dns.TypeTXT}

// DomainRecords asks NS, MX and TXT for host and its registrable domain.
func (r *Resolver) DomainRecords(ctx context.Context, host string) []Answer {
	names := []string{strings.ToLower(strings.TrimSuffix(host, "."))}
	if d := RegistrableDomain(host); d != names[0] {
		names = append(names, d)
	}
	var out []Answer
	for _, n := range names {
		if _, err := netip.ParseAddr(strings.Trim(n, "[]")); err == nil {
			continue
		}
		for _, qt := range domainQuestions {
			out = append(out, r.Lookup(ctx, n, qt))
		}
	}
	return out
}
