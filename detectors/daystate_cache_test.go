package detectors

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/store"
)

// TestRowFingerprintsReadOnce checks the run's fingerprint cache: across
// overlapping day ranges it answers what a fresh read answers, and it does
// answer from memory (a row added afterwards is not seen through it, which
// is why a run makes it only for stages that change no raw row).
func TestRowFingerprintsReadOnce(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.InMemory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DB.Exec(`INSERT INTO clicks (click_id, ts, publisher_id, _file_id, _line)
SELECT 'c' || i, TIMESTAMP '2026-11-10 00:00:00' + to_minutes((i * 97)::INTEGER), 'P', 1, i FROM range(0, 100) r(i)
WHERE i % 40 NOT BETWEEN 20 AND 30`); err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	s := DayState{Days: "popup_traffic_days"}
	cached := WithRowFingerprints(ctx)
	ranges := [][2]string{{"2026-11-12", "2026-11-15"}, {"2026-11-09", "2026-11-17"}, {"2026-11-11", "2026-11-13"}, {"2026-11-14", "2026-11-20"}}
	for _, r := range ranges {
		want, err := s.fingerprints(ctx, st.DB, "clicks", rowIdentity, day(r[0]), day(r[1]))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.fingerprints(cached, st.DB, "clicks", rowIdentity, day(r[0]), day(r[1]))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s … %s: cached fingerprints differ (-read +cached):\n%s", r[0], r[1], diff)
		}
		if len(want) == 0 {
			t.Errorf("%s … %s: no day with rows: the test reads nothing", r[0], r[1])
		}
	}
	if _, err := st.DB.Exec(`INSERT INTO clicks (click_id, ts, publisher_id, _file_id, _line) VALUES ('late', TIMESTAMP '2026-11-13 12:00:00', 'P', 2, 0)`); err != nil {
		t.Fatal(err)
	}
	fresh, err := s.fingerprints(ctx, st.DB, "clicks", rowIdentity, day("2026-11-13"), day("2026-11-14"))
	if err != nil {
		t.Fatal(err)
	}
	held, err := s.fingerprints(cached, st.DB, "clicks", rowIdentity, day("2026-11-13"), day("2026-11-14"))
	if err != nil {
		t.Fatal(err)
	}
	if fresh["2026-11-13"] == held["2026-11-13"] {
		t.Errorf("the cache read the table again (fingerprint %q both times): it saves nothing", held["2026-11-13"])
	}
}
