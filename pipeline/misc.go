package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"affwatch/detectors"
	"affwatch/loaders"
	"affwatch/loaders/reflists"
	"affwatch/reports"
	"affwatch/store"
)

// labelTraffic labels every stored click and order from the pack's
// reference lists (general invalid traffic) and keeps the signals the
// detectors go without because a list is not installed.
func (r *nightRun) labelTraffic(ctx context.Context) error {
	t0 := time.Now()
	st, pack, runID, botList, night, log := r.st, r.cfg.Pack, r.runID, r.cfg.BotList, r.night.Date, r.log
	beginStage(log, "reflists")
	res, err := reflists.Label(ctx, st.DB, pack, runID, reflists.Options{BotList: botList, Night: night})
	if err != nil {
		return err
	}
	signals := &detectors.Signals{}
	for _, u := range res.Unavailable {
		log.Warn("reference list unavailable", "signal", u.Signal, "reason", u.Reason)
		// The two detectors that read the labels go without it.
		signals.Add(detectors.ClickBurst, u.Signal, u.Reason)
		signals.Add(detectors.CookieStuffing, u.Signal, u.Reason)
	}
	for _, l := range res.Lists {
		log.Info("reference list", "kind", l.Kind, "name", l.Name, "version", l.Version, "entries", l.Entries, "rejected", l.Rejects.Count, "matched", l.Matched)
	}
	log.Info("clicks labeled general invalid traffic (GIVT)", "clicks", res.GIVTClicks)
	r.signals = signals
	r.timed("reflists", t0)
	return nil
}

// lastDay is the latest day with clicks: a backfill's appeal deadlines count
// from the last night it covers, so the outputs do not depend on the clock.
func lastDay(ctx context.Context, st *store.Store) (time.Time, error) {
	var t *time.Time
	if err := st.DB.QueryRowContext(ctx, `SELECT max(ts)::DATE::TIMESTAMP FROM clicks`).Scan(&t); err != nil {
		return time.Time{}, err
	}
	if t == nil {
		return time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	return t.UTC(), nil
}

func NewRunID(t time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return t.Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func inputFiles(r *loaders.Result) []reports.InputFile {
	out := make([]reports.InputFile, len(r.Files))
	for i, f := range r.Files {
		out[i] = reports.InputFile{
			Dataset: f.Dataset, Path: f.Rel, SHA256: f.SHA256, Format: f.Format, Compression: f.Compression,
			SizeBytes: f.SizeBytes, FileID: f.FileID, RowsRead: f.RowsRead, RowsLoaded: f.RowsLoaded,
			RowsQuarantined: f.RowsQuarantined, Status: f.Status,
		}
	}
	return out
}

// Report is `affwatch report`: the report stage alone, writing a stored
// run's outputs again into out (the latest successful run when runID is
// empty). It returns the run written.
func Report(ctx context.Context, db DB, out, runID, toolVersion string) (string, reports.Written, error) {
	st, err := db.Open(ctx, out)
	if err != nil {
		return "", reports.Written{}, err
	}
	defer st.Close()
	meta, err := reports.StoredMeta(ctx, st.DB, runID, toolVersion)
	switch {
	case errors.Is(err, reports.ErrNoRun), errors.Is(err, reports.ErrResultsReplaced):
		return "", reports.Written{}, usagef("report: %v", err)
	case err != nil:
		return "", reports.Written{}, err
	}
	written, err := reports.Write(ctx, st.DB, out, meta)
	return meta.RunID, written, err
}

// Compacted is what `affwatch compact` did.
type Compacted struct {
	ID            string
	Before, After store.StorageBlocks
	Elapsed       time.Duration
}

// Compact is `affwatch compact`: the storage compaction that nightly runs
// defer to every Nth run (--compact-every), done now, e.g. in a weekly
// maintenance window with the nights run with --compact-every 0. It is
// recorded like a compacting night's, so nightly runs count from it.
func Compact(ctx context.Context, db DB, now time.Time) (Compacted, error) {
	st, err := db.Open(ctx, "")
	if err != nil {
		return Compacted{}, err
	}
	defer st.Close()
	c := Compacted{ID: "compact-" + NewRunID(now)}
	if c.Before, err = st.Blocks(ctx); err != nil {
		return c, err
	}
	t0 := time.Now()
	if err := st.Compact(ctx, c.ID, now); err != nil {
		return c, err
	}
	c.Elapsed = time.Since(t0)
	c.After, err = st.Blocks(ctx)
	return c, err
}
