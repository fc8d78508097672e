package detectors

import "math"

// LogBinomialTail is ln P(X ≥ k) for X ~ Binomial(n, q), summed in log
// space from k upward until the terms stop mattering (past the mean they
// only fall). Logs, because the tails detectors meet reach far below 1e-300.
func LogBinomialTail(k, n int64, q float64) float64 {
	switch {
	case k <= 0 || q >= 1:
		return 0
	case k > n || q <= 0:
		return math.Inf(-1)
	}
	lq, l1q := math.Log(q), math.Log1p(-q)
	lgn, _ := math.Lgamma(float64(n) + 1)
	logTerm := func(i int64) float64 {
		a, _ := math.Lgamma(float64(i) + 1)
		b, _ := math.Lgamma(float64(n-i) + 1)
		return lgn - a - b + float64(i)*lq + float64(n-i)*l1q
	}
	first := logTerm(k)
	sum := 0.0
	for i := k; i <= n; i++ {
		t := logTerm(i) - first
		sum += math.Exp(t)
		if t < -40 && float64(i) > float64(n)*q {
			break
		}
	}
	return math.Min(0, first+math.Log(sum))
}

// BinomialTail is P(X ≥ k) for X ~ Binomial(n, q): how likely a publisher
// at the population's rate q shows k or more of n by chance.
func BinomialTail(k, n int64, q float64) float64 {
	return math.Exp(LogBinomialTail(k, n, q))
}
