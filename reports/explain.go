package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of an explanation printed on a terminal: the evidence holds log
// fields and crawled snippets, and an attacker who controls them must not
// be able to flood the analyst's screen.
const (
	// ExplainMaxListItems caps the items of a list shown on one line (order
	// ids, evidence lists of scalars); the rest is counted as "… N more".
	ExplainMaxListItems = 10
	// ExplainMaxObjects caps the objects of an evidence array shown.
	ExplainMaxObjects = 10
	// ExplainMaxKeys caps the keys of one evidence object shown.
	ExplainMaxKeys = 40
	// ExplainMaxTextRunes cuts a string value or a summary.
	ExplainMaxTextRunes = 300
	// ExplainMaxDepth is how deep evidence is shown as a tree; deeper
	// values are shown as cut JSON text.
	ExplainMaxDepth = 6
	// ExplainMaxEvidenceBytes leaves out a finding's evidence above this
	// size (the output says how to read it from the database).
	ExplainMaxEvidenceBytes = 1 << 20
	// DefaultExplainHistory is how many lines of history Explain reads.
	DefaultExplainHistory = 50
)

// ExplainQuery says whose rows Explain reads, from which run.
type ExplainQuery struct {
	PublisherID string
	// RunID names the run shown; empty means the latest succeeded run, of
	// Night when it is set.
	RunID string
	Night time.Time
	// AllNights shows every succeeded run holding rows of the publisher
	// (one per night: a re-run replaces the night's rows) instead of one.
	AllNights bool
	// History caps the lines of history (rows of other runs); 0 means
	// DefaultExplainHistory.
	History int
}

// Explanation is what `affwatch explain` shows of one publisher: the
// recommendation and findings of a run (or of every night), what was
// suppressed, the rows of other nights, and the appeals decided.
type Explanation struct {
	PublisherID string         `json:"publisher_id"`
	Runs        []ExplainedRun `json:"runs"`
	// History is the publisher's rows in other succeeded runs, newest
	// night first; HistoryOmitted counts the lines beyond the cap.
	History        []HistoryLine `json:"history"`
	HistoryOmitted int           `json:"history_omitted"`
	Appeals        []Appeal      `json:"appeals"`
	// Cases are the publisher's cases (publisher × detector) over every
	// stored night, oldest first, each with its nights; Ledger what the
	// disposition ledger holds for it.
	Cases  []ExplainedCase `json:"cases"`
	Ledger LedgerTotals    `json:"ledger"`
}

// ExplainedCase is one case and what each night made of it.
type ExplainedCase struct {
	CaseID     string      `json:"case_id"`
	Detector   string      `json:"detector"`
	Status     string      `json:"status"` // the latest night's
	FirstNight string      `json:"first_night"`
	LastNight  string      `json:"last_night"` // the last night with a finding
	NightsSeen int         `json:"nights_seen"`
	Nights     []CaseNight `json:"nights"`
}

// CaseNight is one night of a case.
type CaseNight struct {
	Night      string   `json:"night"`
	Status     string   `json:"status"`
	Severity   string   `json:"severity"`
	Action     string   `json:"action"`
	FindingIDs []string `json:"finding_ids"`
	Suppressed bool     `json:"suppressed"`
	Note       string   `json:"note"`
}

// ExplainedRun is one run's rows of the publisher.
type ExplainedRun struct {
	RunID          string              `json:"run_id"`
	Night          *string             `json:"night"` // YYYY-MM-DD; null for a backfill
	Status         string              `json:"status"`
	StartedAt      string              `json:"started_at"`
	FinishedAt     *string             `json:"finished_at"`
	Recommendation *Recommendation     `json:"recommendation"`
	Findings       []ExplainedFinding  `json:"findings"`
	Suppressed     []SuppressedFinding `json:"suppressed_findings"`
}

