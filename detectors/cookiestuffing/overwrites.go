package cookiestuffing

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// prepareOverwrites brings the per-day overwrite state up to date for the
// days of [winStart, winEnd): a day is computed again only when the clicks
// it depends on (its own and those of the days its look-back of gap
// seconds reaches into) or the gap changed since its rows were stored. A
// night then computes one day, not the whole look-back: overwrites are a
// self-join of the clicks on device, the costliest query of the detector,
// and a day's answer never changes once its clicks are in.
func prepareOverwrites(ctx context.Context, db *sql.DB, winStart, winEnd time.Time, gapSeconds int) error {
	if !winStart.Before(winEnd) {
		return nil
	}
	reach := (gapSeconds + 86399) / 86400 // earlier days a day's clicks look back into
	from := winStart.AddDate(0, 0, -reach)
	fps, err := dayFingerprints(ctx, db, from, winEnd)
	if err != nil {
		return err
	}
	stored := map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT CAST(day AS VARCHAR), deps FROM cookie_stuffing_overwrite_days WHERE day >= CAST(? AS DATE) AND day < CAST(? AS DATE)`, winStart, winEnd)
	if err != nil {
		return fmt.Errorf("overwrite state: %w", err)
	}
	for rows.Next() {
		var day, deps string
		if err := rows.Scan(&day, &deps); err != nil {
			rows.Close()
			return err
		}
		stored[day] = deps
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var stale []time.Time
	deps := map[string]string{}
	for d := winStart; d.Before(winEnd); d = d.AddDate(0, 0, 1) {
		parts := []string{fmt.Sprintf("gap=%d", gapSeconds)}
		for k := reach; k >= 0; k-- {
			parts = append(parts, fps[d.AddDate(0, 0, -k).Format(time.DateOnly)])
		}
		key := d.Format(time.DateOnly)
		deps[key] = strings.Join(parts, ";")
		if stored[key] != deps[key] {
			stale = append(stale, d)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cs_ow_days (day DATE)`); err != nil {
		return err
	}
	for _, d := range stale {
		key := d.Format(time.DateOnly)
		for _, q := range []string{
			`INSERT INTO cs_ow_days VALUES (CAST(? AS DATE))`,
			`DELETE FROM cookie_stuffing_overwrite_state WHERE day = CAST(? AS DATE)`,
			`DELETE FROM cookie_stuffing_overwrite_days WHERE day = CAST(? AS DATE)`,
		} {
			if _, err := tx.ExecContext(ctx, q, key); err != nil {
				return fmt.Errorf("overwrite state of %s: %w", key, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cookie_stuffing_overwrite_days VALUES (CAST(? AS DATE), ?)`, key, deps[key]); err != nil {
			return fmt.Errorf("overwrite state of %s: %w", key, err)
		}
	}
	first, last := stale[0], stale[len(stale)-1].AddDate(0, 0, 1)
	if _, err := tx.ExecContext(ctx, queries["OverwriteDays"], first.Add(-time.Duration(gapSeconds)*time.Second), last, int64(gapSeconds)); err != nil {
		return fmt.Errorf("overwrites of %s … %s: %w", first.Format(time.DateOnly), stale[len(stale)-1].Format(time.DateOnly), err)
	}
	return tx.Commit()
}

// dayFingerprints reads, per day with clicks in [from, to), a fingerprint
// of what overwrites depend on; a day without clicks has "".
func dayFingerprints(ctx context.Context, db *sql.DB, from, to time.Time) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, queries["OverwriteFingerprints"], from, to)
	if err != nil {
		return nil, fmt.Errorf("overwrite state: fingerprints: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var day time.Time
		var n int64
		var h sql.NullString
		if err := rows.Scan(&day, &n, &h); err != nil {
			return nil, err
		}
		out[day.UTC().Format(time.DateOnly)] = fmt.Sprintf("%d:%s", n, h.String)
	}
	return out, rows.Err()
}
