package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Money is an amount in US dollars, held exactly in ten-thousandths (the
// scale of the database's DECIMAL(18,4) money columns), so that withheld and
// clawed-back sums in the outputs are the database's sums to the cent.
type Money int64

// moneyScale is 10^4: DECIMAL(18,4).
const moneyScale = 10000

// parseMoney reads DuckDB's text of a DECIMAL ("-12.3400", "7", "0.5").
func parseMoney(s string) (Money, error) {
	orig := s
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 4 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, fmt.Errorf("bad money amount %q", orig)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/moneyScale-1 {
		return 0, fmt.Errorf("money amount %q out of range", orig)
	}
	frac += strings.Repeat("0", 4-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	m := Money(w*moneyScale + f)
	if neg {
		m = -m
	}
	return m, nil
}

// String is the exact amount with at least two decimals and no trailing
// zeros beyond them: "12.50", "0.1234", "-3.00".
func (m Money) String() string {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign = "-"
		u = uint64(-m)
	}
	frac := fmt.Sprintf("%04d", u%moneyScale)
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return sign + strconv.FormatUint(u/moneyScale, 10) + "." + frac
}

// MarshalJSON writes the amount as a JSON number with String's digits.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalJSON reads an amount written by MarshalJSON (or any JSON
// number with at most four decimals).
func (m *Money) UnmarshalJSON(b []byte) error {
	v, err := parseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Dollars is the amount for people: "$1,234.50".
func (m Money) Dollars() string {
	s := m.String()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + "$" + b.String() + "." + frac
}
