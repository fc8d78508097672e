-- popup_traffic — E.10.h: "Engaging in pop-up or pop-under advertisements in
-- any form" (portals-rules-agreement-faq.txt); epn-commission-table.txt also
-- forbids extensions that open pop-ups on their own.
-- Inputs: clicks (opener; visible, dwell_ms, viewport_w, viewport_h, referrer
-- when present), sites (url), orders (click_id, commission_usd).
--
-- A click is pop-up-like when the landing page's beacon says a script opened
-- its window (opener = true) and the window was hidden (visible = false: a
-- pop-under), closed within quick_close_ms, or small (both sides at or below
-- small_max_w × small_max_h). NULL sub-signals are unknown and never count as
-- evidence; on a phone (or an unknown device) a window counts as small only
-- at or below small_mobile_max_h, since phone browsers open every window
-- full-screen and small old phones are 320 px wide. A click whose opener is NULL (the beacon did not fire) is left out
-- of the denominator altogether. Whether a publisher's share is abnormal is
-- decided in Go against the population's share.

-- name: PublisherCounts
-- Per publisher: clicks whose beacon fired (opener known), pop-up-like clicks
-- and their sub-signals, over the days of [$1, $2); night_popups counts those
-- of the days from $3 on. Summed from the per-day counts CountDays keeps.
-- $1 window_start, $2 window_end, $3 night_start (all midnights)
SELECT publisher_id,
       sum(clicks)::BIGINT AS clicks,
       sum(known)::BIGINT AS known,
       sum(popups)::BIGINT AS popups,
       sum(hidden)::BIGINT AS hidden,
       sum(quick)::BIGINT AS quick,
       sum(small)::BIGINT AS small,
       coalesce(sum(popups) FILTER (WHERE day >= CAST($3 AS DATE)), 0)::BIGINT AS night_popups,
       min(first_popup) AS first_popup,
       max(last_popup) AS last_popup
FROM popup_traffic_counts
WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)
GROUP BY publisher_id
ORDER BY publisher_id;

-- name: CountDays
-- detectors.DayState compute of popup_traffic_counts for the days of
-- day_state_days: per day and publisher, the clicks, those whose beacon
-- fired, the pop-up-like ones and their sub-signals.
-- $1, $2 the span; $3 quick_close_ms, $4 small_max_w, $5 small_max_h,
-- $6 small_mobile_max_h, $7 phone UA regex
INSERT INTO popup_traffic_counts
WITH s AS (
    SELECT publisher_id, ts, opener,
           coalesce(opener AND visible = false, false) AS hidden,
           coalesce(opener AND dwell_ms < $3, false) AS quick,
           -- CASE, so the user-agent test runs only on the few small windows.
           CASE WHEN opener AND viewport_w <= $4 AND viewport_h <= $5
                THEN viewport_h <= $6 OR NOT (user_agent IS NULL OR regexp_matches(user_agent, $7))
                ELSE false END AS small
    FROM clicks
    WHERE ts >= $1 AND ts < $2 AND publisher_id IS NOT NULL
      AND CAST(ts AS DATE) IN (SELECT day FROM day_state_days)
),
c AS (
    SELECT publisher_id, ts, opener IS NOT NULL AS known, hidden OR quick OR small AS popup, hidden, quick, small
    FROM s
)
SELECT CAST(ts AS DATE) AS day, publisher_id,
       count(*),
       count(*) FILTER (WHERE known),
       count(*) FILTER (WHERE popup),
       count(*) FILTER (WHERE hidden),
       count(*) FILTER (WHERE quick),
       count(*) FILTER (WHERE small),
       min(ts) FILTER (WHERE popup),
       max(ts) FILTER (WHERE popup)
FROM c
GROUP BY ALL;

