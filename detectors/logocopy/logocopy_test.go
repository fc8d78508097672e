package logocopy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"affwatch/crawler"
	"affwatch/detectors"
	"affwatch/fixtures/sites"
	"affwatch/rules"
	"affwatch/store"
)

func setup(t *testing.T) (detectors.Env, func(crawl, publisher, site, status string, at time.Time, assets ...asset)) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	env := detectors.Env{DB: st.DB, RunID: "t", Pack: pack, Signals: &detectors.Signals{}}
	add := func(crawl, publisher, site, status string, at time.Time, assets ...asset) {
		t.Helper()
		if _, err := st.DB.ExecContext(ctx, `INSERT INTO crawl_sites (crawl_id, run_id, publisher_id, site_url, status, forced, pages, assets, started_at, finished_at)
			VALUES (?, 'r', ?, ?, ?, false, 1, ?, ?, ?)`, crawl, publisher, site, status, len(assets), at, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB.ExecContext(ctx, `INSERT INTO crawl_pages (crawl_id, page_no, requested_url, final_url, http_status, fetched_at, elapsed_ms)
			VALUES (?, 0, ?, ?, 200, ?, 10)`, crawl, site, site+"/", at); err != nil {
			t.Fatal(err)
		}
		for _, a := range assets {
			sum := sha256.Sum256(a.b)
			if _, err := st.DB.ExecContext(ctx, `INSERT INTO crawl_assets (crawl_id, role, url, http_status, content_type, size_bytes, sha256, bytes)
				VALUES (?, ?, ?, 200, 'image/png', ?, ?, ?)`, crawl, a.role, a.url, len(a.b), hex.EncodeToString(sum[:]), a.b); err != nil {
				t.Fatal(err)
			}
		}
	}
	return env, add
}

type asset struct {
	role, url string
	b         []byte
}

func refImage(t *testing.T, pack *rules.Pack) ([]byte, image.Image) {
	b, err := pack.ReadLogo("brand/aliexpress.png")
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := DecodeAll(b, 0)
	return b, ds[0].Img
}

func TestRun(t *testing.T) {
	env, add := setup(t)
	refBytes, ref := refImage(t, env.Pack)
	t0 := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	// exact copy as og:image, rescaled favicon in an ICO on a second site
	add("c1", "P1", "https://deals.example", "ok", t0,
		asset{"og_image", "https://deals.example/og.png", refBytes},
		asset{"icon", "https://deals.example/own.png", encPNG(ProceduralLogo(7))})
	add("c2", "P1", "https://deals2.example", "ok", t0,
		asset{"favicon_ico", "https://deals2.example/favicon.ico", ICO(icoBMP(scale(ref, 16, 16), 32), icoBMP(scale(ref, 32, 32), 24))})
	// a recoloured header logo, seen on an older good crawl; the newest
	// crawl failed and must not erase it
	add("c3", "P2", "https://shop.example", "ok", t0,
		asset{"logo", "https://shop.example/logo.png", encPNG(scale(mapColors(ref, func(c color.NRGBA) color.NRGBA { return hueShift(c, 200) }), 120, 120))})
	add("c4", "P2", "https://shop.example", "fetch_error", t0.Add(24*time.Hour))
	// their own logos only
	add("c5", "P3", "https://clean.example", "ok", t0,
		asset{"icon", "https://clean.example/favicon.png", encPNG(ProceduralLogo(11))},
		asset{"logo", "https://clean.example/logo.png", encPNG(ProceduralLogo(12))})
	// the fixture sites' copied favicon (fixtures/sites)
	add("c6", "P4", "https://brandcopy-shop.store", "ok", t0,
		asset{"icon", "https://brandcopy-shop.store/favicon.png", sites.BrandMarkPNG(32)})
	// hostile bytes
	add("c7", "P5", "https://junk.example", "ok", t0,
		asset{"favicon_ico", "https://junk.example/favicon.ico", []byte{0, 0, 1, 0, 0xff, 0xff, 1, 2, 3}},
		asset{"logo", "https://junk.example/logo.png", []byte("\x89PNG\r\n\x1a\nnot really")})

	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		pub, kind, sev string
		exact          bool
		n              int
	}
	var gots []got
	for _, f := range fs {
		var ev struct {
			Brand     string `json:"brand"`
			Reference struct {
				Path string `json:"path"`
			} `json:"reference"`
			Best struct {
				Kind      string         `json:"kind"`
				AssetURL  string         `json:"asset_url"`
				PageURL   string         `json:"page_url"`
				Exact     bool           `json:"exact_match"`
				Distances map[string]int `json:"distances"`
			} `json:"best"`
			Matching   int                `json:"matching_assets"`
			Thresholds map[string]float64 `json:"thresholds"`
		}
		if err := json.Unmarshal(f.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Brand != "AliExpress" || ev.Reference.Path != "brand/aliexpress.png" || ev.Best.AssetURL == "" || ev.Best.PageURL == "" || len(ev.Best.Distances) != 4 || ev.Thresholds["dhash8_max"] == 0 {
			t.Errorf("%s: evidence %s", f.PublisherID, f.Evidence)
		}
		if f.Detector != detectors.LogoCopy || f.RuleID != "AW-LC-001" || f.PolicyRef != "8.4; ePN rule 2" || f.Summary == "" || f.OrderIDs == nil {
			t.Errorf("finding %+v", f)
		}
		t.Logf("%s %s %.3f %s", f.PublisherID, f.Severity, f.Score, f.Summary)
		gots = append(gots, got{f.PublisherID, ev.Best.Kind, f.Severity, ev.Best.Exact, ev.Matching})
	}
	want := []got{
		{"P1", "og:image", "high", true, 2},
		{"P2", "logo", "high", false, 1},
		{"P4", "favicon", "high", false, 1},
	}
	if len(gots) != len(want) {
		t.Fatalf("findings %+v, want %+v", gots, want)
	}
	for i := range want {
		if gots[i].pub != want[i].pub || gots[i].kind != want[i].kind || gots[i].exact != want[i].exact || gots[i].n != want[i].n {
			t.Errorf("finding %d: %+v, want %+v", i, gots[i], want[i])
		}
		if detectors.SeverityRank(gots[i].sev) < 1 {
			t.Errorf("finding %d: severity %s", i, gots[i].sev)
		}
	}
	// deterministic ids
	again, _ := detectors.RunOne(context.Background(), env, Detector{})
	for i := range fs {
		if again[i].FindingID != fs[i].FindingID {
			t.Errorf("finding id changed: %s → %s", fs[i].FindingID, again[i].FindingID)
		}
	}
}

