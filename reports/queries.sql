-- Queries of the report writers (DESIGN §6). Each reads one run's rows
-- (run_id = ?) or, for quarantine, the rows of that run's input files
-- (file_id in a bound list). Every ORDER BY is total, down to the columns a
-- duplicate would differ in, so that the same rows give byte-identical files
-- (DESIGN §7). Money is read as DECIMAL text, never as a float, and the
-- outputs carry it in cents: the tables keep DECIMAL(18,4) (a commission
-- rate times an amount has sub-cent digits; sums stay exact), and each
-- amount is rounded once, half away from zero, where it leaves for a file
-- (round(x, 2) is exact decimal arithmetic in DuckDB). A total in run.json
-- is the sum of the rounded amounts it totals, so it adds up to the cent
-- with the lines a reader sees.

-- name: Findings
-- Every finding of the run, in findings.ndjson order.
SELECT finding_id,
       publisher_id,
       detector,
       rule_id,
       rule_status,
       severity,
       score,
       policy_ref,
       summary,
       CAST(evidence AS VARCHAR),
       window_start,
       window_end,
       CAST(to_json(order_ids) AS VARCHAR),
       CAST(round(commission_usd, 2) AS VARCHAR),
       coalesce((SELECT min(c.case_id) FROM case_events c
                 WHERE c.run_id = findings.run_id AND list_contains(c.finding_ids, findings.finding_id)), '')
FROM findings
WHERE run_id = ?
ORDER BY publisher_id, detector, window_start, finding_id,
         window_end, rule_id, severity, score, summary, CAST(evidence AS VARCHAR);

-- name: FindingCounts
-- Findings and distinct publishers per detector and severity.
SELECT detector, severity, count(*), count(DISTINCT publisher_id)
FROM findings
WHERE run_id = ?
GROUP BY detector, severity
ORDER BY detector, severity;

-- name: PublisherCounts
-- Distinct publishers flagged, in all and per detector (a publisher flagged
-- by two detectors counts once in the total).
SELECT detector, count(DISTINCT publisher_id)
FROM findings
WHERE run_id = ?
GROUP BY GROUPING SETS ((detector), ())
ORDER BY detector NULLS FIRST;

-- name: PublisherStats
-- Per flagged publisher: findings, worst severity (rank: low 0 … critical 3,
-- unknown -1) and detectors, for report.html's index.
SELECT publisher_id,
       count(*),
       max(CASE severity WHEN 'low' THEN 0 WHEN 'medium' THEN 1
                         WHEN 'high' THEN 2 WHEN 'critical' THEN 3 ELSE -1 END),
       CAST(to_json(list_sort(list_distinct(list(detector)))) AS VARCHAR)
FROM findings
WHERE run_id = ?
GROUP BY publisher_id
ORDER BY publisher_id;

-- name: PublisherGIVT
-- Per flagged publisher: its clicks over the span of its findings' windows
-- and how many the reference lists labeled general invalid traffic
-- (click_givt); no rows when the run read no list.
WITH w AS (
    SELECT publisher_id, min(window_start) AS ws, max(window_end) AS we
    FROM findings WHERE run_id = ? GROUP BY 1
)
SELECT w.publisher_id, count(g.click_id), count(*) FILTER (WHERE g.givt), w.ws, w.we
FROM w LEFT JOIN click_givt g ON g.publisher_id = w.publisher_id AND g.ts >= w.ws AND g.ts < w.we
WHERE EXISTS (SELECT 1 FROM reference_lists WHERE run_id = ?)
GROUP BY w.publisher_id, w.ws, w.we
ORDER BY w.publisher_id;

