package clickburst

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/eval/evaltest"
	"affwatch/loaders/reflists"
	"affwatch/rules"
	"affwatch/store"
)

// world builds a week of hourly traffic for three publishers, then:
//   - BOT:   one hour of 720 clicks from 3 IPs, one user agent, every 5 s, no dwell
//   - VIRAL: one hour of 600 clicks from 600 IPs and many agents, human dwell, orders
//   - QUIET: nothing unusual
//
// Clicks are generated in SQL so the test data is exact and readable.
const world = `
INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, dwell_ms, _file_id, _line)
SELECT 'base-' || p || '-' || i, TIMESTAMP '2026-11-15 00:00:00' + to_minutes((i * 6)::INTEGER) + to_seconds((hash(p || i) % 300)::INTEGER),
       p, '10.' || (hash(p || i) % 200) || '.1.' || (i % 250),
       'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/1' || (i % 30) || '.0', 20000 + (hash(i) % 60000)::INTEGER, 0, i
FROM (VALUES ('BOT'), ('VIRAL'), ('QUIET')) v(p), range(0, 1680) r(i);  -- 10 per hour for 7 days

INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, dwell_ms, _file_id, _line)
SELECT 'bot-' || i, TIMESTAMP '2026-11-21 03:00:00' + to_seconds((i * 5)::INTEGER), 'BOT',
       '192.0.2.' || (i % 3), 'Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0', 0, 0, i
FROM range(0, 720) r(i);

INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, dwell_ms, _file_id, _line)
SELECT 'viral-' || i, TIMESTAMP '2026-11-21 18:00:00' + to_seconds((hash(i) % 3600)::INTEGER), 'VIRAL',
       '198.51.' || (i // 250) || '.' || (i % 250), 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_' || (i % 40) || ') Safari/604.1',
       15000 + (hash(i * 7) % 90000)::INTEGER, 0, i
FROM range(0, 600) r(i);

INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, click_id, status, commission_usd, _file_id, _line)
SELECT 'o-' || i, TIMESTAMP '2026-11-21 19:00:00', 'b' || i, 20, 'VIRAL', 'viral-' || (i * 37), 'paid', 1.2, 0, i
FROM range(0, 15) r(i);
`