-- name: Details
-- For each candidate publisher (the VALUES list: one bound parameter per
-- publisher, numbered from $10):
-- where its pop-up-like clicks came from, examples, and the orders credited
-- to them. A referrer is third-party when its host (the package name for
-- android-app:// referrers) is neither one of the publisher's own sites (the
-- site's host, or the id of a Play Store listing; subdomains match) nor a
-- brand domain ($6, a list). A missing referrer is unknown, not third-party.
-- $1 window_start, $2 window_end, $3 quick_close_ms, $4 small_max_w,
-- $5 small_max_h, $6 brand domains (VARCHAR[]), $7 max examples,
-- $8 small_mobile_max_h, $9 phone UA regex (the pop-up-like test of PublisherCounts)
WITH cand(publisher_id) AS (VALUES %s),
own AS (
    SELECT DISTINCT s.publisher_id,
           regexp_replace(lower(coalesce(
               nullif(regexp_extract(s.url, '^https?://play\.google\.com/.*[?&]id=([A-Za-z0-9._]+)', 1), ''),
               regexp_extract(s.url, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#@]+)', 1))), '^www\.', '') AS host
    FROM sites s JOIN cand USING (publisher_id)
    WHERE s.url IS NOT NULL
),
p AS (
    SELECT c.publisher_id, c.click_id, c.ts,
           nullif(regexp_replace(lower(regexp_extract(c.referrer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#@]+)', 1)), '^www\.', ''), '') AS ref_host
    FROM clicks c JOIN cand USING (publisher_id)
    WHERE c.ts >= $1 AND c.ts < $2
      AND coalesce(c.opener AND (c.visible = false OR c.dwell_ms < $3
                   OR CASE WHEN c.viewport_w <= $4 AND c.viewport_h <= $5
                           THEN c.viewport_h <= $8 OR NOT (c.user_agent IS NULL OR regexp_matches(c.user_agent, $9))
                           ELSE false END), false)
),
r AS (
    SELECT p.*,
           CASE WHEN ref_host IS NULL THEN NULL
                WHEN EXISTS (SELECT 1 FROM own o WHERE o.publisher_id = p.publisher_id AND o.host <> ''
                               AND (p.ref_host = o.host OR p.ref_host LIKE '%%.' || o.host)) THEN false
                WHEN EXISTS (SELECT 1 FROM unnest($6::VARCHAR[]) b(d)
                               WHERE p.ref_host = lower(b.d) OR p.ref_host LIKE '%%.' || lower(b.d)) THEN false
                ELSE true END AS third_party
    FROM p
),
hosts AS (
    SELECT publisher_id, ref_host, count(*) AS n
    FROM r WHERE third_party
    GROUP BY publisher_id, ref_host
),
-- Each order once, even if it is listed twice or several of its rows match.
sold AS (
    SELECT r.publisher_id, o.order_id, max(o.commission_usd) AS commission_usd
    FROM r JOIN orders o ON o.click_id = r.click_id AND o.publisher_id = r.publisher_id
    WHERE o.order_id IS NOT NULL
    GROUP BY r.publisher_id, o.order_id
)
SELECT cand.publisher_id,
       (SELECT count(*) FILTER (WHERE third_party) FROM r WHERE r.publisher_id = cand.publisher_id) AS third_party,
       (SELECT count(third_party) FROM r WHERE r.publisher_id = cand.publisher_id) AS ref_known,
       (SELECT coalesce(list(struct_pack(host := ref_host, clicks := n) ORDER BY n DESC, ref_host), [])
          FROM (SELECT * FROM hosts h WHERE h.publisher_id = cand.publisher_id ORDER BY n DESC, ref_host LIMIT 5)) AS top_hosts,
       (SELECT coalesce(list(click_id ORDER BY ts, click_id), [])[1:$7] FROM r WHERE r.publisher_id = cand.publisher_id) AS examples,
       (SELECT coalesce(list(order_id ORDER BY order_id), []) FROM sold s WHERE s.publisher_id = cand.publisher_id) AS order_ids,
       (SELECT coalesce(sum(commission_usd), 0)::DOUBLE FROM sold s WHERE s.publisher_id = cand.publisher_id) AS commission
FROM cand
ORDER BY cand.publisher_id;

-- name: Population
-- Global table popup_traffic_population (detectors.GlobalTable): the
-- reference share pools the clicks of every publisher of the program whose
-- own share is below min_share, so a partitioned run reads the sums of the
-- baselines pass instead of pooling its own share of the publishers. The
-- rows pooled are PublisherCounts' (its text fills the subquery, with
-- its parameters $1–$3); the test is baseline()'s in Go, as doubles.
-- $4 min_share
SELECT count(*)::BIGINT AS publishers,
       coalesce(sum(known), 0)::BIGINT AS known,
       coalesce(sum(popups), 0)::BIGINT AS popups
FROM (%s) per
WHERE known > 0 AND popups::DOUBLE / known::DOUBLE < $4::DOUBLE;

-- name: Columns
-- Global table popup_traffic_columns: which optional click columns the
-- input carries at all (detectors.Columns' test). A missing column drops
-- a sub-signal from the evidence, so every partition must see the whole
-- input's answer, not its own share's.
-- EXISTS stops at the first value; count(x) > 0 read every row of the
-- history each night.
SELECT EXISTS (SELECT 1 FROM clicks WHERE opener IS NOT NULL) AS opener,
       EXISTS (SELECT 1 FROM clicks WHERE visible IS NOT NULL) AS visible,
       EXISTS (SELECT 1 FROM clicks WHERE dwell_ms IS NOT NULL) AS dwell_ms,
       EXISTS (SELECT 1 FROM clicks WHERE viewport_w IS NOT NULL) AS viewport_w,
       EXISTS (SELECT 1 FROM clicks WHERE viewport_h IS NOT NULL) AS viewport_h,
       EXISTS (SELECT 1 FROM clicks WHERE referrer IS NOT NULL) AS referrer;

-- name: ReadPopulation
SELECT publishers, known, popups FROM globals.popup_traffic_population;

-- name: ReadColumns
SELECT opener, visible, dwell_ms, viewport_w, viewport_h, referrer FROM globals.popup_traffic_columns;
