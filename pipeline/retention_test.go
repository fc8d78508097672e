package pipeline

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
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
// folder, as a nightly delivery brings them; called again with the same
// folder, it adds another day.
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
		dst := filepath.Join(dir, ds+".parquet")
		if _, err := os.Lstat(dst); err == nil {
			continue // a delivery of several days brings the profiles once
		}
		if err := os.Symlink(filepath.Join(gen, ds+".parquet"), dst); err != nil {
			t.Fatal(err)
		}
	}
}

// runNight runs one night of the generated program gen on the variant's
// database in work (a delivery of that day), with change applied to the
// run's Config, and returns the run's output folder.
func runNight(t *testing.T, gen, work, variant, day string, pack *rules.Pack, change func(*Config)) string {
	t.Helper()
	in := filepath.Join(work, "in-"+day)
	if _, err := os.Stat(in); err != nil {
		nightInput(t, gen, in, day)
	}
	d, _ := time.Parse(time.DateOnly, day)
	out := filepath.Join(work, variant+"-"+day)
	cfg := Config{In: in, Out: out, Pack: pack, Night: detectors.NightOf(d), NoCrawl: true,
		DB: DB{Path: filepath.Join(work, variant+".duckdb")}, ToolVersion: "test"}
	change(&cfg)
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("%s night %s: %v", variant, day, err)
	}
	return out
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
		return runNight(t, gen, work, variant, day, pack, func(c *Config) { c.RetainDays = retainDays })
	}
	compared, findings := 0, 0
	for d := end.AddDate(0, 0, 1-days); !d.After(end); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		keep, kept := run("keep", day, 0), run("retain", day, retain)
		findings += compareNight(t, day, keep, kept, fmt.Sprintf("the database that kept every row and the one with --retain-days %d", retain))
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

// compareNight reports every output of night day that differs between the
// output folders a and b (run ids aside; between says which runs they are)
// and returns the findings compared.
func compareNight(t *testing.T, day, a, b, between string) (findings int) {
	t.Helper()
	for _, f := range []string{"findings.ndjson", "recommendations.json", "disqualified_orders.csv"} {
		x, errA := os.ReadFile(filepath.Join(a, f))
		y, errB := os.ReadFile(filepath.Join(b, f))
		if err := errors.Join(errA, errB); err != nil {
			t.Fatal(err)
		}
		x, y = runSpecific.ReplaceAll(x, nil), runSpecific.ReplaceAll(y, nil)
		if !bytes.Equal(x, y) {
			t.Errorf("night %s: %s differs between %s%s", day, f, between, firstDifference(x, y))
		}
		if f == "findings.ndjson" {
			findings = bytes.Count(x, []byte("\n"))
		}
	}
	return findings
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

// TestMergeRetainDaysLeavesLaterNightsEqual runs the same partitioned
// nights (a baselines pass and two partitions, each keeping its database
// from night to night) and merges every night twice: into a long-lived
// database that keeps every order, and into one that drops what
// --retain-days allows after each night. Every night's merged findings,
// recommendations and 7.8 report are byte-equal (run ids aside), while the
// second database really dropped orders.
func TestMergeRetainDaysLeavesLaterNightsEqual(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seven partitioned nights, merged twice, take about a minute")
	}
	ctx := context.Background()
	// The first night's delivery brings its look-back too (a first night
	// of the partitioned set-up), so the merge's database holds orders
	// from before the horizon after a few nights, without running them
	// one by one.
	const days, first, retain = 19, 13, 16
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	gen := t.TempDir()
	if _, err := fixtures.Generate(ctx, fixtures.Config{Seed: 5, Clicks: 1, Days: days, End: end, Out: gen, Format: "parquet", PartitionByDate: true}); err != nil {
		t.Fatal(err)
	}
	pack := shortLookbacks(t)
	work := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	findings, nights := 0, 0
	start := end.AddDate(0, 0, 1-days)
	for d := start.AddDate(0, 0, first-1); !d.After(end); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		in, split := filepath.Join(work, "in-"+day), filepath.Join(work, "split-"+day)
		from := d
		if nights == 0 {
			from = start
		}
		for dd := from; !dd.After(d); dd = dd.AddDate(0, 0, 1) {
			nightInput(t, gen, in, dd.Format(time.DateOnly))
		}
		nights++
		if _, err := SplitInput(ctx, in, split, 2, DB{}, nil, quiet); err != nil {
			t.Fatalf("split %s: %v", day, err)
		}
		base := filepath.Join(work, "base-"+day)
		if _, err := Run(ctx, Config{In: split, Out: base, Pack: pack, Night: detectors.NightOf(d), Mode: ModeBaselines,
			DB: DB{Path: filepath.Join(work, "base.duckdb")}, ToolVersion: "test", Log: quiet}); err != nil {
			t.Fatalf("baselines %s: %v", day, err)
		}
		var parts []string
		for i := range 2 {
			p := filepath.Join(work, fmt.Sprintf("p%d-%s", i, day))
			if _, err := Run(ctx, Config{In: split, Out: p, Pack: pack, Night: detectors.NightOf(d), Mode: ModePartition,
				Part: detectors.Partition{Index: i, Count: 2}, Baselines: base, NoCrawl: true,
				DB: DB{Path: filepath.Join(work, fmt.Sprintf("p%d.duckdb", i))}, ToolVersion: "test", Log: quiet}); err != nil {
				t.Fatalf("partition %d/2 %s: %v", i, day, err)
			}
			parts = append(parts, p)
		}
		merge := func(variant string, retainDays int) string {
			t.Helper()
			out := filepath.Join(work, variant+"-"+day)
			if _, err := Merge(ctx, MergeConfig{Out: out, Pack: pack, Dirs: parts, RetainDays: retainDays,
				DB: DB{Path: filepath.Join(work, variant+".duckdb")}, ToolVersion: "test", Log: quiet}); err != nil {
				t.Fatalf("merge %s %s: %v", variant, day, err)
			}
			return out
		}
		keep, kept := merge("keep", 0), merge("retain", retain)
		findings += compareNight(t, day, keep, kept, fmt.Sprintf("the merge that kept every order and the one with --retain-days %d", retain))
	}
	oldest := func(variant string) (time.Time, int64) {
		t.Helper()
		st, err := DB{Path: filepath.Join(work, variant+".duckdb")}.Open(ctx, work)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var ts time.Time
		var dropped sql.NullInt64
		if err := st.DB.QueryRowContext(ctx, `SELECT min(ts), (SELECT sum(orders) FROM retention) FROM orders`).Scan(&ts, &dropped); err != nil {
			t.Fatal(err)
		}
		return ts, dropped.Int64
	}
	keptFrom, _ := oldest("keep")
	retainedFrom, dropped := oldest("retain")
	horizon := end.AddDate(0, 0, -retain)
	t.Logf("%d findings compared over %d nights; the merge with --retain-days %d dropped %d orders: oldest order %s (kept everything: %s)",
		findings, nights, retain, dropped, retainedFrom.Format(time.DateOnly), keptFrom.Format(time.DateOnly))
	if dropped == 0 || retainedFrom.Before(horizon) || !keptFrom.Before(horizon) {
		t.Errorf("--retain-days %d on the merge: %d orders dropped, oldest held %s, want none before %s (the other database holds from %s)",
			retain, dropped, retainedFrom, horizon, keptFrom)
	}
	if findings == 0 {
		t.Errorf("no findings on any night: nothing was compared")
	}
}
