package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"affwatch/fixtures"
	"affwatch/reports"
	"affwatch/store"
)

// dispositionRow is a row of disqualified_orders.csv, ids un-escaped.
type dispositionRow map[string]string

func readDispositions(t *testing.T, path string) []dispositionRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []dispositionRow
	for _, r := range recs[1:] {
		row := dispositionRow{}
		for i, h := range recs[0] {
			// The documented rule: drop exactly one leading apostrophe.
			row[h] = strings.TrimPrefix(r[i], "'")
		}
		out = append(out, row)
	}
	return out
}

// centsOf reads a money cell ("12.50", "-3.00", "") as cents.
func centsOf(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00")[:2]
	var v int64
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			t.Fatalf("bad money %q", s)
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v
}

// TestLedgerAcrossNights runs ten nights on one database: every
// disqualified order is reported new exactly once; the nightly files add up
// to the ledger's totals; re-running night 5 changes nothing; an appeal
// cleared after night 6 releases the orders it covers on night 7; a case
// seen on consecutive nights keeps its id; a night without data fails.
func TestLedgerAcrossNights(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: ten nightly runs take about a minute")
	}
	ctx := context.Background()
	in := t.TempDir()
	if _, err := fixtures.Generate(ctx, fixtures.Config{Seed: 5, Clicks: 1, Out: in, Format: "parquet"}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	db := filepath.Join(t.TempDir(), "nights.duckdb")
	var nights []string
	for d := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC); !d.After(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		nights = append(nights, d.Format(time.DateOnly))
	}
	run := func(date, dir string) {
		t.Helper()
		if code, _, errs := runCLI(t, "run", "--in", in, "--out", dir, "--db", db, "--date", date, "--no-crawl", "--log-level", "error"); code != 0 {
			t.Fatalf("run --date %s: exit %d: %s", date, code, errs)
		}
	}
	query := func(q string, args ...any) []string {
		t.Helper()
		st, err := store.Open(ctx, db, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		rows, err := st.DB.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	dir := func(n string) string { return filepath.Join(out, n) }
	for _, n := range nights[:6] {
		run(n, dir(n))
	}

	// An appeal decided on night 7 clears one publisher of one detector:
	// the publisher with the most orders held for that detector alone.
	pick := query(`WITH latest AS (
			SELECT d.* FROM dispositions d JOIN runs r USING (run_id) WHERE r.status = 'succeeded'
			QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY as_of DESC) = 1)
		SELECT publisher_id || ' ' || split_part(reason_codes[1], ':', 1) FROM latest
		WHERE commission_usd > 0 AND len(list_distinct(list_transform(reason_codes, x -> split_part(x, ':', 1)))) = 1
		  AND split_part(reason_codes[1], ':', 1) <> 'invalid_commission'
		GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`)
	if len(pick) == 0 {
		t.Fatal("no publisher holds orders of a single breach detector after six nights")
	}
	pub, det, _ := strings.Cut(pick[0], " ")
	if code, stdout, errs := runCLI(t, "appeal", "--db", db, "--publisher", pub, "--detector", det, "--outcome", "cleared",
		"--by", "j.doe", "--note", "traffic explained by the publisher", "--date", nights[6]); code != 0 {
		t.Fatalf("appeal: exit %d: %s %s", code, stdout, errs)
	}
	for _, n := range nights[6:] {
		run(n, dir(n))
	}

	// Each order new exactly once; the files add up to the ledger.
	newCount := map[string]int{}
	var withhold, clawback int64
	byNight := map[string][]dispositionRow{}
	for _, n := range nights {
		rows := readDispositions(t, filepath.Join(dir(n), reports.DisqualifiedOrdersFile))
		byNight[n] = rows
		for _, r := range rows {
			if r["night"] != n {
				t.Errorf("night %s: row of night %q", n, r["night"])
			}
			if r["change"] == "new" {
				newCount[r["order_id"]]++
			}
			if (r["withhold_usd"] == "") == (r["clawback_usd"] == "") {
				t.Errorf("night %s order %s: exactly one money column applies, have %q and %q", n, r["order_id"], r["withhold_usd"], r["clawback_usd"])
			}
			withhold += centsOf(t, r["withhold_usd"])
			clawback += centsOf(t, r["clawback_usd"])
		}
	}
	if len(newCount) < 50 {
		t.Fatalf("only %d orders disqualified over ten nights: the test data is too thin to say anything", len(newCount))
	}
	for o, k := range newCount {
		if k != 1 {
			t.Errorf("order %s reported new on %d nights", o, k)
		}
	}
	ledgerNew := query(`SELECT order_id FROM dispositions WHERE change = 'new' ORDER BY 1`)
	if len(ledgerNew) != len(newCount) {
		t.Errorf("ledger has %d new orders, the files %d", len(ledgerNew), len(newCount))
	}
	dbTotals := query(`SELECT CAST(sum(delta_usd) FILTER (WHERE money = 'withhold') * 100 AS BIGINT) || ' ' ||
		CAST(coalesce(sum(delta_usd) FILTER (WHERE money = 'clawback'), 0) * 100 AS BIGINT) FROM dispositions`)
	if want := []string{strconv.FormatInt(withhold, 10) + " " + strconv.FormatInt(clawback, 10)}; !cmp.Equal(want, dbTotals) {
		t.Errorf("sum of the nightly files (withheld, clawed back, cents) %v, database %v", want, dbTotals)
	}
	var man reports.Manifest
	body, err := os.ReadFile(filepath.Join(dir(nights[9]), reports.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &man); err != nil {
		t.Fatal(err)
	}
	if got := [2]int64{int64(man.Counts.Ledger.WithheldUSD) / 100, int64(man.Counts.Ledger.ClawedBackUSD) / 100}; got != [2]int64{withhold, clawback} {
		t.Errorf("run.json ledger (cents) %v, files %v", got, [2]int64{withhold, clawback})
	}

	// The appeal released the publisher's orders of that detector on night 7.
	released := 0
	for _, r := range byNight[nights[6]] {
		if r["change"] == "released" {
			if r["publisher_id"] != pub {
				t.Errorf("night 7 released order %s of %s, want only %s's", r["order_id"], r["publisher_id"], pub)
			}
			if centsOf(t, r["withhold_usd"])+centsOf(t, r["clawback_usd"]) >= 0 {
				t.Errorf("released order %s: want negative money, have %q %q", r["order_id"], r["withhold_usd"], r["clawback_usd"])
			}
			released++
		}
	}
	t.Logf("%d orders new over ten nights, withheld %d ¢, clawed back %d ¢; night 7 released %d order(s) of %s (%s)", len(newCount), withhold, clawback, released, pub, det)
	if released == 0 {
		t.Errorf("night 7: no released rows after the appeal for %s (%s)", pub, det)
	}
	for _, n := range nights[7:] {
		for _, r := range byNight[n] {
			if r["publisher_id"] == pub && r["change"] != "released" && strings.Contains(r["reason_codes"], det) && r["order_date"] <= nights[6] {
				t.Errorf("night %s: order %s of %s disqualified again for %s after the appeal cleared it", n, r["order_id"], pub, det)
			}
		}
	}

	// explain tells the appealed publisher's story: its cases night by
	// night, the clearance and the ledger (it exited 2 once every finding
	// was cleared).
	code, stdout, errs := runCLI(t, "explain", pub, "--db", db)
	if code != 0 || !strings.Contains(stdout, "Cases (publisher × detector") || !strings.Contains(stdout, "cleared by the appeal decided on "+nights[6]) ||
		!strings.Contains(stdout, "Ledger (7.8)") {
		t.Errorf("explain %s after the appeal: exit %d, stderr %s, stdout:\n%s", pub, code, errs, stdout)
	}

	// Re-running night 5 changes nothing: the same rows (but the run id),
	// the same ledger.
	ledgerBefore := query(`SELECT order_id || ' ' || change || ' ' || CAST(as_of AS VARCHAR) || ' ' || CAST(delta_usd AS VARCHAR) FROM dispositions ORDER BY 1`)
	casesBefore := query(`SELECT case_id || ' ' || status || ' ' || CAST(as_of AS VARCHAR) FROM case_events ORDER BY 1`)
	rerun := filepath.Join(out, "rerun-"+nights[4])
	run(nights[4], rerun)
	strip := func(rows []dispositionRow) []dispositionRow {
		var out []dispositionRow
		for _, r := range rows {
			c := dispositionRow{}
			for k, v := range r {
				if k != "run_id" {
					c[k] = v
				}
			}
			out = append(out, c)
		}
		return out
	}
	if diff := cmp.Diff(strip(byNight[nights[4]]), strip(readDispositions(t, filepath.Join(rerun, reports.DisqualifiedOrdersFile)))); diff != "" {
		t.Errorf("re-run of night 5: disqualified_orders.csv changed (-first +rerun):\n%s", diff)
	}
	if diff := cmp.Diff(ledgerBefore, query(`SELECT order_id || ' ' || change || ' ' || CAST(as_of AS VARCHAR) || ' ' || CAST(delta_usd AS VARCHAR) FROM dispositions ORDER BY 1`)); diff != "" {
		t.Errorf("re-run of night 5 changed the ledger (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(casesBefore, query(`SELECT case_id || ' ' || status || ' ' || CAST(as_of AS VARCHAR) FROM case_events ORDER BY 1`)); diff != "" {
		t.Errorf("re-run of night 5 changed the cases (-before +after):\n%s", diff)
	}

	// A publisher × detector flagged on nights 8 and 9 keeps its case id,
	// continuing; findings.ndjson carries it.
	caseOf := func(n string) map[string]string {
		t.Helper()
		body, err := os.ReadFile(filepath.Join(dir(n), reports.FindingsFile))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			var f struct {
				PublisherID string `json:"publisher_id"`
				Detector    string `json:"detector"`
				CaseID      string `json:"case_id"`
			}
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				t.Fatal(err)
			}
			if f.CaseID == "" {
				t.Errorf("night %s: finding of %s without case_id", n, f.PublisherID)
			}
			m[f.PublisherID+" "+f.Detector] = f.CaseID
		}
		return m
	}
	a, b := caseOf(nights[7]), caseOf(nights[8])
	same := 0
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if id, ok := b[k]; ok {
			if id != a[k] {
				t.Errorf("%s: case %s on night 8, %s on night 9", k, a[k], id)
			}
			same++
		}
	}
	if same == 0 {
		t.Error("no publisher × detector flagged on both nights 8 and 9")
	}
	statuses := query(`SELECT DISTINCT status FROM case_events ORDER BY 1`)
	for _, want := range []string{"cleared", "continuing", "new"} {
		if !contains(statuses, want) {
			t.Errorf("case statuses %v lack %q", statuses, want)
		}
	}

	// A night the database has no data for fails loudly, unless allowed.
	code, _, errs = runCLI(t, "run", "--in", in, "--out", filepath.Join(out, "empty"), "--db", db, "--date", "2025-01-01", "--no-crawl", "--log-level", "error")
	if code != 1 || !strings.Contains(errs, "night 2025-01-01 has no clicks and no orders") || !strings.Contains(errs, "2026-11-21") || !strings.Contains(errs, "--allow-empty-night") {
		t.Errorf("empty night: exit %d, stderr %s", code, errs)
	}
	if code, _, errs := runCLI(t, "run", "--in", in, "--out", filepath.Join(out, "empty"), "--db", db, "--date", "2025-01-01", "--no-crawl", "--allow-empty-night", "--log-level", "error"); code != 0 {
		t.Errorf("--allow-empty-night: exit %d: %s", code, errs)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
