-- click_burst — E.10.c: "using any programs, scripts, or other forms to
-- directly or indirectly generate any abnormal viewing, clicking, or enquiry".
-- Inputs: clicks (ts, publisher_id; ip, user_agent, dwell_ms when present), orders (click_id),
-- click_traffic (the GIVT labels of loaders/reflists: declared bots, data-centre addresses).
-- A bucket is a candidate when its clicks exceed the publisher's own robust
-- baselines: its zero-filled bucket counts over the look-back, and the same
-- slot of the day on the other days (modified z-score above min_modified_z
-- for both), and min_excess_ratio × the median. Whether the surplus is machine-made is
-- decided in Go from the metrics returned here.

-- name: CandidateBuckets
-- $1 scope_start, $2 scope_end, $3 baseline_start (TIMESTAMP), $4 bucket_minutes,
-- $5 min_modified_z, $6 min_bucket_clicks, $7 min_excess_ratio, $8 engaged_dwell_ms, $9 seasonal_min_days
-- The baseline's bucket counts come from the per-day state BucketDays
-- keeps (the days are whole, so the day filter is the timestamp filter). A
-- click without a publisher is never judged and has no row.
-- Only a publisher with a bucket of the judged days at min_bucket_clicks
-- or more can have a candidate (an empty bucket never is one: $6 ≥ 1), so
-- only those publishers' baselines are zero-filled and computed.
WITH judged AS (
    SELECT DISTINCT publisher_id FROM click_burst_buckets
    WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE) AND n >= $6
),
counts AS (
    SELECT publisher_id, b, sum(n)::BIGINT AS n
    FROM click_burst_buckets
    WHERE day >= CAST($3 AS DATE) AND day < CAST($2 AS DATE)
      AND publisher_id IN (SELECT publisher_id FROM judged)
    GROUP BY publisher_id, b
),
span AS (
    SELECT publisher_id, min(b) AS first_b FROM counts GROUP BY publisher_id
),
-- Zero-filled: an hour without clicks is part of the baseline, or a
-- publisher with sparse traffic would look bursty all the time.
grid AS (
    SELECT s.publisher_id, unnest(generate_series(s.first_b, $2 - to_minutes($4::INTEGER), to_minutes($4::INTEGER))) AS b
    FROM span s
),
filled AS (
    SELECT g.publisher_id, g.b, coalesce(k.n, 0) AS n
    FROM grid g LEFT JOIN counts k ON k.publisher_id = g.publisher_id AND k.b = g.b
),
base AS (
    SELECT publisher_id, median(n) AS med, mad(n) AS mad, avg(n) AS mean, count(*) AS buckets
    FROM filled GROUP BY publisher_id
),
-- Seasonality: the same slot of the day on the other days of the look-back,
-- so a publisher's regular evening peak (or an office that clicks every
-- morning at nine) is compared with itself, not with its quiet hours.
-- Count data is at least Poisson-noisy, hence the sqrt(median) floor.
seasonal AS (
    SELECT publisher_id, hour(b) * 60 + minute(b) AS slot,
           median(n) AS s_med, greatest(mad(n), sqrt(median(n)), 1) AS s_mad, count(*) AS s_days
    FROM filled GROUP BY publisher_id, slot
),
cand AS (
    SELECT f.publisher_id, f.b, f.n, base.med, base.mad, base.mean, base.buckets,
           base.med + $5 / 0.6745 * greatest(base.mad, 1) AS threshold,
           s.s_med, s.s_mad, s.s_days
    FROM filled f
    JOIN base ON base.publisher_id = f.publisher_id
    JOIN seasonal s ON s.publisher_id = f.publisher_id AND s.slot = hour(f.b) * 60 + minute(f.b)
    WHERE f.b >= $1
      AND f.n >= $6
      -- Iglewicz–Hoaglin modified z-score 0.6745·(x − median)/MAD above $5
      AND 0.6745 * (f.n - base.med) / greatest(base.mad, 1) > $5
      AND f.n >= $7 * greatest(base.med, 1)
      AND (s.s_days < $9 OR 0.6745 * (f.n - s.s_med) / s.s_mad > $5)
),
hits AS (
    SELECT k.publisher_id, k.b, cl.click_id, cl.ts, cl.ip, cl.user_agent, cl.dwell_ms,
           coalesce(t.givt, false) AS givt, t.ua_list IS NOT NULL AS bot_ua, coalesce(t.ip_class = 'datacenter', false) AS dc,
           epoch(cl.ts - lag(cl.ts) OVER (PARTITION BY k.publisher_id, k.b ORDER BY cl.ts, cl.click_id)) AS gap
    FROM cand k
    -- the candidates lie in the judged days: the bound keeps the scan there
    JOIN clicks cl ON cl.publisher_id = k.publisher_id
                  AND cl.ts >= k.b AND cl.ts < k.b + to_minutes($4::INTEGER)
                  AND cl.ts >= $1 AND cl.ts < $2
    LEFT JOIN click_traffic t ON t.click_id = cl.click_id
),
metrics AS (
    SELECT publisher_id, b,
           count(DISTINCT ip) AS ips, count(ip) AS ip_known,
           count(DISTINCT user_agent) AS uas, count(user_agent) AS ua_known,
           count(*) FILTER (WHERE givt) AS givt, count(*) FILTER (WHERE bot_ua) AS bot_ua, count(*) FILTER (WHERE dc) AS dc,
           count(*) FILTER (WHERE dwell_ms >= $8) AS engaged, count(dwell_ms) AS dwell_known,
           avg(gap) AS gap_mean, stddev_pop(gap) AS gap_sd
    FROM hits GROUP BY publisher_id, b
),
sold AS (
    SELECT h.publisher_id, h.b, count(*) AS orders, coalesce(sum(o.commission_usd), 0) AS commission
    FROM hits h JOIN orders o ON o.click_id = h.click_id AND o.publisher_id = h.publisher_id
    GROUP BY h.publisher_id, h.b
)
SELECT k.publisher_id, k.b, k.n, k.med, k.mad, k.mean, k.threshold, k.buckets, k.s_med, k.s_mad, k.s_days,
       m.ips, m.ip_known, m.uas, m.ua_known, m.givt, m.bot_ua, m.dc, m.engaged, m.dwell_known,
       m.gap_mean, m.gap_sd,
       coalesce(s.orders, 0) AS orders, coalesce(s.commission, 0)::DOUBLE AS commission
