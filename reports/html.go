package reports

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"affwatch/detectors"
	"affwatch/loaders"
	"affwatch/rules"
)

// Bounds of report.html. With thousands of flagged publishers the report
// must still open quickly on a laptop; findings.ndjson has everything.
const (
	// MaxIndexPublishers caps the index table at the top.
	MaxIndexPublishers = 5000
	// MaxDetailPublishers is how many publishers, by money at stake, get a
	// section with their recommendation and findings.
	MaxDetailPublishers = 500
	// MaxFindingsPerPublisher caps the findings shown in one section,
	// worst first.
	MaxFindingsPerPublisher = 20
	// MaxChartsPerPublisher caps the timeline charts drawn in one section
	// (each is a few kilobytes); later timelines are summed up in words.
	MaxChartsPerPublisher = 10
	// MaxOrderIDsShown caps a finding's order ids.
	MaxOrderIDsShown = 20
	// MaxEvidenceBytes is the largest evidence object laid out as a table;
	// a larger one is left to findings.ndjson.
	MaxEvidenceBytes = 256 << 10
	// MaxClausesPerFinding caps the clauses quoted under one finding (a
	// range such as C.6.c–q names fifteen).
	MaxClausesPerFinding = 6
	// MaxSuppressedShown caps the suppressed findings listed; the rest
	// are counted.
	MaxSuppressedShown = 1000
)

// The figures a finding may carry, drawn at most MaxChartsPerPublisher per
// section: the click timeline (click_burst), the click-to-order time
// histogram (cookie_stuffing), the identifier-link diagram (self_purchase,
// self_promotion) and the logo pair (logo_copy). Page snippets are text and
// not counted.

//go:embed html_queries.sql
var htmlQueriesSQL string

// htmlQueries holds html_queries.sql's statements by name.
var htmlQueries = parseQueries(htmlQueriesSQL)

// eachHTMLRow is eachRow for html_queries.sql.
func eachHTMLRow(ctx context.Context, db *sql.DB, name string, args []any, fn func(*sql.Rows) error) error {
	q, ok := htmlQueries[name]
	if !ok {
		panic("reports: no query named " + name + " in html_queries.sql")
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("query %s: %w", name, err)
	}
	defer rows.Close()
	for n := 0; rows.Next(); n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(rows); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"show": showText}).Parse(reportTemplateText))

// showText writes an input value (an id, a quarantined value, evidence
// text) for reviewers: escaped, with every invisible character (bidi
// controls, zero-width spaces, other format characters) and invalid byte
// shown as a marker, so "\u200bP000107\u200f" does not look like P000107
// and no override inside a value can reorder the text around it. Ids sit
// in .id elements, which the style isolates (unicode-bidi: isolate, what
// <bdi> does) against right-to-left letters. Machine outputs keep the raw
// value.
func showText(v any) template.HTML {
	s := fmt.Sprint(v)
	var b strings.Builder
	start := 0
	for i, r := range s {
		if !loaders.Invisible(r) && !(r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) {
			continue
		}
		b.WriteString(template.HTMLEscapeString(s[start:i]))
		size := utf8.RuneLen(r)
		if r == utf8.RuneError {
			fmt.Fprintf(&b, `<span class="inv" title="invalid UTF-8 byte">\x%02X</span>`, s[i])
			size = 1
		} else {
			fmt.Fprintf(&b, `<span class="inv" title="invisible character U+%04X">U+%04X</span>`, r, r)
		}
		start = i + size
	}
	b.WriteString(template.HTMLEscapeString(s[start:]))
	return template.HTML(b.String())
}

// detectorTitles name the detector codes of DESIGN §6 for people.
var detectorTitles = map[string]string{
	detectors.CookieStuffing:    "Cookie stuffing",
	detectors.ClickBurst:        "Abnormal click bursts",
	detectors.SelfPurchase:      "Purchases through own links",
	detectors.SelfPromotion:     "Seller promoting own store",
	detectors.PopupTraffic:      "Pop-up / pop-under traffic",
	detectors.BrandDomain:       "Brand name in a domain",
	detectors.BrandMisuse:       "Brand misuse in ads, titles or claims",
	detectors.LogoCopy:          "Brand logo or favicon copied",
	detectors.ProhibitedContent: "Prohibited content",
	detectors.InvalidCommission: "Commission not payable under the terms",
}

// actionOrder is clause F.11's ladder, mildest first.
var actionOrder = []string{"warning", "cure_period", "withhold_payment", "deduct", "terminate", "restrict", "ban_registration"}

func severityClass(s string) string {
	if detectors.SeverityRank(s) < 0 {
		return "sev-unknown"
	}
	return "sev-" + s
}

