package detectors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Mode says how a run chose the days it judges.
type Mode int

const (
	// Backfill judges every day present in the database.
	Backfill Mode = iota
	// Nightly judges one night (affwatch run --date).
	Nightly
)

func (m Mode) String() string {
	if m == Nightly {
		return "night"
	}
	return "backfill"
}

// Night is the stretch of activity a run judges, computed once by the
// pipeline and read by every detector: the half-open UTC interval
// [Start, End) of whole days. A nightly run judges Date alone; a backfill
// judges every day from the first click or order to the last (Date is
// zero). A backfill's Night is resolved against the database before the
// detectors run (ResolveNight); detectors never compute their own span.
type Night struct {
	Date       time.Time
	Start, End time.Time
	Mode       Mode
	resolved   bool
}

// NightOf is the nightly run of date's UTC day.
func NightOf(date time.Time) Night {
	d := date.UTC().Truncate(24 * time.Hour)
	return Night{Date: d, Start: d, End: d.AddDate(0, 0, 1), Mode: Nightly, resolved: true}
}

// BackfillNight is a backfill whose days are not known yet: ResolveNight
// reads them from the database.
func BackfillNight() Night { return Night{Mode: Backfill} }

// BackfillSpanQuery finds the first and last timestamp of the activity a
// backfill judges: clicks and orders alike, so that every detector judges
// the same days whichever table it reads.
const BackfillSpanQuery = `SELECT least((SELECT min(ts) FROM clicks), (SELECT min(ts) FROM orders)),
       greatest((SELECT max(ts) FROM clicks), (SELECT max(ts) FROM orders))`

// ResolveNight fills a backfill's days from the database; a nightly Night
// is returned as it is. An empty database resolves to an empty Night
// (Empty reports true): there is nothing to judge.
func ResolveNight(ctx context.Context, db *sql.DB, n Night) (Night, error) {
	if n.resolved {
		return n, nil
	}
	if n.Mode == Nightly {
		return NightOf(n.Date), nil
	}
	var lo, hi sql.NullTime
	if err := db.QueryRowContext(ctx, BackfillSpanQuery).Scan(&lo, &hi); err != nil {
		return n, fmt.Errorf("the days of the backfill: %w", err)
	}
	out := Night{Mode: Backfill, resolved: true}
	if lo.Valid && hi.Valid {
		out.Start = lo.Time.UTC().Truncate(24 * time.Hour)
		out.End = hi.Time.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	return out, nil
}

// errUnresolved is a backfill handed to a detector before ResolveNight: a
// programming error of the caller, reported rather than judged as empty.
var errUnresolved = errors.New("the backfill's days were not resolved before the detectors ran (detectors.ResolveNight)")

// Days returns the judged interval; ok is false when there is nothing to
// judge (a backfill of an empty database).
func (n Night) Days() (start, end time.Time, ok bool, err error) {
	if !n.resolved {
		return start, end, false, errUnresolved
	}
	return n.Start, n.End, !n.Empty(), nil
}

// IsNight reports whether the run judges a single night.
func (n Night) IsNight() bool { return n.Mode == Nightly }

// Empty reports whether a resolved Night holds no day.
func (n Night) Empty() bool { return !n.End.After(n.Start) }

// Lookback is the start of the days days before the judged interval: the
// history a detector's baseline reads.
func (n Night) Lookback(days int) time.Time { return n.Start.AddDate(0, 0, -days) }

// LookbackEnding is the start of days whole days ending with the judged
// interval's last day (the night itself included).
func (n Night) LookbackEnding(days int) time.Time { return n.End.AddDate(0, 0, -days) }

// DateArg is the night as a DATE parameter: its day, or NULL for a backfill.
func (n Night) DateArg() any {
	if !n.IsNight() {
		return nil
	}
	return n.Date.Format(time.DateOnly)
}