// setup labels the world's traffic as a run does: the pack's own bot
// patterns (no maintained list installed here) and a data-centre CIDR file
// holding BOT's addresses.
func setup(t *testing.T) (*store.Store, *rules.Pack) {
	t.Helper()
	st, pack := detectortest.Store(t, world), detectortest.Pack(t)
	dc := filepath.Join(t.TempDir(), "hosting.cidr")
	if err := os.WriteFile(dc, []byte("# documentation range standing in for a cloud provider\n192.0.2.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cp := *pack
	cp.ReferenceLists.BotUserAgents.Path = ""
	cp.ReferenceLists.IPRanges = []rules.IPRangeFile{{Class: rules.IPClassDatacenter, Path: dc}}
	if _, err := reflists.Label(context.Background(), st.DB, &cp, "t", reflists.Options{}); err != nil {
		t.Fatal(err)
	}
	return st, pack
}

func TestBurstFlaggedViralSpikeNot(t *testing.T) {
	st, pack := setup(t)
	for _, tc := range []struct {
		name  string
		scope detectors.Night
	}{
		{"night", detectors.NightOf(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))},
		{"backfill", detectors.BackfillNight()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := detectors.Env{DB: st.DB, RunID: "t", Night: detectortest.ResolveNight(t, st, tc.scope), Pack: pack, Signals: &detectors.Signals{}}
			fs, err := detectors.RunOne(context.Background(), env, Detector{})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 {
				for _, f := range fs {
					t.Logf("finding %s: %s", f.PublisherID, f.Summary)
				}
				t.Fatalf("got %d findings, want exactly one (BOT)", len(fs))
			}
			f := fs[0]
			if f.PublisherID != "BOT" || f.Detector != "click_burst" || f.PolicyRef != "E.10.c" {
				t.Errorf("finding = %s %s %s", f.PublisherID, f.Detector, f.PolicyRef)
			}
			wantStart := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
			if !f.WindowStart.Equal(wantStart) || !f.WindowEnd.Equal(wantStart.Add(time.Hour)) {
				t.Errorf("window = %s – %s, want the 03:00 hour", f.WindowStart, f.WindowEnd)
			}
			var ev struct {
				Clicks  int64    `json:"clicks_in_bursts"`
				Median  float64  `json:"baseline_median"`
				Signals []string `json:"machine_signals"`
				TopIPs  []struct {
					IP     string `json:"ip"`
					Clicks int64  `json:"clicks"`
				} `json:"top_ips"`
				Examples []string `json:"example_click_ids"`
				GIVT     []struct {
					Kind, List, Version, Entry string
					Clicks                     int64
				} `json:"givt_matches"`
				PubGIVT struct {
					Clicks int64   `json:"clicks"`
					GIVT   int64   `json:"givt_clicks"`
					Share  float64 `json:"share"`
				} `json:"publisher_givt"`
				Timeline struct {
					Counts []int64 `json:"counts"`
				} `json:"timeline"`
			}
			if err := json.Unmarshal(f.Evidence, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Clicks != 730 { // 720 bot clicks + the hour's 10 baseline clicks
				t.Errorf("clicks in burst = %d, want 730", ev.Clicks)
			}
			if ev.Median != 10 {
				t.Errorf("baseline median = %v, want 10", ev.Median)
			}
			want := map[string]bool{"few_ips": true, "few_user_agents": true, "givt_traffic": true, "metronomic_timing": true, "no_engagement": true}
			for _, s := range ev.Signals {
				delete(want, s)
			}
			if len(want) > 0 {
				t.Errorf("signals %v lack %v", ev.Signals, want)
			}
			// Every list match names its list, version and entry: 720 bot
			// clicks, each a pack pattern (headless) and a data-centre range.
			if len(ev.GIVT) != 2 {
				t.Fatalf("givt_matches = %+v, want the headless pattern and the range", ev.GIVT)
			}
			for _, g := range ev.GIVT {
				switch g.Kind {
				case "user_agent":
					if g.List != "pack:reference_lists.bot_user_agents.extra_patterns" || g.Version != pack.Version || g.Entry != "(?i)headless" || g.Clicks != 720 {
						t.Errorf("user-agent match = %+v", g)
					}
				case "ip_range":
					if g.List != "hosting.cidr" || g.Version == "" || g.Entry != "192.0.2.0/24" || g.Clicks != 720 {
						t.Errorf("range match = %+v", g)
					}
				default:
					t.Errorf("match kind %q", g.Kind)
				}
			}
			if ev.PubGIVT.GIVT != 720 || ev.PubGIVT.Clicks == 0 {
				t.Errorf("publisher GIVT = %+v, want 720 GIVT clicks", ev.PubGIVT)
			}
			if len(ev.TopIPs) == 0 || ev.TopIPs[0].Clicks != 240 {
				t.Errorf("top IPs = %+v, want 192.0.2.x with 240 clicks first", ev.TopIPs)
			}
			if len(ev.Examples) != 10 || len(ev.Timeline.Counts) != 24 || ev.Timeline.Counts[3] != 730 {
				t.Errorf("examples %d, timeline %v", len(ev.Examples), ev.Timeline.Counts)
			}
			if f.Severity != "high" || f.Score < 0.9 {
				t.Errorf("severity %s score %v: five machine signals should be high (the rule's cap)", f.Severity, f.Score)
			}
		})
	}
}

func TestMissingColumnsAreSignalsUnavailable(t *testing.T) {
	st, pack := setup(t)
	if _, err := st.DB.Exec(`UPDATE clicks SET user_agent = NULL, dwell_ms = NULL`); err != nil {
		t.Fatal(err)
	}
	signals := &detectors.Signals{}
	env := detectors.Env{DB: st.DB, RunID: "t", Night: detectors.NightOf(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)), Pack: pack, Signals: signals}
	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range signals.List() {
		got[s.Signal] = true
	}
	if !got["clicks.user_agent"] || !got["clicks.dwell_ms"] || got["clicks.ip"] {
		t.Errorf("signals unavailable = %+v", signals.List())
	}
	// IPs and timing alone still show the bot: two signals remain.
	if len(fs) != 1 || fs[0].PublisherID != "BOT" {
		t.Fatalf("findings = %d, want BOT only", len(fs))
	}
}