// reportData is everything report.html shows.
type reportData struct {
	RunID, Command, ToolVersion string
	Night                       string
	GeneratedAt, StartedAt      string
	Strict                      bool
	Rules                       RulesInfo
	Counts                      Counts
	Withhold, Clawback          string
	DisqualifiedCommission      string
	Detectors                   []detectorRow
	DetectorsOther              bool // a severity outside the output contract's four
	Actions                     []actionRow
	Severities                  []severityRow
	Datasets                    []datasetRow
	Quarantine                  QuarantineSummary
	QuarantineOmitted           int64
	Signals                     []SignalUnavailable
	Index                       []indexRow
	IndexOmitted                int
	Publishers                  []publisherView
	DetailOmitted               int
	PublishersTotal             int
	IndexLimit                  int
	// Suppressed lists the findings the allow-list or a cleared appeal
	// kept out of the run's actions (never silently).
	Suppressed        []suppressedRow
	SuppressedTotal   int
	SuppressedOmitted int
	SuppressedBy      []countRow
	// ShadowFindings counts the run's findings of rules that are not
	// stable (shown, acted on with a warning at most).
	ShadowFindings int

	// Queue is what needs a decision tonight, fraud first; Corrections the
	// routine commission corrections, one row per publisher.
	Queue                                    []queueRow
	QueueContinuing                          int
	Corrections                              []correctionRow
	CorrectionsOmitted                       int
	CorrectionsWithhold, CorrectionsClawback Money
	Backfill                                 bool
}

type countRow struct {
	Name  string
	Count int
}

// suppressedRow is one suppressed finding and what suppressed it.
type suppressedRow struct {
	Publisher, FindingID, Detector string
	RuleStatus, Severity, SevClass string
	PolicyRef, Summary, Commission string
	By                             string // allow-list entry, appeal
	Details                        []evRow
}

// clauseView is one clause of the terms quoted under a finding: its
// opening words (for lettered items) and the items cited.
type clauseView struct {
	Lead, Source string
	Items        []clauseItem
}

type clauseItem struct{ Ref, Text string }

// recWhy is why a recommendation is what it is (migration 003); every
// field may be unknown on rows written before the penalty engine kept it.
type recWhy struct {
	Severity, Confidence string // "" when not recorded
	Strikes              string // "" when not recorded
	Shadow               []string
	Steps                []basisStep
	Note                 string // basis missing or unreadable
}

// basisStep is one finding's step on the ladder.
type basisStep struct {
	FindingID, Anchor    string
	Detector, RuleStatus string
	Shadow               bool
	Severity, SevClass   string
	Score, Confidence    string
	Action, PolicyRef    string
	Note                 string
}

type detectorRow struct {
	Code, Title          string
	Publishers, Findings int
	Low, Medium, High    int
	Critical, Other      int
}

type actionRow struct {
	Action                     string
	Publishers, ReviewRequired int
	Withhold, Clawback         string
}

type severityRow struct {
	Severity, Class string
	Findings        int
}

type datasetRow struct {
	Dataset string
	DatasetTotals
}

type indexRow struct {
	Rank                int
	Anchor              string // "" when the publisher has no section
	ID                  string
	Action              string
	Findings            int
	Detectors           string
	Severity, SevClass  string
	Withhold, Clawback  string
	ReviewRequired, Rec bool
}

type publisherView struct {
	Rank            int
	Anchor, ID      string
	Severity        string
	SevClass        string
	Rec             *Recommendation
	RecClause       *clauseView // the F.11 measure recommended, quoted
	Why             *recWhy
	Findings        []findingView
	FindingsTotal   int
	FindingsOmitted int
	// Who the publisher is, its cases over the nights and its appeals.
	Profile                    *profileView
	Cases                      []caseView
	Appeals                    []string
	CaseStatus                 string
	DeadlinePassed             bool
	HeldWithhold, HeldClawback string
	// GIVT is the publisher's general invalid traffic over its findings'
	// windows (the reference lists' labels); nil when no list was read.
	GIVT *givtView
}

// givtView is a publisher's share of clicks the reference lists label
// general invalid traffic.
type givtView struct {
	Clicks, GIVT int64
	Share        string
	From, To     string
}

