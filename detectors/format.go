package detectors

import (
	"math"
	"strconv"
	"strings"
)

// Helpers every detector uses to turn query results into evidence and
// summaries, kept here so that numbers read the same in every finding.

// Round rounds x to places decimals, for evidence a reviewer reads.
func Round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// Thousands formats n with comma thousands separators ("12,400").
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// StringList returns the strings of a DuckDB LIST value as scanned into an
// any ([]any); other elements and other values give an empty list.
func StringList(v any) []string {
	xs, _ := v.([]any)
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
