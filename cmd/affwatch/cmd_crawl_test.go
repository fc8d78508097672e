package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"affwatch/crawler"
	"affwatch/fixtures/sites"
	"affwatch/store"
)

func init() { testDialControl = crawler.LoopbackOnly }

// TestRunRefusesLoopbackSite: without --allow-private-networks a site whose
// name resolves to 127.0.0.1 gets no request; the refusal is evidence.
// Every lookup goes to a loopback name server (the sample's public-looking
// names are NXDOMAIN there), so the test never leaves the machine.
func TestRunRefusesLoopbackSite(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "<title>should never be seen</title>")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	zone := sites.NewZone().MustAdd("sneaky-local.site. 60 IN A 127.0.0.1")
	dns, err := sites.StartDNS(zone)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()

	in := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "fixtures", "sample"), in)
	gunzip(t, filepath.Join(in, "sites.csv.gz"))
	siteURL := "http://sneaky-local.site:" + port + "/"
	f, err := os.OpenFile(filepath.Join(in, "sites.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "PLOCAL,%s,website\n", siteURL)
	f.Close()

	out := filepath.Join(t.TempDir(), "out")
	code, _, errs := runCLI(t, "run", "--in", in, "--out", out, "--dns-server", dns.Addr, "--log-level", "error")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
	if hits.Load() != 0 {
		t.Fatal("the loopback site received a request")
	}
	st, err := store.Open(context.Background(), filepath.Join(out, "affwatch.duckdb"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var status, stage, kind, addr, detail string
	if err := st.DB.QueryRow(`SELECT s.status, e.stage, e.kind, e.address, e.detail FROM crawl_sites s JOIN crawl_events e USING (crawl_id)
		WHERE s.publisher_id = 'PLOCAL'`).Scan(&status, &stage, &kind, &addr, &detail); err != nil {
		t.Fatal(err)
	}
	if status != "refused" || stage != "dns" || kind != "refused" || addr != "127.0.0.1:"+port || detail != "loopback address" {
		t.Errorf("stored %s %s %s %s %q", status, stage, kind, addr, detail)
	}
	var websites, nx int
	st.DB.QueryRow(`SELECT count(*), count(*) FILTER (WHERE status = 'dns_error' AND error LIKE '%NXDOMAIN%') FROM crawl_sites WHERE publisher_id <> 'PLOCAL'`).Scan(&websites, &nx)
	if websites == 0 || websites != nx {
		t.Errorf("sample websites: %d visited, %d NXDOMAIN", websites, nx)
	}

	// The next night leaves the refused site alone (TTL); the crawl command says so.
	code, stdout, errs := runCLI(t, "crawl", "--out", out, "--dns-server", dns.Addr, "--log-level", "error")
	if code != 0 || !strings.Contains(stdout, "1 fresh site(s) skipped") {
		t.Errorf("crawl exit %d stdout %q stderr %s", code, stdout, errs)
	}
}
