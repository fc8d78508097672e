package brandmisuse

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/charmap"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/fixtures"
	"affwatch/loaders"
	"affwatch/rules"
	"affwatch/store"
)

func setup(t *testing.T, files ...string) detectors.Env {
	t.Helper()
	return detectortest.Env(t, "r1", detectortest.Files(t, files...)...)
}

type got struct {
	Publisher, Severity, Source, Verdict, Field, Phrase, How string
}

func run(t *testing.T, env detectors.Env) ([]got, []detectors.Finding) {
	t.Helper()
	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	var out []got
	for _, f := range fs {
		var ev struct {
			Source  string `json:"source"`
			Verdict string `json:"verdict"`
			Matches []Hit  `json:"matches"`
		}
		if err := json.Unmarshal(f.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		if f.Detector != detectors.BrandMisuse || f.RuleID != "AW-BM-001" || f.PolicyRef == "" || f.OrderIDs == nil || f.Summary == "" || len(ev.Matches) == 0 {
			t.Errorf("finding fields: %+v", f)
		}
		for _, m := range ev.Matches {
			if len([]rune(m.Snippet)) > 240 || m.Snippet == "" {
				t.Errorf("snippet %q", m.Snippet)
			}
		}
		out = append(out, got{f.PublisherID, f.Severity, ev.Source, ev.Verdict, ev.Matches[0].Field, ev.Matches[0].Phrase, ev.Matches[0].How})
	}
	return out, fs
}

// withMentions sets report_mentions (the default pack has it off until the
// penalty ladder keeps low findings from becoming warnings).
func withMentions(t *testing.T, env *detectors.Env, on float64) {
	t.Helper()
	p, err := env.Pack.WithThresholds(RuleName, map[string]float64{"report_mentions": on})
	if err != nil {
		t.Fatal(err)
	}
	env.Pack = p
}

func TestRun(t *testing.T) {
	env := setup(t, "testdata/store.sql")
	withMentions(t, &env, 1)
	g, fs := run(t, env)
	want := []got{
		{"P_CLAIM", "high", "page", "claim", "heading", "Official AliExpress Partner", "exact"},
		{"P_DISC", "low", "page", "mention", "title", "AliExpress", "exact"},
		{"P_SEM", "high", "ads", "", "keyword", "aliexpres", "misspelling"},
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range fs {
		t.Log(f.Summary)
		if f.PublisherID == "P_DISC" && !strings.Contains(string(f.Evidence), `"disclaimers_found":1`) {
			t.Errorf("disclaimer not in evidence: %s", f.Evidence)
		}
		if f.PublisherID == "P_SEM" && (f.WindowStart.Format("2006-01-02") != "2026-11-20" || !strings.Contains(string(f.Evidence), `"flagged_ad_ids":["a2"]`)) {
			t.Errorf("ads finding: window %v, evidence %s", f.WindowStart, f.Evidence)
		}
	}
	if l := env.Signals.List(); len(l) != 0 {
		t.Errorf("signals = %+v", l)
	}
	_, again := run(t, env)
	if diff := cmp.Diff(fs, again); diff != "" {
		t.Errorf("second run differs:\n%s", diff)
	}
}

func TestMentionsOff(t *testing.T) {
	env := setup(t, "testdata/store.sql")
	withMentions(t, &env, 0)
	g, _ := run(t, env)
	var pubs []string
	for _, x := range g {
		pubs = append(pubs, x.Publisher)
	}
	if diff := cmp.Diff([]string{"P_CLAIM", "P_SEM"}, pubs); diff != "" {
		t.Errorf("publishers (-want +got):\n%s", diff)
	}
}

func TestNothingToRead(t *testing.T) {
	env := setup(t)
	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil || len(fs) != 0 {
		t.Fatalf("findings %v, err %v", fs, err)
	}
	var sig []string
	for _, s := range env.Signals.List() {
		sig = append(sig, s.Signal)
	}
	if diff := cmp.Diff([]string{"ads", "crawl_pages.title"}, sig); diff != "" {
		t.Errorf("signals (-want +got):\n%s", diff)
	}
}

// TestGenerated runs on the generator's smallest data set: its ads are
// brand-free by construction (fixtures/world.go addAds, brandFree) and it
// has no crawl, so nothing may be flagged and only the crawl is missing.
func TestGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generates and loads a data set")
	}
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := fixtures.Generate(ctx, fixtures.Config{Seed: 1, Clicks: 1, Out: dir}); err != nil {
		t.Fatal(err)
	}
	files, err := loaders.Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := loaders.Load(ctx, st, files, loaders.Options{RunID: "t", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		t.Fatal(err)
	}
	var ads int
	if err := st.DB.QueryRow(`SELECT count(*) FROM ads`).Scan(&ads); err != nil || ads == 0 {
		t.Fatalf("generated ads: %d, %v", ads, err)
	}
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	env := detectors.Env{DB: st.DB, RunID: "t", Night: detectortest.Backfill(t, st), Pack: pack, Signals: &detectors.Signals{}}
	fs, err := detectors.RunOne(ctx, env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		t.Errorf("flagged generated publisher %s: %s", f.PublisherID, f.Summary)
	}
	var sig []string
	for _, s := range env.Signals.List() {
		sig = append(sig, s.Signal)
	}
	if diff := cmp.Diff([]string{"crawl_pages.title"}, sig); diff != "" {
		t.Errorf("signals (-want +got):\n%s", diff)
	}
	t.Logf("%d generated ads read, none flagged", ads)
}

// TestHeadingsInTheServedCharset: a Russian site whose pages are stored as
// served in windows-1251 (the header says so) claims to be the official
// partner in a heading; the heading is read in its charset and found, as
// its UTF-8 twin's is.
func TestHeadingsInTheServedCharset(t *testing.T) {
	body := `<html><head><title>Скидки</title></head><body><h1>Гаджеты</h1><h2>Официальный партнер AliExpress</h2><p>Каталог</p></body></html>`
	cp1251, err := charmap.Windows1251.NewEncoder().Bytes([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, contentType string
		html              []byte
	}{
		{"windows-1251", "text/html; charset=windows-1251", cp1251},
		{"utf-8", "text/html; charset=utf-8", []byte(body)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := setup(t)
			withMentions(t, &env, 1)
			if _, err := env.DB.Exec(`INSERT INTO crawl_sites VALUES
				('r1/000009', 'r1', 'P_RU', 'https://skidki.example/', 'skidki.example', 'skidki.example', 'ok', NULL, false, 1, 0,
				 TIMESTAMP '2026-11-22 01:00:00', TIMESTAMP '2026-11-22 01:00:05')`); err != nil {
				t.Fatal(err)
			}
			if _, err := env.DB.Exec(`INSERT INTO crawl_pages (crawl_id, page_no, requested_url, final_url, http_status, content_type, title, html, fetched_at, elapsed_ms)
				VALUES ('r1/000009', 0, 'https://skidki.example/', 'https://skidki.example/', 200, ?, 'Скидки', ?, TIMESTAMP '2026-11-22 01:00:01', 10)`,
				tc.contentType, tc.html); err != nil {
				t.Fatal(err)
			}
			g, _ := run(t, env)
			want := []got{{"P_RU", "high", "page", "claim", "heading", "Официальный партнер AliExpress", "exact"}}
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}
