package reports

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromiumFlags are the flags of issue 7: a headless Chromium in a
// container (no sandbox, no GPU), with a profile of its own so that runs do
// not share state.
func chromiumFlags(profile string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir=" + profile}
}

// chromiumOut is where the rendered report and its screenshot are kept for
// people to look at: $AFFWATCH_TEST_OUT, or testdata/out (git-ignored).
func chromiumOut(t *testing.T) string {
	dir := os.Getenv("AFFWATCH_TEST_OUT")
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestReportInChromium renders the report of a realistic run (the demo's
// findings, testdata/demo, with the data behind them: seedDemo) in
// Debian's headless Chromium, saves a screenshot and checks, from the DOM
// Chromium built, that the summary, the index, the publisher sections and
// every kind of picture are there and that nothing became a script.
func TestReportInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium is not installed (`make chromium` installs Debian's package): the report is not rendered in a browser")
	}
	if testing.Short() {
		t.Skip("-short: the browser rendering takes about ten seconds")
	}
	db := openStore(t)
	meta := seedDemo(t, db)
	dir, _ := writeRun(t, db, meta)
	out := chromiumOut(t)
	page := filepath.Join(out, ReportFile)
	if err := os.WriteFile(page, readOut(t, dir, ReportFile), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(out, "report.png")
	os.Remove(shot)
	url := "file://" + filepath.ToSlash(page)

	run := func(args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(chromiumFlags(t.TempDir()), args...)...)
		return cmd.Output() // Chromium's stderr chatter (D-Bus) is not ours
	}
	// One browser run writes the screenshot and dumps the DOM; a Chromium
	// that does one thing per run gets a second run for the DOM.
	start := time.Now()
	domBytes, err := run("--screenshot="+shot, "--window-size=1366,2400", "--dump-dom", url)
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if !bytes.Contains(domBytes, []byte("</html>")) {
		if domBytes, err = run("--dump-dom", "--window-size=1366,2400", url); err != nil {
			t.Fatalf("chromium --dump-dom: %v", err)
		}
	}
	t.Logf("chromium: %s", time.Since(start).Round(time.Millisecond))
	t.Logf("rendered report: %s", page)
	t.Logf("screenshot: %s", shot)

	// The screenshot: a 1366×2400 PNG with a page on it, not a blank.
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1366 || b.Dy() != 2400 {
		t.Errorf("screenshot is %v, want 1366×2400", b)
	}
	if n := colours(img, 64); n < 16 {
		t.Errorf("screenshot has %d colours: a blank page?", n)
	}

	dom := string(domBytes)
	count := func(re string) int { return len(regexp.MustCompile(re).FindAllString(dom, -1)) }
	for _, tc := range []struct {
		what string
		re   string
		want int // at least
	}{
		{"summary", `<h2 id="summary">Summary</h2>`, 1},
		{"index", `<h2 id="index">All publishers</h2>`, 1},
		{"review queue first", `<h2 id="queue">Review queue`, 1},
		// Routine commission corrections are rows of one table, not sections.
		{"index rows", `<tr><td class="n">\d+</td><td class="id"><a href="#P\d{6}">`, 6},
		{"publisher sections", `<section class="publisher" id="P\d{6}">`, 6},
		{"queue rows", `<td><a href="#P\d{6}" class="id">`, 4},
		{"timeline charts", `<figure class="chart">\s*<svg viewBox="0 0 760 280"`, 2},
		{"timeline burst shading", `<rect class="burst" `, 2},
		{"CTIT histogram", `<figure class="chart ctit">\s*<svg `, 1},
		{"CTIT bars", `<rect class="bar pub" `, 11},
		{"identifier diagrams", `<figure class="chart diagram">\s*<svg `, 3},
		{"diagram nodes", `<rect class="node node-buyer" `, 4},
		{"logo pairs", `<div class="logo-pair">`, 2},
		{"logo pictures", `<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="`, 4},
		{"page snippets", `<pre class="snippet">[^<]*<mark>`, 10},
		{"clauses quoted", `<blockquote class="clause">`, 11},
		{"why this action", `<h4 class="why">Why this action</h4>`, 4},
		{"test-rule badges", `<span class="badge shadow">test rule — shown, not acted on beyond a warning</span>`, 5},
		{"suppressed findings", `<h3 id="suppressed">Suppressed findings</h3>`, 1},
	} {
		if got := count(tc.re); got < tc.want {
			t.Errorf("rendered DOM: %s: %d, want at least %d", tc.what, got, tc.want)
		}
	}
	// Chromium parsed every SVG as SVG, and nothing into a script or a
	// foreign object.
	if n, m := strings.Count(dom, "<svg "), strings.Count(dom, "</svg>"); n != 6 || m != 6 {
		t.Errorf("rendered DOM: %d <svg>, %d </svg>; want 6 each", n, m)
	}
	for _, bad := range []string{"<script", "<iframe", "<object", "<embed", "<foreignObject"} {
		if strings.Contains(dom, bad) {
			t.Errorf("rendered DOM holds %s", bad)
		}
	}
}

// colours counts the distinct colours of img (quantized), up to max.
func colours(img image.Image, max int) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>12)<<8|(g>>12)<<4|bl>>12] = true
			if len(seen) >= max {
				return len(seen)
			}
		}
	}
	return len(seen)
}
