-- cookie_stuffing — "Fraud" 1.6 (robots, frames, iframes, scripts) and ePN's
-- "cookie-stuffing is totally prohibited in any form": hits that set the
-- affiliate cookie although nobody chose to follow the link.
-- Inputs: clicks (click_id, ts, publisher_id; landed, in_iframe, visible,
-- viewport_w/h, dwell_ms, device_id, referrer when present), orders
-- (order_id, ts, buyer_id, click_id, commission_usd).
-- Stuffing is forced hits on shoppers' devices. Hits of automated agents
-- are invalid clicks (E.10.c, click_burst), not stuffing: a click the
-- reference lists label GIVT (click_traffic: declared bot, data-centre
-- address) is not counted here at all, and a non-rendered hit on a device
-- that never shows a person's activity (no page rendered through another
-- publisher's link, no order) is set aside as automated; both are counted
-- in the evidence.
-- Each click is tagged with the stuffing mechanisms it shows; counts are
-- aggregated per publisher with the denominators they need (a NULL is
-- unknown, never "false"). Which publishers are judged is decided in Go
-- with binomial tests against the population's rates.
--
-- A night may be judged in partitions (affwatch run --partition): each
-- holds the clicks and orders of some publishers only. What one publisher's
-- judgement needs from the rest of the program is read from schema globals
-- (GlobalTables in Go), computed over the whole input by the queries below
-- whose names start with Global, in the order listed: a whole run computes
-- them in place, a partition reads them from the baselines pass.

-- name: GlobalOverwrites
-- Clicks of the window that overwrite: another publisher's click on the same
-- device came at most overwrite_gap_seconds before; prev_pub is the latest
-- such (the greatest id on a tie, so every run names the same one). Read
-- from the per-day state OverwriteDays keeps.
-- $1 window_start, $2 window_end
SELECT click_id, prev_pub FROM cookie_stuffing_overwrite_state
WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE);