FROM cand k
JOIN metrics m ON m.publisher_id = k.publisher_id AND m.b = k.b
LEFT JOIN sold s ON s.publisher_id = k.publisher_id AND s.b = k.b
ORDER BY k.publisher_id, k.b;

-- name: BucketDays
-- detectors.DayState compute of click_burst_buckets for the days of
-- day_state_days: per day, publisher and bucket, the clicks.
-- $1, $2 the span; $3 bucket_minutes
INSERT INTO click_burst_buckets
SELECT CAST(ts AS DATE) AS day, publisher_id, time_bucket(to_minutes($3::INTEGER), ts) AS b, count(*) AS n
FROM clicks
WHERE ts >= $1 AND ts < $2 AND publisher_id IS NOT NULL
  AND CAST(ts AS DATE) IN (SELECT day FROM day_state_days)
GROUP BY ALL;

-- name: Population
-- Global table click_burst_population (detectors.GlobalTable): orders per
-- attributed click over the look-back is what a normal hour converts, and
-- it is the whole program's figure, so a partitioned run reads the counts
-- of the baselines pass instead of its own share of the clicks. An order
-- counts through its click whoever the order names, as before the split.
-- $1 baseline_start, $2 scope_end
SELECT (SELECT count(*) FROM orders o JOIN clicks c ON c.click_id = o.click_id WHERE c.ts >= $1 AND c.ts < $2)::BIGINT AS orders,
       (SELECT count(*) FROM clicks WHERE ts >= $1 AND ts < $2)::BIGINT AS clicks;

