package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// demoEvidence returns the evidence of a finding of testdata/demo.
func demoEvidence(t *testing.T, detector, publisher string) *jsonValue {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "demo", "findings.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var f demoFinding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatal(err)
		}
		if f.Detector == detector && f.PublisherID == publisher {
			v, err := parseJSON(f.Evidence)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no %s finding of %s in testdata/demo", detector, publisher)
	return nil
}

// renderFigure runs one of report.html's figure templates.
func renderFigure(t *testing.T, name string, data any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := reportTemplate.ExecuteTemplate(&buf, name, data); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFigureGolden pins the SVG of each picture kind (testdata/*.svg.golden;
// rewrite with -update after a deliberate change, and look at the result in
// a browser).
func TestFigureGolden(t *testing.T) {
	tl, err := parseJSON([]byte(burstEvidence))
	if err != nil {
		t.Fatal(err)
	}
	timeline, err := timelineChart(tl.get("timeline"))
	if err != nil {
		t.Fatal(err)
	}
	cs := demoEvidence(t, "cookie_stuffing", "P000813")
	ctit := newCTITChart([]int64{1, 1, 0, 0, 0, 4, 1, 2, 2, 0, 0}, []int64{30, 60, 110, 140, 60, 120, 50, 20, 8, 2, 1}, ctitSummaryOf(cs))
	for _, tc := range []struct {
		name, tmpl string
		data       any
	}{
		{"timeline.svg", "chart", timeline},
		{"ctit.svg", "ctit", ctit},
		{"diagram_self_purchase.svg", "diagram", selfPurchaseDiagram(demoEvidence(t, "self_purchase", "P000399"), "P000399")},
		{"diagram_self_promotion.svg", "diagram", selfPromotionDiagram(demoEvidence(t, "self_promotion", "P000121"), "P000121")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := renderFigure(t, tc.tmpl, tc.data)
			if !bytes.Contains(got, []byte("<svg ")) || !bytes.Contains(got, []byte("</svg>")) {
				t.Fatalf("%s is not an SVG figure:\n%s", tc.name, got)
			}
			checkGolden(t, tc.name, got)
		})
	}
}
