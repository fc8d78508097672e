package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"affwatch/detectors"
)

// Bounds of an identifier-link diagram: a publisher tied to dozens of
// buyers would be a hairball; the first (strongest) links are drawn and the
// rest counted.
const (
	// MaxDiagramNodes caps the boxes of one diagram.
	MaxDiagramNodes = 18
	// maxDiagramLayers caps the columns (hops × 2 + 1): the detectors
	// follow at most six hops.
	maxDiagramLayers = 13
)

// diagram is an identifier-link diagram laid out for the template: who is
// tied to whom through which identifier, left to right from the publisher.
type diagram struct {
	Title, Caption string
	Width, Height  int
	Nodes          []diagramNode
	Edges          []diagramEdge
	Omitted        string // "… 3 more linked buyers (in the evidence table)"
}

type diagramNode struct {
	X, Y, W, H string
	Class      string // node-publisher, node-id, node-buyer, node-seller, node-ignored
	Lines      []chartText
	Tip        string // the untruncated labels, as a tooltip
}

type diagramEdge struct {
	Path, Arrow string
	Class       string // edge-hard, edge-soft, edge-ignored
	Label       chartText
}

// Diagram geometry (SVG user units).
const (
	diagMinW     = 760
	diagColW     = 196
	diagMarginX  = 12
	diagTop      = 12
	diagRowH     = 62
	diagNodeH    = 48
	diagLineH    = 14
	diagCharW    = 6.4 // of the 11-px label font, for cutting labels
	diagMaxNodeW = 200
	diagGapMin   = 40  // between columns, room for the edge labels
	diagGapMax   = 96  // (a dozen characters at most)
	diagLabelW   = 5.8 // per character of the 10-px edge label font
)

// graph collects nodes (with their column) and edges before layout.
type graph struct {
	keys    map[string]int
	nodes   []gNode
	edges   []gEdge
	layers  int
	omitted int
}

type gNode struct {
	layer int
	class string
	lines []string
}

type gEdge struct {
	from, to int
	class    string
	label    string
}

func newGraph() *graph { return &graph{keys: map[string]int{}} }

// node returns the index of the node with key, adding it in layer.
func (g *graph) node(key string, layer int, class string, lines ...string) int {
	if i, ok := g.keys[key]; ok {
		return i
	}
	if layer >= maxDiagramLayers {
		layer = maxDiagramLayers - 1
	}
	g.keys[key] = len(g.nodes)
	g.nodes = append(g.nodes, gNode{layer: layer, class: class, lines: lines})
	g.layers = max(g.layers, layer+1)
	return len(g.nodes) - 1
}

func (g *graph) edge(from, to int, class, label string) {
	for _, e := range g.edges {
		if e.from == from && e.to == to && e.label == label {
			return
		}
	}
	g.edges = append(g.edges, gEdge{from, to, class, label})
}

// evStr is an evidence object's string (or scalar as written) under key.
func evStr(v *jsonValue, key string) string {
	x := v.get(key)
	if x == nil || !x.scalar() || x.kind == jsonNull {
		return ""
	}
	return x.text
}

