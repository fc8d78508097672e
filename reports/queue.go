package reports

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The review queue (issue 14): report.html opens with what needs a
// person's decision tonight, fraud first. A recommendation is in the queue
// when review_required is set; the queue is ordered by risk (severity ×
// confidence of the finding that set the action), then new and escalated
// cases before continuing ones, then the money the ledger holds, then the
// number of findings. Routine commission corrections (no review) are
// summed up in one table instead of a section each.

// MaxCorrectionRows caps the corrections table.
const MaxCorrectionRows = 2000

// queueGroup orders the publishers of the report: the review queue first,
// then other recommendations (warnings that need no decision), then
// routine corrections, then publishers with findings but no
// recommendation.
func queueGroup(p *publisherStats) int {
	switch r := p.rec; {
	case r == nil:
		return 3
	case r.ReviewRequired:
		return 0
	case r.Kind != nil && *r.Kind == "correction":
		return 2
	default:
		return 1
	}
}

// caseRank puts new and escalated cases before continuing ones.
func caseRank(r *Recommendation) int {
	if r == nil || r.CaseStatus == nil {
		return 1
	}
	switch *r.CaseStatus {
	case "escalated", "new":
		return 0
	case "continuing":
		return 1
	}
	return 2
}

func riskOf(r *Recommendation) float64 {
	if r == nil || r.Risk == nil {
		return 0
	}
	return *r.Risk
}

// heldOf is the money the ledger holds for the publisher, or tonight's
// when the totals were not recorded.
func heldOf(r *Recommendation) Money {
	if r == nil {
		return 0
	}
	if r.WithheldTotalUSD != nil && r.ClawedBackTotalUSD != nil {
		return *r.WithheldTotalUSD + *r.ClawedBackTotalUSD
	}
	return r.WithholdUSD + r.ClawbackUSD
}

// sortQueue orders the publishers as the report lists them.
func sortQueue(list []*publisherStats) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if ga, gb := queueGroup(a), queueGroup(b); ga != gb {
			return ga < gb
		}
		if queueGroup(a) == 0 {
			if ra, rb := riskOf(a.rec), riskOf(b.rec); ra != rb {
				return ra > rb
			}
			if ca, cb := caseRank(a.rec), caseRank(b.rec); ca != cb {
				return ca < cb
			}
			if a.sevRank != b.sevRank {
				return a.sevRank > b.sevRank
			}
		}
		if ma, mb := heldOf(a.rec), heldOf(b.rec); ma != mb {
			return ma > mb
		}
		if a.stake != b.stake {
			return a.stake > b.stake
		}
		if a.findings != b.findings {
			return a.findings > b.findings
		}
		return a.id < b.id
	})
}

// queueRow is one line of the review queue.
type queueRow struct {
	Rank                int
	Anchor, ID, Name    string
	CaseStatus          string
	Severity, SevClass  string
	Confidence          string
	Action              string
	Detectors           string
	NewMoney, HeldMoney string
	Deadline            string
	DeadlinePassed      bool
	Correction          bool
	Strikes             int
	FindingsN           int
}

// correctionRow is one publisher's routine commission corrections.
type correctionRow struct {
	ID, Anchor, Name   string
	Orders             int
	Reasons            string
	Withhold, Clawback string
	Held               string
}

// profileView says who a publisher is.
type profileView struct {
	Name, Kind, Country, Joined string
	TrafficTypes                []string
	Sites                       []string
	SitesMore                   int
}

// caseView is one of a publisher's cases with its nights.
type caseView struct {
	CaseID, Detector, Status string
	First, Last              string
	NightsSeen               int
	Lines                    []caseLine
}

type caseLine struct {
	Night, Status, Severity, Action string
	Findings                        int
	Note                            string
}

// anchorID is a publisher's anchor: its id when that is a safe fragment
// (report.html#P000289), a hash otherwise. Ids that clash with the
// report's own anchors get the hash too.
func anchorID(id string) string {
	if safeAnchor.MatchString(id) && !reservedAnchors[strings.ToLower(id)] {
		return id
	}
	return anchor("p", id)
}

