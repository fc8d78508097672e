-- Queries of report.html beyond the machine outputs' (queries.sql): the
-- pictures' data and the penalty engine's reasons (migration 003). Every
-- parameter is bound; lists arrive as VARCHAR[]. Columns the penalty engine
-- may leave NULL (older rows) are read as such.

-- name: CTITHistograms
-- Click-to-order times of the orders credited to clicks, binned on the bound
-- edges (seconds, ascending: bin k holds edges[k-1] <= t < edges[k], bin 0
-- below the first edge), for each publisher and window of the run's findings
-- of the bound detectors among the bound publishers ('pub' rows), and for
-- every publisher of each such window (the program: 'pop' rows). One pass
-- over the orders joined to their clicks for all publishers shown.
--   $1 run id, $2 detectors, $3 publishers, $4 bin edges
WITH f AS (
    SELECT DISTINCT publisher_id, window_start, window_end
    FROM findings
    WHERE run_id = $1
      AND detector IN (SELECT unnest(CAST($2 AS VARCHAR[])))
      AND publisher_id IN (SELECT unnest(CAST($3 AS VARCHAR[])))
),
w AS (
    SELECT DISTINCT window_start, window_end FROM f
),
k AS (
    SELECT c.publisher_id,
           c.ts,
           len(list_filter(CAST($4 AS DOUBLE[]), e -> e <= epoch(o.ts - c.ts))) AS bin
    FROM orders o
    JOIN clicks c ON c.click_id = o.click_id
    WHERE o.ts >= c.ts
      AND c.publisher_id IS NOT NULL
      AND c.ts >= (SELECT min(window_start) FROM w)
      AND c.ts < (SELECT max(window_end) FROM w)
)
SELECT 'pub' AS side, f.publisher_id, f.window_start, f.window_end, k.bin, count(*) AS n
FROM f
JOIN k ON k.publisher_id = f.publisher_id AND k.ts >= f.window_start AND k.ts < f.window_end
GROUP BY ALL
UNION ALL
SELECT 'pop', NULL, w.window_start, w.window_end, k.bin, count(*)
FROM w
JOIN k ON k.ts >= w.window_start AND k.ts < w.window_end
GROUP BY ALL
ORDER BY 1, 2, 3, 4, 5;

-- name: LogoAssets
-- The bytes of the assets logo_copy findings name, by crawl, URL and hash
-- (zipped lists, one element per asset wanted): the URL is matched first,
-- the hash when the evidence cut a long URL. Bytes above the bound are not
-- read (the crawler keeps 256 KiB; anything larger is not its row).
--   $1 crawl ids, $2 asset URLs, $3 sha256s, $4 byte cap
WITH want AS (
    SELECT unnest(CAST($1 AS VARCHAR[])) AS crawl_id,
           unnest(CAST($2 AS VARCHAR[])) AS url,
           unnest(CAST($3 AS VARCHAR[])) AS sha256
)
SELECT w.crawl_id, w.url, w.sha256, a.bytes
FROM want w
JOIN crawl_assets a ON a.crawl_id = w.crawl_id AND (a.url = w.url OR a.sha256 = w.sha256)
WHERE a.bytes IS NOT NULL AND octet_length(a.bytes) <= $4
QUALIFY row_number() OVER (
    PARTITION BY w.crawl_id, w.url, w.sha256
    ORDER BY (a.url = w.url) DESC, a.role, a.url) = 1;

-- name: RecommendationWhy
-- Why each recommendation of the run is what it is, as the penalty engine
-- stored it; NULL on rows written before it did.
SELECT publisher_id,
       severity,
       confidence,
       strikes,
       CAST(to_json(shadow_finding_ids) AS VARCHAR),
       CAST(basis AS VARCHAR)
FROM recommendations
WHERE run_id = $1
ORDER BY publisher_id, action, policy_ref;

-- name: SuppressedCounts
-- Findings of the run the allow-list or a cleared appeal suppressed, per
-- suppressor.
SELECT suppressed_by, count(*)
FROM suppressed_findings
WHERE run_id = $1
GROUP BY suppressed_by
ORDER BY suppressed_by;

-- name: SuppressedFindings
-- The first $2 suppressed findings of the run, by publisher.
SELECT publisher_id,
       finding_id,
       detector,
       rule_status,
       severity,
       policy_ref,
       summary,
       CAST(round(commission_usd, 2) AS VARCHAR),
       suppressed_by,
       CAST(suppression AS VARCHAR)
FROM suppressed_findings
WHERE run_id = $1
ORDER BY publisher_id, detector, finding_id, suppressed_by, CAST(suppression AS VARCHAR)
LIMIT $2;

-- name: ShadowFindings
-- Findings of the run from rules that are not stable (test, experimental):
-- shown, acted on with a warning at most.
SELECT count(*)
FROM findings
WHERE run_id = $1 AND rule_status <> 'stable';

