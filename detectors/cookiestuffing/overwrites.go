package cookiestuffing

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"affwatch/detectors"
)

// prepareOverwrites brings the per-day overwrite state up to date for the
// days of [winStart, winEnd). Overwrites are a self-join of the clicks on
// device, the costliest query of the detector, and a day's answer depends
// only on its clicks and those gap seconds before: a night computes its
// own day instead of the whole look-back.
func prepareOverwrites(ctx context.Context, db *sql.DB, winStart, winEnd time.Time, gapSeconds int) error {
	return detectors.DayState{
		Days:    "cookie_stuffing_overwrite_days",
		State:   "cookie_stuffing_overwrite_state",
		Columns: "click_id, ts, publisher_id, device_id",
		Reach:   (gapSeconds + 86399) / 86400,
		Params:  fmt.Sprintf("gap=%d", gapSeconds),
		Compute: queries["OverwriteDays"],
		Args:    []any{int64(gapSeconds)},
		Lead:    time.Duration(gapSeconds) * time.Second,
	}.Update(ctx, db, winStart, winEnd)
}
