-- Queries of the penalty engine (clause F.11, 7.8–7.9, G.12). Parameters are
-- bound; lists arrive as VARCHAR[].

-- name: EarlierOffences
-- The days on which each publisher was found breaking a stable rule in an
-- earlier successful run (history, for repeat offenders): findings of
-- other nights only (a re-run of tonight replaces tonight's rows), dated by
-- the end of their window, between the look-back and the strike gap, minus
-- commission corrections and minus what a cleared appeal covers (the
-- publisher is not escalated for a finding it was cleared of).
--   $1 run id, $2 night (NULL: backfill), $3 publishers, $4 correction
--   detectors, $5 the run date, $6 look-back days, $7 strike gap days
SELECT f.publisher_id,
       CAST(f.window_end AS DATE) AS day
FROM findings f
JOIN runs r ON r.run_id = f.run_id
WHERE r.status = 'succeeded'
  AND f.run_id <> $1
  AND f.night IS DISTINCT FROM CAST($2 AS DATE)
  AND f.publisher_id IN (SELECT unnest(CAST($3 AS VARCHAR[])))
  AND f.rule_status = 'stable'
  AND f.detector NOT IN (SELECT unnest(CAST($4 AS VARCHAR[])))
  AND CAST(f.window_end AS DATE) > CAST($5 AS DATE) - CAST($6 AS INTEGER)
  AND CAST(f.window_end AS DATE) <= CAST($5 AS DATE) - CAST($7 AS INTEGER)
  AND NOT EXISTS (
      SELECT 1
      FROM appeals a
      WHERE a.publisher_id = f.publisher_id
        AND a.outcome = 'cleared'
        AND (a.detector = '*' OR a.detector = f.detector)
        AND CAST(f.window_end AS DATE) <= a.decided_on)
GROUP BY ALL
ORDER BY 1, 2;

-- name: ClearedFindings
-- Cleared appeals that name one of tonight's finding ids: the finding came
-- back unchanged (same input, same id) and must not be held against the
-- publisher again.
SELECT finding_id, appeal_id, detector, CAST(decided_on AS VARCHAR), decided_by, note
FROM appeals
WHERE outcome = 'cleared'
  AND finding_id IN (SELECT unnest(CAST($1 AS VARCHAR[])))
ORDER BY finding_id, decided_on, appeal_id;

-- name: PublisherSites
-- The sites of the publishers named, for allow-list entries by domain.
SELECT publisher_id, url
FROM sites
WHERE publisher_id IN (SELECT unnest(CAST($1 AS VARCHAR[])))
ORDER BY publisher_id, url;

-- name: OrderFacts
-- Status, booked commission (in US$0.0001), payment time and amount of the
-- orders named.
SELECT order_id,
       coalesce(status, ''),
       CAST(coalesce(commission_usd, 0) * 10000 AS BIGINT),
       ts,
       CAST(amount_usd AS VARCHAR)
FROM orders
WHERE order_id IN (SELECT unnest(CAST($1 AS VARCHAR[])));

-- name: Suppress
-- Moves the run's findings named in the JSON array $2 ({id, by, detail}) to
-- suppressed_findings with what suppressed them (one statement, any count).
INSERT INTO suppressed_findings
SELECT f.*, s.by, CAST(s.detail AS JSON)
FROM findings f
JOIN (SELECT unnest(from_json($2, '[{"id":"VARCHAR","by":"VARCHAR","detail":"VARCHAR"}]'), recursive := true)) s
  ON s.id = f.finding_id
WHERE f.run_id = $1;

-- name: DeleteSuppressed
DELETE FROM findings
WHERE run_id = $1
  AND finding_id IN (SELECT unnest(CAST($2 AS VARCHAR[])));

-- name: InsertDisqualified
-- Every disqualified order of the run from one JSON array (no per-row round trips).
INSERT INTO disqualified_orders
SELECT $1, CAST($2 AS DATE), d.order_id, d.publisher_id, d.reason_codes, d.finding_ids, d.commission_usd
FROM (SELECT unnest(from_json($3, '[{"order_id":"VARCHAR","publisher_id":"VARCHAR","reason_codes":"VARCHAR[]","finding_ids":"VARCHAR[]","commission_usd":"DECIMAL(18,4)"}]'), recursive := true)) d;

-- name: InsertRecommendations
-- Every recommendation of the run from one JSON array.
INSERT INTO recommendations
    (run_id, night, publisher_id, action, policy_ref, finding_ids, withhold_usd, clawback_usd,
     appeal_deadline, review_required, summary, severity, confidence, strikes, shadow_finding_ids, basis,
     withheld_total_usd, clawed_back_total_usd, kind, case_status, case_ids, risk)
SELECT $1, CAST($2 AS DATE), r.publisher_id, r.action, r.policy_ref, r.finding_ids, r.withhold_usd, r.clawback_usd,
       CAST(r.appeal_deadline AS DATE), r.review_required, r.summary, r.severity, r.confidence, r.strikes,
       r.shadow_finding_ids, CAST(r.basis AS JSON),
       r.withheld_total_usd, r.clawed_back_total_usd, r.kind, r.case_status, r.case_ids, r.risk
FROM (SELECT unnest(from_json($3, '[{"publisher_id":"VARCHAR","action":"VARCHAR","policy_ref":"VARCHAR","finding_ids":"VARCHAR[]","withhold_usd":"DECIMAL(18,4)","clawback_usd":"DECIMAL(18,4)","appeal_deadline":"VARCHAR","review_required":"BOOLEAN","summary":"VARCHAR","severity":"VARCHAR","confidence":"VARCHAR","strikes":"INTEGER","shadow_finding_ids":"VARCHAR[]","basis":"VARCHAR","withheld_total_usd":"DECIMAL(18,4)","clawed_back_total_usd":"DECIMAL(18,4)","kind":"VARCHAR","case_status":"VARCHAR","case_ids":"VARCHAR[]","risk":"DOUBLE"}]'), recursive := true)) r;

-- name: PriorCases
-- Every case as the case events of successful runs of earlier days left it
-- (a night is judged against earlier days only, so re-running it gives the
-- same rows; a backfill, $4, also sees nights of its last day), oldest case
-- first per publisher × detector: its first night, last night with a
-- finding, nights with a finding, latest status, worst severity (rank),
-- the ladder actions and the finding ids seen.
--   $1 run id, $2 night (NULL: backfill), $3 run date, $4 backfill
WITH ev AS (
    SELECT e.*
    FROM case_events e
    JOIN runs r ON r.run_id = e.run_id
    WHERE r.status = 'succeeded'
      AND e.run_id <> $1
      AND e.night IS DISTINCT FROM CAST($2 AS DATE)
      AND (e.as_of < CAST($3 AS DATE) OR (CAST($4 AS BOOLEAN) AND e.as_of = CAST($3 AS DATE)))
)
SELECT case_id,
       publisher_id,
       detector,
       CAST(min(as_of) AS TIMESTAMP),
       CAST(max(as_of) FILTER (WHERE len(finding_ids) > 0) AS TIMESTAMP),
       count(DISTINCT as_of) FILTER (WHERE len(finding_ids) > 0),
       arg_max(status, as_of),
       coalesce(max(CASE severity WHEN 'low' THEN 0 WHEN 'medium' THEN 1
                                  WHEN 'high' THEN 2 WHEN 'critical' THEN 3 END), -1),
       CAST(to_json(coalesce(list_sort(list_distinct(list(action) FILTER (WHERE action IS NOT NULL))), [])) AS VARCHAR),
       CAST(to_json(list_sort(list_distinct(flatten(list(finding_ids))))) AS VARCHAR)
FROM ev
GROUP BY case_id, publisher_id, detector
ORDER BY publisher_id, detector, min(as_of), case_id;

-- name: ClearedAppealsInForce
-- Cleared appeals decided on or before the run date ($1).
SELECT publisher_id, detector, coalesce(finding_id, ''), CAST(decided_on AS TIMESTAMP)
FROM appeals
WHERE outcome = 'cleared'
  AND decided_on <= CAST($1 AS DATE)
ORDER BY decided_on, appeal_id;

-- name: PriorDispositions
-- The latest disposition, from successful runs of earlier days, of the
-- orders $5 and of every order of the publishers $6 (those with cleared
-- appeals, whose orders may be released): what the ledger holds.
--   $1 run id, $2 night (NULL: backfill), $3 run date, $4 backfill
WITH ev AS (
    SELECT d.*
    FROM dispositions d
    JOIN runs r ON r.run_id = d.run_id
    WHERE r.status = 'succeeded'
      AND d.run_id <> $1
      AND d.night IS DISTINCT FROM CAST($2 AS DATE)
      AND (d.as_of < CAST($3 AS DATE) OR (CAST($4 AS BOOLEAN) AND d.as_of = CAST($3 AS DATE)))
      AND (d.order_id IN (SELECT unnest(CAST($5 AS VARCHAR[])))
           OR d.publisher_id IN (SELECT unnest(CAST($6 AS VARCHAR[]))))
)
SELECT order_id,
       publisher_id,
       change,
       order_ts,
       order_status,
       money,
       CAST(to_json(reason_codes) AS VARCHAR),
       CAST(to_json(finding_ids) AS VARCHAR),
       CAST(to_json(case_ids) AS VARCHAR),
       CAST(commission_usd * 10000 AS BIGINT)
FROM ev
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY as_of DESC, run_id DESC) = 1
ORDER BY order_id;