-- name: Columns
-- Global table click_burst_columns: which optional click columns the input
-- carries at all (detectors.Columns' test), so that every partition notes
-- the same missing signals as the whole run would.
-- EXISTS stops at the first value; count(x) > 0 read every row of the
-- history each night.
SELECT EXISTS (SELECT 1 FROM clicks WHERE ip IS NOT NULL) AS ip,
       EXISTS (SELECT 1 FROM clicks WHERE user_agent IS NOT NULL) AS user_agent,
       EXISTS (SELECT 1 FROM clicks WHERE dwell_ms IS NOT NULL) AS dwell_ms;

-- name: PopulationConversion
SELECT coalesce(orders::DOUBLE / nullif(clicks, 0), 0) FROM globals.click_burst_population;

-- name: ReadColumns
SELECT ip, user_agent, dwell_ms FROM globals.click_burst_columns;

-- name: WindowDetails
-- For each flagged window (publisher, start, end in the VALUES list): top IPs,
-- top user agents, example clicks, and the attributed orders.
-- The VALUES list is generated with one bound (?, ?, ?) triple per window.
WITH w(publisher_id, ws, we) AS (VALUES %s),
hits AS (
    SELECT w.publisher_id, w.ws, c.click_id, c.ts, c.ip, c.user_agent
    FROM w JOIN clicks c ON c.publisher_id = w.publisher_id AND c.ts >= w.ws AND c.ts < w.we
)
SELECT publisher_id, ws,
       (SELECT list(struct_pack(ip := ip, clicks := n) ORDER BY n DESC, ip) FROM (
            SELECT ip, count(*) AS n FROM hits h2 WHERE h2.publisher_id = h.publisher_id AND h2.ws = h.ws AND ip IS NOT NULL
            GROUP BY ip ORDER BY n DESC, ip LIMIT 5)) AS top_ips,
       (SELECT list(struct_pack(user_agent := user_agent, clicks := n) ORDER BY n DESC, user_agent) FROM (
            SELECT user_agent, count(*) AS n FROM hits h2 WHERE h2.publisher_id = h.publisher_id AND h2.ws = h.ws AND user_agent IS NOT NULL
            GROUP BY user_agent ORDER BY n DESC, user_agent LIMIT 3)) AS top_uas,
       (SELECT list(click_id ORDER BY ts, click_id)[1:10] FROM hits h2 WHERE h2.publisher_id = h.publisher_id AND h2.ws = h.ws) AS example_clicks,
       -- the list entries that made the window's clicks GIVT, each with
       -- its list and version (evidence names what matched)
       (SELECT list(struct_pack(kind := kind, list := list, version := version, entry := entry, clicks := n) ORDER BY n DESC, kind, list, entry) FROM (
            SELECT kind, list, version, entry, count(*) AS n FROM (
                SELECT 'user_agent' AS kind, t.ua_list AS list, t.ua_version AS version, t.ua_entry AS entry
                FROM hits h2 JOIN click_traffic t ON t.click_id = h2.click_id
                WHERE h2.publisher_id = h.publisher_id AND h2.ws = h.ws AND t.ua_list IS NOT NULL
                UNION ALL
                SELECT 'ip_range', t.ip_list, t.ip_version, t.ip_range
                FROM hits h2 JOIN click_traffic t ON t.click_id = h2.click_id
                WHERE h2.publisher_id = h.publisher_id AND h2.ws = h.ws AND t.ip_class = 'datacenter')
            GROUP BY ALL ORDER BY n DESC, kind, list, entry LIMIT 5)) AS givt_entries,
       (SELECT coalesce(list(o.order_id ORDER BY o.order_id), []) FROM hits h2 JOIN orders o ON o.click_id = h2.click_id AND o.publisher_id = h2.publisher_id
         WHERE h2.publisher_id = h.publisher_id AND h2.ws = h.ws) AS order_ids
FROM (SELECT DISTINCT publisher_id, ws FROM hits) h
ORDER BY publisher_id, ws;

-- name: PublisherGIVT
-- A publisher's clicks over the look-back and how many a list labeled
-- GIVT (the share the report's publisher section shows).
-- $1 publisher_id, $2 from, $3 to
SELECT count(*) FILTER (WHERE givt), count(*) FROM click_givt WHERE publisher_id = $1 AND ts >= $2 AND ts < $3;

-- name: Timeline
-- Bucket counts for one publisher over a day, for the report's chart.
-- $1 publisher_id, $2 day_start, $3 day_end, $4 bucket_minutes
SELECT g.b, coalesce(k.n, 0)
FROM (SELECT unnest(generate_series($2::TIMESTAMP, $3::TIMESTAMP - to_minutes($4::INTEGER), to_minutes($4::INTEGER))) AS b) g
LEFT JOIN (
    SELECT time_bucket(to_minutes($4::INTEGER), ts) AS b, count(*) AS n
    FROM clicks WHERE publisher_id = $1 AND ts >= $2 AND ts < $3 GROUP BY 1
) k ON k.b = g.b
ORDER BY g.b;
