-- Queries of the report writers (DESIGN §6). Each reads one run's rows
-- (run_id = ?) or, for quarantine, the rows of that run's input files
-- (file_id in a bound list). Every ORDER BY is total, down to the columns a
-- duplicate would differ in, so that the same rows give byte-identical files
-- (DESIGN §7). Money is read as DECIMAL text, never as a float.

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
       CAST(commission_usd AS VARCHAR)
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
       CAST(commission_usd AS VARCHAR)
FROM shown
ORDER BY publisher_id, sev_rank DESC, score DESC, detector, window_start, finding_id, evidence_text;

-- name: Recommendations
-- Every recommendation of the run, in recommendations.json order.
SELECT publisher_id,
       action,
       policy_ref,
       CAST(to_json(finding_ids) AS VARCHAR),
       CAST(withhold_usd AS VARCHAR),
       CAST(clawback_usd AS VARCHAR),
       strftime(appeal_deadline, '%Y-%m-%d'),
       review_required,
       summary
FROM recommendations
WHERE run_id = ?
ORDER BY publisher_id, action, policy_ref, appeal_deadline, review_required, summary,
         CAST(to_json(finding_ids) AS VARCHAR), withhold_usd, clawback_usd;

-- name: RecommendationCounts
-- Recommendations, publishers to review and money per action.
SELECT action,
       count(*),
       count_if(review_required),
       CAST(sum(withhold_usd) AS VARCHAR),
       CAST(sum(clawback_usd) AS VARCHAR)
FROM recommendations
WHERE run_id = ?
GROUP BY action
ORDER BY action;

-- name: DisqualifiedOrders
-- Clause 7.8's itemized report, in disqualified_orders.csv order.
SELECT order_id,
       publisher_id,
       CAST(to_json(reason_codes) AS VARCHAR),
       CAST(commission_usd AS VARCHAR),
       CAST(to_json(finding_ids) AS VARCHAR)
FROM disqualified_orders
WHERE run_id = ?
ORDER BY publisher_id, order_id, commission_usd,
         CAST(to_json(reason_codes) AS VARCHAR), CAST(to_json(finding_ids) AS VARCHAR);

-- name: DisqualifiedTotals
SELECT count(*), CAST(coalesce(sum(commission_usd), 0) AS VARCHAR)
FROM disqualified_orders
WHERE run_id = ?;

-- name: QuarantineByDataset
-- Quarantined rows of the run's input files, per dataset.
SELECT dataset, count(*)
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