// evNum is an evidence object's number under key.
func evNum(v *jsonValue, key string) (float64, bool) {
	x := v.get(key)
	if x == nil || x.kind != jsonNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(x.text, 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// evList is an evidence object's array under key (nil when absent).
func evList(v *jsonValue, key string) []*jsonValue {
	x := v.get(key)
	if x == nil || x.kind != jsonArray {
		return nil
	}
	return x.elems
}

// selfPurchaseDiagram draws evidence["linked_buyers"][].path: publisher →
// identifier → buyer (→ identifier → buyer …), strongest buyers first.
func selfPurchaseDiagram(ev *jsonValue, publisher string) *diagram {
	buyers := evList(ev, "linked_buyers")
	if len(buyers) == 0 {
		return nil
	}
	g := newGraph()
	pubLabel := "publisher " + publisher
	g.node("P\x00"+pubLabel, 0, "node-publisher", "publisher", publisher)
	drawn := 0
	for _, b := range buyers {
		path := evList(b, "path")
		if b.kind != jsonObject || len(path) == 0 {
			g.omitted++
			continue
		}
		// The boxes this buyer's chain adds: all or none, so a chain is
		// never drawn half.
		adds := 0
		for _, h := range path {
			if _, ok := g.keys[hopIDKey(h)]; !ok {
				adds++
			}
			if _, ok := g.keys["P\x00"+evStr(h, "to")]; !ok {
				adds++
			}
		}
		if len(g.nodes)+adds > MaxDiagramNodes {
			g.omitted++
			continue
		}
		from := 0
		for i, h := range path {
			fromLabel := evStr(h, "from")
			if i == 0 || fromLabel == "" {
				fromLabel = pubLabel
			}
			if j, ok := g.keys["P\x00"+fromLabel]; ok {
				from = j
			}
			via := evStr(h, "via")
			left, right, arrow := strings.Cut(via, "→")
			if !arrow {
				right = via
			}
			class := "edge-soft"
			if hard := h.get("hard"); hard != nil && hard.text == "true" {
				class = "edge-hard"
			}
			holders := evStr(h, "holders")
			idLines := []string{evStr(h, "value")}
			if holders != "" {
				idLines = append(idLines, holders+" holders")
			}
			layer := g.nodes[from].layer + 1
			id := g.node(hopIDKey(h), layer, "node-id", idLines...)
			to := evStr(h, "to")
			toClass, toLines := "node-buyer", personLines(to)
			if i == len(path)-1 {
				toLines = append(toLines, buyerFacts(b)...)
			}
			t := g.node("P\x00"+to, layer+1, toClass, toLines...)
			g.edge(from, id, class, left)
			g.edge(id, t, class, right)
			from = t
		}
		drawn++
	}
	if drawn == 0 {
		return nil
	}
	d := g.layout()
	d.Title = fmt.Sprintf("Identifier links of publisher %s to %d buyer(s) who ordered through its links", truncateRunes(publisher, 40), drawn)
	d.Caption = "Each box in the middle is an identifier value the two sides share (hashed values cut); solid lines are hard identifiers (identity, contact, payment, address), dashed ones soft (IP, device), which innocent people can share. \"Holders\" counts the accounts holding the value."
	if g.omitted > 0 {
		d.Omitted = fmt.Sprintf("… %d more linked buyer(s) not drawn (in the evidence table and findings.ndjson).", g.omitted)
	}
	return d
}

func hopIDKey(h *jsonValue) string { return "I\x00" + evStr(h, "via") + "\x00" + evStr(h, "value") }

// personLines is a person's box: "buyer B123" on one line.
func personLines(label string) []string { return []string{label} }

// buyerFacts are the last lines of a linked buyer's box: its orders
// through the publisher's links and their commission.
func buyerFacts(b *jsonValue) []string {
	orders, _ := evNum(b, "orders")
	out := []string{fmt.Sprintf("%s order(s)", qty(orders))}
	if comm, ok := evNum(b, "commission_usd"); ok {
		out = append(out, fmt.Sprintf("US$%.2f", comm))
	}
	return out
}

// selfPromotionDiagram draws evidence["link"]: publisher → each identifier
// it shares with the seller → the seller, with the traffic it sends there.
func selfPromotionDiagram(ev *jsonValue, publisher string) *diagram {
	link := ev.get("link")
	seller := ev.get("seller")
	if link == nil || seller == nil {
		return nil
	}
	matched := evList(link, "matched_identifiers")
	ignored := evList(link, "ignored_identifiers")
	if len(matched)+len(ignored) == 0 {
		return nil
	}
	accounts := map[string]string{}
	for _, h := range evList(link, "accounts_per_identifier") {
		accounts[evStr(h, "identifier")] = evStr(h, "accounts")
	}
	g := newGraph()
	p := g.node("P", 0, "node-publisher", "publisher", publisher)
	sellerLines := []string{"seller " + evStr(seller, "seller_id")}
	if name := evStr(seller, "name"); name != "" {
		sellerLines = append(sellerLines, name)
	}
	var shares []string
	for _, k := range []string{"clicks", "orders"} {
		if t := ev.get(k); t != nil {
			if s, ok := evNum(t, "share"); ok {
				shares = append(shares, k+" "+pctLabel(s))
			}
		}
	}
	if len(shares) > 0 {
		sellerLines = append(sellerLines, strings.Join(shares, ", "))
	}
	s := g.node("S", 2, "node-seller", sellerLines...)
	add := func(list []*jsonValue, nodeClass, edgeClass, note string) {
		for _, m := range list {
			kind := m.text
			if len(g.nodes) >= MaxDiagramNodes {
				g.omitted++
				continue
			}
			lines := []string{kind}
			if a := accounts[kind]; a != "" {
				lines = append(lines, a+" accounts"+note)
			} else if note != "" {
				lines = append(lines, strings.TrimPrefix(note, ": "))
			}
			id := g.node("I\x00"+kind, 1, nodeClass, lines...)
			g.edge(p, id, edgeClass, "holds")
			g.edge(id, s, edgeClass, "held by")
		}
	}
	add(matched, "node-id", "edge-hard", "")
	add(ignored, "node-ignored", "edge-ignored", ": ignored")
	d := g.layout()
	d.Title = fmt.Sprintf("Publisher %s shares identifiers with seller %s", truncateRunes(publisher, 40), truncateRunes(evStr(seller, "seller_id"), 40))
	d.Caption = "The middle boxes are the identifiers (hashed) both accounts hold, with the number of accounts holding each value; a value held by too many accounts links nobody and is drawn grey. The seller's box gives the share of the publisher's clicks and orders that go to its store."
	if g.omitted > 0 {
		d.Omitted = fmt.Sprintf("… %d more identifier(s) not drawn (in the evidence table).", g.omitted)
	}
	return d
}

// layout places the nodes in columns by layer, each column centred
// vertically, and routes each edge as a curve from the right side of its
// source to the left side of its target. Deterministic: nodes keep the
// order they were added in.
func (g *graph) layout() *diagram {
	width := max(diagMinW, 2*diagMarginX+g.layers*diagColW)
	colW := float64(width-2*diagMarginX) / float64(g.layers)
	// Leave room between the columns for the longest edge label.
	longest := 0
	for _, e := range g.edges {
		longest = max(longest, len([]rune(e.label)))
	}
	gap := math.Min(diagGapMax, math.Max(diagGapMin, 12+diagLabelW*float64(longest)))
	nodeW := math.Min(diagMaxNodeW, colW-gap)
	perLayer := make([][]int, g.layers)
	for i, n := range g.nodes {
		perLayer[n.layer] = append(perLayer[n.layer], i)
	}
	rows := 1
	for _, l := range perLayer {
		rows = max(rows, len(l))
	}
	height := diagTop*2 + rows*diagRowH
	d := &diagram{Width: width, Height: height}
	type box struct{ x, y float64 }
	pos := make([]box, len(g.nodes))
	maxChars := int((nodeW - 12) / diagCharW)
	for layer, l := range perLayer {
		off := float64(rows-len(l)) * diagRowH / 2
		for r, i := range l {
			x := diagMarginX + float64(layer)*colW + (colW-nodeW)/2
			y := diagTop + off + float64(r)*diagRowH + (diagRowH-diagNodeH)/2
			pos[i] = box{x, y}
			n := g.nodes[i]
			dn := diagramNode{X: num(x), Y: num(y), W: num(nodeW), H: num(diagNodeH), Class: n.class, Tip: strings.Join(n.lines, " — ")}
			lines := n.lines
			if len(lines) > 3 {
				lines = lines[:3]
			}
			y0 := y + diagNodeH/2 - float64(len(lines)-1)*diagLineH/2 + 4
			for k, t := range lines {
				dn.Lines = append(dn.Lines, chartText{X: num(x + nodeW/2), Y: num(y0 + float64(k)*diagLineH), Text: truncateRunes(t, maxChars)})
			}
			d.Nodes = append(d.Nodes, dn)
		}
	}
	for _, e := range g.edges {
		a, b := pos[e.from], pos[e.to]
		x1, y1 := a.x+nodeW, a.y+diagNodeH/2
		x2, y2 := b.x, b.y+diagNodeH/2
		if x2 <= x1 { // a backward link (a buyer reached again): around
			x1, x2 = a.x+nodeW/2, b.x+nodeW/2
			y1, y2 = a.y+diagNodeH, b.y+diagNodeH
		}
		mx := (x1 + x2) / 2
		labelChars := int(math.Max(6, (x2-x1-10)/diagLabelW))
		d.Edges = append(d.Edges, diagramEdge{
			Path:  fmt.Sprintf("M%s %sC%s %s %s %s %s %s", num(x1), num(y1), num(mx), num(y1), num(mx), num(y2), num(x2), num(y2)),
			Arrow: fmt.Sprintf("M%s %sl-7 -3.5v7z", num(x2), num(y2)),
			Class: e.class,
			Label: chartText{X: num(mx), Y: num((y1+y2)/2 - 4), Text: truncateRunes(e.label, labelChars)},
		})
	}
	return d
}

// diagramFor draws the identifier links of a self_purchase or
// self_promotion finding (nil for other detectors or evidence without
// links).
func diagramFor(detector string, ev *jsonValue, publisher string) *diagram {
	switch detector {
	case detectors.SelfPurchase:
		return selfPurchaseDiagram(ev, publisher)
	case detectors.SelfPromotion:
		return selfPromotionDiagram(ev, publisher)
	}
	return nil
}
