package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"affwatch/store"
)

// errEmptyNight is a --date whose night has no clicks or no orders in the
// database: almost always a wrong date or a missing delivery, and a run
// that reports nothing for it would look like a clean night.
type errEmptyNight struct {
	night   string
	missing []string // datasets without rows that night
	held    map[string]string
}

func (e *errEmptyNight) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "night %s has no %s in the database", e.night, strings.Join(e.missing, " and no "))
	for _, ds := range []string{"clicks", "orders"} {
		fmt.Fprintf(&b, "; %s are held for %s", ds, e.held[ds])
	}
	b.WriteString(": check --date and the files in --in, or pass --allow-empty-night if the night really had no traffic")
	return b.String()
}

// checkNightHasData fails the run when the night has no clicks or no
// orders, naming the days the database does hold.
func checkNightHasData(ctx context.Context, st *store.Store, night time.Time) error {
	day := night.Format(time.DateOnly)
	// The common case, a night with data, reads only the night's rows (a
	// range on ts the zone maps answer); the days held are listed only
	// for the error.
	complete := true
	for _, ds := range []string{"clicks", "orders"} {
		var has bool
		// ds is one of two fixed table names, never input.
		if err := st.DB.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+ds+` WHERE ts >= ? AND ts < ?)`, night, night.AddDate(0, 0, 1)).Scan(&has); err != nil {
			return fmt.Errorf("check night %s: %w", day, err)
		}
		complete = complete && has
	}
	if complete {
		return nil
	}
	e := &errEmptyNight{night: day, held: map[string]string{}}
	for _, ds := range []string{"clicks", "orders"} {
		// ds is one of two fixed table names, never input.
		rows, err := st.DB.QueryContext(ctx, `SELECT CAST(ts AS DATE) AS day FROM `+ds+` GROUP BY 1 ORDER BY 1`)
		if err != nil {
			return fmt.Errorf("check night %s: %w", day, err)
		}
		var days []time.Time
		found := false
		for rows.Next() {
			var d time.Time
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return err
			}
			days = append(days, d)
			found = found || d.Format(time.DateOnly) == day
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if !found {
			e.missing = append(e.missing, ds)
		}
		e.held[ds] = dayRanges(days)
	}
	if len(e.missing) > 0 {
		return e
	}
	return nil
}

// dayRanges writes sorted days as ranges: "2026-11-08 … 2026-11-21 (14
// days)", gaps as separate ranges, at most five of them.
func dayRanges(days []time.Time) string {
	if len(days) == 0 {
		return "no day"
	}
	var parts []string
	start, prev := days[0], days[0]
	flush := func() {
		if start.Equal(prev) {
			parts = append(parts, start.Format(time.DateOnly))
		} else {
			parts = append(parts, fmt.Sprintf("%s … %s", start.Format(time.DateOnly), prev.Format(time.DateOnly)))
		}
	}
	for _, d := range days[1:] {
		if d.Sub(prev) > 24*time.Hour {
			flush()
			start = d
		}
		prev = d
	}
	flush()
	more := ""
	if len(parts) > 5 {
		more = fmt.Sprintf(", and %d more range(s)", len(parts)-5)
		parts = parts[:5]
	}
	return fmt.Sprintf("%s%s (%d day(s))", strings.Join(parts, ", "), more, len(days))
}