// ExplainedFinding is a finding with its full evidence (findings.ndjson's
// line), or its size when above ExplainMaxEvidenceBytes.
type ExplainedFinding struct {
	FindingID     string          `json:"finding_id"`
	Detector      string          `json:"detector"`
	RuleID        string          `json:"rule_id"`
	RuleStatus    string          `json:"rule_status"`
	Severity      string          `json:"severity"`
	Score         float64         `json:"score"`
	PolicyRef     string          `json:"policy_ref"`
	Summary       string          `json:"summary"`
	Evidence      json.RawMessage `json:"evidence"` // null when left out
	EvidenceBytes int             `json:"evidence_bytes"`
	WindowStart   string          `json:"window_start"`
	WindowEnd     string          `json:"window_end"`
	OrderIDs      []string        `json:"order_ids"`
	CommissionUSD Money           `json:"commission_usd"`
}

// SuppressedFinding is a finding an allow-list entry or a cleared appeal
// kept from acting (migration 003).
type SuppressedFinding struct {
	FindingID    string          `json:"finding_id"`
	Detector     string          `json:"detector"`
	Severity     string          `json:"severity"`
	Score        float64         `json:"score"`
	Summary      string          `json:"summary"`
	SuppressedBy string          `json:"suppressed_by"`
	Suppression  json.RawMessage `json:"suppression"`
}

// HistoryLine is one finding or recommendation of another night.
type HistoryLine struct {
	Night     *string `json:"night"`
	RunID     string  `json:"run_id"`
	Kind      string  `json:"kind"` // finding or recommendation
	FindingID string  `json:"finding_id,omitempty"`
	// What is the detector of a finding, the action of a recommendation.
	What      string   `json:"what"`
	PolicyRef string   `json:"policy_ref"`
	Severity  string   `json:"severity"`
	Score     *float64 `json:"score,omitempty"`
	// Count is a finding's orders, a recommendation's findings.
	Count int `json:"count"`
	// Money is a finding's commission at stake, a recommendation's
	// withheld amount; Clawback a recommendation's clawback.
	Money    Money  `json:"money_usd"`
	Clawback Money  `json:"clawback_usd"`
	Summary  string `json:"summary"`
}

// Appeal is a decision recorded on a publisher's objection (clause G.12).
type Appeal struct {
	AppealID  string `json:"appeal_id"`
	Detector  string `json:"detector"`
	FindingID string `json:"finding_id"`
	Outcome   string `json:"outcome"`
	DecidedOn string `json:"decided_on"`
	DecidedBy string `json:"decided_by"`
	Note      string `json:"note"`
}

// ErrNoRun is returned by Explain when no run matches the query.
var ErrNoRun = errors.New("no such run")

// NoFindingsError is returned by Explain when the publisher has no
// findings in the runs asked for.
type NoFindingsError struct {
	PublisherID string
	// Where describes the runs looked at ("run R (night D)", "any night").
	Where string
	// Elsewhere counts the publisher's findings in other succeeded runs;
	// Suppressed its suppressed findings in the runs looked at.
	Elsewhere, Suppressed int
}

func (e *NoFindingsError) Error() string {
	msg := fmt.Sprintf("publisher %s has no findings in %s", TerminalSafe(e.PublisherID), e.Where)
	if e.Suppressed > 0 {
		msg += fmt.Sprintf(" (%d suppressed by the allow-list or an appeal)", e.Suppressed)
	}
	if e.Elsewhere > 0 {
		msg += fmt.Sprintf("; it has %d on other nights: try --all-nights", e.Elsewhere)
	}
	return msg
}

