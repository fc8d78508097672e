package detectors

import (
	"math"
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

func TestBinomialTail(t *testing.T) {
	// Against the sum of the terms, computed directly.
	direct := func(k, n int64, q float64) float64 {
		s := 0.0
		for i := k; i <= n; i++ {
			a, _ := math.Lgamma(float64(n) + 1)
			b, _ := math.Lgamma(float64(i) + 1)
			c, _ := math.Lgamma(float64(n-i) + 1)
			s += math.Exp(a - b - c + float64(i)*math.Log(q) + float64(n-i)*math.Log1p(-q))
		}
		return s
	}
	for _, tc := range []struct {
		k, n int64
		q    float64
	}{{0, 10, 0.3}, {1, 10, 0.3}, {5, 10, 0.5}, {10, 10, 0.5}, {3, 100, 0.01}, {30, 200, 0.03}} {
		want := 1.0
		if tc.k > 0 {
			want = direct(tc.k, tc.n, tc.q)
		}
		if got := BinomialTail(tc.k, tc.n, tc.q); math.Abs(got-want) > 1e-12 {
			t.Errorf("BinomialTail(%d, %d, %v) = %v, want %v", tc.k, tc.n, tc.q, got, want)
		}
	}
	if BinomialTail(11, 10, 0.5) != 0 || BinomialTail(3, 10, 0) != 0 || BinomialTail(3, 10, 1) != 1 {
		t.Error("edge cases")
	}
	// Far below float64's range the log still says how far.
	if l := LogBinomialTail(500, 500, 0.01); l > -2000 || math.IsInf(l, -1) {
		t.Errorf("log tail of 500/500 at 1 %%: %v", l)
	}
}
