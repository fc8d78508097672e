package detectors

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestQueries(t *testing.T) {
	got, err := Queries("-- header comment\n-- name: A\nSELECT 1;\n\n-- name: B\n-- about B\nSELECT 2\nFROM x;\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "SELECT 1", "B": "-- about B\nSELECT 2\nFROM x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"-- name: A\nSELECT 1\n-- name: A\nSELECT 2", "-- name: A\n\n"} {
		if _, err := Queries(bad); err == nil {
			t.Errorf("Queries(%q) succeeded, want an error", bad)
		}
	}
}

func TestFindingIDIsStable(t *testing.T) {
	ws := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	a := FindingID(ClickBurst, "P1", ws, ws.Add(time.Hour), "")
	b := FindingID(ClickBurst, "P1", ws.In(time.FixedZone("x", 3600)), ws.Add(time.Hour), "")
	if a != b || !strings.HasPrefix(a, "cl-") || len(a) != 19 {
		t.Errorf("ids %q %q", a, b)
	}
	if a == FindingID(ClickBurst, "P2", ws, ws.Add(time.Hour), "") {
		t.Error("different publishers share an id")
	}
}

func TestSeverity(t *testing.T) {
	for _, tc := range []struct {
		score float64
		want  string
	}{{0.1, "low"}, {0.4, "medium"}, {0.75, "high"}, {0.95, "critical"}} {
		if got := SeverityFromScore(tc.score); got != tc.want {
			t.Errorf("SeverityFromScore(%v) = %s, want %s", tc.score, got, tc.want)
		}
	}
}