type findingView struct {
	Anchor, ID                 string
	Detector, DetectorTitle    string
	RuleID, RuleStatus         string
	Severity, SevClass, Score  string
	PolicyRef, Summary         string
	WindowStart, WindowEnd     string
	Commission                 string
	Evidence                   []evRow
	EvidenceNote               string
	Chart                      *chart
	ChartNote                  string
	OrderIDs                   []string
	OrderIDsTotal, OrderIDsOff int
	// Shadow: the rule is not stable (test, experimental): shown, not
	// acted on beyond a warning.
	Shadow         bool
	Clauses        []clauseView
	ClausesOmitted int
	ClausesMissing []string // references clauses.yaml does not hold
	CTIT           *ctitChart
	Diagram        *diagram
	Logo           *logoPair
	Render         *renderView // what headless Chromium saw of the site (issue 17)
	Snippets       []snippetView
	SnippetsOff    int
	FigureNote     string // a figure not drawn, and why

	publisher      string
	windowS, windE time.Time
	wantCTIT       bool
	ctit           ctitSummary
	logo           *logoRequest
	render         *renderRequest
}

// figures counts the drawn figures of a finding (snippets aside).
func (f *findingView) figures() int {
	n := 0
	for _, drawn := range []bool{f.Chart != nil, f.CTIT != nil, f.Diagram != nil, f.Logo != nil, f.wantCTIT, f.logo != nil} {
		if drawn {
			n++
		}
	}
	return n
}

// publisherStats is one flagged publisher as the report ranks it.
type publisherStats struct {
	id        string
	findings  int
	sevRank   int
	detectors []string
	rec       *Recommendation
	stake     Money
}

// writeHTML renders report.html.
func writeHTML(ctx context.Context, db *sql.DB, meta Meta, man Manifest, out io.Writer) error {
	d, err := buildReport(ctx, db, meta, man)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return reportTemplate.Execute(out, d)
}

func buildReport(ctx context.Context, db *sql.DB, meta Meta, man Manifest) (*reportData, error) {
	d := &reportData{
		RunID: meta.RunID, Command: meta.Command, ToolVersion: meta.ToolVersion,
		Night:       "backfill: every day present in the input",
		GeneratedAt: timestamp(meta.FinishedAt),
		Strict:      meta.Strict,
		Rules:       man.Rules,
		Counts:      man.Counts,
		Withhold:    man.Counts.WithholdUSD.Dollars(), Clawback: man.Counts.ClawbackUSD.Dollars(),
		DisqualifiedCommission: man.Counts.DisqualifiedCommissionUSD.Dollars(),
		Quarantine:             man.Quarantine,
		Signals:                man.SignalsUnavailable,
		IndexLimit:             MaxIndexPublishers,
	}
	if man.Night != nil {
		d.Night = *man.Night
	} else {
		d.Backfill = true
		first, last, err := dataRange(ctx, db)
		if err != nil {
			return nil, err
		}
		if first != "" {
			d.Night = fmt.Sprintf("backfill of %s … %s (every day present in the input)", first, last)
		}
	}
	if man.StartedAt != nil {
		d.StartedAt = *man.StartedAt
	}
	d.QuarantineOmitted = man.Quarantine.Problems - int64(len(man.Quarantine.FirstRows))
	for _, ds := range sortedKeys(man.Totals) {
		d.Datasets = append(d.Datasets, datasetRow{ds, man.Totals[ds]})
	}
	for _, code := range sortedKeys(man.Counts.FindingsByDetector) {
		r := detectorRow{Code: code, Title: detectorTitles[code], Findings: man.Counts.FindingsByDetector[code],
			Publishers: man.Counts.PublishersByDetector[code]}
		for sev, n := range man.Counts.FindingsByDetectorSeverity[code] {
			switch sev {
			case "low":
				r.Low = n
			case "medium":
				r.Medium = n
			case "high":
				r.High = n
			case "critical":
				r.Critical = n
			default:
				r.Other += n
			}
		}
		d.Detectors = append(d.Detectors, r)
		d.DetectorsOther = d.DetectorsOther || r.Other > 0
	}
	sevs := sortedKeys(man.Counts.FindingsBySeverity)
	sort.SliceStable(sevs, func(i, j int) bool { return detectors.SeverityRank(sevs[i]) > detectors.SeverityRank(sevs[j]) })
	for _, s := range sevs {
		d.Severities = append(d.Severities, severityRow{Severity: s, Class: severityClass(s), Findings: man.Counts.FindingsBySeverity[s]})
	}

	recs, err := readRecommendations(ctx, db, meta.RunID)
	if err != nil {
		return nil, err
	}
	d.Actions = actionRows(recs)
	pubs, err := readPublisherStats(ctx, db, meta.RunID, recs)
	if err != nil {
		return nil, err
	}
	d.PublishersTotal = len(pubs)

	// Routine corrections get a line in the corrections table, not a
	// section of their own.
	var detail []*publisherStats
	for _, p := range pubs {
		if queueGroup(p) != 2 {
			detail = append(detail, p)
		}
	}
	d.PublishersTotal = len(detail)
	if len(detail) > MaxDetailPublishers {
		d.DetailOmitted = len(detail) - MaxDetailPublishers
		detail = detail[:MaxDetailPublishers]
	}
	findings, err := readPublisherFindings(ctx, db, meta.RunID, detail)
	if err != nil {
		return nil, err
	}
	if err := attachFigures(ctx, db, meta, findings); err != nil {
		return nil, err
	}
	whys, err := readRecommendationWhy(ctx, db, meta.RunID)
	if err != nil {
		return nil, err
	}
	inDetail := map[string]bool{}
	givt, err := readPublisherGIVT(ctx, db, meta.RunID)
	if err != nil {
		return nil, err
	}
	for i, p := range detail {
		inDetail[p.id] = true
		pv := publisherView{
			Rank: i + 1, Anchor: anchorID(p.id), ID: p.id,
			Severity: severityOrNone(p.sevRank), SevClass: severityClass(severityOrNone(p.sevRank)),
			Rec: p.rec, Findings: findings[p.id], FindingsTotal: p.findings, GIVT: givt[p.id],
		}
		pv.FindingsOmitted = p.findings - len(pv.Findings)
		if p.rec != nil {
			if cs, _, _ := quoteClauses(p.rec.PolicyRef, 1); len(cs) > 0 {
				pv.RecClause = &cs[0]
			}
			pv.Why = whyView(whys[p.id], pv.Findings)
		}
		d.Publishers = append(d.Publishers, pv)
	}
	if err := buildQueue(ctx, db, meta, d, pubs); err != nil {
		return nil, err
	}
	if err := readSuppressed(ctx, db, meta.RunID, d); err != nil {
		return nil, err
	}
	if d.ShadowFindings, err = countShadow(ctx, db, meta.RunID); err != nil {
		return nil, err
	}

	index := pubs
	if len(index) > MaxIndexPublishers {
		index = index[:MaxIndexPublishers]
		d.IndexOmitted = len(pubs) - len(index)
	}
	for i, p := range index {
		r := indexRow{Rank: i + 1, ID: p.id, Findings: p.findings, Detectors: strings.Join(p.detectors, ", "),
			Severity: severityOrNone(p.sevRank), SevClass: severityClass(severityOrNone(p.sevRank)),
			Action: "none", Withhold: Money(0).Dollars(), Clawback: Money(0).Dollars()}
		if inDetail[p.id] {
			r.Anchor = anchorID(p.id)
		}
		if p.rec != nil {
			r.Rec = true
			r.Action, r.ReviewRequired = p.rec.Action, p.rec.ReviewRequired
			r.Withhold, r.Clawback = p.rec.WithholdUSD.Dollars(), p.rec.ClawbackUSD.Dollars()
		}
		d.Index = append(d.Index, r)
	}
	return d, nil
}

