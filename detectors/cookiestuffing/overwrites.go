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
		Clicks:  true,
		Reach:   (gapSeconds + 86399) / 86400,
		Params:  fmt.Sprintf("gap=%d", gapSeconds),
		Compute: queries["OverwriteDays"],
		Args:    []any{int64(gapSeconds)},
		Lead:    time.Duration(gapSeconds) * time.Second,
	}.Update(ctx, db, winStart, winEnd)
}

// prepareTags brings the per-day mechanism counts (TagDays) up to date for
// the days of [winStart, winEnd): a night tags its own clicks and sums the
// rest of its look-back from the state. A day's tags read its overwrites,
// which read the clicks gap seconds before it, and its clicks' reference
// list labels (click_traffic), which a list update changes.
func (pl plan) prepareTags(ctx context.Context, db *sql.DB) error {
	p := pl.p
	return detectors.DayState{
		Days:           "cookie_stuffing_tag_days",
		State:          "cookie_stuffing_tag_state",
		Clicks:         true,
		TrafficColumns: "click_id, givt",
		Reach:          (p.OverwriteGapSeconds + 86399) / 86400,
		Params: fmt.Sprintf("gap=%d;dwell=%d;viewport=%d;examples=%d;self_ref=%s",
			p.OverwriteGapSeconds, p.RedirectMaxDwellMS, p.TinyViewportPX, p.MaxExamples, selfReferrer),
		Compute: queries["TagDays"],
		Args:    []any{int64(p.RedirectMaxDwellMS), int64(p.TinyViewportPX), selfReferrer, int64(p.MaxExamples)},
	}.Update(ctx, db, pl.winStart, pl.winEnd)
}