-- name: LedgerTotals
-- Money each publisher ($5) has held in the ledger before tonight, in
-- US$0.0001: withheld, clawed back.
SELECT d.publisher_id,
       CAST(coalesce(sum(d.delta_usd) FILTER (WHERE d.money = 'withhold'), 0) * 10000 AS BIGINT),
       CAST(coalesce(sum(d.delta_usd) FILTER (WHERE d.money = 'clawback'), 0) * 10000 AS BIGINT)
FROM dispositions d
JOIN runs r ON r.run_id = d.run_id
WHERE r.status = 'succeeded'
  AND d.run_id <> $1
  AND d.night IS DISTINCT FROM CAST($2 AS DATE)
  AND (d.as_of < CAST($3 AS DATE) OR (CAST($4 AS BOOLEAN) AND d.as_of = CAST($3 AS DATE)))
  AND d.publisher_id IN (SELECT unnest(CAST($5 AS VARCHAR[])))
GROUP BY d.publisher_id;

-- name: InsertCaseEvents
-- Tonight's case events from one JSON array.
INSERT INTO case_events
SELECT $1, CAST($2 AS DATE), CAST($3 AS DATE), e.case_id, e.publisher_id, e.detector, e.status,
       e.severity, e.score, e.action, e.finding_ids, e.suppressed, e.note
