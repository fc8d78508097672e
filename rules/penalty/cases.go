package penalty

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"affwatch/detectors"
	"affwatch/rules"
)

// Case statuses: what a night made of a case.
const (
	CaseNew        = "new"
	CaseContinuing = "continuing"
	CaseEscalated  = "escalated"
	CaseCleared    = "cleared"
	CaseClosed     = "closed"
)

// caseUrgency orders statuses for a recommendation's case_status: the
// most urgent of its cases.
var caseUrgency = map[string]int{CaseEscalated: 4, CaseNew: 3, CaseContinuing: 2, CaseCleared: 1, CaseClosed: 0}

// priorCase is a case as the events of earlier days left it.
type priorCase struct {
	id, publisher, detector string
	first, lastSeen         time.Time
	nights                  int
	latest                  string
	maxSev, maxRung         int
	findingIDs              map[string]bool
}

func (c *priorCase) open() bool {
	return c.latest == CaseNew || c.latest == CaseContinuing || c.latest == CaseEscalated
}

// caseEvent is one row of case_events.
type caseEvent struct {
	CaseID      string   `json:"case_id"`
	PublisherID string   `json:"publisher_id"`
	Detector    string   `json:"detector"`
	Status      string   `json:"status"`
	Severity    *string  `json:"severity"`
	Score       *float64 `json:"score"`
	Action      *string  `json:"action"`
	FindingIDs  []string `json:"finding_ids"`
	Suppressed  bool     `json:"suppressed"`
	Note        string   `json:"note"`
}

// clearedAppeal is a cleared appeal decision in force on the run date.
type clearedAppeal struct {
	publisher, detector, findingID string
	decidedOn                      time.Time
}

// coversCase reports whether a cleared appeal ends the case: it names one
// of the case's findings, or it clears the detector (or every detector)
// for a case that was already open before the decision.
func (a clearedAppeal) coversCase(c *priorCase) bool {
	if a.publisher != c.publisher || (a.detector != "*" && a.detector != c.detector) {
		return false
	}
	if a.findingID != "" {
		return c.findingIDs[a.findingID]
	}
	return c.first.Before(a.decidedOn)
}

// caseID names a case by its publisher, detector and the day it opened:
// stable while it stays open, new when the publisher is caught again after
// the case was closed or cleared.
func caseID(pub, det string, opened time.Time) string {
	h := sha256.New()
	for _, p := range []string{pub, det, opened.Format(time.DateOnly)} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "CA-" + strings.ToUpper(hex.EncodeToString(h.Sum(nil))[:12])
}

// readPriorCases reads, per publisher × detector, its latest case from the
// case events of successful runs of earlier days (a re-run of tonight does
// not see its own earlier rows).
func readPriorCases(ctx context.Context, tx *sql.Tx, runID string, nightArg any, runDate time.Time) (map[[2]string]*priorCase, error) {
	rows, err := tx.QueryContext(ctx, queries["PriorCases"], runID, nightArg, runDate.Format(time.DateOnly), nightArg == nil)
	if err != nil {
		return nil, fmt.Errorf("read open cases: %w", err)
	}
	defer rows.Close()
	out := map[[2]string]*priorCase{}
	for rows.Next() {
		c := &priorCase{findingIDs: map[string]bool{}}
		var actions, fids string
		var last sql.NullTime
		if err := rows.Scan(&c.id, &c.publisher, &c.detector, &c.first, &last, &c.nights, &c.latest, &c.maxSev, &actions, &fids); err != nil {
			return nil, err
		}
		c.lastSeen = c.first
		if last.Valid {
			c.lastSeen = last.Time
		}
		var as, fs []string
		_ = json.Unmarshal([]byte(actions), &as)
		_ = json.Unmarshal([]byte(fids), &fs)
		c.maxRung = -1
		for _, a := range as {
			c.maxRung = max(c.maxRung, rules.ActionRung(a))
		}
		for _, f := range fs {
			c.findingIDs[f] = true
		}
		// Rows come oldest case first: the latest case wins.
		out[[2]string{c.publisher, c.detector}] = c
	}
	return out, rows.Err()
}