func TestThresholdsComeFromThePack(t *testing.T) {
	st, pack := setup(t)
	pack, err := pack.WithThresholds("click_burst", map[string]float64{"min_bucket_clicks": 1000}) // larger than the bot's hour
	if err != nil {
		t.Fatal(err)
	}
	env := detectors.Env{DB: st.DB, RunID: "t", Night: detectortest.Backfill(t, st), Pack: pack, Signals: &detectors.Signals{}}
	fs, err := detectors.RunOne(context.Background(), env, Detector{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("got %d findings with min_bucket_clicks=1000, want 0", len(fs))
	}
}

// office is an office behind one proxy whose staff, all on the company's
// standard browser build, open the publisher's deals mail every morning at
// nine: one bucket a day with 120 clicks from two IPs and one user agent.
// Compared with its quiet hours that hour is extreme and machine-like
// (few IPs, one agent); compared with nine o'clock on the other days it is
// ordinary. Only the seasonal baseline tells the two apart. On the last
// day a scraper hits the same publisher at 15:00, which is a burst.
const office = `
INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, dwell_ms, _file_id, _line)
SELECT 'quiet-' || i, TIMESTAMP '2026-11-08 00:00:00' + to_minutes((i * 20)::INTEGER), 'OFFICE',
       '203.0.113.' || (i % 250), 'Mozilla/5.0 (Windows NT 10.0) Chrome/1' || (i % 40) || '.0', 30000, 0, i
FROM range(0, 14 * 72) r(i);  -- 3 clicks an hour, 14 days

INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, dwell_ms, _file_id, _line)
SELECT 'nine-' || d || '-' || i, TIMESTAMP '2026-11-08 09:00:00' + to_days(d::INTEGER) + to_milliseconds((i * 29000 + hash(d * 1000 + i) % 25000)::INTEGER), 'OFFICE',
       '198.18.0.' || (i % 2), 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/142.0 CorpBuild', 45000, 0, i
FROM range(0, 14) d(d), range(0, 115 + (d % 3) * 5) r(i);

INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, dwell_ms, _file_id, _line)
SELECT 'scrape-' || i, TIMESTAMP '2026-11-21 15:00:00' + to_seconds((i * 30)::INTEGER), 'OFFICE',
       '192.0.2.9', 'python-requests/2.32', 0, 0, i
FROM range(0, 120) r(i);
`

func TestSeasonalPeakIsNotABurst(t *testing.T) {
	ctx := context.Background()
	st, pack := detectortest.Store(t, office), detectortest.Pack(t)
	for _, tc := range []struct {
		name     string
		minDays  float64
		extra    float64
		wantHour []int // UTC hours of the last day flagged
	}{
		{"seasonal baseline", 4, 1, []int{15}},
		// Without it (seasonal test skipped: needs more days than exist,
		// and no extra evidence asked for instead), the regular nine
		// o'clock hour would be accused.
		{"seasonal test off", 100, 0, []int{9, 15}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pack.WithThresholds("click_burst", map[string]float64{"seasonal_min_days": tc.minDays, "cold_start_extra_signals": tc.extra})
			if err != nil {
				t.Fatal(err)
			}
			env := detectors.Env{DB: st.DB, RunID: "t", Night: detectors.NightOf(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)), Pack: p, Signals: &detectors.Signals{}}
			fs, err := detectors.RunOne(ctx, env, Detector{})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 {
				t.Fatalf("got %d findings, want 1 (the day's bursts in one finding)", len(fs))
			}
			var ev struct {
				Bursts []struct {
					Start        string  `json:"start"`
					ModifiedZ    float64 `json:"modified_z"`
					SameSlotDays int64   `json:"same_slot_days"`
				} `json:"bursts"`
			}
			if err := json.Unmarshal(fs[0].Evidence, &ev); err != nil {
				t.Fatal(err)
			}
			var hours []int
			for _, b := range ev.Bursts {
				ts, _ := time.Parse(time.RFC3339, b.Start)
				hours = append(hours, ts.Hour())
				if b.SameSlotDays != 14 || b.ModifiedZ < 3.5 {
					t.Errorf("burst %s: same-slot days %d, modified z %v", b.Start, b.SameSlotDays, b.ModifiedZ)
				}
			}
			if fmt.Sprint(hours) != fmt.Sprint(tc.wantHour) {
				t.Errorf("burst hours %v, want %v", hours, tc.wantHour)
			}
		})
	}
}

// TestEval holds the detector to issue 4's targets on generated data with
// ground truth (affwatch eval --detector for wider sweeps).
func TestEval(t *testing.T) { evaltest.Check(t, Detector{}) }

// TestColdStartNeedsMoreEvidence: on the office's third night there are
// too few nine o'clocks to know the peak is regular, so its two machine
// signals (few IPs, one agent) are not enough; a scraper's would be.
func TestColdStartNeedsMoreEvidence(t *testing.T) {
	ctx := context.Background()
	st, pack := detectortest.Store(t, office), detectortest.Pack(t)
	for _, tc := range []struct {
		extra float64
		want  int
	}{{1, 0}, {0, 1}} {
		p, err := pack.WithThresholds("click_burst", map[string]float64{"cold_start_extra_signals": tc.extra})
		if err != nil {
			t.Fatal(err)
		}
		env := detectors.Env{DB: st.DB, RunID: "t", Night: detectors.NightOf(time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)), Pack: p, Signals: &detectors.Signals{}}
		fs, err := detectors.RunOne(ctx, env, Detector{})
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != tc.want {
			t.Errorf("cold_start_extra_signals %v: %d findings on the third night, want %d", tc.extra, len(fs), tc.want)
		}
	}
}
