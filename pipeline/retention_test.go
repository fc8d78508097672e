package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/all"
	"affwatch/fixtures"
	"affwatch/rules"
)

// shortLookbacks shrinks the pack's look-backs so that a few weeks of
// nights exercise --retain-days: the raw look-backs to a few days, the
// identifier graph's look-back (kept as state) beyond the retention.
func shortLookbacks(t *testing.T) *rules.Pack {
	t.Helper()
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	for rule, set := range map[string]map[string]float64{
		detectors.ClickBurst:     {"baseline_days": 3},
		detectors.CookieStuffing: {"lookback_days": 3},
		detectors.PopupTraffic:   {"lookback_days": 3},
		detectors.SelfPromotion:  {"lookback_days": 3},
		detectors.SelfPurchase:   {"order_history_days": 3, "lookback_days": 25},
	} {
		if pack, err = pack.WithThresholds(rule, set); err != nil {
			t.Fatal(err)
		}
	}
	return pack
}

// nightInput links one day's clicks and orders and the profiles into a
// folder, as a nightly delivery brings them.
func nightInput(t *testing.T, gen, dir, day string) {
	t.Helper()
	for _, ds := range []string{"clicks", "orders"} {
		src := filepath.Join(gen, ds, "date="+day)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, ds), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(src, filepath.Join(dir, ds, "date="+day)); err != nil {
			t.Fatal(err)
		}
	}
	for _, ds := range []string{"ads", "buyers", "publishers", "sellers", "sites"} {
		if err := os.Symlink(filepath.Join(gen, ds+".parquet"), filepath.Join(dir, ds+".parquet")); err != nil {
			t.Fatal(err)
		}
	}
}

var runSpecific = regexp.MustCompile(`\d{8}T\d{6}Z-[0-9a-f]{8}`)

// TestRetainDaysLeavesLaterNightsEqual runs the same nights on two
// databases, one keeping every raw row and one dropping what --retain-days
// allows after each night: every night's findings, recommendations and
// 7.8 report are byte-equal (run ids aside), while the second database
// really dropped rows and answered the identifier graph's longer look-back
// from its state.
func TestRetainDaysLeavesLaterNightsEqual(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 2 × 22 nightly runs take about a minute")
	}
	ctx := context.Background()
	const days, retain = 22, 16
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	gen := t.TempDir()
	if _, err := fixtures.Generate(ctx, fixtures.Config{Seed: 4, Clicks: 1, Days: days, End: end, Out: gen, Format: "parquet", PartitionByDate: true}); err != nil {
		t.Fatal(err)
	}
	pack := shortLookbacks(t)
	need, by, err := detectors.LongestRawLookback(pack, all.Detectors())
	if err != nil || need != retain {
		t.Fatalf("longest raw look-back %d (%s), %v; the test assumes %d (invalid_commission: CIS cookie 15 days + 1)", need, by, err, retain)
	}
	work := t.TempDir()
	run := func(variant, day string, retainDays int) string {
		t.Helper()
		in := filepath.Join(work, "in-"+day)
		if _, err := os.Stat(in); err != nil {
			nightInput(t, gen, in, day)
		}
		d, _ := time.Parse(time.DateOnly, day)
		out := filepath.Join(work, variant+"-"+day)
		_, err := Run(ctx, Config{In: in, Out: out, Pack: pack, Night: detectors.NightOf(d), NoCrawl: true, RetainDays: retainDays,
			DB: DB{Path: filepath.Join(work, variant+".duckdb")}, ToolVersion: "test"})
		if err != nil {
			t.Fatalf("%s night %s: %v", variant, day, err)
		}
		return out
	}
	compared, findings := 0, 0
	for d := end.AddDate(0, 0, 1-days); !d.After(end); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		keep, kept := run("keep", day, 0), run("retain", day, retain)
		for _, f := range []string{"findings.ndjson", "recommendations.json", "disqualified_orders.csv"} {
			a, errA := os.ReadFile(filepath.Join(keep, f))
			b, errB := os.ReadFile(filepath.Join(kept, f))
			if err := errors.Join(errA, errB); err != nil {
				t.Fatal(err)
			}
			a, b = runSpecific.ReplaceAll(a, nil), runSpecific.ReplaceAll(b, nil)
			if !bytes.Equal(a, b) {
				t.Errorf("night %s: %s differs between the database that kept every row and the one with --retain-days %d%s", day, f, retain, firstDifference(a, b))
			}
			if f == "findings.ndjson" {
				findings += bytes.Count(a, []byte("\n"))
			}
		}
		compared++
	}
	// The second database dropped rows, and its identifier state reaches
	// back past what it still holds raw.
	st, err := DB{Path: filepath.Join(work, "retain.duckdb")}.Open(ctx, work)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var dropped, stateDays int64
	var from time.Time
	if err := st.DB.QueryRowContext(ctx, `SELECT sum(clicks), max(retained_from)::TIMESTAMP FROM retention`).Scan(&dropped, &from); err != nil {
		t.Fatal(err)
	}
	if err := st.DB.QueryRowContext(ctx, `SELECT count(DISTINCT day) FROM self_purchase_ident_state WHERE day < ?::DATE`, from).Scan(&stateDays); err != nil {
		t.Fatal(err)
	}
	var oldest time.Time
	if err := st.DB.QueryRowContext(ctx, `SELECT min(ts) FROM clicks`).Scan(&oldest); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d nights compared, %d findings; %d clicks dropped, raw rows from %s, identifier state of %d earlier days", compared, findings, dropped, from.Format(time.DateOnly), stateDays)
	if dropped == 0 || oldest.Before(from) {
		t.Errorf("--retain-days dropped %d clicks; oldest click held %s, retained from %s", dropped, oldest, from)
	}
	if stateDays == 0 {
		t.Errorf("no identifier state before %s: the look-back past the retention was not kept", from.Format(time.DateOnly))
	}
	if findings == 0 {
		t.Errorf("no findings on any night: nothing was compared")
	}
}

func TestRetainDaysShorterThanALookBackIsRefused(t *testing.T) {
	pack, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Config{In: t.TempDir(), Out: t.TempDir(), Pack: pack,
		Night: detectors.NightOf(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)), RetainDays: 29, NoCrawl: true})
	var ue *UsageError
	if !errors.As(err, &ue) || !regexp.MustCompile(`self_purchase reads raw rows 30 days .* keep at least 30`).MatchString(err.Error()) {
		t.Fatalf("--retain-days 29 with the default pack: %v; want a usage error naming self_purchase's 30 days", err)
	}
	_, err = Run(context.Background(), Config{In: t.TempDir(), Out: t.TempDir(), Pack: pack, Night: detectors.BackfillNight(), RetainDays: 30, NoCrawl: true})
	if !errors.As(err, &ue) {
		t.Fatalf("--retain-days on a backfill: %v; want a usage error", err)
	}
}

// firstDifference names the first line two outputs disagree on, cut short.
func firstDifference(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) && i < len(lb); i++ {
		if !bytes.Equal(la[i], lb[i]) {
			j := 0
			for j < len(la[i]) && j < len(lb[i]) && la[i][j] == lb[i][j] {
				j++
			}
			from := max(0, j-120)
			return fmt.Sprintf(": line %d, kept …%s… retained …%s…", i+1, la[i][from:min(len(la[i]), j+80)], lb[i][from:min(len(lb[i]), j+80)])
		}
	}
	return fmt.Sprintf(": %d lines against %d", len(la), len(lb))
}