var safeAnchor = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

var reservedAnchors = map[string]bool{"summary": true, "queue": true, "corrections": true, "suppressed": true, "inputs": true,
	"quarantine": true, "signals": true, "index": true, "publishers": true, "how-to-read": true}

// deadlinePassed reports whether an appeal deadline (YYYY-MM-DD) is before
// the day the report was made.
func deadlinePassed(deadline string, now time.Time) bool {
	d, err := time.Parse(time.DateOnly, deadline)
	if err != nil || now.IsZero() {
		return false
	}
	return d.Before(now.UTC().Truncate(24 * time.Hour))
}

// buildQueue fills the queue, the corrections table and, for the
// publishers with a section, who they are and their cases.
func buildQueue(ctx context.Context, db *sql.DB, meta Meta, d *reportData, pubs []*publisherStats) error {
	ids := make([]string, 0, len(pubs))
	for _, p := range pubs {
		ids = append(ids, p.id)
	}
	profiles, err := readProfiles(ctx, db, ids)
	if err != nil {
		return err
	}
	reasons := map[string][]string{}
	orders := map[string]int{}
	err = eachHTMLRow(ctx, db, "CorrectionReasons", []any{meta.RunID}, func(rows *sql.Rows) error {
		var pub, reason string
		var n int
		if err := rows.Scan(&pub, &reason, &n); err != nil {
			return err
		}
		reasons[pub] = append(reasons[pub], fmt.Sprintf("%s ×%d", strings.TrimPrefix(reason, "invalid_commission:"), n))
		orders[pub] += n
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range pubs {
		name := ""
		if pr := profiles[p.id]; pr != nil {
			name = pr.Name
		}
		switch queueGroup(p) {
		case 0:
			r := p.rec
			q := queueRow{Rank: len(d.Queue) + 1, Anchor: anchorID(p.id), ID: p.id, Name: name,
				Severity: severityOrNone(p.sevRank), SevClass: severityClass(severityOrNone(p.sevRank)),
				Action: r.Action, Detectors: strings.Join(p.detectors, ", "), Deadline: r.AppealDeadline,
				DeadlinePassed: deadlinePassed(r.AppealDeadline, meta.FinishedAt), FindingsN: p.findings,
				NewMoney: (r.WithholdUSD + r.ClawbackUSD).Dollars(), HeldMoney: heldOf(r).Dollars()}
			q.Severity = deref(r.Severity)
			if q.Severity == "" {
				q.Severity = severityOrNone(p.sevRank)
			}
			q.SevClass = severityClass(q.Severity)
			q.Confidence = deref(r.Confidence)
			q.CaseStatus = deref(r.CaseStatus)
			q.Correction = r.Kind != nil && *r.Kind == "correction"
			if r.Strikes != nil {
				q.Strikes = *r.Strikes
			}
			d.Queue = append(d.Queue, q)
		case 2:
			if len(d.Corrections) >= MaxCorrectionRows {
				d.CorrectionsOmitted++
				continue
			}
			r := p.rec
			d.Corrections = append(d.Corrections, correctionRow{ID: p.id, Name: name, Orders: orders[p.id],
				Reasons: strings.Join(reasons[p.id], ", "), Withhold: r.WithholdUSD.Dollars(), Clawback: r.ClawbackUSD.Dollars(),
				Held: heldOf(r).Dollars()})
			d.CorrectionsWithhold += r.WithholdUSD
			d.CorrectionsClawback += r.ClawbackUSD
		}
	}
	for i := range d.Queue {
		if d.Queue[i].CaseStatus == "continuing" {
			d.QueueContinuing++
		}
	}
	// Sections: who the publisher is, its cases and appeals.
	var shown []string
	for _, pv := range d.Publishers {
		shown = append(shown, pv.ID)
	}
	cases, err := readCaseHistories(ctx, db, meta.RunID, shown)
	if err != nil {
		return err
	}
	appeals := map[string][]string{}
	err = eachHTMLRow(ctx, db, "PublisherAppeals", []any{shown}, func(rows *sql.Rows) error {
		var pub, det, fid, outcome, on, by string
		if err := rows.Scan(&pub, &det, &fid, &outcome, &on, &by); err != nil {
			return err
		}
		what := det
		if fid != "" {
			what += " (finding " + fid + ")"
		}
		appeals[pub] = append(appeals[pub], fmt.Sprintf("%s: %s for %s, decided by %s", on, outcome, what, by))
		return nil
	})
	if err != nil {
		return err
	}
	for i := range d.Publishers {
		pv := &d.Publishers[i]
		pv.Profile = profiles[pv.ID]
		pv.Cases = cases[pv.ID]
		pv.Appeals = appeals[pv.ID]
		if pv.Rec != nil {
			pv.DeadlinePassed = deadlinePassed(pv.Rec.AppealDeadline, meta.FinishedAt)
			pv.CaseStatus = deref(pv.Rec.CaseStatus)
			if pv.Rec.WithheldTotalUSD != nil {
				pv.HeldWithhold = pv.Rec.WithheldTotalUSD.Dollars()
			}
			if pv.Rec.ClawedBackTotalUSD != nil {
				pv.HeldClawback = pv.Rec.ClawedBackTotalUSD.Dollars()
			}
		}
	}
	return nil
}

func readProfiles(ctx context.Context, db *sql.DB, ids []string) (map[string]*profileView, error) {
	out := map[string]*profileView{}
	if len(ids) == 0 {
		return out, nil
	}
	err := eachHTMLRow(ctx, db, "PublisherProfiles", []any{ids}, func(rows *sql.Rows) error {
		var id, types, sites string
		p := &profileView{}
		var nSites int
		if err := rows.Scan(&id, &p.Name, &p.Kind, &p.Country, &p.Joined, &types, &sites, &nSites); err != nil {
			return err
		}
		var err error
		if p.TrafficTypes, err = stringList(types, "traffic types of "+id); err != nil {
			return err
		}
		if p.Sites, err = stringList(sites, "sites of "+id); err != nil {
			return err
		}
		for i := range p.Sites {
			p.Sites[i] = truncateRunes(p.Sites[i], MaxEvidenceCellRunes)
		}
		p.Name = truncateRunes(p.Name, MaxEvidenceCellRunes)
		p.SitesMore = nSites - len(p.Sites)
		out[id] = p
		return nil
	})
	return out, err
}

func readCaseHistories(ctx context.Context, db *sql.DB, runID string, ids []string) (map[string][]caseView, error) {
	out := map[string][]caseView{}
	if len(ids) == 0 {
		return out, nil
	}
	err := eachHTMLRow(ctx, db, "CaseHistories", []any{runID, ids, runID, runID}, func(rows *sql.Rows) error {
		var pub, id, det string
		var l caseLine
		if err := rows.Scan(&pub, &id, &det, &l.Night, &l.Status, &l.Severity, &l.Action, &l.Findings, &l.Note); err != nil {
			return err
		}
		cs := out[pub]
		if len(cs) == 0 || cs[len(cs)-1].CaseID != id {
			cs = append(cs, caseView{CaseID: id, Detector: det, First: l.Night})
		}
		c := &cs[len(cs)-1]
		c.Lines = append(c.Lines, l)
		c.Status = l.Status
		if l.Findings > 0 {
			c.Last = l.Night
			c.NightsSeen++
		}
		out[pub] = cs
		return nil
	})
	return out, err
}

// dataRange is the first and last day of clicks in the database, for a
// backfill's header.
func dataRange(ctx context.Context, db *sql.DB) (string, string, error) {
	var first, last string
	err := eachHTMLRow(ctx, db, "DataRange", nil, func(rows *sql.Rows) error { return rows.Scan(&first, &last) })
	return first, last, err
}