func TestNoCrawl(t *testing.T) {
	env, _ := setup(t)
	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil || len(fs) != 0 {
		t.Fatalf("%v %v", fs, err)
	}
	sig := env.Signals.List()
	if len(sig) != 1 || sig[0].Signal != "crawl_assets.bytes" || sig[0].Detector != detectors.LogoCopy {
		t.Errorf("signals %+v", sig)
	}
}

func TestExceptions(t *testing.T) {
	env, add := setup(t)
	refBytes, _ := refImage(t, env.Pack)
	add("c1", "LICENSED", "https://partner.example", "ok", time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC),
		asset{"logo", "https://partner.example/ali.png", refBytes})
	r := env.Pack.Rules[RuleName]
	r.Exceptions = []rules.Exception{{Value: "LICENSED", Reason: "licensed banner"}}
	env.Pack.Rules[RuleName] = r
	if fs, err := detectors.RunOne(context.Background(), env, Detector{}); err != nil || len(fs) != 0 {
		t.Errorf("exempt publisher flagged: %v %v", fs, err)
	}
}

// A file over the crawler's storage cap keeps no bytes: its average hash
// alone is compared, a weak signal scored low.
func TestAHashOnly(t *testing.T) {
	env, add := setup(t)
	_, ref := refImage(t, env.Pack)
	big := encPNG(scale(ref, 600, 600))
	info := crawler.InspectImage(big, 0)
	add("c1", "P9", "https://big.example", "ok", time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC))
	if _, err := env.DB.Exec(`INSERT INTO crawl_assets (crawl_id, role, url, http_status, content_type, size_bytes, sha256, width, height, ahash)
		VALUES ('c1', 'og_image', 'https://big.example/og.png', 200, 'image/png', 300000, 'ff', 600, 600, ?)`, info.AHash); err != nil {
		t.Fatal(err)
	}
	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil || len(fs) != 1 {
		t.Fatalf("%v %v", fs, err)
	}
	if fs[0].Severity != "low" || !strings.Contains(fs[0].Summary, "average hash") || !strings.Contains(string(fs[0].Evidence), `"compared_by":"ahash`) {
		t.Errorf("%s %s\n%s", fs[0].Severity, fs[0].Summary, fs[0].Evidence)
	}
}