func severityOrNone(rank int) string {
	if rank < 0 || rank >= len(detectors.Severities) {
		return "none"
	}
	return detectors.Severities[rank]
}

// actionRows sums the recommendations per action, in the ladder's order
// (unknown actions after, by name).
func actionRows(recs []Recommendation) []actionRow {
	type sums struct {
		n, review          int
		withhold, clawback Money
	}
	by := map[string]*sums{}
	for _, r := range recs {
		s := by[r.Action]
		if s == nil {
			s = &sums{}
			by[r.Action] = s
		}
		s.n++
		if r.ReviewRequired {
			s.review++
		}
		s.withhold += r.WithholdUSD
		s.clawback += r.ClawbackUSD
	}
	rank := func(a string) int {
		for i, v := range actionOrder {
			if v == a {
				return i
			}
		}
		return len(actionOrder)
	}
	actions := sortedKeys(by)
	sort.SliceStable(actions, func(i, j int) bool { return rank(actions[i]) < rank(actions[j]) })
	rows := make([]actionRow, 0, len(actions))
	for _, a := range actions {
		s := by[a]
		rows = append(rows, actionRow{Action: a, Publishers: s.n, ReviewRequired: s.review,
			Withhold: s.withhold.Dollars(), Clawback: s.clawback.Dollars()})
	}
	return rows
}

