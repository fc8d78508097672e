package crawler

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"affwatch/store"
)

//go:embed sql/due_sites.sql
var dueSitesSQL string

// Due lists the sites to visit: websites of the sites dataset not visited
// with a lasting outcome since now-ttl, unless force. Skipped counts the
// fresh ones left alone.
func Due(ctx context.Context, db *sql.DB, now time.Time, ttl time.Duration, force bool) (due []Site, skipped int, err error) {
	rows, err := db.QueryContext(ctx, dueSitesSQL, now.Add(-ttl).UTC(), force)
	if err != nil {
		return nil, 0, fmt.Errorf("sites to crawl: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Site
		var fresh bool
		if err := rows.Scan(&s.PublisherID, &s.URL, &fresh); err != nil {
			return nil, 0, err
		}
		if fresh && !force {
			skipped++
			continue
		}
		due = append(due, s)
	}
	return due, skipped, rows.Err()
}

// crawlTables are the tables a Writer appends to, in dependency order
// (crawl_sites last: a site row means its evidence is complete).
var crawlTables = []string{"crawl_dns", "crawl_pages", "crawl_redirects", "crawl_assets", "crawl_page_code", "crawl_events", "crawl_sites"}

// Writer stores visits through DuckDB appenders on one connection: a
// night's crawl writes tens of thousands of small rows, which row-by-row
// INSERTs would make the slowest part of the crawl. Appenders bind values,
// never SQL text.
type Writer struct {
	conn  *sql.Conn
	apps  map[string]*duckdb.Appender
	runID string
	n     int
	// Forced marks the visits as made within the TTL on request.
	Forced bool
}

// NewWriter opens appenders for run runID.
func NewWriter(ctx context.Context, db *sql.DB, runID string) (*Writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &Writer{conn: conn, apps: map[string]*duckdb.Appender{}, runID: runID}
	dc, err := store.DriverConn(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	for _, t := range crawlTables {
		a, err := duckdb.NewAppenderFromConn(dc, "", t)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("appender %s: %w", t, err)
		}
		w.apps[t] = a
	}
	return w, nil
}

// Write stores one visit.
func (w *Writer) Write(r *SiteResult) error {
	w.n++
	id := fmt.Sprintf("%s/%06d", w.runID, w.n)
	add := func(table string, vals ...driver.Value) error {
		for i, v := range vals {
			if s, ok := v.(string); ok {
				vals[i] = strings.ToValidUTF8(s, "\uFFFD")
			}
		}
		if err := w.apps[table].AppendRow(vals...); err != nil {
			return fmt.Errorf("store %s for %s: %w", table, r.Site.URL, err)
		}
		return nil
	}
	for _, a := range r.DNS {
		if len(a.Records) == 0 {
			if err := add("crawl_dns", id, a.Name, a.Type, nullStr(a.Rcode), nullStr(a.Err), nullStr(a.Server), nil, nil, nil, nil); err != nil {
				return err
			}
		}
		for _, rec := range a.Records {
			if err := add("crawl_dns", id, a.Name, a.Type, nullStr(a.Rcode), nullStr(a.Err), nullStr(a.Server), rec.Name, rec.Type, int64(rec.TTL), rec.Value); err != nil {
				return err
			}
		}
	}
	for _, p := range r.Pages {
		links, _ := json.Marshal(orEmpty(p.Info.Links))
		headers, _ := json.Marshal(p.Headers)
		var status driver.Value
		if p.Status != 0 {
			status = int64(p.Status)
		}
		var html driver.Value
		if p.HTML != nil {
			html = p.HTML
		}
		if err := add("crawl_pages", id, int64(p.No), p.RequestedURL, nullStr(p.FinalURL), status, nullStr(p.ContentType), nullStr(p.RemoteAddr),
			p.BodyBytes, nullStr(p.Truncated), nullStr(p.SHA256), p.Info.Title, p.Info.Description, p.Info.Keywords, p.Info.Text,
			string(links), string(headers), html, nullStr(p.Err), p.FetchedAt, p.Elapsed.Milliseconds()); err != nil {
			return err
		}
		for _, h := range p.Redirects {
			var st driver.Value
			if h.Status != 0 {
				st = int64(h.Status)
			}
			if err := add("crawl_redirects", id, int64(p.No), int64(h.Hop), h.Kind, h.From, h.To, st, h.Followed, nullStr(h.Note)); err != nil {
				return err
			}
		}
		for _, c := range p.Code {
			if err := add("crawl_page_code", id, int64(p.No), c.DocumentURL, c.Kind, nullStr(c.Trigger), nullStr(c.Hidden),
				nullStr(c.URL), nullStr(hostOf(c.URL)), c.Snippet); err != nil {
				return err
			}
		}
	}
	for _, a := range r.Assets {
		var status, width, height driver.Value
		if a.Status != 0 {
			status = int64(a.Status)
		}
		if a.Image.Width > 0 {
			width, height = int64(a.Image.Width), int64(a.Image.Height)
		}
		var b driver.Value
		if a.Bytes != nil {
			b = a.Bytes
		}
		if err := add("crawl_assets", id, a.Role, a.URL, status, nullStr(a.ContentType), a.Size, nullStr(a.SHA256), nullStr(a.Image.Format),
			width, height, nullStr(a.Image.AHash), nullStr(a.Image.Problem), b, nullStr(a.Err)); err != nil {
			return err
		}
	}
	for _, e := range r.Events {
		if err := add("crawl_events", id, e.At, e.Stage, e.Kind, nullStr(e.URL), nullStr(e.Address), e.Detail); err != nil {
			return err
		}
	}
	return add("crawl_sites", id, w.runID, r.Site.PublisherID, r.Site.URL, nullStr(r.Host), nullStr(r.Domain), r.Status, nullStr(r.Error),
		w.Forced, int64(len(r.Pages)), int64(len(r.Assets)), r.StartedAt, r.FinishedAt)
}

// Flush makes the rows appended so far visible to queries.
func (w *Writer) Flush() error {
	for _, t := range crawlTables {
		if a := w.apps[t]; a != nil {
			if err := a.Flush(); err != nil {
				return fmt.Errorf("flush %s: %w", t, err)
			}
		}
	}
	return nil
}

// Close flushes and releases the connection.
func (w *Writer) Close() error {
	var first error
	for _, t := range crawlTables {
		if a := w.apps[t]; a != nil {
			if err := a.Close(); err != nil && first == nil {
				first = fmt.Errorf("close %s: %w", t, err)
			}
		}
	}
	w.apps = nil
	if err := w.conn.Close(); err != nil && first == nil {
		first = err
	}
	return first
}

func nullStr(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