-- name: PublisherFindings
-- The findings report.html details for the publishers in the bound list:
-- worst first, at most ? per publisher, order ids cut to the first ? (their
-- full count beside), evidence left out above ? bytes (its size beside).
WITH shown AS (
    SELECT *,
           CASE severity WHEN 'low' THEN 0 WHEN 'medium' THEN 1
                         WHEN 'high' THEN 2 WHEN 'critical' THEN 3 ELSE -1 END AS sev_rank,
           CAST(evidence AS VARCHAR) AS evidence_text
    FROM findings
    WHERE run_id = ?
      AND publisher_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
    QUALIFY row_number() OVER (
        PARTITION BY publisher_id
        ORDER BY sev_rank DESC, score DESC, detector, window_start, finding_id, evidence_text) <= ?
)
SELECT finding_id,
       publisher_id,
       detector,
       rule_id,
       rule_status,
       severity,
       score,
       policy_ref,
       summary,
       CASE WHEN strlen(evidence_text) <= ? THEN evidence_text END,
       strlen(evidence_text),
       window_start,
       window_end,
       CAST(to_json(list_slice(order_ids, 1, ?)) AS VARCHAR),
       len(order_ids),
       CAST(round(commission_usd, 2) AS VARCHAR)
FROM shown
ORDER BY publisher_id, sev_rank DESC, score DESC, detector, window_start, finding_id, evidence_text;

-- name: Recommendations
-- Every recommendation of the run, in recommendations.json order. Five
-- columns are the penalty engine's (migration 003), the last six the
-- ledger's and the cases' (migration 005): NULL on rows stored before them.
SELECT publisher_id,
       action,
       policy_ref,
       CAST(to_json(finding_ids) AS VARCHAR),
       CAST(round(withhold_usd, 2) AS VARCHAR),
       CAST(round(clawback_usd, 2) AS VARCHAR),
       strftime(appeal_deadline, '%Y-%m-%d'),
       review_required,
       summary,
       severity,
       confidence,
       strikes,
       CAST(to_json(shadow_finding_ids) AS VARCHAR),
       CAST(basis AS VARCHAR),
       CAST(round(withheld_total_usd, 2) AS VARCHAR),
       CAST(round(clawed_back_total_usd, 2) AS VARCHAR),
       kind,
       case_status,
       CAST(to_json(case_ids) AS VARCHAR),
       risk
FROM recommendations
WHERE run_id = ?
ORDER BY publisher_id, action, policy_ref, appeal_deadline, review_required, summary,
         CAST(to_json(finding_ids) AS VARCHAR), withhold_usd, clawback_usd,
         severity, confidence, strikes, CAST(to_json(shadow_finding_ids) AS VARCHAR), CAST(basis AS VARCHAR);

-- name: RecommendationCounts
-- Recommendations, publishers to review and money per action.
SELECT action,
       count(*),
       count_if(review_required),
       CAST(sum(round(withhold_usd, 2)) AS VARCHAR),
       CAST(sum(round(clawback_usd, 2)) AS VARCHAR)
FROM recommendations
WHERE run_id = ?
GROUP BY action
ORDER BY action;

-- name: DisqualifiedOrders
-- Clause 7.8's itemized report, in disqualified_orders.csv order.
SELECT order_id,
       publisher_id,
       CAST(to_json(reason_codes) AS VARCHAR),
       CAST(round(commission_usd, 2) AS VARCHAR),
       CAST(to_json(finding_ids) AS VARCHAR)
FROM disqualified_orders
WHERE run_id = ?
ORDER BY publisher_id, order_id, commission_usd,
         CAST(to_json(reason_codes) AS VARCHAR), CAST(to_json(finding_ids) AS VARCHAR);

-- name: Dispositions
-- Tonight's dispositions (the ledger's rows of the run), in
-- disqualified_orders.csv order; night is the run's (a backfill's last day).
SELECT run_id,
       strftime(as_of, '%Y-%m-%d'),
       change,
       order_id,
       publisher_id,
       coalesce(strftime(order_ts, '%Y-%m-%d'), ''),
       coalesce(CAST(round(order_amount_usd, 2) AS VARCHAR), ''),
       order_status,
       money,
       CAST(to_json(reason_codes) AS VARCHAR),
       CAST(round(commission_usd, 2) AS VARCHAR),
       CAST(round(delta_usd, 2) AS VARCHAR),
       CAST(to_json(finding_ids) AS VARCHAR),
       CAST(to_json(case_ids) AS VARCHAR),
       note