FROM (SELECT unnest(from_json($4, '[{"case_id":"VARCHAR","publisher_id":"VARCHAR","detector":"VARCHAR","status":"VARCHAR","severity":"VARCHAR","score":"DOUBLE","action":"VARCHAR","finding_ids":"VARCHAR[]","suppressed":"BOOLEAN","note":"VARCHAR"}]'), recursive := true)) e;

-- name: InsertDispositions
-- Tonight's dispositions from one JSON array.
INSERT INTO dispositions
SELECT $1, CAST($2 AS DATE), CAST($3 AS DATE), d.order_id, d.publisher_id, d.change,
       CAST(d.order_ts AS TIMESTAMP), CAST(d.order_amount_usd AS DECIMAL(18,4)), d.order_status, d.money,
       d.reason_codes, d.finding_ids, d.case_ids, d.commission_usd, d.delta_usd, d.note
FROM (SELECT unnest(from_json($4, '[{"order_id":"VARCHAR","publisher_id":"VARCHAR","change":"VARCHAR","order_ts":"VARCHAR","order_amount_usd":"VARCHAR","order_status":"VARCHAR","money":"VARCHAR","reason_codes":"VARCHAR[]","finding_ids":"VARCHAR[]","case_ids":"VARCHAR[]","commission_usd":"DECIMAL(18,4)","delta_usd":"DECIMAL(18,4)","note":"VARCHAR"}]'), recursive := true)) d;
