package penalty

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Appeal outcomes (G.12: the program decides whether an objection is
// substantiated).
const (
	Cleared = "cleared"
	Upheld  = "upheld"
)

// Appeal is one decision on a publisher's objection. A cleared appeal
// stops the engine escalating the publisher for that detector's offences up
// to DecidedOn, and suppresses FindingID if it comes back.
type Appeal struct {
	PublisherID string
	Detector    string // a detector code, or "*" for every detector
	FindingID   string // optional
	Outcome     string
	DecidedOn   time.Time
	DecidedBy   string
	Note        string
}

// ID is the appeal's stable id: recording the same decision twice is a
// no-op.
func (a Appeal) ID() string {
	h := sha256.New()
	for _, p := range []string{a.PublisherID, a.Detector, a.FindingID, a.Outcome, a.DecidedOn.Format(time.DateOnly), a.DecidedBy, a.Note} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "AP-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// Validate says what is missing or wrong, in words for the command line.
func (a Appeal) Validate() error {
	var errs []string
	if a.PublisherID == "" {
		errs = append(errs, "publisher_id is required")
	}
	if a.Detector == "" {
		errs = append(errs, `detector is required (a detector code, or "*" for every detector)`)
	}
	if a.Outcome != Cleared && a.Outcome != Upheld {
		errs = append(errs, fmt.Sprintf("outcome %q must be %s or %s", a.Outcome, Cleared, Upheld))
	}
	if a.DecidedOn.IsZero() {
		errs = append(errs, "decided_on is required (YYYY-MM-DD)")
	}
	if a.DecidedBy == "" {
		errs = append(errs, "decided_by is required (who decided)")
	}
	if a.Note == "" {
		errs = append(errs, "note is required (why: the reviewer's reasons are the appeal's record)")
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// ResolveDetector fills an empty Detector from the finding the appeal
// names (the newest stored row of that id, kept or suppressed).
func ResolveDetector(ctx context.Context, db *sql.DB, a *Appeal) error {
	if a.Detector != "" || a.FindingID == "" {
		return nil
	}
	err := db.QueryRowContext(ctx, `SELECT detector FROM (
			SELECT detector, window_end FROM findings WHERE finding_id = ? AND publisher_id = ?
			UNION ALL
			SELECT detector, window_end FROM suppressed_findings WHERE finding_id = ? AND publisher_id = ?)
		ORDER BY window_end DESC LIMIT 1`, a.FindingID, a.PublisherID, a.FindingID, a.PublisherID).Scan(&a.Detector)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("finding %s of publisher %s is not in the database: give --detector", a.FindingID, a.PublisherID)
	}
	return err
}

// RecordAppeals stores appeals in one transaction and returns how many
// were new (the same decision recorded again is skipped).
func RecordAppeals(ctx context.Context, db *sql.DB, appeals []Appeal, now time.Time) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	added := 0
	for _, a := range appeals {
		if err := a.Validate(); err != nil {
			return 0, fmt.Errorf("appeal for %s: %w", a.PublisherID, err)
		}
		var finding any
		if a.FindingID != "" {
			finding = a.FindingID
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO appeals VALUES (?, ?, ?, ?, ?, ?::DATE, ?, ?, ?) ON CONFLICT DO NOTHING`,
			a.ID(), a.PublisherID, a.Detector, finding, a.Outcome, a.DecidedOn.Format(time.DateOnly), a.DecidedBy, a.Note, now.UTC())
		if err != nil {
			return 0, fmt.Errorf("record appeal for %s: %w", a.PublisherID, err)
		}
		n, _ := res.RowsAffected()
		added += int(n)
	}
	return added, tx.Commit()
}

// AppealsHeader is the header of an appeals file.
var AppealsHeader = []string{"publisher_id", "detector", "finding_id", "outcome", "decided_on", "decided_by", "note"}

// ParseError is a bad line of an appeals file.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ReadAppealsCSV reads an appeals file (AppealsHeader, any column order,
// detector or finding_id may be empty but not both). Every bad line is
// reported; nothing is returned unless all are good.
func ReadAppealsCSV(r io.Reader, name string) ([]Appeal, error) {
	cr := csv.NewReader(io.LimitReader(r, 64<<20))
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, &ParseError{File: name, Line: 1, Msg: fmt.Sprintf("read header: %v", err)}
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, h := range AppealsHeader {
		if _, ok := col[h]; !ok {
			return nil, &ParseError{File: name, Line: 1, Msg: fmt.Sprintf("missing column %q (want %s)", h, strings.Join(AppealsHeader, ","))}
		}
	}
	var out []Appeal
	var errs []error
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			errs = append(errs, &ParseError{File: name, Line: line, Msg: err.Error()})
			if len(errs) > 20 {
				break
			}
			continue
		}
		get := func(k string) string {
			if i := col[k]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		a := Appeal{PublisherID: get("publisher_id"), Detector: get("detector"), FindingID: get("finding_id"),
			Outcome: strings.ToLower(get("outcome")), DecidedBy: get("decided_by"), Note: get("note")}
		if d := get("decided_on"); d != "" {
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				errs = append(errs, &ParseError{File: name, Line: line, Msg: fmt.Sprintf("decided_on %q is not YYYY-MM-DD", d)})
				continue
			}
			a.DecidedOn = t
		}
		check := a
		if check.Detector == "" && check.FindingID != "" {
			check.Detector = "(from the finding)"
		}
		if err := check.Validate(); err != nil {
			errs = append(errs, &ParseError{File: name, Line: line, Msg: err.Error()})
			continue
		}
		out = append(out, a)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// RecordedAppeal is an appeal as the database holds it, with its id.
type RecordedAppeal struct {
	ID string
	Appeal
}

// ListAppeals returns the recorded decisions, of one publisher or (empty)
// of all, oldest first.
func ListAppeals(ctx context.Context, db *sql.DB, publisher string) ([]RecordedAppeal, error) {
	rows, err := db.QueryContext(ctx, `SELECT appeal_id, publisher_id, detector, coalesce(finding_id, ''), outcome, decided_on::TIMESTAMP, decided_by, note
		FROM appeals WHERE ? = '' OR publisher_id = ? ORDER BY decided_on, publisher_id, appeal_id`, publisher, publisher)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RecordedAppeal
	for rows.Next() {
		var a RecordedAppeal
		if err := rows.Scan(&a.ID, &a.PublisherID, &a.Detector, &a.FindingID, &a.Outcome, &a.DecidedOn, &a.DecidedBy, &a.Note); err != nil {
			return nil, err
		}
		a.DecidedOn = a.DecidedOn.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}