-- name: PublisherProfiles
-- Who the publishers in the bound list are: name, kind, country, when
-- they joined, declared traffic types, and their sites (the first 10).
SELECT p.publisher_id,
       coalesce(any_value(p.name), ''),
       coalesce(any_value(p.kind), ''),
       coalesce(any_value(p.country), ''),
       coalesce(strftime(min(p.joined_at), '%Y-%m-%d'), ''),
       CAST(to_json(coalesce(any_value(p.traffic_types), CAST([] AS VARCHAR[]))) AS VARCHAR),
       CAST(to_json(coalesce((SELECT list(s.url || CASE WHEN s.kind IS NULL THEN '' ELSE ' (' || s.kind || ')' END ORDER BY s.url)[1:10]
                              FROM sites s WHERE s.publisher_id = p.publisher_id), CAST([] AS VARCHAR[]))) AS VARCHAR),
       (SELECT count(*) FROM sites s WHERE s.publisher_id = p.publisher_id)
FROM publishers p
WHERE p.publisher_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
GROUP BY p.publisher_id
ORDER BY p.publisher_id;

-- name: CaseHistories
-- The cases of the publishers in the bound list, from the case events of
-- successful runs and of this run (?), oldest first, each night in order.
SELECT e.publisher_id,
       e.case_id,
       e.detector,
       strftime(e.as_of, '%Y-%m-%d'),
       e.status,
       coalesce(e.severity, ''),
       coalesce(e.action, ''),
       len(e.finding_ids),
       e.note
FROM case_events e
JOIN runs r ON r.run_id = e.run_id
WHERE (r.status = 'succeeded' OR e.run_id = ?)
  AND e.publisher_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
  AND (e.run_id = ? OR e.night IS DISTINCT FROM (SELECT night FROM runs WHERE run_id = ?))
ORDER BY e.publisher_id, min(e.as_of) OVER (PARTITION BY e.case_id), e.case_id, e.as_of;

-- name: PublisherAppeals
-- Appeal decisions of the publishers in the bound list.
SELECT publisher_id, detector, coalesce(finding_id, ''), outcome, strftime(decided_on, '%Y-%m-%d'), decided_by
FROM appeals
WHERE publisher_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
ORDER BY publisher_id, decided_on, appeal_id;

-- name: CorrectionReasons
-- Reason codes of tonight's dispositions per publisher (the corrections
-- table): code and orders.
SELECT publisher_id, r AS reason, count(*)
FROM (SELECT publisher_id, unnest(reason_codes) AS r FROM dispositions WHERE run_id = ?)
GROUP BY ALL
ORDER BY publisher_id, count(*) DESC, reason;

-- name: DataRange
-- The days the database holds clicks for: a backfill's date range.
SELECT coalesce(strftime(min(ts), '%Y-%m-%d'), ''), coalesce(strftime(max(ts), '%Y-%m-%d'), '')
FROM clicks;
-- name: RenderProfiles
-- The profiles in which the finding sites' newest renders completed
-- (issue 17). $1 publishers, $2 site URLs (zipped lists).
WITH want AS (
    SELECT unnest(CAST($1 AS VARCHAR[])) AS publisher_id,
           unnest(CAST($2 AS VARCHAR[])) AS site_url
)
SELECT v.publisher_id, v.site_url, v.profile
FROM want w
JOIN render_latest_ok v ON v.publisher_id = w.publisher_id AND v.site_url = w.site_url
ORDER BY 1, 2, 3;

-- name: RenderShots
-- Their screenshots, the shopper's first (what a visitor is shown).
-- $1 publishers, $2 site URLs, $3 byte cap.
WITH want AS (
    SELECT unnest(CAST($1 AS VARCHAR[])) AS publisher_id,
           unnest(CAST($2 AS VARCHAR[])) AS site_url
)
SELECT v.publisher_id, v.site_url, v.profile, s.png
FROM want w
JOIN render_latest_ok v ON v.publisher_id = w.publisher_id AND v.site_url = w.site_url
JOIN render_screenshots s ON s.render_id = v.render_id
WHERE octet_length(s.png) <= $3
ORDER BY 1, 2, (v.profile = 'shopper') DESC, 3;

-- name: RenderIntercepts
-- Their intercepted requests (affiliate hosts and brand domains: refused
-- by the render proxy, never sent), with initiator and frame visibility.
-- $1 publishers, $2 site URLs.
WITH want AS (
    SELECT unnest(CAST($1 AS VARCHAR[])) AS publisher_id,
           unnest(CAST($2 AS VARCHAR[])) AS site_url
)
SELECT v.publisher_id, v.site_url, v.profile, q.url, coalesce(q.resource_type, ''),
       coalesce(q.initiator_type, ''), coalesce(q.initiator_url, ''),
       coalesce(q.frame_visibility, CASE WHEN q.main_frame THEN 'the page itself (navigation)' ELSE '' END)
FROM want w
JOIN render_latest_ok v ON v.publisher_id = w.publisher_id AND v.site_url = w.site_url
JOIN render_requests q ON q.render_id = v.render_id
WHERE q.blocked
ORDER BY 1, 2, q.page_no, 4, 3;
