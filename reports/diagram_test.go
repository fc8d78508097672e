package reports

import (
	"fmt"
	"strings"
	"testing"
)

func TestSelfPurchaseDiagram(t *testing.T) {
	d := selfPurchaseDiagram(demoEvidence(t, "self_purchase", "P000399"), "P000399")
	if d == nil {
		t.Fatal("no diagram")
	}
	// publisher, 3 identifiers, 3 buyers; 6 edges, the device hop soft.
	if len(d.Nodes) != 7 || len(d.Edges) != 6 {
		t.Fatalf("%d nodes, %d edges; want 7, 6", len(d.Nodes), len(d.Edges))
	}
	classes := map[string]int{}
	for _, n := range d.Nodes {
		classes[n.Class]++
	}
	if classes["node-publisher"] != 1 || classes["node-id"] != 3 || classes["node-buyer"] != 3 {
		t.Errorf("node classes %v", classes)
	}
	soft := 0
	for _, e := range d.Edges {
		if e.Class == "edge-soft" {
			soft++
			if e.Label.Text != "device_id" {
				t.Errorf("soft edge labelled %q, want device_id", e.Label.Text)
			}
		}
	}
	if soft != 2 {
		t.Errorf("%d soft edges, want the 2 of the device hop", soft)
	}
	// Columns left to right: each edge goes right.
	for _, e := range d.Edges {
		var x1, y1, x2, y2 float64
		fmt.Sscanf(e.Path, "M%g %g", &x1, &y1)
		i := strings.LastIndex(e.Path, " ")
		j := strings.LastIndex(e.Path[:i], " ")
		fmt.Sscanf(e.Path[j+1:], "%g %g", &x2, &y2)
		if x2 <= x1 {
			t.Errorf("edge %s goes left", e.Path)
		}
	}
	if d.Omitted != "" {
		t.Errorf("nothing should be omitted: %q", d.Omitted)
	}
}

// TestDiagramCap: a publisher tied to many buyers draws the strongest up
// to MaxDiagramNodes boxes and counts the rest; long ids are cut (the
// tooltip keeps them whole); the layout is the same every time.
func TestDiagramCap(t *testing.T) {
	var buyers []string
	for i := 0; i < 30; i++ {
		buyers = append(buyers, fmt.Sprintf(`{"buyer_id":"B%d","link":"soft","hops":1,"orders":1,"commission_usd":0.5,"path":[`+
			`{"from":"publisher P1","via":"ip","value":"198.51.100.%d","hard":false,"holders":2,"to":"buyer B%d-%s"}]}`, i, i, i, strings.Repeat("x", 80)))
	}
	ev, err := parseJSON([]byte(`{"linked_buyers":[` + strings.Join(buyers, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	d := selfPurchaseDiagram(ev, "P1")
	if len(d.Nodes) > MaxDiagramNodes {
		t.Errorf("%d nodes, cap %d", len(d.Nodes), MaxDiagramNodes)
	}
	drawn := (len(d.Nodes) - 1) / 2
	if want := fmt.Sprintf("… %d more linked buyer(s) not drawn", 30-drawn); !strings.HasPrefix(d.Omitted, want) {
		t.Errorf("omitted note %q, want %q…", d.Omitted, want)
	}
	for _, n := range d.Nodes {
		for _, l := range n.Lines {
			if len([]rune(l.Text)) > 40 {
				t.Errorf("label not cut: %q", l.Text)
			}
		}
		if strings.Contains(n.Tip, "B3-") && !strings.Contains(n.Tip, strings.Repeat("x", 80)) {
			t.Errorf("tooltip cut: %q", n.Tip)
		}
	}
	again := selfPurchaseDiagram(ev, "P1")
	if fmt.Sprint(again) != fmt.Sprint(d) {
		t.Error("layout differs between two runs")
	}
}

func TestSelfPromotionDiagram(t *testing.T) {
	ev, err := parseJSON([]byte(`{"seller":{"seller_id":"S9","name":"Shop"},"link":{"matched_identifiers":["payout_hash","email_hash"],` +
		`"ignored_identifiers":["phone_hash"],"accounts_per_identifier":[{"identifier":"email_hash","accounts":2},{"identifier":"payout_hash","accounts":2},` +
		`{"identifier":"phone_hash","accounts":31}]},"clicks":{"share":0.8629},"orders":{"share":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	d := selfPromotionDiagram(ev, "P7")
	var texts []string
	for _, n := range d.Nodes {
		var ls []string
		for _, l := range n.Lines {
			ls = append(ls, l.Text)
		}
		texts = append(texts, n.Class+": "+strings.Join(ls, " / "))
	}
	want := []string{ // by column
		"node-publisher: publisher / P7",
		"node-id: payout_hash / 2 accounts",
		"node-id: email_hash / 2 accounts",
		"node-ignored: phone_hash / 31 accounts: ignored",
		"node-seller: seller S9 / Shop / clicks 86 %, orders 100 %",
	}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("nodes:\n%s\nwant:\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	ignored := 0
	for _, e := range d.Edges {
		if e.Class == "edge-ignored" {
			ignored++
		}
	}
	if len(d.Edges) != 6 || ignored != 2 {
		t.Errorf("%d edges (%d ignored), want 6 (2)", len(d.Edges), ignored)
	}
}

func TestDiagramNone(t *testing.T) {
	for _, ev := range []string{`{}`, `{"linked_buyers":[]}`, `{"linked_buyers":[{"buyer_id":"B1"}]}`, `{"link":{},"seller":{}}`, `{"linked_buyers":"x"}`} {
		v, err := parseJSON([]byte(ev))
		if err != nil {
			t.Fatal(err)
		}
		for _, det := range []string{"self_purchase", "self_promotion", "click_burst"} {
			if d := diagramFor(det, v, "P"); d != nil {
				t.Errorf("%s %s: a diagram from evidence without links", det, ev)
			}
		}
	}
}
