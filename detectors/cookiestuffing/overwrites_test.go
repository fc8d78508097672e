package cookiestuffing

import (
	"context"
	"testing"
	"time"

	"affwatch/detectors/detectortest"
	"affwatch/store"
)

// The per-day overwrite state a night reuses equals the overwrites computed
// from scratch over the same window: after nights that add a day, a re-run
// night whose clicks changed (including a click just after midnight that
// overwrites one of the day before), and a changed gap.
func TestOverwriteStateEqualsFromScratch(t *testing.T) {
	ctx := context.Background()
	st := detectortest.Store(t)
	exec := execOn(t, st)
	// Two publishers taking turns on devices (each device two clicks 7 s
	// apart), every day of a week.
	exec(`INSERT INTO clicks (click_id, ts, publisher_id, device_id, _file_id, _line)
		SELECT 'c' || i, TIMESTAMP '2026-11-01 00:00:00' + to_seconds(i * 7), 'P' || (i % 2), 'd' || (i // 2), 1, i
		FROM range(0, 86400) t(i)`)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	state := func(from, to time.Time) map[string]string {
		t.Helper()
		rows, err := st.DB.QueryContext(ctx, queries["GlobalOverwrites"], from, to)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var id, prev string
			if err := rows.Scan(&id, &prev); err != nil {
				t.Fatal(err)
			}
			out[id] = prev
		}
		return out
	}
	scratch := func(from, to time.Time, gap int) map[string]string {
		t.Helper()
		exec(`DELETE FROM cookie_stuffing_overwrite_days`)
		exec(`DELETE FROM cookie_stuffing_overwrite_state`)
		if err := prepareOverwrites(ctx, st.DB, from, to, gap); err != nil {
			t.Fatal(err)
		}
		return state(from, to)
	}
	marked := func() int {
		var n int
		if err := st.DB.QueryRowContext(ctx, `SELECT count(*) FROM cookie_stuffing_overwrite_state WHERE prev_pub = 'MARK'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	check := func(label string, from, to time.Time, gap int) {
		t.Helper()
		if err := prepareOverwrites(ctx, st.DB, from, to, gap); err != nil {
			t.Fatal(err)
		}
		got := state(from, to)
		want := scratch(from, to, gap)
		if len(want) == 0 {
			t.Fatalf("%s: no overwrites at all: the fixture is broken", label)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d overwrites from state, %d from scratch", label, len(got), len(want))
		}
		for id, prev := range want {
			if got[id] != prev {
				t.Errorf("%s: click %s overwrote %q from state, %q from scratch", label, id, got[id], prev)
				break
			}
		}
	}
	// Nights of a three-day look-back, one after the other.
	for _, night := range []string{"2026-11-03", "2026-11-04", "2026-11-05"} {
		end := day(night).AddDate(0, 0, 1)
		check("night "+night, end.AddDate(0, 0, -3), end, 30)
	}
	// A night reuses the stored days of its look-back and computes only its
	// own: a mark left in day 4's stored rows survives night 6.
	exec(`UPDATE cookie_stuffing_overwrite_state SET prev_pub = 'MARK' WHERE day = DATE '2026-11-04'`)
	if err := prepareOverwrites(ctx, st.DB, day("2026-11-04"), day("2026-11-07"), 30); err != nil {
		t.Fatal(err)
	}
	if n := marked(); n == 0 {
		t.Error("night 6 computed day 4 again instead of reading the stored day")
	}
	if got := state(day("2026-11-06"), day("2026-11-07")); len(got) == 0 {
		t.Error("night 6's own day was not computed")
	}
	exec(`UPDATE cookie_stuffing_overwrite_days SET deps = 'stale' WHERE day = DATE '2026-11-04'`)
	// Night 5 re-run: a different click set, and a click at 00:00:05 on the
	// 6th overwriting one at 23:59:50 on the 5th of another publisher.
	exec(`DELETE FROM clicks WHERE CAST(ts AS DATE) = DATE '2026-11-05' AND click_id LIKE '%3'`)
	exec(`INSERT INTO clicks (click_id, ts, publisher_id, device_id, _file_id, _line) VALUES
		('late', TIMESTAMP '2026-11-05 23:59:50', 'PX', 'dz', 2, 1),
		('early', TIMESTAMP '2026-11-06 00:00:05', 'PY', 'dz', 2, 2)`)
	if err := prepareOverwrites(ctx, st.DB, day("2026-11-04"), day("2026-11-07"), 30); err != nil {
		t.Fatal(err)
	}
	if n := marked(); n != 0 {
		t.Errorf("%d marked rows survived though their day's state was stale", n)
	}
	check("re-run night", day("2026-11-04"), day("2026-11-07"), 30)
	if got := state(day("2026-11-06"), day("2026-11-07")); got["early"] != "PX" {
		t.Errorf("a click overwriting one of the day before: prev_pub %q, want PX", got["early"])
	}
	// Another gap: every day is computed again.
	check("gap 120", day("2026-11-04"), day("2026-11-07"), 120)
}

// pairwiseOverwrites is the overwrite computation as a self-join of a
// device's clicks: the definition OverwriteDays computes in one pass.
const pairwiseOverwrites = `INSERT INTO cookie_stuffing_overwrite_state
SELECT CAST(c.ts AS DATE), c.click_id, arg_max(q.publisher_id, struct_pack(ts := q.ts, publisher_id := q.publisher_id)) AS prev_pub
FROM clicks c
JOIN clicks q ON q.device_id = c.device_id AND q.ts <= c.ts AND q.ts >= c.ts - to_seconds($3::BIGINT)
             AND q.publisher_id <> c.publisher_id AND q.click_id <> c.click_id
WHERE c.ts >= $1 AND c.ts < $2 AND q.ts >= $1 AND q.ts < $2
  AND CAST(c.ts AS DATE) IN (SELECT day FROM day_state_days)
GROUP BY c.click_id, CAST(c.ts AS DATE)`

// TestOverwriteOnePassEqualsPairs: on clicks crowded onto few devices
// and seconds (ties of timestamp across and within publishers, missing
// publishers and devices, runs of one publisher), the one-pass query
// finds exactly the overwrites the pairwise self-join defines.
func TestOverwriteOnePassEqualsPairs(t *testing.T) {
	ctx := context.Background()
	st := detectortest.Store(t)
	exec := execOn(t, st)
	exec(`INSERT INTO clicks (click_id, ts, publisher_id, device_id, _file_id, _line)
		SELECT 'c' || i,
		       TIMESTAMP '2026-11-01 23:50:00' + to_seconds(((hash(i) >> 4) % 1200)::BIGINT),
		       CASE WHEN (hash(i) >> 24) % 17 = 0 THEN NULL ELSE 'P' || ((hash(i) >> 32) % 4) END,
		       CASE WHEN (hash(i) >> 40) % 23 = 0 THEN NULL ELSE 'd' || ((hash(i) >> 48) % 40) END,
		       1, i
		FROM range(0, 20000) t(i)`)
	exec(`CREATE OR REPLACE TABLE day_state_days AS SELECT DATE '2026-11-01' AS day UNION ALL SELECT DATE '2026-11-02'`)
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	read := func() map[string]string {
		t.Helper()
		rows, err := st.DB.QueryContext(ctx, `SELECT click_id, prev_pub FROM cookie_stuffing_overwrite_state`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var id, prev string
			if err := rows.Scan(&id, &prev); err != nil {
				t.Fatal(err)
			}
			if _, dup := out[id]; dup {
				t.Fatalf("click %s overwrites twice", id)
			}
			out[id] = prev
		}
		return out
	}
	for _, gap := range []int64{0, 1, 30, 900} {
		exec(`DELETE FROM cookie_stuffing_overwrite_state`)
		exec(pairwiseOverwrites, from, to, gap)
		want := read()
		exec(`DELETE FROM cookie_stuffing_overwrite_state`)
		exec(queries["OverwriteDays"], from, to, gap)
		got := read()
		if len(want) == 0 {
			var n, pairs int
			var lo, hi time.Time
			st.DB.QueryRowContext(ctx, `SELECT count(*), min(ts), max(ts) FROM clicks`).Scan(&n, &lo, &hi)
			st.DB.QueryRowContext(ctx, `SELECT count(*) FROM clicks c JOIN clicks q ON q.device_id = c.device_id AND q.ts = c.ts AND q.publisher_id <> c.publisher_id`).Scan(&pairs)
			t.Fatalf("gap %d: the reference found no overwrite (%d clicks from %s to %s, %d same-second pairs)", gap, n, lo, hi, pairs)
		}
		diff := 0
		for id, w := range want {
			if got[id] != w {
				diff++
				if diff <= 5 {
					t.Errorf("gap %d: click %s: one pass %q, pairwise %q", gap, id, got[id], w)
				}
			}
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				diff++
				if diff <= 5 {
					t.Errorf("gap %d: click %s: one pass finds an overwrite the pairwise join does not", gap, id)
				}
			}
		}
		t.Logf("gap %d s: %d overwrites, %d differ", gap, len(want), diff)
	}
}

// TestOverwriteOfOneCrowdedDevice: one device id on 200,000 clicks of two
// publishers taking turns within a day (a default id a broken tracker
// sends for everyone) is one pass over the device's clicks; the pairwise
// self-join would weigh 4·10¹⁰ pairs.
func TestOverwriteOfOneCrowdedDevice(t *testing.T) {
	ctx := context.Background()
	st := detectortest.Store(t)
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO clicks (click_id, ts, publisher_id, device_id, _file_id, _line)
		SELECT 'c' || i, TIMESTAMP '2026-11-01 00:00:00' + to_microseconds(i * 400000), 'P' || (i % 2), 'same-device', 1, i
		FROM range(0, 200000) t(i)`); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := prepareOverwrites(ctx, st.DB, day, day.AddDate(0, 0, 1), 30); err != nil {
		t.Fatal(err)
	}
	var n int
	var wrong int
	if err := st.DB.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE prev_pub = (SELECT publisher_id FROM clicks c WHERE c.click_id = s.click_id))
		FROM cookie_stuffing_overwrite_state s`).Scan(&n, &wrong); err != nil {
		t.Fatal(err)
	}
	if n != 199999 || wrong != 0 {
		t.Errorf("%d overwrites (%d by the click's own publisher); want 199,999, each by the other publisher", n, wrong)
	}
}

// execOn runs statements on st, failing the test on an error.
func execOn(t *testing.T, st *store.Store) func(q string, args ...any) {
	return func(q string, args ...any) {
		t.Helper()
		if _, err := st.DB.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
}
