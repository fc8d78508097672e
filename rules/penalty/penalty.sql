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
-- Status and booked commission (in US$0.0001) of the orders named.
SELECT order_id,
       coalesce(status, ''),
       CAST(coalesce(commission_usd, 0) * 10000 AS BIGINT)
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
     appeal_deadline, review_required, summary, severity, confidence, strikes, shadow_finding_ids, basis)
SELECT $1, CAST($2 AS DATE), r.publisher_id, r.action, r.policy_ref, r.finding_ids, r.withhold_usd, r.clawback_usd,
       CAST(r.appeal_deadline AS DATE), r.review_required, r.summary, r.severity, r.confidence, r.strikes,
       r.shadow_finding_ids, CAST(r.basis AS JSON)
FROM (SELECT unnest(from_json($3, '[{"publisher_id":"VARCHAR","action":"VARCHAR","policy_ref":"VARCHAR","finding_ids":"VARCHAR[]","withhold_usd":"DECIMAL(18,4)","clawback_usd":"DECIMAL(18,4)","appeal_deadline":"VARCHAR","review_required":"BOOLEAN","summary":"VARCHAR","severity":"VARCHAR","confidence":"VARCHAR","strikes":"INTEGER","shadow_finding_ids":"VARCHAR[]","basis":"VARCHAR"}]'), recursive := true)) r;
