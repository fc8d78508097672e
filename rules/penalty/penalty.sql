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
-- Moves one finding of the run to suppressed_findings with what suppressed it.
INSERT INTO suppressed_findings
SELECT f.*, $3, CAST($4 AS JSON)
FROM findings f
WHERE f.run_id = $1 AND f.finding_id = $2;

-- name: DeleteSuppressed
DELETE FROM findings WHERE run_id = $1 AND finding_id = $2;

-- name: InsertDisqualified
INSERT INTO disqualified_orders VALUES ($1, CAST($2 AS DATE), $3, $4, $5, $6, CAST($7 AS DECIMAL(18,4)));

-- name: InsertRecommendation
INSERT INTO recommendations
    (run_id, night, publisher_id, action, policy_ref, finding_ids, withhold_usd, clawback_usd,
     appeal_deadline, review_required, summary, severity, confidence, strikes, shadow_finding_ids, basis)
VALUES ($1, CAST($2 AS DATE), $3, $4, $5, $6, CAST($7 AS DECIMAL(18,4)), CAST($8 AS DECIMAL(18,4)),
        CAST($9 AS DATE), $10, $11, $12, $13, $14, $15, CAST($16 AS JSON));
