package eval

import (
	"context"
	"slices"
	"strings"
	"testing"

	"affwatch/detectors"
	"affwatch/fixtures"
)

func TestScore(t *testing.T) {
	labels := []fixtures.Label{
		{PublisherID: "P1", Detector: "click_burst", Label: fixtures.Positive, Variant: "metronome", Note: "420 clicks 2026-11-21 22:10"},
		{PublisherID: "P2", Detector: "click_burst", Label: fixtures.Positive, Variant: "headless_agents", Note: "330 clicks 2026-11-15 02:38"},
		{PublisherID: "P3", Detector: "click_burst", Label: fixtures.Negative, Variant: "viral_spike"},
		{PublisherID: "P4", Detector: "cookie_stuffing", Label: fixtures.Positive, Variant: "pixel_drop"},
	}
	find := func(ids ...string) []detectors.Finding {
		var fs []detectors.Finding
		for _, id := range ids {
			fs = append(fs, detectors.Finding{PublisherID: id, Detector: "click_burst"})
		}
		return fs
	}
	for _, tc := range []struct {
		name                string
		flagged             []string
		tp, fp, fn          int
		hard, other, missed []string
		precision, recall   float64
		meets               bool
	}{
		{name: "perfect", flagged: []string{"P1", "P2", "P2"}, tp: 2, precision: 1, recall: 1, meets: true},
		{name: "hard negative and clean", flagged: []string{"P1", "P3", "P9"}, tp: 1, fp: 2, fn: 1,
			hard: []string{"P3 (viral_spike)"}, missed: []string{"P2 (headless_agents)"}, precision: 1.0 / 3, recall: 0.5},
		{name: "other detector's label is not counted", flagged: []string{"P1", "P2", "P4"}, tp: 2, other: []string{"P4"}, precision: 1, recall: 1, meets: true},
		{name: "nothing flagged", tp: 0, fn: 2, missed: []string{"P1 (metronome)", "P2 (headless_agents)"}, precision: 1, recall: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := score("click_burst", find(tc.flagged...), labels)
			if s.TP != tc.tp || s.FP != tc.fp || s.FN != tc.fn {
				t.Errorf("TP/FP/FN = %d/%d/%d, want %d/%d/%d", s.TP, s.FP, s.FN, tc.tp, tc.fp, tc.fn)
			}
			if !slices.Equal(s.HardNegativeFlagged, tc.hard) || !slices.Equal(s.OtherLabeled, tc.other) || !slices.Equal(s.FalseNegatives, tc.missed) {
				t.Errorf("hard %v other %v missed %v", s.HardNegativeFlagged, s.OtherLabeled, s.FalseNegatives)
			}
			if d := s.Precision() - tc.precision; d > 1e-9 || d < -1e-9 {
				t.Errorf("precision %v, want %v", s.Precision(), tc.precision)
			}
			if s.Recall() != tc.recall || s.Meets() != tc.meets {
				t.Errorf("recall %v meets %v, want %v %v", s.Recall(), s.Meets(), tc.recall, tc.meets)
			}
		})
	}
}

// noisy flags every publisher with clicks: recall 1, precision poor.
type noisy struct{}

func (noisy) Code() string { return detectors.ClickBurst }
func (noisy) Run(ctx context.Context, env detectors.Env) ([]detectors.Finding, error) {
	rows, err := env.DB.QueryContext(ctx, `SELECT DISTINCT publisher_id FROM clicks ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var fs []detectors.Finding
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		fs = append(fs, detectors.Finding{PublisherID: id, Detector: detectors.ClickBurst})
	}
	return fs, rows.Err()
}

func TestRunOnGeneratedData(t *testing.T) {
	res, err := Run(context.Background(), Config{Seeds: []int64{5}, Scales: []int{1}, Format: "csv", Detectors: []detectors.Detector{noisy{}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Scores) != 1 {
		t.Fatalf("results %+v", res)
	}
	s := res[0].Scores[0]
	// The generator builds 11 burst publishers (6 classic, 3 botnets that
	// never render, 2 that also stuff cookies), 3 viral-spike and 2 office
	// negatives.
	if s.TP != 11 || s.FN != 0 || len(s.HardNegativeFlagged) != 5 || s.Meets() {
		t.Errorf("TP %d FN %d hard %v meets %v", s.TP, s.FN, s.HardNegativeFlagged, s.Meets())
	}
	if res[0].Clicks < 19_000 || res[0].Publishers < 100 {
		t.Errorf("data set: %d clicks, %d publishers", res[0].Clicks, res[0].Publishers)
	}
	var out strings.Builder
	if Print(&out, res) || !strings.Contains(out.String(), "hard negatives flagged: ") || !strings.Contains(out.String(), "MISSED") {
		t.Errorf("print:\n%s", out.String())
	}
}

func TestPrintCorpus(t *testing.T) {
	for _, tc := range []struct {
		s  CorpusScore
		ok bool
	}{
		{CorpusScore{Detector: "brand_domain", Class: "all", TP: 995, FN: 5, FP: 4, TN: 5000}, true},
		{CorpusScore{Detector: "brand_domain", Class: "all", TP: 985, FN: 15, TN: 5000}, false},               // recall 0.985
		{CorpusScore{Detector: "brand_domain", Class: "real_domains", FP: 6, TN: 4994}, false},                // FPR 0.12 %
		{CorpusScore{Detector: "brand_domain", Class: "bitsquatting", TP: 19, FN: 1}, true},                   // 0.95
		{CorpusScore{Detector: "prohibited_content", Class: "gambling", TP: 18, FP: 1, FN: 2, TN: 80}, false}, // precision 18/19 = 0.947
		{CorpusScore{Detector: "logo_copy", Class: "all", TP: 96, FN: 4, FP: 1, TN: 199}, true},               // FPR 0.5 %
		{CorpusScore{Detector: "logo_copy", Class: "all", TP: 96, FN: 4, FP: 2, TN: 198}, false},              // FPR 1 %
		{CorpusScore{Detector: "unknown_code", Class: "all", FN: 100}, true},                                  // no targets
	} {
		var out strings.Builder
		if got := PrintCorpus(&out, []CorpusScore{tc.s}); got != tc.ok {
			t.Errorf("%+v: ok = %v, want %v\n%s", tc.s, got, tc.ok, out.String())
		}
	}
}
