package detectors

import (
	"slices"
	"testing"
)

func TestFormatHelpers(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 12400: "12,400", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Round(0.71449, 3); got != 0.714 {
		t.Errorf("Round = %v", got)
	}
	if got := Round(2.5, 0); got != 3 {
		t.Errorf("Round(2.5, 0) = %v", got)
	}
	if got := StringList([]any{"a", 1, "b", nil}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("StringList = %q", got)
	}
	if got := StringList(nil); got == nil || len(got) != 0 {
		t.Errorf("StringList(nil) = %#v, want an empty non-nil list", got)
	}
}
