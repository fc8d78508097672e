package reports

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"affwatch/detectors"
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
)

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Parse(reportTemplateText))

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
	DetectorsOther              bool // a severity outside DESIGN §6's four
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
	Findings        []findingView
	FindingsTotal   int
	FindingsOmitted int
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
	}
	if man.StartedAt != nil {
		d.StartedAt = *man.StartedAt
	}
	d.QuarantineOmitted = man.Quarantine.Rows - int64(len(man.Quarantine.FirstRows))
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

	detail := pubs
	if len(detail) > MaxDetailPublishers {
		detail = detail[:MaxDetailPublishers]
		d.DetailOmitted = len(pubs) - len(detail)
	}
	findings, err := readPublisherFindings(ctx, db, meta.RunID, detail)
	if err != nil {
		return nil, err
	}
	for i, p := range detail {
		pv := publisherView{
			Rank: i + 1, Anchor: anchor("p", p.id), ID: p.id,
			Severity: severityOrNone(p.sevRank), SevClass: severityClass(severityOrNone(p.sevRank)),
			Rec: p.rec, Findings: findings[p.id], FindingsTotal: p.findings,
		}
		pv.FindingsOmitted = p.findings - len(pv.Findings)
		d.Publishers = append(d.Publishers, pv)
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
		if i < len(detail) {
			r.Anchor = anchor("p", p.id)
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
// recommendation, by money at stake (withhold + clawback), then number of
// findings, then id: the order a reviewer's time is best spent in.
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
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.stake != b.stake {
			return a.stake > b.stake
		}
		if a.findings != b.findings {
			return a.findings > b.findings
		}
		return a.id < b.id
	})
	return list, nil
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
		} else {
			charted := 0
			for _, g := range out[publisher] {
				if g.Chart != nil {
					charted++
				}
			}
			setEvidence(&f, evidence.String, charted < MaxChartsPerPublisher)
		}
		out[publisher] = append(out[publisher], f)
		return nil
	})
	return out, err
}

// setEvidence lays out a finding's evidence and, if draw, its timeline
// chart.
func setEvidence(f *findingView, text string, draw bool) {
	v, err := parseJSON([]byte(text))
	if err != nil {
		f.EvidenceNote = "The evidence could not be read (" + err.Error() + "); it is in findings.ndjson."
		return
	}
	f.Evidence = evidenceView(v)
	if v.kind == jsonObject && len(v.keys) == 0 {
		// DESIGN §7: a finding without evidence is a bug; say so rather
		// than let the reviewer think it was left out.
		f.EvidenceNote = "No evidence was recorded for this finding: do not act on it without checking the data."
	}
	tl := v.get("timeline")
	if tl == nil {
		return
	}
	c, err := timelineChart(tl)
	for i := range f.Evidence {
		if f.Evidence[i].Key != "timeline" {
			continue
		}
		switch {
		case err != nil:
			f.ChartNote = "The timeline is not drawn: " + err.Error() + "."
		case !draw:
			f.Evidence[i].Value = evValue{Text: strings.TrimSuffix(c.Summary, "; drawn below") +
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