// Explain reads what the database holds about one publisher. It returns
// ErrNoRun (wrapped) when the run asked for does not exist and a
// *NoFindingsError when the publisher has no findings there.
func Explain(ctx context.Context, db *sql.DB, q ExplainQuery) (*Explanation, error) {
	if q.History <= 0 {
		q.History = DefaultExplainHistory
	}
	e := &Explanation{PublisherID: q.PublisherID, Runs: []ExplainedRun{}, History: []HistoryLine{}, Appeals: []Appeal{}}
	var where string
	var err error
	switch {
	case q.AllNights:
		where = "any stored night"
		err = eachRow(ctx, db, "ExplainPublisherRuns", []any{q.PublisherID, q.PublisherID, q.PublisherID}, func(rows *sql.Rows) error {
			r, err := scanExplainRun(rows)
			e.Runs = append(e.Runs, r)
			return err
		})
	case q.RunID != "":
		err = eachRow(ctx, db, "ExplainRunByID", []any{q.RunID}, func(rows *sql.Rows) error {
			r, err := scanExplainRun(rows)
			e.Runs = append(e.Runs, r)
			return err
		})
		if err == nil && len(e.Runs) == 0 {
			return nil, fmt.Errorf("run %s: %w", TerminalSafe(q.RunID), ErrNoRun)
		}
	default:
		var night any
		if !q.Night.IsZero() {
			night = q.Night.Format(time.DateOnly)
		}
		err = eachRow(ctx, db, "ExplainLatestRun", []any{night, night}, func(rows *sql.Rows) error {
			r, err := scanExplainRun(rows)
			e.Runs = append(e.Runs, r)
			return err
		})
		if err == nil && len(e.Runs) == 0 {
			if night != nil {
				return nil, fmt.Errorf("no succeeded run of the night %s: %w", night, ErrNoRun)
			}
			return nil, fmt.Errorf("no succeeded run in the database: %w", ErrNoRun)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	if !q.AllNights {
		where = describeRun(e.Runs[0])
	}
	runIDs := make([]string, len(e.Runs))
	byRun := map[string]*ExplainedRun{}
	for i := range e.Runs {
		e.Runs[i].Findings, e.Runs[i].Suppressed = []ExplainedFinding{}, []SuppressedFinding{}
		runIDs[i] = e.Runs[i].RunID
		byRun[runIDs[i]] = &e.Runs[i]
	}

	findings := 0
	err = eachRow(ctx, db, "ExplainFindings", []any{ExplainMaxEvidenceBytes, q.PublisherID, runIDs}, func(rows *sql.Rows) error {
		var (
			runID                string
			f                    ExplainedFinding
			evidence             sql.NullString
			ws, we               time.Time
			orderIDs, commission string
		)
		if err := rows.Scan(&runID, &f.FindingID, &f.Detector, &f.RuleID, &f.RuleStatus, &f.Severity, &f.Score,
			&f.PolicyRef, &f.Summary, &evidence, &f.EvidenceBytes, &ws, &we, &orderIDs, &commission); err != nil {
			return err
		}
		if evidence.Valid {
			f.Evidence = evidenceObject(evidence.String)
		}
		f.WindowStart, f.WindowEnd = timestamp(ws), timestamp(we)
		var err error
		if f.OrderIDs, err = stringList(orderIDs, "finding "+f.FindingID+" order_ids"); err != nil {
			return err
		}
		if f.CommissionUSD, err = parseMoney(commission); err != nil {
			return fmt.Errorf("finding %s: commission_usd: %w", f.FindingID, err)
		}
		findings++
		byRun[runID].Findings = append(byRun[runID].Findings, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	err = eachRow(ctx, db, "ExplainRecommendations", []any{q.PublisherID, runIDs}, func(rows *sql.Rows) error {
		var runID string
		r, err := scanRecommendation(rows, &runID)
		if err != nil {
			return err
		}
		// One per publisher and run; were there two, the first (in the
		// query's order) is shown.
		if byRun[runID].Recommendation == nil {
			byRun[runID].Recommendation = &r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	suppressed := 0
	err = eachRow(ctx, db, "ExplainSuppressed", []any{q.PublisherID, runIDs}, func(rows *sql.Rows) error {
		var runID, suppression string
		var s SuppressedFinding
		if err := rows.Scan(&runID, &s.FindingID, &s.Detector, &s.Severity, &s.Score, &s.Summary, &s.SuppressedBy, &suppression); err != nil {
			return err
		}
		s.Suppression = evidenceObject(suppression)
		suppressed++
		byRun[runID].Suppressed = append(byRun[runID].Suppressed, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	total := 0
	err = eachRow(ctx, db, "ExplainHistory", []any{runIDs, q.PublisherID, q.PublisherID, q.History}, func(rows *sql.Rows) error {
		var (
			h                 HistoryLine
			night             sql.NullString
			score             sql.NullFloat64
			withhold, clawbak string
		)
		if err := rows.Scan(&night, &h.RunID, &h.Kind, &h.FindingID, &h.What, &h.PolicyRef, &h.Severity, &score,
			&h.Count, &withhold, &clawbak, &h.Summary, &total); err != nil {
			return err
		}
		if night.Valid {
			h.Night = &night.String
		}
		if score.Valid {
			h.Score = &score.Float64
		}
		var err error
		if h.Money, err = parseMoney(withhold); err != nil {
			return err
		}
		if h.Clawback, err = parseMoney(clawbak); err != nil {
			return err
		}
		e.History = append(e.History, h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	e.HistoryOmitted = total - len(e.History)
	err = eachRow(ctx, db, "ExplainAppeals", []any{q.PublisherID}, func(rows *sql.Rows) error {
		var a Appeal
		if err := rows.Scan(&a.AppealID, &a.Detector, &a.FindingID, &a.Outcome, &a.DecidedOn, &a.DecidedBy, &a.Note); err != nil {
			return err
		}
		e.Appeals = append(e.Appeals, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}

	if err := explainCases(ctx, db, q.PublisherID, e); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	// A publisher whose findings were cleared on appeal (or stopped) still
	// has a story to tell: without --run or --date, its cases and history
	// are shown even when the latest run holds nothing of it. A run or
	// night asked for by name that holds nothing is an error with a hint.
	latest := q.RunID == "" && q.Night.IsZero() && !q.AllNights
	if findings == 0 && suppressed == 0 && !(latest && len(e.Cases) > 0) && !(q.AllNights && len(e.Cases) > 0) {
		elsewhere := 0
		for _, h := range e.History {
			if h.Kind == "finding" {
				elsewhere++
			}
		}
		if e.HistoryOmitted > 0 {
			elsewhere += e.HistoryOmitted // an upper bound is enough for the hint
		}
		return nil, &NoFindingsError{PublisherID: q.PublisherID, Where: where, Elsewhere: elsewhere, Suppressed: suppressed}
	}
	// With --all-nights, runs without findings of the publisher (only a
	// suppressed one, say) stay: they are part of its story.
	return e, nil
}

func scanExplainRun(rows *sql.Rows) (ExplainedRun, error) {
	var (
		r        ExplainedRun
		night    sql.NullString
		started  time.Time
		finished sql.NullTime
	)
	if err := rows.Scan(&r.RunID, &night, &r.Status, &started, &finished); err != nil {
		return r, err
	}
	if night.Valid {
		r.Night = &night.String
	}
	r.StartedAt = timestamp(started)
	if finished.Valid {
		s := timestamp(finished.Time)
		r.FinishedAt = &s
	}
	return r, nil
}

// scanRecommendation reads a row of the ExplainRecommendations query: the
// run id into runID, then the Recommendations query's columns.
func scanRecommendation(rows *sql.Rows, runID *string) (Recommendation, error) {
	var (
		r                              Recommendation
		findingIDs, withhold, clawback string
		severity, confidence           sql.NullString
		strikes                        sql.NullInt64
		shadow, basis                  sql.NullString
		l                              ledgerCols
	)
	if err := rows.Scan(append([]any{runID, &r.PublisherID, &r.Action, &r.PolicyRef, &findingIDs, &withhold, &clawback,
		&r.AppealDeadline, &r.ReviewRequired, &r.Summary, &severity, &confidence, &strikes, &shadow, &basis}, l.dest()...)...); err != nil {
		return r, err
	}
	if err := fillRecommendation(&r, findingIDs, withhold, clawback, severity, confidence, strikes, shadow, basis); err != nil {
		return r, err
	}
	return r, l.fill(&r)
}

func describeRun(r ExplainedRun) string {
	night := "backfill: every day in the input"
	if r.Night != nil {
		night = "night " + *r.Night
	}
	return fmt.Sprintf("run %s (%s)", TerminalSafe(r.RunID), night)
}

// WriteText prints the explanation for a terminal. Every string from the
// database goes through TerminalSafe; lists and evidence are capped (the
// Explain* bounds).
func (e *Explanation) WriteText(w io.Writer) error {
	p := &textPrinter{w: w}
	for i, r := range e.Runs {
		if i > 0 {
			p.line(0, "")
			p.line(0, "%s", strings.Repeat("─", 72))
		}
		p.printRun(e.PublisherID, r)
	}
	if len(e.History) > 0 {
		p.line(0, "")
		p.line(0, "Other nights (newest first):")
		for _, h := range e.History {
			night := "backfill  "
			if h.Night != nil {
				night = TerminalSafe(*h.Night)
			}
			if h.Kind == "recommendation" {
				p.line(1, "%s  recommendation %s (%s), %d finding(s), withhold %s, claw back %s",
					night, TerminalSafe(h.What), TerminalSafe(h.PolicyRef), h.Count, h.Money.Dollars(), h.Clawback.Dollars())
				continue
			}
			score := ""
			if h.Score != nil {
				score = fmt.Sprintf(" %.3g", *h.Score)
			}
			p.line(1, "%s  finding %s %s %s%s (%s): %s", night, TerminalSafe(h.FindingID), TerminalSafe(h.What),
				TerminalSafe(h.Severity), score, TerminalSafe(h.PolicyRef), cut(h.Summary, 120))
		}
		if e.HistoryOmitted > 0 {
			p.line(1, "… %d more", e.HistoryOmitted)
		}
	}
	e.writeCases(p)
	if len(e.Appeals) > 0 {
		p.line(0, "")
		p.line(0, "Appeals (G.12), newest first:")
		for _, a := range e.Appeals {
			what := TerminalSafe(a.Detector)
			if a.FindingID != "" {
				what += " " + TerminalSafe(a.FindingID)
			}
			p.line(1, "%s  %s  %s  by %s: %s", TerminalSafe(a.DecidedOn), TerminalSafe(a.Outcome), what,
				TerminalSafe(a.DecidedBy), cut(a.Note, 200))
		}
	}
	return p.err
}

func (p *textPrinter) printRun(pub string, r ExplainedRun) {
	finished := ""
	if r.FinishedAt != nil {
		finished = ", finished " + *r.FinishedAt
	}
	p.line(0, "Publisher %s — %s%s", TerminalSafe(pub), describeRun(r), finished)
	if r.Status != "succeeded" {
		p.line(0, "Warning: this run %s; its rows may be incomplete.", TerminalSafe(r.Status))
	}
	p.line(0, "")
	if rec := r.Recommendation; rec != nil {
		review := "no review required"
		if rec.ReviewRequired {
			review = "review required before acting"
		}
		p.line(0, "Recommendation: %s (%s), %s", TerminalSafe(rec.Action), TerminalSafe(rec.PolicyRef), review)
		var why []string
		if rec.Severity != nil {
			why = append(why, "severity "+TerminalSafe(*rec.Severity))
		}
		if rec.Confidence != nil {
			why = append(why, "confidence "+TerminalSafe(*rec.Confidence))
		}
		if rec.Strikes != nil {
			why = append(why, fmt.Sprintf("%d earlier strike(s)", *rec.Strikes))
		}
		if len(why) > 0 {
			p.line(1, "%s", strings.Join(why, ", "))
		}
		p.line(1, "withhold %s (pending), claw back %s (paid)", rec.WithholdUSD.Dollars(), rec.ClawbackUSD.Dollars())
		p.line(1, "appeal deadline %s (G.12: 5 working days to object)", TerminalSafe(rec.AppealDeadline))
		p.line(1, "%s", cut(rec.Summary, 2*ExplainMaxTextRunes))
		if len(rec.ShadowFindingIDs) > 0 {
			p.line(1, "shadow findings (rules on trial, not acted on): %s", list(rec.ShadowFindingIDs))
		}
		if len(rec.Basis) > 0 && string(rec.Basis) != "null" {
			if v, err := parseJSON(rec.Basis); err == nil {
				p.line(1, "basis:")
				p.tree(2, v, 0)
			}
		}
	} else {
		p.line(0, "Recommendation: none stored for this run")
	}
	for _, f := range r.Findings {
		p.line(0, "")
		p.line(0, "Finding %s  %s  %s  score %.3g  clause %s", TerminalSafe(f.FindingID), TerminalSafe(f.Detector),
			TerminalSafe(f.Severity), f.Score, TerminalSafe(f.PolicyRef))
		p.line(1, "rule %s (%s)", TerminalSafe(f.RuleID), TerminalSafe(f.RuleStatus))
		p.line(1, "%s", cut(f.Summary, 2*ExplainMaxTextRunes))
		p.line(1, "window %s → %s", f.WindowStart, f.WindowEnd)
		if len(f.OrderIDs) == 0 {
			p.line(1, "orders at stake: none, commission %s", f.CommissionUSD.Dollars())
		} else {
			p.line(1, "orders at stake: %d, commission %s: %s", len(f.OrderIDs), f.CommissionUSD.Dollars(), list(f.OrderIDs))
		}
		if f.Evidence == nil {
			p.line(1, "evidence: %d bytes, not shown (SELECT evidence FROM findings WHERE finding_id = '%s')",
				f.EvidenceBytes, TerminalSafe(f.FindingID))
			continue
		}
		v, err := parseJSON(f.Evidence)
		if err != nil {
			p.line(1, "evidence: unreadable (%v)", err)
			continue
		}
		p.line(1, "evidence:")
		p.tree(2, v, 0)
	}
	if len(r.Suppressed) > 0 {
		p.line(0, "")
		p.line(0, "Suppressed findings (not acted on):")
		for _, s := range r.Suppressed {
			p.line(1, "%s  %s  %s  score %.3g, by %s: %s", TerminalSafe(s.FindingID), TerminalSafe(s.Detector),
				TerminalSafe(s.Severity), s.Score, TerminalSafe(s.SuppressedBy), cut(s.Summary, 120))
		}
	}
}

// textPrinter writes indented lines and keeps the first write error.
type textPrinter struct {
	w   io.Writer
	err error
}

// line prints one line. The fields are made terminal-safe where they are
// formatted; the whole line is passed through TerminalSafe again, so that a
// field someone forgets (or an error message quoting input) cannot reach
// the terminal raw. Escaped text is plain ASCII and passes unchanged.
func (p *textPrinter) line(indent int, format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, "%s%s\n", strings.Repeat("  ", indent), TerminalSafe(fmt.Sprintf(format, args...)))
}

// tree prints a JSON value as an indented key/value tree, keys in stored
// order, long lists cut with "… N more".
func (p *textPrinter) tree(indent int, v *jsonValue, depth int) {
	switch v.kind {
	case jsonObject:
		for i, k := range v.keys {
			if i == ExplainMaxKeys {
				p.line(indent, "… %d more", len(v.keys)-i)
				break
			}
			p.keyValue(indent, TerminalSafe(k), v.elems[i], depth)
		}
	case jsonArray:
		for i, e := range v.elems {
			if i == ExplainMaxObjects {
				p.line(indent, "… %d more", len(v.elems)-i)
				break
			}
			p.keyValue(indent, fmt.Sprintf("[%d]", i+1), e, depth+1)
		}
	default:
		p.line(indent, "%s", scalarText(v))
	}
}

func (p *textPrinter) keyValue(indent int, key string, v *jsonValue, depth int) {
	switch {
	case v.scalar():
		p.line(indent, "%s: %s", key, scalarText(v))
	case depth >= ExplainMaxDepth:
		p.line(indent, "%s: %s", key, cut(string(v.appendCompact(nil, 4*ExplainMaxTextRunes)), ExplainMaxTextRunes))
	case v.kind == jsonArray && len(v.elems) == 0:
		p.line(indent, "%s: (none)", key)
	case v.kind == jsonArray && v.scalarList():
		items := make([]string, len(v.elems))
		for i, e := range v.elems {
			items[i] = scalarText(e)
		}
		p.line(indent, "%s: %s", key, list(items))
	case v.kind == jsonObject:
		p.line(indent, "%s:", key)
		p.tree(indent+1, v, depth+1)
	default: // an array holding objects or arrays
		p.line(indent, "%s: (%d)", key, len(v.elems))
		for i, e := range v.elems {
			if i == ExplainMaxObjects {
				p.line(indent+1, "… %d more", len(v.elems)-i)
				break
			}
			p.keyValue(indent+1, fmt.Sprintf("[%d]", i+1), e, depth+1)
		}
	}
}

func scalarText(v *jsonValue) string {
	if v.kind == jsonString {
		return cut(v.text, ExplainMaxTextRunes)
	}
	return TerminalSafe(v.text)
}

// list joins the first ExplainMaxListItems items, each made terminal-safe
// and cut, and counts the rest.
func list(items []string) string {
	var b strings.Builder
	for i, s := range items {
		if i == ExplainMaxListItems {
			fmt.Fprintf(&b, " … %d more", len(items)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(cut(s, 80))
	}
	return b.String()
}

// cut makes s terminal-safe and cuts it to n runes.
func cut(s string, n int) string { return TerminalSafe(truncateRunes(s, n)) }

// TerminalSafe makes a string from the database safe to print on a
// terminal: control characters (C0 but none kept, DEL, C1: ESC sequences
// could move the cursor, rewrite earlier lines or set the window title),
// Unicode bidirectional overrides and line separators (they reorder or
// split what the analyst reads) and invalid UTF-8 are shown escaped, as
// \x1b or \u202e, never sent raw.
func TerminalSafe(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == utf8.RuneError:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true // bidirectional embeddings, overrides, isolates, marks
	case r == 0x2028, r == 0x2029:
		return true // line and paragraph separators
	}
	return false
}

// explainCases reads the publisher's case events of successful runs and
// its ledger totals.
func explainCases(ctx context.Context, db *sql.DB, pub string, e *Explanation) error {
	e.Cases = []ExplainedCase{}
	byID := map[string]int{}
	err := eachRow(ctx, db, "ExplainCases", []any{pub}, func(rows *sql.Rows) error {
		var id, det, night, status, fids, note string
		var sev, action sql.NullString
		var supp bool
		if err := rows.Scan(&id, &det, &night, &status, &sev, &action, &fids, &supp, &note); err != nil {
			return err
		}
		ids, err := stringList(fids, "case "+id+" finding_ids")
		if err != nil {
			return err
		}
		i, ok := byID[id]
		if !ok {
			i = len(e.Cases)
			byID[id] = i
			e.Cases = append(e.Cases, ExplainedCase{CaseID: id, Detector: det, FirstNight: night, Nights: []CaseNight{}})
		}
		c := &e.Cases[i]
		c.Nights = append(c.Nights, CaseNight{Night: night, Status: status, Severity: sev.String, Action: action.String,
			FindingIDs: ids, Suppressed: supp, Note: note})
		c.Status = status
		if len(ids) > 0 {
			c.LastNight = night
			c.NightsSeen++
		}
		return nil
	})
	if err != nil {
		return err
	}
	return eachRow(ctx, db, "ExplainLedger", []any{pub}, func(rows *sql.Rows) error {
		var w, cb string
		if err := rows.Scan(&e.Ledger.OrdersHeld, &w, &cb); err != nil {
			return err
		}
		var err error
		if e.Ledger.WithheldUSD, err = parseMoney(w); err != nil {
			return err
		}
		e.Ledger.ClawedBackUSD, err = parseMoney(cb)
		return err
	})
}

// writeCases prints the cases and the ledger for a terminal.
func (e *Explanation) writeCases(p *textPrinter) {
	if len(e.Cases) > 0 {
		p.line(0, "")
		p.line(0, "Cases (publisher × detector, open while findings keep coming):")
		for _, c := range e.Cases {
			p.line(1, "%s  %s  %s: first night %s, last seen %s, %d night(s) with findings", TerminalSafe(c.CaseID),
				TerminalSafe(c.Detector), TerminalSafe(c.Status), TerminalSafe(c.FirstNight), TerminalSafe(dash(c.LastNight)), c.NightsSeen)
			for _, n := range c.Nights {
				what := TerminalSafe(n.Status)
				if n.Severity != "" {
					what += ", " + TerminalSafe(n.Severity)
				}
				if n.Action != "" {
					what += ", " + TerminalSafe(n.Action)
				}
				if n.Suppressed {
					what += ", suppressed"
				}
				p.line(2, "%s  %s  %s  %s", TerminalSafe(n.Night), what, list(n.FindingIDs), cut(n.Note, 160))
			}
		}
	}
	p.line(0, "")
	p.line(0, "Ledger (7.8): %d order(s) held, %s withheld, %s clawed back over every night", e.Ledger.OrdersHeld,
		e.Ledger.WithheldUSD.Dollars(), e.Ledger.ClawedBackUSD.Dollars())
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
