package crawler

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"affwatch/fixtures/sites"
)

func TestResolveHost(t *testing.T) {
	zone := sites.NewZone().MustAdd(
		"direct.example. 60 IN A 192.0.2.10", // never dialed: only resolved
		"direct.example. 60 IN AAAA 2001:db8::10",
		"www.chain.example. 60 IN CNAME cdn.chain.example.",
		"cdn.chain.example. 60 IN CNAME edge.cdn.example.",
		"edge.cdn.example. 60 IN A 192.0.2.20",
		"self.example. 60 IN CNAME self.example.",
	)
	for i := range MaxCNAMEChain + 2 {
		zone.MustAdd(fmt.Sprintf("c%d.long.example. 60 IN CNAME c%d.long.example.", i, i+1))
	}
	srv, err := sites.StartDNS(zone)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	r, err := NewResolver(ResolverOptions{Server: srv.Addr, Timeout: 300 * time.Millisecond, DialControl: LoopbackOnly})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host    string
		addrs   string
		chain   string
		problem string
	}{
		{"direct.example", "192.0.2.10 2001:db8::10", "", ""},
		{"WWW.Chain.Example.", "192.0.2.20", "cdn.chain.example edge.cdn.example", ""},
		{"self.example", "", "self.example", "CNAME loop"},
		{"c0.long.example", "", "", "CNAME chain longer than 8"},
		{"missing.example", "", "", "NXDOMAIN"},
		{"203.0.113.7", "203.0.113.7", "", ""},
	} {
		t.Run(tc.host, func(t *testing.T) {
			res := r.ResolveHost(context.Background(), tc.host)
			var addrs []string
			for _, a := range res.Addrs {
				addrs = append(addrs, a.String())
			}
			if got := strings.Join(addrs, " "); got != tc.addrs {
				t.Errorf("addrs %q, want %q", got, tc.addrs)
			}
			if tc.chain != "" && strings.Join(res.Chain, " ") != tc.chain {
				t.Errorf("chain %v, want %q", res.Chain, tc.chain)
			}
			if !strings.Contains(res.Problem, tc.problem) || tc.problem == "" && res.Problem != "" {
				t.Errorf("problem %q, want %q", res.Problem, tc.problem)
			}
		})
	}
	// The run's cache: asking again costs no query.
	before := zone.Queries()
	r.ResolveHost(context.Background(), "www.chain.example")
	if zone.Queries() != before {
		t.Errorf("%d queries for a cached name", zone.Queries()-before)
	}
	if got := RegistrableDomain("shop.deals.example.co.uk"); got != "example.co.uk" {
		t.Errorf("registrable domain %q", got)
	}
}

// A recursive resolver answers with the whole chain at once.
func TestFollowWholeChainInOneAnswer(t *testing.T) {
	ans := Answer{Records: []Record{
		{Name: "www.shop.example", Type: "CNAME", Value: "shop.cdn.example"},
		{Name: "shop.cdn.example", Type: "CNAME", Value: "edge7.cdn.example"},
		{Name: "edge7.cdn.example", Type: "A", Value: "192.0.2.7"},
		{Name: "unrelated.example", Type: "A", Value: "192.0.2.99"},
	}}
	targets, addrs := follow(ans, "www.shop.example")
	if strings.Join(targets, " ") != "shop.cdn.example edge7.cdn.example" || len(addrs) != 1 || addrs[0].String() != "192.0.2.7" {
		t.Errorf("targets %v addrs %v", targets, addrs)
	}
	loop := Answer{Records: []Record{{Name: "a.example", Type: "CNAME", Value: "b.example"}, {Name: "b.example", Type: "CNAME", Value: "a.example"}}}
	if targets, addrs := follow(loop, "a.example"); strings.Join(targets, " ") != "b.example a.example" || addrs != nil {
		t.Errorf("loop: targets %v addrs %v", targets, addrs)
	}
}