FROM dispositions
WHERE run_id = ?
ORDER BY publisher_id, order_id, change, delta_usd, note;

-- name: DispositionsParquet
-- disqualified_orders.parquet: the CSV's columns, typed: ids as text,
-- dates as DATE, money DECIMAL(18,2) (NULL in the column that does not
-- apply), lists as LIST(VARCHAR).
SELECT run_id,
       as_of AS night,
       change,
       order_id,
       publisher_id,
       CAST(order_ts AS DATE) AS order_date,
       CAST(round(order_amount_usd, 2) AS DECIMAL(18,2)) AS order_amount_usd,
       order_status,
       reason_codes,
       CAST(round(commission_usd, 2) AS DECIMAL(18,2)) AS commission_usd,
       CAST(CASE WHEN money = 'withhold' THEN round(delta_usd, 2) END AS DECIMAL(18,2)) AS withhold_usd,
       CAST(CASE WHEN money = 'clawback' THEN round(delta_usd, 2) END AS DECIMAL(18,2)) AS clawback_usd,
       finding_ids,
       case_ids,
       note
FROM dispositions
WHERE run_id = ?
ORDER BY publisher_id, order_id, change, delta_usd, note;

-- name: DispositionCounts
-- Tonight's dispositions per change, with the money they move.
SELECT change,
       count(*),
       CAST(coalesce(sum(round(delta_usd, 2)) FILTER (WHERE money = 'withhold'), 0) AS VARCHAR),
       CAST(coalesce(sum(round(delta_usd, 2)) FILTER (WHERE money = 'clawback'), 0) AS VARCHAR)
FROM dispositions
WHERE run_id = ?
GROUP BY change
ORDER BY change;