-- name: OverwriteDays
-- The overwrites of the clicks of the days listed in temp table
-- day_state_days (day DATE; detectors.DayState), the earlier clicks they
-- look back to from $1 (TIMESTAMP) on, before $2.
-- $1 earliest look-back, $2 end, $3 overwrite_gap_seconds
-- A click's overwrite is the latest click of another publisher on its
-- device at most the gap before it (same second included; of several at
-- one timestamp, the greatest publisher id). Found in one pass over the
-- device's clicks in order (ts, publisher) instead of pairing every two
-- clicks of a device, which a log with one device id on a million clicks
-- would make quadratic: the latest row at or before the click's timestamp
-- (an ASOF join) is the answer when its publisher differs, else the last
-- row before the run of rows of the click's own publisher that it ends.
INSERT INTO cookie_stuffing_overwrite_state
WITH g AS (
    SELECT DISTINCT device_id, ts, publisher_id
    FROM clicks
    WHERE ts >= $1 AND ts < $2 AND device_id IS NOT NULL AND publisher_id IS NOT NULL
),
-- Two sorts of the device's rows, not four: the run a row belongs to and
-- whether it closes its timestamp are read off the one ordering (the last
-- row of a timestamp is the greatest publisher there; the last run start
-- at or before a row is its own run's).
ordered AS (
    SELECT device_id, ts, publisher_id,
           lag(ts) OVER w AS prev_ts, lag(publisher_id) OVER w AS prev_pub,
           row_number() OVER w AS pos,
           lead(ts) OVER w IS DISTINCT FROM ts AS closes_ts
    FROM g
    WINDOW w AS (PARTITION BY device_id ORDER BY ts, publisher_id)
),
-- per row: the last row of another publisher before it (the row before
-- its run's first row; none in the device's first run)
closing AS (
    SELECT device_id, ts, publisher_id,
           last_value(CASE WHEN publisher_id IS DISTINCT FROM prev_pub THEN prev_ts END IGNORE NULLS) OVER r AS other_ts,
           last_value(CASE WHEN publisher_id IS DISTINCT FROM prev_pub THEN prev_pub END IGNORE NULLS) OVER r AS other_pub
    FROM ordered
    WINDOW r AS (PARTITION BY device_id ORDER BY pos ROWS UNBOUNDED PRECEDING)
    QUALIFY closes_ts
),
c AS (
    SELECT click_id, ts, publisher_id, device_id
    FROM clicks
    WHERE ts >= $1 AND ts < $2 AND device_id IS NOT NULL AND publisher_id IS NOT NULL
      AND CAST(ts AS DATE) IN (SELECT day FROM day_state_days)
),
hit AS (
    SELECT c.click_id, CAST(c.ts AS DATE) AS day, c.ts,
           CASE WHEN l.publisher_id <> c.publisher_id THEN l.ts ELSE l.other_ts END AS q_ts,
           CASE WHEN l.publisher_id <> c.publisher_id THEN l.publisher_id ELSE l.other_pub END AS q_pub
    FROM c ASOF JOIN closing l ON l.device_id = c.device_id AND c.ts >= l.ts
)
SELECT DISTINCT day, click_id, q_pub
FROM hit
WHERE q_pub IS NOT NULL AND q_ts >= ts - to_seconds($3::BIGINT);

-- name: GlobalShopperDevices
-- Devices of the window's non-rendered hits (TagDays keeps them per day)
-- and whether a person uses them: the publishers through whose links the
-- device rendered a landing page (a shopper's browser renders pages), and
-- whether an order was paid from it. A bot's throw-away cookie shows
-- neither. Over every click and order the program held, not only the
-- window: from the per-day state DeviceDays keeps (raw rows may have been
-- dropped).
-- $1 window_start, $2 window_end
WITH d AS (
    SELECT DISTINCT device_id FROM cookie_stuffing_tag_state
    WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE) AND mechanism = 'not_landed' AND device_id IS NOT NULL
),
-- One pass over the state: the aggregates skip the orders' rows (NULL
-- publisher), which only say the device ordered.
seen AS (
    SELECT s.device_id, count(DISTINCT s.publisher_id) AS landed_pubs, min(s.publisher_id) AS landed_pub,
           bool_or(s.publisher_id IS NULL) AS ordered
    FROM cookie_stuffing_device_state s SEMI JOIN d ON d.device_id = s.device_id
    GROUP BY 1
)
SELECT d.device_id, coalesce(s.landed_pubs, 0) AS landed_pubs, s.landed_pub, coalesce(s.ordered, false) AS ordered
FROM d LEFT JOIN seen s ON s.device_id = d.device_id;

-- name: GlobalRepeatBuyers
-- The first order of every buyer who could have ordered before one of the
-- window's clicks and again after it, through anyone or organically: at
-- least two orders, the first before window_end. A buyer absent here had no
-- order before any click of the window that one of their orders is
-- credited to.
-- $1 window_end
SELECT buyer_id, min(first_ts) AS first_ts
FROM cookie_stuffing_buyer_state
GROUP BY buyer_id
HAVING sum(orders) >= 2 AND min(first_ts) < $1;

-- name: GlobalForeignOrders
-- Orders credited to a click of the window although booked to another
-- publisher than the click's (or to none): a partition holds an order with
-- the publisher it is booked to, so the click's partition reads these here.
-- Rare by construction; the loader keeps click_id and order_id unique.
-- $1 window_start, $2 window_end
SELECT o.order_id, o.click_id, o.buyer_id, o.ts, o.commission_usd
FROM orders o JOIN clicks c ON c.click_id = o.click_id
WHERE c.ts >= $1 AND c.ts < $2 AND c.publisher_id IS NOT NULL
  AND o.publisher_id IS DISTINCT FROM c.publisher_id;

