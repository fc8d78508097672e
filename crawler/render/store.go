package render

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"affwatch/store"
)

// tables a Writer appends to, render_visits last: a visit row means its
// evidence is complete.
var tables = []string{"render_pages", "render_requests", "render_navigations", "render_opens", "render_elements",
	"render_assets", "render_screenshots", "render_events", "render_visits"}

// Writer stores visits through DuckDB appenders on one connection (bound
// values, never SQL text), as the crawler's Writer does.
type Writer struct {
	conn    *sql.Conn
	apps    map[string]*duckdb.Appender
	runID   string
	browser string
	n       int
}

// NewWriter opens appenders for run runID; browser is the Chromium version
// recorded with each visit.
func NewWriter(ctx context.Context, db *sql.DB, runID, browser string) (*Writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &Writer{conn: conn, apps: map[string]*duckdb.Appender{}, runID: runID, browser: browser}
	dc, err := store.DriverConn(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	for _, t := range tables {
		a, err := duckdb.NewAppenderFromConn(dc, "", t)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("appender %s: %w", t, err)
		}
		w.apps[t] = a
	}
	return w, nil
}

// Write stores the visits of one site (one per profile).
func (w *Writer) Write(vs []*Visit) error {
	w.n++
	for _, v := range vs {
		if err := w.write(fmt.Sprintf("%s/%06d/%s", w.runID, w.n, v.Profile), v); err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) write(id string, v *Visit) error {
	add := func(table string, vals ...driver.Value) error {
		for i, x := range vals {
			if s, ok := x.(string); ok {
				vals[i] = strings.ToValidUTF8(s, "\uFFFD")
			}
		}
		if err := w.apps[table].AppendRow(vals...); err != nil {
			return fmt.Errorf("store %s for %s: %w", table, v.Site.URL, err)
		}
		return nil
	}
	for _, p := range v.Pages {
		if err := add("render_pages", id, int64(p.No), p.URL, nullStr(p.FinalURL), nullStr(p.Title), nullStr(p.Text), int64(p.Nodes), nullStr(p.Err), p.Elapsed.Milliseconds()); err != nil {
			return err
		}
	}
	for _, q := range v.Requests {
		if err := add("render_requests", id, int64(q.PageNo), q.URL, nullStr(q.FirstURL), nullStr(q.Host), nullStr(q.Type), q.MainFrame,
			nullStr(q.InitiatorType), nullStr(q.InitiatorURL), q.UserGesture, nullStr(q.RedirectFrom), q.Blocked, q.Phase, nullStr(q.FrameVisibility)); err != nil {
			return err
		}
	}
	for _, n := range v.Navs {
		if err := add("render_navigations", id, int64(n.PageNo), n.MainFrame, n.URL, n.Reason, n.Phase); err != nil {
			return err
		}
	}
	for _, o := range v.Opens {
		if err := add("render_opens", id, int64(o.PageNo), nullStr(o.DocumentURL), o.URL, o.UserGesture, o.FromTimer, o.Phase, o.Source); err != nil {
			return err
		}
	}
	for _, e := range v.Elements {
		if err := add("render_elements", id, int64(e.PageNo), nullStr(e.DocumentURL), e.Tag, e.Src, nullStr(e.Hidden), nullStr(e.HiddenBy),
			e.W, e.H, e.X, e.Y, e.Opacity, nullStr(e.ZIndex), nullStr(e.Classes), nullStr(e.Snippet)); err != nil {
			return err
		}
	}
	for _, a := range v.Assets {
		var b driver.Value
		if a.Bytes != nil {
			b = a.Bytes
		}
		if err := add("render_assets", id, a.Role, a.URL, nullStr(a.ContentType), int64(len(a.Bytes)), b, nullStr(a.Err)); err != nil {
			return err
		}
	}
	if len(v.Screenshot) > 0 {
		if err := add("render_screenshots", id, v.Screenshot); err != nil {
			return err
		}
	}
	for _, e := range v.Events {
		if err := add("render_events", id, e.At, e.Stage, e.Kind, nullStr(e.URL), nullStr(e.Address), nullStr(e.Detail)); err != nil {
			return err
		}
	}
	browser := w.browser
	if v.Browser != "" {
		browser = v.Browser // the honest profile may render in the headless shell
	}
	return add("render_visits", id, w.runID, v.Site.PublisherID, v.Site.URL, v.Profile, v.UserAgent, v.Status, nullStr(v.Error),
		int64(len(v.Pages)), int64(v.Dialogs), nullStr(browser), v.StartedAt, v.FinishedAt)
}

// Flush makes the rows appended so far visible to queries.
func (w *Writer) Flush() error {
	for _, t := range tables {
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
	for _, t := range tables {
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
