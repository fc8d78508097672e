package reports

import (
	"image"
	"image/color"
	"strings"
	"testing"
	"time"
)

// TestHTMLRenderedEvidence: a page-code finding whose site was rendered
// shows the screenshot (re-encoded and scaled by us) and the intercepted
// requests, the shopper-only one marked; a hostile URL stays escaped.
func TestHTMLRenderedEvidence(t *testing.T) {
	db := openStore(t)
	meta := seedDemo(t, db)
	site := "http://gadget-reviews.club:42343/"
	at := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	shot := image.NewNRGBA(image.Rect(0, 0, 640, 400))
	for i := range shot.Pix {
		shot.Pix[i] = 0xff
	}
	shot.Set(10, 10, color.NRGBA{255, 0, 0, 255})
	png := encodePNG(t, shot)
	for _, profile := range []string{"honest", "shopper"} {
		id := "r1/000001/" + profile
		execAll(t, db, `INSERT INTO render_visits VALUES (?, 'r1', 'PSITE03', ?, ?, 'ua', 'ok', NULL, 1, 0, '156', ?, ?)`, id, site, profile, at, at.Add(time.Second))
		execAll(t, db, `INSERT INTO render_requests VALUES (?, 0, 'https://s.click.aliexpress.com/e/_both', NULL, 's.click.aliexpress.com', 'Document', false, 'parser', ?, false, NULL, true, 'load', 'display_none by div.promo-box')`, id, site)
	}
	execAll(t, db, `INSERT INTO render_screenshots VALUES ('r1/000001/shopper', ?)`, png)
	execAll(t, db, `INSERT INTO render_requests VALUES ('r1/000001/shopper', 0, 'https://s.click.aliexpress.com/e/_cloak"><script>alert(1)</script>', NULL, 's.click.aliexpress.com', 'Image', false, 'script', 'http://gadget-reviews.club:42343/x.js', false, NULL, true, 'load', 'not_in_document')`)
	dir, _ := writeRun(t, db, meta)
	html := string(readOut(t, dir, ReportFile))
	for _, want := range []string{
		`<div class="render">`,
		`alt="first viewport of the page as headless Chromium rendered it" width="480" height="300"`,
		"as rendered for the shopper profile (scaled)",
		"https://s.click.aliexpress.com/e/_both</td><td>Document</td><td>parser http://gadget-reviews.club:42343/</td><td>display_none by div.promo-box</td><td>honest, shopper</td>",
		`<tr class="shopper-only">`,
		"seen only by the shopper profile",
		"&lt;script&gt;alert(1)&lt;/script&gt;",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>alert(1)") {
		t.Error("an intercepted URL reached the report unescaped")
	}
	if n := strings.Count(html, `<div class="render">`); n != 1 {
		t.Errorf("%d rendered-evidence blocks, want 1 (one finding on the rendered site)", n)
	}
}