-- name: LedgerTotals
-- What the ledger holds once this run ($1) counts: its rows and those of
-- successful runs of other nights (a re-run replaces its night's rows).
-- Orders held, money withheld, money clawed back.
WITH this AS (SELECT night FROM runs WHERE run_id = $1),
rows AS (
    SELECT d.*
    FROM dispositions d
    JOIN runs r ON r.run_id = d.run_id
    WHERE d.run_id = $1
       OR (r.status = 'succeeded' AND d.night IS DISTINCT FROM (SELECT night FROM this))
),
latest AS (
    SELECT order_id, arg_max(commission_usd, as_of) AS held
    FROM rows
    GROUP BY order_id
)
SELECT (SELECT count(*) FROM latest WHERE held > 0),
       CAST(coalesce(sum(round(delta_usd, 2)) FILTER (WHERE money = 'withhold'), 0) AS VARCHAR),
       CAST(coalesce(sum(round(delta_usd, 2)) FILTER (WHERE money = 'clawback'), 0) AS VARCHAR)
FROM rows;

-- name: DisqualifiedTotals
SELECT count(*), CAST(coalesce(sum(round(commission_usd, 2)), 0) AS VARCHAR)
FROM disqualified_orders
WHERE run_id = ?;

-- name: QuarantineByDataset
-- Quarantined rows of the run's input files, per dataset, and their
-- problems (a row with a bad timestamp and a bad boolean is one row, two
-- problems).
SELECT dataset, count(DISTINCT (file_id, line)), count(*)
FROM quarantine
WHERE file_id IN (SELECT unnest(CAST(? AS BIGINT[])))
GROUP BY dataset
ORDER BY dataset;

-- name: QuarantineByReason
-- The ? most frequent (dataset, reason) pairs, and how many pairs there are.
SELECT dataset, reason, count(*) AS n, count(*) OVER () AS pairs
FROM quarantine
WHERE file_id IN (SELECT unnest(CAST(? AS BIGINT[])))
GROUP BY dataset, reason
ORDER BY n DESC, dataset, reason
LIMIT ?;

-- name: QuarantineRows
-- The first ? quarantined rows by dataset, file and position; the value is
-- cut in SQL so a huge one is never read whole.
SELECT dataset, file, line, column_name, reason, left(coalesce(value, ''), ?)
FROM quarantine
WHERE file_id IN (SELECT unnest(CAST(? AS BIGINT[])))
ORDER BY dataset, file, line, column_name, reason, value
LIMIT ?;

-- name: SignalsUnavailable
SELECT DISTINCT detector, signal, reason
FROM signals_unavailable
WHERE run_id = ?
ORDER BY detector, signal, reason;

-- name: ReferenceLists
-- The lists the run read (loaders/reflists), in the order it read them.
SELECT kind, name, class, version, sha256, path, entries, rejected, coalesce(first_rejects::VARCHAR, '{}'), matched
FROM reference_lists
WHERE run_id = ?
ORDER BY kind, name;

-- name: FindingsParquet
-- findings.parquet: findings.ndjson's columns in its order (this ORDER BY is
-- the Findings query's), typed for Parquet readers: money DECIMAL(18,2),
-- the cents of the JSON and CSV outputs, exact (never a float); windows as
-- UTC instants (timezone('UTC', …) reads the stored UTC wall time as such,
-- whatever the session's zone); order ids LIST(VARCHAR); evidence JSON text,
-- an object as in findings.ndjson.
SELECT f.finding_id,
       f.publisher_id,
       f.detector,
       f.rule_id,
       f.rule_status,
       f.severity,
       f.score,
       f.policy_ref,
       f.summary,
       CASE WHEN json_type(f.evidence) = 'OBJECT' THEN CAST(f.evidence AS VARCHAR)
            ELSE CAST(json_object('value', f.evidence) AS VARCHAR) END AS evidence,
       timezone('UTC', f.window_start) AS window_start,
       timezone('UTC', f.window_end) AS window_end,
       f.order_ids,
       round(f.commission_usd, 2) AS commission_usd,
       (SELECT min(c.case_id) FROM case_events c
        WHERE c.run_id = f.run_id AND list_contains(c.finding_ids, f.finding_id)) AS case_id
FROM findings AS f
WHERE f.run_id = ?
ORDER BY f.publisher_id, f.detector, f.window_start, f.finding_id,
         f.window_end, f.rule_id, f.severity, f.score, f.summary, CAST(f.evidence AS VARCHAR);

-- name: RecommendationsParquet
-- recommendations.parquet: recommendations.json's keys in its order (this
-- ORDER BY is the Recommendations query's); money DECIMAL(18,2), the
-- deadline a DATE, id lists LIST(VARCHAR) (shadow_finding_ids empty, not
-- NULL, on rows from before the penalty engine, as in the JSON), basis JSON
-- text or NULL.
SELECT r.publisher_id,
       r.action,
       r.policy_ref,
       r.finding_ids,
       round(r.withhold_usd, 2) AS withhold_usd,
       round(r.clawback_usd, 2) AS clawback_usd,
       r.appeal_deadline,
       r.review_required,
       r.summary,
       r.severity,
       r.confidence,
       r.strikes,
       coalesce(r.shadow_finding_ids, CAST([] AS VARCHAR[])) AS shadow_finding_ids,
       CAST(r.basis AS VARCHAR) AS basis,
       round(r.withheld_total_usd, 2) AS withheld_total_usd,
       round(r.clawed_back_total_usd, 2) AS clawed_back_total_usd,
       r.kind,
       r.case_status,
       coalesce(r.case_ids, CAST([] AS VARCHAR[])) AS case_ids,
       r.risk
FROM recommendations AS r
WHERE r.run_id = ?
ORDER BY r.publisher_id, r.action, r.policy_ref, r.appeal_deadline, r.review_required, r.summary,
         CAST(to_json(r.finding_ids) AS VARCHAR), r.withhold_usd, r.clawback_usd,
         r.severity, r.confidence, r.strikes, CAST(to_json(r.shadow_finding_ids) AS VARCHAR), CAST(r.basis AS VARCHAR);

-- name: ExplainRunByID
-- `affwatch explain --run`: the named run, whatever its status.
SELECT run_id, strftime(night, '%Y-%m-%d'), status, started_at, finished_at
FROM runs
WHERE run_id = ?;

-- name: ExplainLatestRun
-- `affwatch explain`: the latest succeeded `run` (crawl runs store no
-- results), of the night ? when it is not NULL.
SELECT run_id, strftime(night, '%Y-%m-%d'), status, started_at, finished_at
FROM runs
WHERE status = 'succeeded'
  AND command IN ('run', 'merge')
  AND (CAST(? AS DATE) IS NULL OR night = CAST(? AS DATE))
ORDER BY finished_at DESC NULLS LAST, started_at DESC, run_id DESC
LIMIT 1;

-- name: ExplainPublisherRuns
-- `affwatch explain --all-nights`: every succeeded run holding rows of the
-- publisher ? (a re-run replaces a night's rows, so one run per night),
-- newest night first, the backfills (night NULL) last.
SELECT run_id, strftime(night, '%Y-%m-%d'), status, started_at, finished_at
FROM runs
WHERE status = 'succeeded'
  AND run_id IN (SELECT run_id FROM findings WHERE publisher_id = ?
                 UNION SELECT run_id FROM recommendations WHERE publisher_id = ?
                 UNION SELECT run_id FROM suppressed_findings WHERE publisher_id = ?)
ORDER BY night DESC NULLS LAST, finished_at DESC NULLS LAST, run_id DESC;

-- name: ExplainFindings
-- The publisher's (?) findings in the runs of the bound list, worst first
-- as in report.html; evidence left out above ? bytes (its size beside).
SELECT run_id,
       finding_id,
       detector,
       rule_id,
       rule_status,
       severity,
       score,
       policy_ref,
       summary,
       CASE WHEN strlen(CAST(evidence AS VARCHAR)) <= ? THEN CAST(evidence AS VARCHAR) END,
       strlen(CAST(evidence AS VARCHAR)),
       window_start,
       window_end,
       CAST(to_json(order_ids) AS VARCHAR),
       CAST(round(commission_usd, 2) AS VARCHAR)
FROM findings
WHERE publisher_id = ?
  AND run_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
ORDER BY run_id,
         CASE severity WHEN 'low' THEN 0 WHEN 'medium' THEN 1
                       WHEN 'high' THEN 2 WHEN 'critical' THEN 3 ELSE -1 END DESC,
         score DESC, detector, window_start, finding_id, CAST(evidence AS VARCHAR);

-- name: ExplainRecommendations
-- The publisher's (?) recommendations in the runs of the bound list;
-- columns as in the Recommendations query, after the run id.
SELECT run_id,
       publisher_id,
       action,
       policy_ref,
       CAST(to_json(finding_ids) AS VARCHAR),
       CAST(round(withhold_usd, 2) AS VARCHAR),
       CAST(round(clawback_usd, 2) AS VARCHAR),
       strftime(appeal_deadline, '%Y-%m-%d'),
       review_required,
       summary,
       severity,
       confidence,
       strikes,
       CAST(to_json(shadow_finding_ids) AS VARCHAR),
       CAST(basis AS VARCHAR),
       CAST(round(withheld_total_usd, 2) AS VARCHAR),
       CAST(round(clawed_back_total_usd, 2) AS VARCHAR),
       kind,
       case_status,
       CAST(to_json(case_ids) AS VARCHAR),
       risk
FROM recommendations
WHERE publisher_id = ?
  AND run_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
ORDER BY run_id, action, policy_ref, summary, CAST(to_json(finding_ids) AS VARCHAR);

-- name: ExplainSuppressed
-- The publisher's (?) findings an allow-list entry or an appeal suppressed
-- in the runs of the bound list.
SELECT run_id,
       finding_id,
       detector,
       severity,
       score,
       summary,
       suppressed_by,
       CAST(suppression AS VARCHAR)
FROM suppressed_findings
WHERE publisher_id = ?
  AND run_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
ORDER BY run_id, detector, finding_id, suppressed_by, CAST(suppression AS VARCHAR);

-- name: ExplainHistory
-- The publisher's (?) findings and recommendations in succeeded runs other
-- than those of the bound list, one line each, newest night first (each
-- night's recommendation before its findings), the first ?; the last
-- column counts them all.
WITH other AS (
    SELECT run_id, night FROM runs
    WHERE status = 'succeeded'
      AND run_id NOT IN (SELECT unnest(CAST(? AS VARCHAR[])))
),
lines AS (
    SELECT o.night, r.run_id, 0 AS kind_rank, 'recommendation' AS kind, '' AS id,
           r.action AS what, r.policy_ref, coalesce(r.severity, '') AS severity, CAST(NULL AS DOUBLE) AS score,
           len(r.finding_ids) AS n, round(r.withhold_usd, 2) AS withhold, round(r.clawback_usd, 2) AS clawback,
           r.summary
    FROM recommendations AS r JOIN other AS o USING (run_id)
    WHERE r.publisher_id = ?
    UNION ALL
    SELECT o.night, f.run_id, 1, 'finding', f.finding_id,
           f.detector, f.policy_ref, f.severity, f.score,
           len(f.order_ids), round(f.commission_usd, 2), CAST(0 AS DECIMAL(18,2)),
           f.summary
    FROM findings AS f JOIN other AS o USING (run_id)
    WHERE f.publisher_id = ?
)
SELECT strftime(night, '%Y-%m-%d'), run_id, kind, id, what, policy_ref, severity, score, n,
       CAST(withhold AS VARCHAR), CAST(clawback AS VARCHAR), summary, count(*) OVER ()
FROM lines
ORDER BY night DESC NULLS LAST, run_id DESC, kind_rank, score DESC NULLS LAST, what, id, summary
LIMIT ?;

-- name: ExplainAppeals
-- Appeal decisions recorded for the publisher ? (clause G.12), newest first.
SELECT appeal_id, detector, coalesce(finding_id, ''), outcome, strftime(decided_on, '%Y-%m-%d'), decided_by, note
FROM appeals
WHERE publisher_id = ?
ORDER BY decided_on DESC, appeal_id;

-- name: ExplainCases
-- The publisher's (?) case events of successful runs, oldest case first,
-- each case's nights in order.
SELECT e.case_id,
       e.detector,
       strftime(e.as_of, '%Y-%m-%d'),
       e.status,
       e.severity,
       e.action,
       CAST(to_json(e.finding_ids) AS VARCHAR),
       e.suppressed,
       e.note
FROM case_events e
JOIN runs r ON r.run_id = e.run_id
WHERE r.status = 'succeeded'
  AND e.publisher_id = ?
ORDER BY min(e.as_of) OVER (PARTITION BY e.case_id), e.case_id, e.as_of, e.run_id;

-- name: ExplainLedger
-- What the disposition ledger holds for the publisher (?): orders still
-- held, money withheld and clawed back over every successful run.
WITH rows AS (
    SELECT d.*
    FROM dispositions d
    JOIN runs r ON r.run_id = d.run_id
    WHERE r.status = 'succeeded'
      AND d.publisher_id = ?
),
latest AS (
    SELECT order_id, arg_max(commission_usd, as_of) AS held
    FROM rows
    GROUP BY order_id
)
SELECT (SELECT count(*) FROM latest WHERE held > 0),
       CAST(coalesce(sum(round(delta_usd, 2)) FILTER (WHERE money = 'withhold'), 0) AS VARCHAR),
       CAST(coalesce(sum(round(delta_usd, 2)) FILTER (WHERE money = 'clawback'), 0) AS VARCHAR)
FROM rows;

-- name: StoredRun
-- `affwatch report`: a run and the manifest its outputs were written with.
SELECT run_id, status, strftime(night, '%Y-%m-%d'), finished_at, CAST(manifest AS VARCHAR)
FROM runs
WHERE run_id = ?;

-- name: StoredRunReplacedBy
-- The later succeeded run of the same night (? twice; NULL: the backfill)
-- whose success deleted the results of the run finished at ?.
SELECT run_id
FROM runs
WHERE status = 'succeeded'
  AND command IN ('run', 'merge')
  AND night IS NOT DISTINCT FROM CAST(? AS DATE)
  AND finished_at > ?
ORDER BY finished_at DESC, run_id DESC
LIMIT 1;
