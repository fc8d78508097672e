package crawler

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/store"
)

func TestStoreAndRecrawlPolicy(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := newWorld(t)
	good := w.site("shop.example", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(rw, `<html><title>Shop</title><body>Deals<iframe src="https://s.click.aliexpress.com/e/_d" width="0" height="0"></iframe>
<script>window.location = "/go"</script></body></html>`)
		case "/go":
			fmt.Fprint(rw, `<html><title>Go</title><body>landed</body></html>`)
		case "/favicon.ico":
			rw.Write(encodePNG(16, 16))
		default:
			http.NotFound(rw, r)
		}
	}))
	w.zone.MustAdd("private.example. 60 IN A 10.0.0.5")
	garbled := w.site("garbled.example", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		rw.Header().Set("Server", "x\xff\xfey")
		rw.Write([]byte("<title>A\x00B\xc3(</title><body>caf\xe9 \xf0\x28\x8c\x28<a href='/\xff'>x</a>"))
	}))
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO sites (publisher_id, url, kind, _file_id, _line) VALUES
		('P1', ?, 'website', 0, 1), ('P2', 'http://private.example/', 'website', 0, 2), ('P2', 'http://unreachable.example/', NULL, 0, 3),
		('P3', 'https://vk.com/p3', 'social', 0, 4), ('P4', ?, 'website', 0, 5)`, good, garbled); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	due, skipped, err := Due(ctx, st.DB, now, DefaultRecrawlTTL, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 4 || skipped != 0 {
		t.Fatalf("due %v skipped %d (social channels are not crawled)", due, skipped)
	}
	c := w.crawler(func(o *Options) { o.IgnoreRobots = true })
	wr, err := NewWriter(ctx, st.DB, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Crawl(ctx, due, wr.Write); err != nil {
		t.Fatal(err)
	}
	if err := wr.Close(); err != nil {
		t.Fatal(err)
	}
	query := func(q string, args ...any) [][]string {
		t.Helper()
		rows, err := st.DB.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out [][]string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = fmt.Sprint(v)
			}
			out = append(out, row)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    string
		want [][]string
	}{
		{"sites", `SELECT publisher_id, status, pages, assets FROM crawl_sites ORDER BY publisher_id, site_url`,
			[][]string{{"P1", "ok", "1", "1"}, {"P2", "refused", "0", "0"}, {"P2", "dns_error", "0", "0"}, {"P4", "ok", "2", "1"}}},
		// Undeclared and not UTF-8: read as windows-1252, as a browser
		// would; the NUL the parser replaces.
		{"hostile bytes are stored as valid text", `SELECT title, visible_text FROM crawl_pages p JOIN crawl_sites s USING (crawl_id) WHERE s.publisher_id = 'P4' AND page_no = 0`,
			[][]string{{"A\uFFFDBÃ(", "café ð(Œ( x"}}},
		{"page and its script redirect", `SELECT http_status, title, visible_text, regexp_replace(final_url, ':[0-9]+', '') FROM crawl_pages WHERE final_url LIKE '%shop.example%'`,
			[][]string{{"200", "Go", "landed", "http://shop.example/go"}}},
		{"redirect chain", `SELECT hop, kind, regexp_replace(to_url, ':[0-9]+', ''), followed FROM crawl_redirects`,
			[][]string{{"1", "script_redirect", "http://shop.example/go", "true"}}},
		{"page code from the first document of the chain", `SELECT kind, hidden, target_host FROM crawl_page_code ORDER BY kind`,
			[][]string{{"hidden_frame", "size_0x0", "s.click.aliexpress.com"}, {"script_redirect", "<nil>", "shop.example"}}},
		{"asset", `SELECT role, width, height, format, octet_length(bytes) > 0 FROM crawl_assets a JOIN crawl_sites s USING (crawl_id) WHERE s.publisher_id = 'P1'`,
			[][]string{{"favicon_ico", "16", "16", "png", "true"}}},
		{"refusal", `SELECT e.stage, e.kind, e.address, e.detail FROM crawl_events e JOIN crawl_sites s USING (crawl_id) WHERE s.publisher_id = 'P2' AND e.kind = 'refused'`,
			[][]string{{"dns", "refused", "10.0.0.5:80", "private network address"}}},
		{"dns", `SELECT question_type, rcode, answer_type, value FROM crawl_dns WHERE question_name = 'private.example' AND question_type = 'A'`,
			[][]string{{"A", "NOERROR", "A", "10.0.0.5"}}},
		{"nxdomain is a row", `SELECT question_type, rcode, answer_name FROM crawl_dns WHERE question_name = 'unreachable.example' ORDER BY 1`,
			[][]string{{"A", "NXDOMAIN", "<nil>"}, {"AAAA", "NXDOMAIN", "<nil>"}, {"MX", "NXDOMAIN", "<nil>"}, {"NS", "NXDOMAIN", "<nil>"}, {"TXT", "NXDOMAIN", "<nil>"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, query(tc.q)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	// Within the TTL the ok and refused sites rest; the DNS failure is retried.
	due, skipped, err = Due(ctx, st.DB, time.Now(), DefaultRecrawlTTL, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].URL != "http://unreachable.example/" || skipped != 3 {
		t.Errorf("after a crawl: due %v skipped %d", due, skipped)
	}
	if due, _, _ = Due(ctx, st.DB, time.Now(), DefaultRecrawlTTL, true); len(due) != 4 {
		t.Errorf("forced: due %v", due)
	}
	if due, _, _ = Due(ctx, st.DB, time.Now().Add(8*24*time.Hour), DefaultRecrawlTTL, false); len(due) != 4 {
		t.Errorf("after the TTL: due %v", due)
	}
}
