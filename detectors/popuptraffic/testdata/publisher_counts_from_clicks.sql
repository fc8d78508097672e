-- The query PublisherCounts replaced (issue 16): the same counts read from
-- every click of the window, kept as the reference the per-day state is
-- compared with (TestCountsStateEqualsClickScan).
-- Per publisher: clicks whose beacon fired (opener known), pop-up-like clicks
-- and their sub-signals, over [$1, $2); night_popups counts those in [$3, $2).
-- $1 window_start, $2 window_end, $3 night_start, $4 quick_close_ms,
-- $5 small_max_w, $6 small_max_h, $7 small_mobile_max_h, $8 phone UA regex
WITH s AS (
    SELECT publisher_id, ts, opener,
           coalesce(opener AND visible = false, false) AS hidden,
           coalesce(opener AND dwell_ms < $4, false) AS quick,
           -- CASE, so the user-agent test runs only on the few small windows.
           CASE WHEN opener AND viewport_w <= $5 AND viewport_h <= $6
                THEN viewport_h <= $7 OR NOT (user_agent IS NULL OR regexp_matches(user_agent, $8))
                ELSE false END AS small
    FROM clicks
    WHERE ts >= $1 AND ts < $2 AND publisher_id IS NOT NULL
),
c AS (
    SELECT publisher_id, ts, opener IS NOT NULL AS known, hidden OR quick OR small AS popup, hidden, quick, small
    FROM s
)
SELECT publisher_id,
       count(*) AS clicks,
       count(*) FILTER (WHERE known) AS known,
       count(*) FILTER (WHERE popup) AS popups,
       count(*) FILTER (WHERE hidden) AS hidden,
       count(*) FILTER (WHERE quick) AS quick,
       count(*) FILTER (WHERE small) AS small,
       count(*) FILTER (WHERE popup AND ts >= $3) AS night_popups,
       min(ts) FILTER (WHERE popup) AS first_popup,
       max(ts) FILTER (WHERE popup) AS last_popup
FROM c
GROUP BY publisher_id
ORDER BY publisher_id;

