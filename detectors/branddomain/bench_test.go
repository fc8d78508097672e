package branddomain

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/idna"
)

// benchDomains builds n host names: mostly made-up names under common
// suffixes (syllable words, some with subdomains, some IDN), the real
// domains of testdata, and 1 % look-alikes of the brands. Deterministic.
func benchDomains(n int) (hosts []string, lookalike []bool) {
	r := rand.New(rand.NewPCG(6, 1))
	real := RealDomains()
	var looks []string
	for _, kw := range []string{"aliexpress", "alibaba", "taobao", "tmall", "alipay", "alimama"} {
		for _, hs := range Permutations(kw) {
			looks = append(looks, hs...)
		}
	}
	cons, vows := "bcdfghjklmnprstvwxz", "aeiou"
	cyr := []rune("абвгдежзиклмнопрстуфхцчшщэюя")
	suffixes := []string{"com", "com", "com", "net", "org", "ru", "de", "co.uk", "shop", "xyz", "com.br", "io", "online", "info"}
	word := func() string {
		var b strings.Builder
		for k := 2 + r.IntN(5); k > 0; k-- {
			b.WriteByte(cons[r.IntN(len(cons))])
			b.WriteByte(vows[r.IntN(len(vows))])
		}
		return b.String()
	}
	out := make([]string, 0, n)
	lookalike = make([]bool, n)
	for len(out) < n {
		switch x := r.IntN(100); {
		case x == 0:
			lookalike[len(out)] = true
			out = append(out, looks[r.IntN(len(looks))])
		case x < 10:
			out = append(out, real[r.IntN(len(real))])
		case x < 12:
			var b strings.Builder
			for k := 4 + r.IntN(8); k > 0; k-- {
				b.WriteRune(cyr[r.IntN(len(cyr))])
			}
			a, _ := idna.Punycode.ToASCII(b.String() + ".рф")
			out = append(out, a)
		case x < 30:
			out = append(out, []string{"www", "shop", "blog", "m", word()}[r.IntN(5)]+"."+word()+"."+suffixes[r.IntN(len(suffixes))])
		case x < 40:
			out = append(out, word()+"-"+word()+"."+suffixes[r.IntN(len(suffixes))])
		default:
			out = append(out, word()+word()[:2+r.IntN(3)]+"."+suffixes[r.IntN(len(suffixes))])
		}
	}
	return out, lookalike
}

// BenchmarkScreen1M screens 1,000,000 host names against the default
// pack's brands (issue 6 target: ≤ 5 s). With BRAND_BENCH_APPEND set to a
// file, the result is appended to it (make bench-brand).
func BenchmarkScreen1M(b *testing.B) {
	m := testMatcher(b)
	hosts, lookalike := benchDomains(1_000_000)
	b.ResetTimer()
	var flagged, others int
	var examples []string
	start := time.Now()
	for i := 0; i < b.N; i++ {
		flagged, others, examples = 0, 0, examples[:0]
		for j, h := range hosts {
			if mt, ok := m.MatchHost(h); ok && mt.Score >= m.p.MinScore {
				flagged++
				if !lookalike[j] {
					others++
					if len(examples) < 5 {
						examples = append(examples, h+" ("+mt.Keyword+", "+mt.Class+")")
					}
				}
			}
		}
	}
	elapsed := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	rate := float64(len(hosts)) / elapsed.Seconds()
	b.ReportMetric(rate, "domains/s")
	b.ReportMetric(elapsed.Seconds(), "s/1M")
	line := fmt.Sprintf("- %d host names in %.2f s (one core): **%.0f domains/s** (target: 1 M in ≤ 5 s: %s); %d flagged, of which %d are not generated look-alikes (made-up names that happen to come near a keyword, e.g. %s)",
		len(hosts), elapsed.Seconds(), rate, map[bool]string{true: "met", false: "MISSED"}[elapsed <= 5*time.Second], flagged, others, strings.Join(examples, ", "))
	fmt.Println(line)
	if path := os.Getenv("BRAND_BENCH_APPEND"); path != "" && b.N > 0 {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		fmt.Fprintf(f, "\n## Brand-domain screening benchmark, %s\n\nCommand: `%s` (`make bench-brand`)\n\nMachine: %s/%s, %d CPUs, %s. Host names from `benchDomains` in detectors/branddomain/bench_test.go (made-up syllable names under common suffixes, some with subdomains or Cyrillic IDN, 10 %% real domains of testdata, 1 %% generated look-alikes), screened one after another against the default pack's 6 keywords: normalization (IDN, public suffix, skeletons) and matching, prefiltered by length, letter histograms (1-grams) and pigeonhole n-grams before any edit distance.\n\n%s\n",
			time.Now().UTC().Format("2006-01-02 15:04 UTC"), os.Getenv("BRAND_BENCH_CMD"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), line)
	}
}
