-- The CandidateBuckets query before the per-day bucket counts (migration 014),
-- kept as the reference TestBucketStateEqualsClickScan compares with: it
-- counts every click of the baseline.
-- $1 scope_start, $2 scope_end, $3 baseline_start (TIMESTAMP), $4 bucket_minutes,
-- $5 min_modified_z, $6 min_bucket_clicks, $7 min_excess_ratio, $8 engaged_dwell_ms, $9 seasonal_min_days
WITH c AS (
    SELECT publisher_id, ts, time_bucket(to_minutes($4::INTEGER), ts) AS b
    FROM clicks
    WHERE ts >= $3 AND ts < $2
),
counts AS (
    SELECT publisher_id, b, count(*) AS n FROM c GROUP BY publisher_id, b
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
    JOIN clicks cl ON cl.publisher_id = k.publisher_id
                  AND cl.ts >= k.b AND cl.ts < k.b + to_minutes($4::INTEGER)
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
