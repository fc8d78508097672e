package penalty

import (
	"fmt"
	"math"

	"affwatch/detectors"
	"affwatch/rules"
)

// correctionAnomalous decides whether a publisher's commission corrections
// are more than routine: refunds, cancellations and disputes happen to
// every publisher at the program's rate, so only a share of invalid orders
// far above the program's, on enough orders to tell, is worth a person's
// time (the same shape as the behavioural detectors' tests: a count floor,
// an effect size and a significance level). It says why in words.
func correctionAnomalous(pen rules.Penalties, f detectors.PenaltyFacts) (bool, string) {
	minOrders, minRatio, maxP := pen.CorrectionTest()
	k, n := f.OrdersDisqualified, f.OrdersAttributed
	pk, pn := f.Program.OrdersDisqualified, f.Program.OrdersAttributed
	if n <= 0 || pn <= 0 {
		return false, "routine correction (no order counts to compare with the program): no review needed"
	}
	// The program's share without this publisher's own orders, so that a
	// large publisher does not set its own baseline.
	p := float64(pk) / float64(pn)
	if pn > n && pk >= k {
		p = float64(pk-k) / float64(pn-n)
	}
	share := float64(k) / float64(n)
	desc := fmt.Sprintf("%d of %d orders invalid (%.1f %%) against the program's %.1f %%", k, n, 100*share, 100*p)
	if k < minOrders {
		return false, desc + fmt.Sprintf(": routine, fewer than %d invalid orders; no review needed", minOrders)
	}
	if p <= 0 {
		p = 0.5 / float64(pn) // no invalid order elsewhere: a continuity floor
	}
	if share < minRatio*p {
		return false, desc + fmt.Sprintf(": routine, under %.1f× the program's share; no review needed", minRatio)
	}
	pv := binomialTail(k, n, p)
	if pv > maxP {
		return false, desc + fmt.Sprintf(": routine (binomial p = %.2g > %.2g); no review needed", pv, maxP)
	}
	return true, desc + fmt.Sprintf(": anomalous (%.1f× the program's share, binomial p = %.2g): a reviewer decides whether this is a breach", share/p, pv)
}

// binomialTail is P(X ≥ k) for X ~ Binomial(n, p), summed in log space so
// that thousands of orders neither overflow nor underflow.
func binomialTail(k, n int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	if k > n {
		return 0
	}
	if p >= 1 {
		return 1
	}
	lgN, _ := math.Lgamma(float64(n + 1))
	lp, lq := math.Log(p), math.Log1p(-p)
	var sum float64
	for i := k; i <= n; i++ {
		a, _ := math.Lgamma(float64(i + 1))
		b, _ := math.Lgamma(float64(n - i + 1))
		term := math.Exp(lgN - a - b + float64(i)*lp + float64(n-i)*lq)
		sum += term
		if term < sum*1e-17 && float64(i) > float64(n)*p {
			break
		}
	}
	return math.Min(sum, 1)
}

// risk is severity × confidence, the review queue's first key: low 1 …
// critical 4 times low 1 … high 3.
func risk(severity, confidence string) float64 {
	s := detectors.SeverityRank(severity) + 1
	c := 0
	for i, v := range rules.Confidences {
		if v == confidence {
			c = i + 1
		}
	}
	if s < 1 {
		s = 1
	}
	if c < 1 {
		c = 1
	}
	return float64(s * c)
}