// readPublisherStats lists every publisher with findings or a
// recommendation in the review queue's order (sortQueue): the order a
// reviewer's time is best spent in.
func readPublisherStats(ctx context.Context, db *sql.DB, runID string, recs []Recommendation) ([]*publisherStats, error) {
	by := map[string]*publisherStats{}
	var list []*publisherStats
	get := func(id string) *publisherStats {
		p := by[id]
		if p == nil {
			p = &publisherStats{id: id, sevRank: -1}
			by[id] = p
			list = append(list, p)
		}
		return p
	}
	err := eachRow(ctx, db, "PublisherStats", []any{runID}, func(rows *sql.Rows) error {
		var id, detectors string
		var n, sev int
		if err := rows.Scan(&id, &n, &sev, &detectors); err != nil {
			return err
		}
		p := get(id)
		p.findings, p.sevRank = n, sev
		var err error
		p.detectors, err = stringList(detectors, "detectors of "+id)
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range recs {
		p := get(recs[i].PublisherID)
		if p.rec == nil { // one per publisher; should there be more, the first in file order
			p.rec = &recs[i]
			p.stake = recs[i].WithholdUSD + recs[i].ClawbackUSD
		}
	}
	sortQueue(list)
	return list, nil
}

// readPublisherGIVT reads each flagged publisher's GIVT share over its
// findings' windows; empty when the run read no reference list.
func readPublisherGIVT(ctx context.Context, db *sql.DB, runID string) (map[string]*givtView, error) {
	out := map[string]*givtView{}
	err := eachRow(ctx, db, "PublisherGIVT", []any{runID, runID}, func(rows *sql.Rows) error {
		var id string
		var g givtView
		var from, to time.Time
		if err := rows.Scan(&id, &g.Clicks, &g.GIVT, &from, &to); err != nil {
			return err
		}
		g.Share = "0 %"
		if g.Clicks > 0 {
			g.Share = fmt.Sprintf("%.1f %%", 100*float64(g.GIVT)/float64(g.Clicks))
		}
		g.From, g.To = humanTime(from), humanTime(to)
		out[id] = &g
		return nil
	})
	return out, err
}

// readPublisherFindings reads the findings shown for the given publishers,
// bounded per publisher in SQL (MaxFindingsPerPublisher, MaxOrderIDsShown,
// MaxEvidenceBytes).
func readPublisherFindings(ctx context.Context, db *sql.DB, runID string, pubs []*publisherStats) (map[string][]findingView, error) {
	out := map[string][]findingView{}
	var ids []string
	for _, p := range pubs {
		if p.findings > 0 {
			ids = append(ids, p.id)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{runID, ids, MaxFindingsPerPublisher, MaxEvidenceBytes, MaxOrderIDsShown}
	err := eachRow(ctx, db, "PublisherFindings", args, func(rows *sql.Rows) error {
		var (
			f                           findingView
			publisher                   string
			score                       float64
			evidence                    sql.NullString
			evidenceLen                 int64
			ws, we                      time.Time
			orderIDs, commission        string
			severity, detector, ruleSts string
		)
		if err := rows.Scan(&f.ID, &publisher, &detector, &f.RuleID, &ruleSts, &severity, &score, &f.PolicyRef,
			&f.Summary, &evidence, &evidenceLen, &ws, &we, &orderIDs, &f.OrderIDsTotal, &commission); err != nil {
			return err
		}
		f.Anchor = anchor("f", publisher+"\x00"+f.ID)
		f.Detector, f.DetectorTitle, f.RuleStatus = detector, detectorTitles[detector], ruleSts
		f.Shadow = ruleSts != "stable"
		f.publisher, f.windowS, f.windE = publisher, ws.UTC(), we.UTC()
		f.Severity, f.SevClass = severity, severityClass(severity)
		f.Score = "?"
		if !math.IsNaN(score) && !math.IsInf(score, 0) {
			f.Score = fmt.Sprintf("%.2f", score)
		}
		f.WindowStart, f.WindowEnd = humanTime(ws), humanTime(we)
		var err error
		if f.OrderIDs, err = stringList(orderIDs, "finding "+f.ID+" order_ids"); err != nil {
			return err
		}
		for i, id := range f.OrderIDs {
			f.OrderIDs[i] = truncateRunes(id, MaxEvidenceCellRunes)
		}
		f.OrderIDsOff = f.OrderIDsTotal - len(f.OrderIDs)
		m, err := parseMoney(commission)
		if err != nil {
			return fmt.Errorf("finding %s: %w", f.ID, err)
		}
		f.Commission = m.Dollars()
		if !evidence.Valid {
			f.EvidenceNote = fmt.Sprintf("The evidence (%d bytes) is too large to show here; it is in findings.ndjson.", evidenceLen)
			f.Clauses, f.ClausesOmitted, f.ClausesMissing = quoteClauses(f.PolicyRef, MaxClausesPerFinding)
		} else {
			charted := 0
			for i := range out[publisher] {
				charted += out[publisher][i].figures()
			}
			setEvidence(&f, evidence.String, charted < MaxChartsPerPublisher)
		}
		out[publisher] = append(out[publisher], f)
		return nil
	})
	return out, err
}

// setEvidence lays out a finding's evidence, its clauses, snippets and, if
// draw, its figure: the timeline chart and the identifier diagram here,
// the CTIT histogram and the logo pair once the database has been read
// for every finding (attachFigures).
func setEvidence(f *findingView, text string, draw bool) {
	v, err := parseJSON([]byte(text))
	if err != nil {
		f.EvidenceNote = "The evidence could not be read (" + err.Error() + "); it is in findings.ndjson."
		f.Clauses, f.ClausesOmitted, f.ClausesMissing = quoteClauses(f.PolicyRef, MaxClausesPerFinding)
		return
	}
	f.Evidence = evidenceView(v)
	if v.kind == jsonObject && len(v.keys) == 0 {
		// DESIGN §7: a finding without evidence is a bug; say so rather
		// than let the reviewer think it was left out.
		f.EvidenceNote = "No evidence was recorded for this finding: do not act on it without checking the data."
	}
	// A finding that names a narrower clause (prohibited content's
	// category) is quoted by it rather than by its rule's whole range.
	ref := f.PolicyRef
	if c := evStr(v, "clause"); c != "" && f.Detector == detectors.ProhibitedContent {
		ref = c
	}
	f.Clauses, f.ClausesOmitted, f.ClausesMissing = quoteClauses(ref, MaxClausesPerFinding)
	f.Snippets, f.SnippetsOff = snippetsFor(f.Detector, v)
	figure := func(what string) bool {
		if !draw {
			f.FigureNote = fmt.Sprintf("The %s is not drawn: this section draws at most %d figures; the evidence table has its data.", what, MaxChartsPerPublisher)
		}
		return draw
	}
	f.render = renderRequestFor(v, f.publisher)
	switch f.Detector {
	case detectors.SelfPurchase, detectors.SelfPromotion:
		if d := diagramFor(f.Detector, v, f.publisher); d != nil && figure("identifier diagram") {
			f.Diagram = d
		}
	case detectors.CookieStuffing:
		if s := ctitSummaryOf(v); s.Known && figure("click-to-order time histogram") {
			f.wantCTIT, f.ctit = true, s
		}
	case detectors.LogoCopy:
		if r := logoRequestFor(v); r != nil && figure("logo comparison") {
			f.logo = r
		}
	}
	tl := v.get("timeline")
	if tl == nil {
		return
	}
	c, err := timelineChart(tl)
	for i := range f.Evidence {
		if k := f.Evidence[i].Key; k != "timeline" && f.Evidence[i].Raw != "timeline" {
			continue
		}
		switch {
		case err != nil:
			f.ChartNote = "The timeline is not drawn: " + err.Error() + "."
		case !draw:
			f.Evidence[i].Value = evValue{Text: strings.TrimSuffix(c.Summary, "; drawn as the chart above") +
				fmt.Sprintf(" (not drawn: this section draws at most %d charts)", MaxChartsPerPublisher)}
		default:
			f.Evidence[i].Value = evValue{Text: c.Summary, Chart: true}
			f.Chart = c
		}
		break
	}
}

// anchor is a stable, safe fragment id for an attacker-chosen key: the
// same publisher gets the same link in every report.
func anchor(prefix, key string) string {
	h := sha256.Sum256([]byte(key))
	return prefix + "-" + hex.EncodeToString(h[:8])
}

func humanTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// attachFigures draws the figures that need the database: one query for
// the CTIT histograms of every finding shown, one for the logos' bytes.
func attachFigures(ctx context.Context, db *sql.DB, meta Meta, findings map[string][]findingView) error {
	var ctitPubs []string
	var logos []*logoRequest
	var renders []*renderRequest
	for _, pub := range sortedKeys(findings) {
		fs := findings[pub]
		want := false
		for i := range fs {
			if fs[i].render != nil && len(renders) < MaxRenderShots {
				renders = append(renders, fs[i].render)
			}
			want = want || fs[i].wantCTIT
			if fs[i].logo != nil {
				if len(logos) < MaxLogoPairs {
					logos = append(logos, fs[i].logo)
				} else {
					fs[i].FigureNote = fmt.Sprintf("The logo comparison is not drawn: this report draws at most %d; the evidence table has the distances.", MaxLogoPairs)
					fs[i].logo = nil
				}
			}
		}
		if want {
			ctitPubs = append(ctitPubs, pub)
		}
	}
	var ctit *ctitData
	if len(ctitPubs) > 0 {
		var err error
		if ctit, err = readCTIT(ctx, db, meta.RunID, ctitPubs); err != nil {
			return err
		}
	}
	var assets map[[3]string][]byte
	if len(logos) > 0 {
		var err error
		if assets, err = logoAssets(ctx, db, logos); err != nil {
			return err
		}
	}
	if err := attachRenders(ctx, db, renders); err != nil {
		return err
	}
	refs := newRefLogos(meta.RulesSource)
	for _, pub := range sortedKeys(findings) {
		fs := findings[pub]
		for i := range fs {
			f := &fs[i]
			if f.render != nil {
				f.Render, f.render = f.render.view, nil
			}
			if f.wantCTIT {
				f.wantCTIT = false
				pubCounts := ctit.pub[ctitKey{pub, f.windowS, f.windE}]
				popCounts := ctit.pop[ctitWindow{f.windowS, f.windE}]
				if f.CTIT = newCTITChart(pubCounts, popCounts, f.ctit); f.CTIT == nil {
					f.FigureNote = "No click-to-order time histogram: no order in the database is credited to the publisher's clicks of the finding's window."
				}
			}
			if f.logo != nil {
				attachLogo(f.logo, assets, refs)
				f.Logo, f.logo = f.logo.pair, nil
			}
		}
	}
	return nil
}

// quoteClauses quotes the clauses a policy reference names, at most n;
// references clauses.yaml lacks are listed apart (shown as cited). Items
// of one clause (B.5.a and B.5.b) share one quote of its opening words.
func quoteClauses(ref string, n int) (out []clauseView, omitted int, missing []string) {
	quoted := 0
	for _, r := range rules.SplitPolicyRef(ref) {
		text, source, ok := rules.ClauseText(r)
		if !ok {
			missing = append(missing, truncateRunes(r, 80))
			continue
		}
		if quoted == n {
			omitted++
			continue
		}
		quoted++
		lead, item, hasLead := strings.Cut(text, " … ")
		if !hasLead {
			lead, item = "", text
		}
		it := clauseItem{Ref: truncateRunes(r, 80), Text: item}
		if k := len(out) - 1; k >= 0 && hasLead && out[k].Lead == lead && out[k].Source == source {
			out[k].Items = append(out[k].Items, it)
			continue
		}
		out = append(out, clauseView{Lead: lead, Source: source, Items: []clauseItem{it}})
	}
	return out, omitted, missing
}

// whyRow is RecommendationWhy's row.
type whyRow struct {
	severity, confidence, shadow, basis sql.NullString
	strikes                             sql.NullInt64
}

// readRecommendationWhy reads the penalty engine's reasons per publisher
// (the first recommendation of each, as readPublisherStats keeps).
func readRecommendationWhy(ctx context.Context, db *sql.DB, runID string) (map[string]*whyRow, error) {
	out := map[string]*whyRow{}
	err := eachHTMLRow(ctx, db, "RecommendationWhy", []any{runID}, func(rows *sql.Rows) error {
		var pub string
		var w whyRow
		if err := rows.Scan(&pub, &w.severity, &w.confidence, &w.strikes, &w.shadow, &w.basis); err != nil {
			return err
		}
		if _, ok := out[pub]; !ok {
			out[pub] = &w
		}
		return nil
	})
	return out, err
}

// basisJSON is one element of recommendations.basis (rules/penalty.Step).
type basisJSON struct {
	FindingID  string   `json:"finding_id"`
	Detector   string   `json:"detector"`
	RuleStatus string   `json:"rule_status"`
	Severity   string   `json:"severity"`
	Score      *float64 `json:"score"`
	Confidence string   `json:"confidence"`
	Action     string   `json:"action"`
	PolicyRef  string   `json:"policy_ref"`
	Note       string   `json:"note"`
}

// whyView lays out a recommendation's reasons; findings link to their
// cards in the section when shown there.
func whyView(w *whyRow, shown []findingView) *recWhy {
	v := &recWhy{}
	if w == nil {
		v.Note = "The penalty engine recorded no reasons for this recommendation."
		return v
	}
	v.Severity, v.Confidence = w.severity.String, w.confidence.String
	if w.strikes.Valid {
		v.Strikes = fmt.Sprint(w.strikes.Int64)
	}
	if w.shadow.Valid {
		ids, err := stringList(w.shadow.String, "shadow_finding_ids")
		if err == nil {
			for _, id := range ids {
				v.Shadow = append(v.Shadow, truncateRunes(id, MaxEvidenceCellRunes))
			}
		}
	}
	if !w.basis.Valid {
		v.Note = "No per-finding basis was recorded for this recommendation (a run before the penalty engine kept it)."
		return v
	}
	var steps []basisJSON
	if err := json.Unmarshal([]byte(w.basis.String), &steps); err != nil {
		v.Note = "The recorded basis could not be read (" + truncateRunes(err.Error(), 120) + "); it is in recommendations.json."
		return v
	}
	anchors := map[string]string{}
	for _, f := range shown {
		anchors[f.ID] = f.Anchor
	}
	for i, s := range steps {
		if i == MaxFindingsPerPublisher*2 {
			v.Note = fmt.Sprintf("… %d more steps in recommendations.json.", len(steps)-i)
			break
		}
		b := basisStep{
			FindingID: truncateRunes(s.FindingID, MaxEvidenceCellRunes), Anchor: anchors[s.FindingID],
			Detector: truncateRunes(s.Detector, 80), RuleStatus: truncateRunes(s.RuleStatus, 40),
			Shadow:   s.RuleStatus != "" && s.RuleStatus != "stable",
			Severity: truncateRunes(s.Severity, 40), SevClass: severityClass(s.Severity),
			Score: "?", Confidence: truncateRunes(s.Confidence, 40), Action: truncateRunes(s.Action, 40),
			PolicyRef: truncateRunes(s.PolicyRef, 80), Note: truncateRunes(s.Note, MaxEvidenceTextRunes),
		}
		if s.Score != nil {
			b.Score = fmt.Sprintf("%.2f", *s.Score)
		}
		v.Steps = append(v.Steps, b)
	}
	return v
}

// readSuppressed fills the report's list of suppressed findings.
func readSuppressed(ctx context.Context, db *sql.DB, runID string, d *reportData) error {
	err := eachHTMLRow(ctx, db, "SuppressedCounts", []any{runID}, func(rows *sql.Rows) error {
		var c countRow
		if err := rows.Scan(&c.Name, &c.Count); err != nil {
			return err
		}
		c.Name = suppressorName(c.Name)
		d.SuppressedBy = append(d.SuppressedBy, c)
		d.SuppressedTotal += c.Count
		return nil
	})
	if err != nil || d.SuppressedTotal == 0 {
		return err
	}
	err = eachHTMLRow(ctx, db, "SuppressedFindings", []any{runID, MaxSuppressedShown}, func(rows *sql.Rows) error {
		var r suppressedRow
		var commission, by, detail string
		if err := rows.Scan(&r.Publisher, &r.FindingID, &r.Detector, &r.RuleStatus, &r.Severity, &r.PolicyRef,
			&r.Summary, &commission, &by, &detail); err != nil {
			return err
		}
		r.SevClass = severityClass(r.Severity)
		r.By = suppressorName(by)
		if m, err := parseMoney(commission); err == nil {
			r.Commission = m.Dollars()
		}
		r.Summary = truncateRunes(r.Summary, MaxEvidenceTextRunes)
		if v, err := parseJSON([]byte(detail)); err == nil && v.kind == jsonObject {
			r.Details = objectRows(orderSuppression(v), maxEvidenceNesting)
		} else {
			r.Details = []evRow{{Key: "detail", Value: evValue{Text: truncateRunes(detail, MaxEvidenceCellRunes)}}}
		}
		// The allow-list entry's and the appeal's own field names read as
		// they are written in the pack and by affwatch appeal.
		for i := range r.Details {
			if r.Details[i].Raw != "" {
				r.Details[i].Key, r.Details[i].Raw = r.Details[i].Raw, ""
			}
		}
		d.Suppressed = append(d.Suppressed, r)
		return nil
	})
	d.SuppressedOmitted = d.SuppressedTotal - len(d.Suppressed)
	return err
}

func suppressorName(by string) string {
	switch by {
	case "allowlist":
		return "allow-list entry"
	case "appeal":
		return "cleared appeal"
	}
	return by
}

// suppressionOrder puts what a reviewer checks first: why, who, until when.
var suppressionOrder = []string{"reason", "note", "approved_by", "decided_by", "expires", "decided_on", "appeal_id", "match", "rule"}

func orderSuppression(v *jsonValue) *jsonValue {
	out := &jsonValue{kind: jsonObject}
	used := map[int]bool{}
	for _, k := range suppressionOrder {
		for i, key := range v.keys {
			if key == k && !used[i] {
				used[i] = true
				out.keys, out.elems = append(out.keys, key), append(out.elems, v.elems[i])
			}
		}
	}
	for i, key := range v.keys {
		if !used[i] {
			out.keys, out.elems = append(out.keys, key), append(out.elems, v.elems[i])
		}
	}
	return out
}

// countShadow counts the run's findings of rules that are not stable.
func countShadow(ctx context.Context, db *sql.DB, runID string) (int, error) {
	n := 0
	err := eachHTMLRow(ctx, db, "ShadowFindings", []any{runID}, func(rows *sql.Rows) error { return rows.Scan(&n) })
	return n, err
}