// readClearedAppeals reads the cleared appeals decided on or before the run
// date, in a fixed order.
func readClearedAppeals(ctx context.Context, tx *sql.Tx, runDate time.Time) ([]clearedAppeal, error) {
	rows, err := tx.QueryContext(ctx, queries["ClearedAppealsInForce"], runDate.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("read appeals: %w", err)
	}
	defer rows.Close()
	var out []clearedAppeal
	for rows.Next() {
		var a clearedAppeal
		if err := rows.Scan(&a.publisher, &a.detector, &a.findingID, &a.decidedOn); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// judgeCases attaches tonight's findings (acting and suppressed) to cases
// and says what tonight made of every case it touched: a finding of a
// publisher × detector with an open case continues it (escalates it when
// its severity or ladder rung is above any earlier night's), otherwise it
// opens a new case; a case every finding of which a cleared appeal
// suppressed, or that a cleared appeal covers, is cleared; an open case
// quiet for quietNights closes. It returns the events and each finding's
// case id.
func judgeCases(prior map[[2]string]*priorCase, appeals []clearedAppeal, acting []detectors.Finding, steps map[string]Step,
	suppressed []Suppression, runDate time.Time, quietNights int) ([]caseEvent, map[string]string) {
	type group struct {
		pub, det     string
		fs           []detectors.Finding
		byAppeal     int
		suppressedFs int
	}
	groups := map[[2]string]*group{}
	add := func(f detectors.Finding, supp string) {
		k := [2]string{f.PublisherID, f.Detector}
		g := groups[k]
		if g == nil {
			g = &group{pub: f.PublisherID, det: f.Detector}
			groups[k] = g
		}
		g.fs = append(g.fs, f)
		if supp != "" {
			g.suppressedFs++
			if supp == "appeal" {
				g.byAppeal++
			}
		}
	}
	for _, f := range acting {
		add(f, "")
	}
	for _, s := range suppressed {
		add(s.Finding, s.By)
	}
	keys := make([][2]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	quiet := func(c *priorCase) int { return int(runDate.Sub(c.lastSeen).Hours() / 24) }
	coveredBy := func(c *priorCase) *clearedAppeal {
		for i := range appeals {
			if appeals[i].coversCase(c) {
				return &appeals[i]
			}
		}
		return nil
	}
	var events []caseEvent
	caseOf := map[string]string{}
	for _, k := range keys {
		g := groups[k]
		sev, rung, score := -1, -1, -1.0
		var ids []string
		for _, f := range g.fs {
			ids = append(ids, f.FindingID)
			sev = max(sev, detectors.SeverityRank(f.Severity))
			score = max(score, f.Score)
			if s, ok := steps[f.FindingID]; ok {
				rung = max(rung, rules.ActionRung(s.Action))
			}
		}
		sort.Strings(ids)
		ev := caseEvent{PublisherID: g.pub, Detector: g.det, FindingIDs: ids, Suppressed: g.suppressedFs == len(g.fs)}
		sevText := detectors.Severities[max(sev, 0)]
		ev.Severity, ev.Score = &sevText, &score
		if rung >= 0 {
			a := rules.Actions[rung]
			ev.Action = &a
		}
		p := prior[k]
		if p != nil && p.open() {
			if a := coveredBy(p); a != nil && g.byAppeal < len(g.fs) {
				// The appeal ends the old case; tonight's unsuppressed
				// findings are judged as a new one below.
				events = append(events, caseEvent{CaseID: p.id, PublisherID: g.pub, Detector: g.det, Status: CaseCleared,
					FindingIDs: []string{}, Note: fmt.Sprintf("cleared by the appeal decided on %s", a.decidedOn.Format(time.DateOnly))})
				p = &priorCase{id: p.id, latest: CaseCleared}
			}
		}
		switch {
		case g.byAppeal == len(g.fs) && p != nil:
			ev.CaseID, ev.Status = p.id, CaseCleared
			ev.Note = "every finding tonight was cleared by an appeal"
		case g.byAppeal == len(g.fs):
			ev.CaseID, ev.Status = caseID(g.pub, g.det, runDate), CaseCleared
			ev.Note = "every finding tonight was cleared by an appeal"
		case p != nil && p.open() && quiet(p) <= quietNights:
			ev.CaseID = p.id
			if sev > p.maxSev || rung > p.maxRung {
				ev.Status = CaseEscalated
				ev.Note = fmt.Sprintf("seen on %d earlier night(s) since %s; worse tonight (%s", p.nights, p.first.Format(time.DateOnly), sevText)
				if ev.Action != nil {
					ev.Note += ", " + *ev.Action
				}
				ev.Note += ")"
			} else {
				ev.Status = CaseContinuing
				ev.Note = fmt.Sprintf("seen on %d earlier night(s) since %s", p.nights, p.first.Format(time.DateOnly))
			}
		default:
			ev.CaseID, ev.Status = caseID(g.pub, g.det, runDate), CaseNew
			ev.Note = "first night of this case"
			if p != nil && p.latest == CaseCleared {
				ev.Note = "first night since an appeal cleared the earlier case " + p.id
			} else if p != nil {
				ev.Note = "first night since the earlier case " + p.id + " closed"
			}
		}
		if ev.Suppressed && ev.Status != CaseCleared {
			ev.Note += "; every finding tonight suppressed by the allow-list"
		}
		for _, id := range ids {
			caseOf[id] = ev.CaseID
		}
		events = append(events, ev)
	}
	// Open cases without a finding tonight: cleared by an appeal, or
	// closed after enough quiet nights.
	var rest []*priorCase
	for k, p := range prior {
		if _, seen := groups[k]; !seen && p.open() {
			rest = append(rest, p)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].id < rest[j].id })
	for _, p := range rest {
		if a := coveredBy(p); a != nil {
			events = append(events, caseEvent{CaseID: p.id, PublisherID: p.publisher, Detector: p.detector, Status: CaseCleared,
				FindingIDs: []string{}, Note: fmt.Sprintf("cleared by the appeal decided on %s", a.decidedOn.Format(time.DateOnly))})
			continue
		}
		if q := quiet(p); q >= quietNights {
			events = append(events, caseEvent{CaseID: p.id, PublisherID: p.publisher, Detector: p.detector, Status: CaseClosed,
				FindingIDs: []string{}, Note: fmt.Sprintf("closed: no finding for %d night(s) since %s", q, p.lastSeen.Format(time.DateOnly))})
		}
	}
	return events, caseOf
}
