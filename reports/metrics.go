package reports

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MetricsRun is what the metrics file says about the run besides the rows
// in the database.
type MetricsRun struct {
	RunID    string
	OK       bool // the run completed and its outputs are complete
	Finished time.Time
	Timings  []Timing
	// ClickDays, when set, are the night's clicks per day
	// (affwatch_night_rows) instead of the database's: a merge holds only
	// the clicks its orders are credited to, and its partitions counted
	// the rest (NightClickDays).
	ClickDays []DayRows
}

// DayRows is a day's row count.
type DayRows struct {
	Day  string `json:"day"`
	Rows int64  `json:"rows"`
}

// nightRowsDays is how many days before the night affwatch_night_rows
// covers.
const nightRowsDays = 7

// NightClickDays counts the clicks the database holds on night and the
// nightRowsDays before it, per day (days without clicks left out).
func NightClickDays(ctx context.Context, db *sql.DB, night time.Time) ([]DayRows, error) {
	rows, err := db.QueryContext(ctx, `SELECT strftime(ts::DATE, '%Y-%m-%d') AS day, count(*) FROM clicks
		WHERE ts >= ? AND ts < ? GROUP BY 1 ORDER BY 1`, night.AddDate(0, 0, -nightRowsDays), night.AddDate(0, 0, 1))
	if err != nil {
		return nil, fmt.Errorf("night click counts: %w", err)
	}
	defer rows.Close()
	out := []DayRows{}
	for rows.Next() {
		var d DayRows
		if err := rows.Scan(&d.Day, &d.Rows); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// SumDayRows adds up several partitions' counts per day.
func SumDayRows(parts ...[]DayRows) []DayRows {
	sum := map[string]int64{}
	for _, p := range parts {
		for _, d := range p {
			sum[d.Day] += d.Rows
		}
	}
	out := make([]DayRows, 0, len(sum))
	for day, n := range sum {
		out = append(out, DayRows{day, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}

// WriteMetrics writes Prometheus text-format metrics for node_exporter's
// textfile collector (issue 8): rows loaded and quarantined per dataset,
// findings per detector and severity, recommendations per action, money at
// stake, seconds per stage and the last success. The file is replaced
// atomically so the collector never reads half of it. A failed run keeps
// the previous last-success timestamp when the old file has one.
func WriteMetrics(ctx context.Context, db *sql.DB, path string, run MetricsRun) error {
	var b strings.Builder
	metric := func(name, help, typ string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	sample := func(name string, labels map[string]string, v float64) {
		b.WriteString(name)
		if len(labels) > 0 {
			keys := make([]string, 0, len(labels))
			for k := range labels {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = k + "=" + strconv.Quote(labels[k])
			}
			b.WriteString("{" + strings.Join(parts, ",") + "}")
		}
		b.WriteString(" " + strconv.FormatFloat(v, 'g', -1, 64) + "\n")
	}

	metric("affwatch_run_success", "1 if the last run completed and its outputs are complete, else 0.", "gauge")
	sample("affwatch_run_success", nil, boolFloat(run.OK))
	metric("affwatch_last_run_timestamp_seconds", "When the last run finished (success or not).", "gauge")
	sample("affwatch_last_run_timestamp_seconds", nil, float64(run.Finished.Unix()))
	lastOK := float64(run.Finished.Unix())
	if !run.OK {
		lastOK = previousSample(path, "affwatch_last_success_timestamp_seconds")
	}
	metric("affwatch_last_success_timestamp_seconds", "When the last successful run finished; 0 if none is known.", "gauge")
	sample("affwatch_last_success_timestamp_seconds", nil, lastOK)

	metric("affwatch_stage_duration_seconds", "Seconds each stage of the last run took.", "gauge")
	for _, t := range run.Timings {
		sample("affwatch_stage_duration_seconds", map[string]string{"stage": t.Stage}, t.Seconds)
	}

	type q struct {
		name, help, sql string
		labels          []string
		args            []any // after the run id
	}
	// The night's clicks per day: counted here, or handed in by a merge.
	back := fmt.Sprint(nightRowsDays)
	clickDays, clickArgs := `SELECT ts::DATE AS day, count(*) AS k FROM clicks, n WHERE ts >= n.night - `+back+` AND ts < n.night + 1 GROUP BY 1`, []any(nil)
	if run.ClickDays != nil {
		days, counts := []string{}, []int64{}
		for _, d := range run.ClickDays {
			days, counts = append(days, d.Day), append(counts, d.Rows)
		}
		clickDays = `SELECT CAST(unnest(CAST($2 AS VARCHAR[])) AS DATE) AS day, unnest(CAST($3 AS BIGINT[])) AS k`
		clickArgs = []any{days, counts}
	}
	queries := []q{
		{"affwatch_input_rows_loaded", "Input rows stored by the last run, per dataset.",
			`SELECT dataset, sum(rows_loaded)::DOUBLE FROM load_ledger WHERE run_id = ? GROUP BY 1 ORDER BY 1`, []string{"dataset"}, nil},
		{"affwatch_input_rows_quarantined", "Input rows the last run quarantined, per dataset.",
			`SELECT dataset, sum(rows_quarantined)::DOUBLE FROM load_ledger WHERE run_id = ? GROUP BY 1 ORDER BY 1`, []string{"dataset"}, nil},
		{"affwatch_findings", "Findings of the last run per detector and severity.",
			`SELECT detector, severity, count(*)::DOUBLE FROM findings WHERE run_id = ? GROUP BY 1, 2 ORDER BY 1, 2`, []string{"detector", "severity"}, nil},
		{"affwatch_recommendations", "Recommendations of the last run per action.",
			`SELECT action, count(*)::DOUBLE FROM recommendations WHERE run_id = ? GROUP BY 1 ORDER BY 1`, []string{"action"}, nil},
		{"affwatch_night_rows", "Rows the database holds per day for the night processed and the 7 days before it (a backfill: its last day), per dataset: 0 for a day without rows, so an alert can fire on an empty or short night.",
			`WITH n AS (SELECT coalesce((SELECT night FROM runs WHERE run_id = $1), (SELECT max(ts)::DATE FROM clicks), current_date) AS night),
			 days AS (SELECT CAST(d AS DATE) AS day FROM n, range(n.night - ` + back + `, n.night + 1, INTERVAL 1 DAY) t(d)),
			 c AS (` + clickDays + `),
			 o AS (SELECT ts::DATE AS day, count(*) AS k FROM orders, n WHERE ts >= n.night - ` + back + ` AND ts < n.night + 1 GROUP BY 1)
			 SELECT 'clicks', strftime(days.day, '%Y-%m-%d'), coalesce(c.k, 0)::DOUBLE FROM days LEFT JOIN c USING (day)
			 UNION ALL
			 SELECT 'orders', strftime(days.day, '%Y-%m-%d'), coalesce(o.k, 0)::DOUBLE FROM days LEFT JOIN o USING (day)
			 ORDER BY 1, 2`, []string{"dataset", "night"}, clickArgs},
		{"affwatch_review_items", "Recommendations of the last run that need a person's decision (review_required), per kind (breach, correction).",
			`SELECT coalesce(kind, 'unknown'), count_if(review_required)::DOUBLE FROM recommendations WHERE run_id = ? GROUP BY 1 ORDER BY 1`, []string{"kind"}, nil},
		{"affwatch_dispositions", "Clause 7.8 dispositions of the last run per change (new, amended, released).",
			`SELECT change, count(*)::DOUBLE FROM dispositions WHERE run_id = ? GROUP BY 1 ORDER BY 1`, []string{"change"}, nil},
		{"affwatch_money_at_stake_usd", "US$ newly withheld (pending) and clawed back (paid) by the last run's recommendations (the net change of its dispositions).",
			`SELECT 'withhold', coalesce(sum(withhold_usd), 0)::DOUBLE FROM recommendations WHERE run_id = $1
			 UNION ALL SELECT 'clawback', coalesce(sum(clawback_usd), 0)::DOUBLE FROM recommendations WHERE run_id = $1 ORDER BY 1`, []string{"kind"}, nil},
	}
	for _, m := range queries {
		metric(m.name, m.help, "gauge")
		if run.RunID == "" || db == nil {
			continue
		}
		rows, err := db.QueryContext(ctx, m.sql, append([]any{run.RunID}, m.args...)...)
		if err != nil {
			return fmt.Errorf("metrics %s: %w", m.name, err)
		}
		for rows.Next() {
			vals := make([]string, len(m.labels))
			var v float64
			dst := make([]any, 0, len(vals)+1)
			for i := range vals {
				dst = append(dst, &vals[i])
			}
			dst = append(dst, &v)
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return err
			}
			labels := map[string]string{}
			for i, l := range m.labels {
				labels[l] = vals[i]
			}
			sample(m.name, labels, v)
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	return writeAtomic(path, []byte(b.String()))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// previousSample reads an unlabelled sample from an earlier metrics file.
func previousSample(path, name string) float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return 0
}

// writeAtomic writes data next to path and renames it into place.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