-- name: Mechanisms
-- The head of GlobalMechanisms (Go puts it before its SELECT): the
-- mechanisms of the window's clicks, per publisher with the denominators
-- they need, and the program's medians. The clicks' tags are summed from
-- the per-day state TagDays keeps; the orders credited to the window's
-- clicks are joined to those clicks here.
-- $1 window_start, $2 window_end, $3 scope_start, $4 redirect_max_dwell_ms,
-- $5 tiny_viewport_px, $6 capture_minutes, $7 self-referrer regex,
-- $8 max_examples, $9 min_clicks, $10 capture_min_orders
-- shopper: a person uses the device (GlobalShopperDevices), or its id is
-- unknown (then only the lists can tell a bot).
WITH st AS NOT MATERIALIZED (
    SELECT * FROM cookie_stuffing_tag_state
    WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)
),
-- Non-rendered hits per device: a hit where a person uses the device,
-- set aside as automated where nobody does.
unlanded AS (
    SELECT s.*,
           coalesce(s.device_id IS NULL OR sd.ordered OR sd.landed_pubs >= 2 OR (sd.landed_pubs = 1 AND sd.landed_pub <> s.publisher_id), true) AS shopper
    FROM st s LEFT JOIN globals.cookie_stuffing_shopper_devices sd ON sd.device_id = s.device_id
    WHERE s.mechanism = 'not_landed'
),
hits AS (
    SELECT publisher_id, mechanism, device_id, prev_pub, day, hits, examples, first_ts, last_ts
    FROM st WHERE mechanism IN ('hidden_frame', 'redirect', 'overwrite')
    UNION ALL
    SELECT publisher_id, mechanism, device_id, prev_pub, day, hits, examples, first_ts, last_ts
    FROM unlanded WHERE shopper
),
-- Examples are the first max_examples hits by (ts, click_id): the first
-- of each day's first ones.
examples AS (
    SELECT publisher_id, mechanism, min_by(e.click_id, e, $8) AS examples
    FROM (SELECT publisher_id, mechanism, unnest(examples) AS e FROM hits)
    GROUP BY 1, 2
),
mech_agg AS (
    SELECT h.publisher_id, h.mechanism, sum(h.hits)::BIGINT AS hits,
           coalesce(sum(h.hits) FILTER (WHERE h.day >= CAST($3 AS DATE)), 0)::BIGINT AS hits_in_scope,
           any_value(x.examples) AS examples,
           count(DISTINCT h.prev_pub) FILTER (WHERE h.mechanism = 'overwrite') AS victims,
           min(h.first_ts) AS first_ts, max(h.last_ts) AS last_ts
    FROM hits h JOIN examples x ON x.publisher_id = h.publisher_id AND x.mechanism = h.mechanism
    GROUP BY 1, 2
),
overwrite_devices AS (
    SELECT publisher_id, min_by(device_id, device_id, $8) AS devices
    FROM (SELECT DISTINCT publisher_id, device_id FROM hits WHERE mechanism = 'overwrite')
    GROUP BY 1
),
counts AS (
    SELECT publisher_id, sum(clicks) AS clicks, sum(landed) AS landed, sum(frame_known) AS frame_known,
           sum(redirect_known) AS redirect_known, sum(device_known) AS device_known,
           sum(self_ref_clicks) AS self_ref_clicks, sum(referrer_known) AS referrer_known,
           sum(givt_clicks) AS givt_clicks, sum(givt_unlanded) AS givt_unlanded
    FROM st WHERE mechanism IS NULL
    GROUP BY 1
),
unlanded_pub AS (
    SELECT publisher_id, coalesce(sum(hits) FILTER (WHERE shopper), 0) AS shopper_hits,
           coalesce(sum(hits) FILTER (WHERE NOT shopper), 0) AS automated
    FROM unlanded GROUP BY 1
),
-- What this rule judges: every click but GIVT (the reference lists'), and
-- of the non-rendered hits those on a device a person uses.
base AS (
    SELECT k.publisher_id, k.clicks::BIGINT AS clicks,
           (k.landed + coalesce(u.shopper_hits, 0))::BIGINT AS landed_known,
           k.frame_known::BIGINT AS frame_known, k.redirect_known::BIGINT AS redirect_known,
           k.device_known::BIGINT AS device_known, k.self_ref_clicks::BIGINT AS self_ref_clicks,
           k.referrer_known::BIGINT AS referrer_known
    FROM counts k LEFT JOIN unlanded_pub u ON u.publisher_id = k.publisher_id
    WHERE k.clicks > 0
),
-- What it sets aside, per publisher, for the evidence.
aside AS (
    SELECT k.publisher_id, k.givt_clicks::BIGINT AS givt_clicks,
           (k.givt_unlanded + coalesce(u.automated, 0))::BIGINT AS automated_hits
    FROM counts k LEFT JOIN unlanded_pub u ON u.publisher_id = k.publisher_id
),
-- The window's clicks that orders are credited to (not GIVT), tagged as
-- TagDays tags every click: the orders' side is joined here.
kclicks AS (
    SELECT c.click_id, c.ts, c.publisher_id, c.device_id, ow.prev_pub,
           c.referrer IS NOT NULL AND regexp_matches(c.referrer, $7) AS self_ref,
           c.ts >= $3 AS in_scope,
           CASE WHEN c.landed = false
                     AND NOT coalesce(c.device_id IS NULL OR sd.ordered OR sd.landed_pubs >= 2 OR (sd.landed_pubs = 1 AND sd.landed_pub <> c.publisher_id), true)
                THEN NULL ELSE c.landed = false END AS not_landed,
           CASE WHEN c.in_iframe IS NULL THEN NULL
                ELSE c.in_iframe AND (c.visible = false OR c.viewport_w <= $5 OR c.viewport_h <= $5) END AS hidden_frame,
           CASE WHEN c.visible IS NULL OR c.dwell_ms IS NULL THEN NULL
                ELSE c.visible = false AND c.dwell_ms <= $4 AND c.opener IS DISTINCT FROM true END AS redirect,
           CASE WHEN c.device_id IS NULL THEN NULL
                ELSE ow.prev_pub IS NOT NULL END AS overwrite
    FROM clicks c
    SEMI JOIN (SELECT click_id FROM orders WHERE ts >= $1 AND click_id IS NOT NULL
               UNION ALL
               SELECT click_id FROM globals.cookie_stuffing_foreign_orders) k ON k.click_id = c.click_id
    LEFT JOIN globals.cookie_stuffing_overwrites ow ON ow.click_id = c.click_id
    LEFT JOIN click_traffic t ON t.click_id = c.click_id
    LEFT JOIN globals.cookie_stuffing_shopper_devices sd ON sd.device_id = c.device_id
    WHERE c.ts >= $1 AND c.ts < $2 AND c.publisher_id IS NOT NULL AND NOT coalesce(t.givt, false)
),
-- Orders credited to a click of the window, with click-to-order time: those
-- booked to the click's publisher, and the others (GlobalForeignOrders).
credited AS (
    SELECT o.order_id, o.click_id, o.buyer_id, o.ts, coalesce(o.commission_usd, 0) AS commission,
           epoch(o.ts - c.ts) AS ctit
    FROM orders o JOIN kclicks c ON c.click_id = o.click_id AND o.publisher_id = c.publisher_id
    WHERE o.ts >= $1 AND o.ts >= c.ts
    UNION ALL
    SELECT f.order_id, f.click_id, f.buyer_id, f.ts, coalesce(f.commission_usd, 0) AS commission,
           epoch(f.ts - c.ts) AS ctit
    FROM globals.cookie_stuffing_foreign_orders f JOIN kclicks c ON c.click_id = f.click_id
    WHERE f.ts >= c.ts
),
-- An order placed within capture_minutes of its click by a buyer who had
-- already ordered before that click (organically or through anyone: the
-- buyer's first order, GlobalRepeatBuyers).
snipes AS (
    SELECT k.order_id, k.click_id
    FROM credited k JOIN globals.cookie_stuffing_repeat_buyers b ON b.buyer_id = k.buyer_id
    WHERE k.ctit <= $6 * 60 AND b.first_ts < k.ts - to_seconds(k.ctit::BIGINT)
),
kmech AS (
    SELECT publisher_id, click_id, m.mechanism
    FROM kclicks,
         (SELECT unnest(['not_landed', 'hidden_frame', 'redirect', 'overwrite']) AS mechanism) m
    WHERE (m.mechanism = 'not_landed' AND not_landed)
       OR (m.mechanism = 'hidden_frame' AND hidden_frame)
       OR (m.mechanism = 'redirect' AND redirect AND NOT coalesce(hidden_frame, false))
       OR (m.mechanism = 'overwrite' AND overwrite)
),
mech_orders AS (
    SELECT m.publisher_id, m.mechanism, list(struct_pack(order_id := k.order_id, commission := k.commission::DOUBLE) ORDER BY k.order_id) AS orders
    FROM kmech m JOIN credited k ON k.click_id = m.click_id
    GROUP BY 1, 2
),
snipe_agg AS (
    SELECT t.publisher_id, 'capture' AS mechanism, count(*) AS hits, count(*) FILTER (WHERE t.in_scope) AS hits_in_scope,
           min_by(t.click_id, struct_pack(ts := t.ts, click_id := t.click_id), $8) AS examples,
           count(*) FILTER (WHERE t.self_ref) AS self_ref,
           list(struct_pack(order_id := k.order_id, commission := k.commission::DOUBLE) ORDER BY k.order_id) AS orders,
           min(t.ts) AS first_ts, max(t.ts) AS last_ts
    FROM snipes s JOIN credited k ON k.order_id = s.order_id JOIN kclicks t ON t.click_id = s.click_id
    GROUP BY 1
),
ord AS (
    SELECT t.publisher_id, count(*) AS orders
    FROM credited k JOIN kclicks t ON t.click_id = k.click_id GROUP BY 1
),
-- The program's rates each mechanism is compared with: the median over
-- publishers with at least min_clicks known values (captures: credited
-- orders, at least capture_min_orders), robust to the stuffers themselves
-- and to a few very large publishers.
pop AS (
    SELECT coalesce(median(coalesce(nl.hits, 0) / b.landed_known) FILTER (WHERE b.landed_known >= $9), 0) AS p_not_landed,
           coalesce(median(coalesce(fr.hits, 0) / b.frame_known) FILTER (WHERE b.frame_known >= $9), 0) AS p_frame,
           coalesce(median(coalesce(rd.hits, 0) / b.redirect_known) FILTER (WHERE b.redirect_known >= $9), 0) AS p_redirect,
           coalesce(median(coalesce(ow.hits, 0) / b.device_known) FILTER (WHERE b.device_known >= $9), 0) AS p_overwrite,
           coalesce(median(coalesce(sn.hits, 0) / o.orders) FILTER (WHERE o.orders >= $10), 0) AS p_capture,
           count(*) FILTER (WHERE b.landed_known >= $9) AS p_publishers
    FROM base b
    LEFT JOIN mech_agg nl ON nl.publisher_id = b.publisher_id AND nl.mechanism = 'not_landed'
    LEFT JOIN mech_agg fr ON fr.publisher_id = b.publisher_id AND fr.mechanism = 'hidden_frame'
    LEFT JOIN mech_agg rd ON rd.publisher_id = b.publisher_id AND rd.mechanism = 'redirect'
    LEFT JOIN mech_agg ow ON ow.publisher_id = b.publisher_id AND ow.mechanism = 'overwrite'
    LEFT JOIN snipe_agg sn ON sn.publisher_id = b.publisher_id
    LEFT JOIN ord o ON o.publisher_id = b.publisher_id
),
mrows AS (
    SELECT b.publisher_id, b.clicks, b.landed_known, b.frame_known, b.redirect_known, b.device_known,
           b.self_ref_clicks, b.referrer_known, coalesce(o.orders, 0) AS orders,
           a.mechanism, a.hits, a.hits_in_scope, a.examples, a.victims,
           CASE WHEN a.mechanism = 'overwrite' THEN od.devices END AS devices,
           0 AS self_ref, coalesce(mo.orders, []) AS credited, a.first_ts, a.last_ts,
           coalesce(x.givt_clicks, 0) AS givt_clicks, coalesce(x.automated_hits, 0) AS automated_hits
    FROM base b
    JOIN mech_agg a ON a.publisher_id = b.publisher_id
    LEFT JOIN aside x ON x.publisher_id = b.publisher_id
    LEFT JOIN mech_orders mo ON mo.publisher_id = a.publisher_id AND mo.mechanism = a.mechanism
    LEFT JOIN overwrite_devices od ON od.publisher_id = a.publisher_id
    LEFT JOIN ord o ON o.publisher_id = b.publisher_id
    UNION ALL
    SELECT b.publisher_id, b.clicks, b.landed_known, b.frame_known, b.redirect_known, b.device_known,
           b.self_ref_clicks, b.referrer_known, coalesce(o.orders, 0) AS orders,
           s.mechanism, s.hits, s.hits_in_scope, s.examples, 0, [],
           s.self_ref, s.orders, s.first_ts, s.last_ts,
           coalesce(x.givt_clicks, 0), coalesce(x.automated_hits, 0)
    FROM base b
    JOIN snipe_agg s ON s.publisher_id = b.publisher_id
    LEFT JOIN aside x ON x.publisher_id = b.publisher_id
    LEFT JOIN ord o ON o.publisher_id = b.publisher_id
)

-- name: GlobalMechanisms
-- After Mechanisms, over the whole input: one row per (publisher, mechanism)
-- with hits, each carrying the program's medians it is judged against.
-- Computed once per night (the medians need every publisher's rates, and
-- the rates are the rows): a partition reads its publishers' rows here.
SELECT r.*, p.p_not_landed, p.p_frame, p.p_redirect, p.p_overwrite, p.p_capture, p.p_publishers
FROM mrows r CROSS JOIN pop p;

-- name: PublisherMechanisms
-- The rows of GlobalMechanisms, in the order the detector judges them.
SELECT * FROM globals.cookie_stuffing_mechanisms ORDER BY publisher_id, mechanism;

-- name: GlobalCTIT
-- Click-to-order times (seconds) of all orders credited to clicks of the
-- window: count, share above ctit_long_hours, and percentiles 1..99 (the
-- population's distribution the two-sample KS statistic is taken against).
-- Computed over the whole input (a global table).
-- $1 window_start, $2 window_end, $3 ctit_long_hours
WITH k AS (
    SELECT epoch(o.ts - c.ts) AS ctit
    FROM orders o JOIN clicks c ON c.click_id = o.click_id
    WHERE c.ts >= $1 AND c.ts < $2 AND o.ts >= c.ts AND c.publisher_id IS NOT NULL
)
SELECT count(*) AS orders, coalesce(avg((ctit > $3 * 3600)::INT), 0)::DOUBLE AS long_share,
       coalesce(quantile_cont(ctit, [x / 100 FOR x IN range(1, 100)]), [])::DOUBLE[] AS quantiles
FROM k;

-- name: PopulationCTIT
-- GlobalCTIT's row, as prepared for this run.
SELECT orders, long_share, quantiles FROM globals.cookie_stuffing_ctit;

-- name: PublisherCTIT
-- Click-to-order times (seconds) of the orders credited to the flagged
-- publishers' clicks of the window, ascending, one row per publisher.
-- Orders booked to another publisher come from GlobalForeignOrders, as in
-- Mechanisms' credited.
-- $1 window_start, $2 window_end, $3 the publishers (VARCHAR[])
WITH pubs AS (SELECT unnest($3::VARCHAR[]) AS publisher_id),
c AS (
    SELECT click_id, ts, publisher_id FROM clicks
    WHERE ts >= $1 AND ts < $2 AND publisher_id IN (SELECT publisher_id FROM pubs)
),
k AS (
    SELECT c.publisher_id, epoch(o.ts - c.ts)::DOUBLE AS ctit
    FROM orders o JOIN c ON c.click_id = o.click_id AND o.publisher_id = c.publisher_id
    WHERE o.ts >= $1 AND o.ts >= c.ts
    UNION ALL
    SELECT c.publisher_id, epoch(f.ts - c.ts)::DOUBLE
    FROM globals.cookie_stuffing_foreign_orders f JOIN c ON c.click_id = f.click_id
    WHERE f.ts >= c.ts
)
SELECT p.publisher_id, coalesce(list(k.ctit ORDER BY k.ctit) FILTER (WHERE k.ctit IS NOT NULL), [])
FROM pubs p LEFT JOIN k ON k.publisher_id = p.publisher_id
GROUP BY p.publisher_id;

-- name: PublisherGIVTMatches
-- The list entries that made one publisher's clicks of the window GIVT
-- (set aside, not counted as stuffing), each with its list and version.
-- $1 window_start, $2 window_end, $3 publisher_id
SELECT coalesce(list(struct_pack(kind := kind, list := list, version := version, entry := entry, clicks := n)
                     ORDER BY n DESC, kind, list, entry), [])
FROM (
    SELECT kind, list, version, entry, count(*) AS n FROM (
        SELECT 'user_agent' AS kind, ua_list AS list, ua_version AS version, ua_entry AS entry
        FROM click_traffic WHERE publisher_id = $3 AND ts >= $1 AND ts < $2 AND ua_list IS NOT NULL
        UNION ALL
        SELECT 'ip_range', ip_list, ip_version, ip_range
        FROM click_traffic WHERE publisher_id = $3 AND ts >= $1 AND ts < $2 AND ip_class = 'datacenter')
    GROUP BY ALL ORDER BY n DESC, kind, list, entry LIMIT 5);

-- name: DeviceDays
-- detectors.DayState compute of cookie_stuffing_device_state for the days
-- of day_state_days: each device's publishers with a rendered landing page
-- (publisher_id set), and the devices an order was paid from (publisher_id
-- NULL). $1, $2 the span.
INSERT INTO cookie_stuffing_device_state
SELECT DISTINCT CAST(ts AS DATE), device_id, publisher_id
FROM clicks
WHERE ts >= $1 AND ts < $2 AND CAST(ts AS DATE) IN (SELECT day FROM day_state_days)
  AND landed AND publisher_id IS NOT NULL AND device_id IS NOT NULL
UNION ALL
SELECT DISTINCT CAST(ts AS DATE), buyer_device_id, NULL
FROM orders
WHERE ts >= $1 AND ts < $2 AND CAST(ts AS DATE) IN (SELECT day FROM day_state_days)
  AND buyer_device_id IS NOT NULL;

-- name: BuyerDays
-- detectors.DayState compute of cookie_stuffing_buyer_state: each buyer's
-- orders and first order of each day of day_state_days. $1, $2 the span.
INSERT INTO cookie_stuffing_buyer_state
SELECT CAST(ts AS DATE), buyer_id, count(*), min(ts)
FROM orders
WHERE ts >= $1 AND ts < $2 AND CAST(ts AS DATE) IN (SELECT day FROM day_state_days)
  AND buyer_id IS NOT NULL
GROUP BY ALL;

-- name: TagDays
-- detectors.DayState compute of cookie_stuffing_tag_state: the mechanisms
-- the clicks of each day of day_state_days show, counted per publisher.
-- Hits of non-rendered clicks are kept per device (whether a person uses
-- it is decided when the state is read), overwrites per device and
-- overwritten publisher (the distinct victims and devices are counted over
-- the look-back). The first max_examples hits (time, click) of each row
-- are kept: the look-back's first ones are among them.
-- $1, $2 the span; $3 redirect_max_dwell_ms, $4 tiny_viewport_px, $5
-- self-referrer regex, $6 max_examples.
INSERT INTO cookie_stuffing_tag_state
WITH call AS (
    SELECT c.click_id, c.ts, CAST(c.ts AS DATE) AS day, c.publisher_id, c.landed, c.device_id, ow.prev_pub,
           coalesce(t.givt, false) AS givt,
           c.referrer IS NOT NULL AS has_referrer,
           c.referrer IS NOT NULL AND regexp_matches(c.referrer, $5) AS self_ref,
           CASE WHEN c.in_iframe IS NULL THEN NULL
                ELSE c.in_iframe AND (c.visible = false OR c.viewport_w <= $4 OR c.viewport_h <= $4) END AS hidden_frame,
           CASE WHEN c.visible IS NULL OR c.dwell_ms IS NULL THEN NULL
                -- a window opened by script (opener) is a pop-under: popup_traffic's, not counted here
                ELSE c.visible = false AND c.dwell_ms <= $3 AND c.opener IS DISTINCT FROM true END AS redirect
    FROM clicks c
    LEFT JOIN cookie_stuffing_overwrite_state ow
           ON ow.click_id = c.click_id AND ow.day IN (SELECT day FROM day_state_days)
    LEFT JOIN click_traffic t ON t.click_id = c.click_id
    WHERE c.ts >= $1 AND c.ts < $2 AND c.publisher_id IS NOT NULL
      AND CAST(c.ts AS DATE) IN (SELECT day FROM day_state_days)
),
c AS (
    SELECT *, struct_pack(ts := ts, click_id := click_id) AS ex FROM call WHERE NOT givt
)
SELECT day, publisher_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       count(*) FILTER (WHERE NOT givt), count(*) FILTER (WHERE NOT givt AND landed),
       count(hidden_frame) FILTER (WHERE NOT givt), count(redirect) FILTER (WHERE NOT givt),
       count(device_id) FILTER (WHERE NOT givt), count(*) FILTER (WHERE NOT givt AND self_ref),
       count(*) FILTER (WHERE NOT givt AND has_referrer),
       count(*) FILTER (WHERE givt), count(*) FILTER (WHERE givt AND landed = false)
FROM call GROUP BY day, publisher_id
UNION ALL
SELECT day, publisher_id, 'not_landed', device_id, NULL, count(*), min_by(ex, ex, $6), min(ts), max(ts),
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM c WHERE landed = false GROUP BY day, publisher_id, device_id
UNION ALL
SELECT day, publisher_id, 'hidden_frame', NULL, NULL, count(*), min_by(ex, ex, $6), min(ts), max(ts),
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM c WHERE hidden_frame GROUP BY day, publisher_id
UNION ALL
SELECT day, publisher_id, 'redirect', NULL, NULL, count(*), min_by(ex, ex, $6), min(ts), max(ts),
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM c WHERE redirect AND NOT coalesce(hidden_frame, false) GROUP BY day, publisher_id
UNION ALL
SELECT day, publisher_id, 'overwrite', device_id, prev_pub, count(*), min_by(ex, ex, $6), min(ts), max(ts),
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM c WHERE device_id IS NOT NULL AND prev_pub IS NOT NULL GROUP BY day, publisher_id, device_id, prev_pub;
