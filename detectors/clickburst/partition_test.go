package clickburst

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"affwatch/detectors"
	"affwatch/detectors/detectortest"
	"affwatch/eval/evaltest"
)

// TestPartitions: four partitions with a baselines pass find what a whole
// run finds (affwatch run --partition, issue 8).
func TestPartitions(t *testing.T) { evaltest.CheckPartitions(t, Detector{}) }

// farm is a click farm whose burst shows one machine sign of its own (one
// browser build on 300 clicks from 300 IPs, people's dwell, irregular
// timing) and a second only against the program: no orders where the
// program converts 2.3 %. Every order of the program is SHOP's, and SHOP
// hashes to another partition than FARM, so FARM's partition alone would
// see a conversion of 0, drop "no orders" and with it the finding.
const farm = `
INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, dwell_ms, _file_id, _line)
SELECT 'base-' || p || '-' || i, TIMESTAMP '2026-11-15 00:00:00' + to_minutes((i * 6)::INTEGER) + to_seconds((hash(p || i) % 300)::INTEGER),
       p, '10.' || (hash(p || i) % 200) || '.1.' || (i % 250),
       'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/1' || (i % 30) || '.0', 20000 + (hash(i) % 60000)::INTEGER, 0, i
FROM (VALUES ('FARM'), ('SHOP')) v(p), range(0, 1680) r(i);  -- 10 per hour for 7 days

INSERT INTO clicks (click_id, ts, publisher_id, ip, user_agent, dwell_ms, _file_id, _line)
SELECT 'farm-' || i, TIMESTAMP '2026-11-21 03:00:00' + to_milliseconds((i * 12000 + hash(i) % 11000)::INTEGER), 'FARM',
       '100.64.' || (i // 250) || '.' || (i % 250), 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/142.0', 25000, 0, 5000 + i
FROM range(0, 300) r(i);

INSERT INTO orders (order_id, ts, buyer_id, amount_usd, publisher_id, click_id, status, commission_usd, _file_id, _line)
SELECT 'o-' || i, TIMESTAMP '2026-11-21 23:00:00', 'b' || i, 20, 'SHOP', 'base-SHOP-' || (i * 20), 'paid', 1.2, 0, i
FROM range(0, 84) r(i);
`

// TestPartitionReadsProgramConversion: FARM is judged against the whole
// program's conversion in its partition too.
func TestPartitionReadsProgramConversion(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: exports and reloads the store four times")
	}
	if detectors.PartitionOf("FARM", 4) == detectors.PartitionOf("SHOP", 4) {
		t.Fatal("FARM and SHOP hash to one partition: the case tests nothing")
	}
	st, pack := detectortest.Store(t, farm), detectortest.Pack(t)
	whole := detectortest.PartitionsAgree(t, Detector{}, st, pack, detectors.NightOf(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)), 4)
	if len(whole) != 1 || whole[0].PublisherID != "FARM" {
		t.Fatalf("whole run found %d finding(s), want FARM's burst only", len(whole))
	}
	var ev struct {
		Conversion float64  `json:"population_conversion"`
		Signals    []string `json:"machine_signals"`
	}
	if err := json.Unmarshal(whole[0].Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	// 84 orders over 2·1680 + 300 clicks.
	if ev.Conversion != 0.023 || !slices.Equal(ev.Signals, []string{"few_user_agents", "no_orders"}) {
		t.Errorf("conversion %v, signals %v: want 0.023 and few_user_agents + no_orders", ev.Conversion, ev.Signals)
	}
}
