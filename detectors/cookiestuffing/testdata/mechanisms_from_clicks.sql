-- The mechanisms of the window's clicks as cookie_stuffing counted them
-- before the per-day state (issue 16): every click of the look-back tagged
-- again each night. TestTagStateEqualsClickScan compares the state's
-- counts with these.

-- name: RefShopperDevices
-- $1 window_start, $2 window_end
CREATE OR REPLACE TABLE globals.ref_shopper_devices AS
WITH d AS (
    SELECT DISTINCT device_id FROM clicks
    WHERE ts >= $1 AND ts < $2 AND landed = false AND device_id IS NOT NULL
),
seen AS (
    SELECT s.device_id, count(DISTINCT s.publisher_id) AS landed_pubs, min(s.publisher_id) AS landed_pub
    FROM cookie_stuffing_device_state s SEMI JOIN d ON d.device_id = s.device_id
    WHERE s.publisher_id IS NOT NULL
    GROUP BY 1
),
bought AS (
    SELECT DISTINCT s.device_id FROM cookie_stuffing_device_state s SEMI JOIN d ON d.device_id = s.device_id
    WHERE s.publisher_id IS NULL
)
SELECT d.device_id, coalesce(s.landed_pubs, 0) AS landed_pubs, s.landed_pub, b.device_id IS NOT NULL AS ordered
FROM d LEFT JOIN seen s ON s.device_id = d.device_id LEFT JOIN bought b ON b.device_id = d.device_id;

-- name: RefMechanisms
-- The arguments of Mechanisms.
CREATE OR REPLACE TABLE globals.ref_mechanisms AS
WITH call AS NOT MATERIALIZED (
    SELECT c.click_id, c.ts, c.publisher_id, c.landed, c.in_iframe, c.opener, c.visible, c.viewport_w, c.viewport_h,
           c.dwell_ms, c.device_id, c.referrer, ow.prev_pub, coalesce(t.givt, false) AS givt,
           c.device_id IS NULL OR sd.ordered OR sd.landed_pubs >= 2 OR (sd.landed_pubs = 1 AND sd.landed_pub <> c.publisher_id) AS shopper
    FROM clicks c LEFT JOIN globals.cookie_stuffing_overwrites ow ON ow.click_id = c.click_id
    LEFT JOIN click_traffic t ON t.click_id = c.click_id
    LEFT JOIN globals.ref_shopper_devices sd ON sd.device_id = c.device_id
    WHERE c.ts >= $1 AND c.ts < $2 AND c.publisher_id IS NOT NULL
),
-- What this rule judges: everything but GIVT.
c AS NOT MATERIALIZED (
    SELECT * FROM call WHERE NOT givt
),
-- What it sets aside, per publisher, for the evidence.
aside AS (
    SELECT publisher_id, count(*) FILTER (WHERE givt) AS givt_clicks,
           count(*) FILTER (WHERE landed = false AND (givt OR NOT coalesce(shopper, true))) AS automated_hits
    FROM call WHERE ts >= $1 GROUP BY 1
),
-- Orders credited to a click of the window, with click-to-order time: those
-- booked to the click's publisher, and the others (GlobalForeignOrders).
credited AS (
    SELECT o.order_id, o.click_id, o.buyer_id, o.ts, coalesce(o.commission_usd, 0) AS commission,
           epoch(o.ts - c.ts) AS ctit
    FROM orders o JOIN c ON c.click_id = o.click_id AND o.publisher_id = c.publisher_id
    WHERE c.ts >= $1 AND o.ts >= c.ts
    UNION ALL
    SELECT f.order_id, f.click_id, f.buyer_id, f.ts, coalesce(f.commission_usd, 0) AS commission,
           epoch(f.ts - c.ts) AS ctit
    FROM globals.cookie_stuffing_foreign_orders f JOIN c ON c.click_id = f.click_id
    WHERE c.ts >= $1 AND f.ts >= c.ts
),
-- An order placed within capture_minutes of its click by a buyer who had
-- already ordered before that click (organically or through anyone: the
-- buyer's first order, GlobalRepeatBuyers).
snipes AS (
    SELECT k.order_id, k.click_id
    FROM credited k JOIN globals.cookie_stuffing_repeat_buyers b ON b.buyer_id = k.buyer_id
    WHERE k.ctit <= $6 * 60 AND b.first_ts < k.ts - to_seconds(k.ctit::BIGINT)
),
-- Only the columns later parts read, and never materialized: tagged is
-- read by four later parts, and holding every click of the window (a
-- backfill: all of them) spilled tens of GB at 100 M clicks, where
-- reading the clicks again costs seconds.
tagged AS NOT MATERIALIZED (
    SELECT c.click_id, c.ts, c.publisher_id, c.device_id, c.prev_pub,
           c.referrer IS NOT NULL AS has_referrer,
           -- a non-rendered hit on a device no person uses is an automated
           -- agent's: neither a hit nor a known value here
           CASE WHEN c.landed = false AND NOT coalesce(c.shopper, true) THEN NULL ELSE c.landed = false END AS not_landed,
           CASE WHEN c.in_iframe IS NULL THEN NULL
                ELSE c.in_iframe AND (c.visible = false OR c.viewport_w <= $5 OR c.viewport_h <= $5) END AS hidden_frame,
           CASE WHEN c.visible IS NULL OR c.dwell_ms IS NULL THEN NULL
                -- a window opened by script (opener) is a pop-under: popup_traffic's, not counted here
                ELSE c.visible = false AND c.dwell_ms <= $4 AND c.opener IS DISTINCT FROM true END AS redirect,
           CASE WHEN c.device_id IS NULL THEN NULL
                ELSE c.prev_pub IS NOT NULL END AS overwrite,
           c.referrer IS NOT NULL AND regexp_matches(c.referrer, $7) AS self_ref,
           c.ts >= $3 AS in_scope
    FROM c
    WHERE c.ts >= $1
),
mech AS (
    SELECT publisher_id, click_id, ts, device_id, prev_pub, in_scope, m.mechanism
    FROM tagged,
         (SELECT unnest(['not_landed', 'hidden_frame', 'redirect', 'overwrite']) AS mechanism) m
    WHERE (m.mechanism = 'not_landed' AND not_landed)
       OR (m.mechanism = 'hidden_frame' AND hidden_frame)
       OR (m.mechanism = 'redirect' AND redirect AND NOT coalesce(hidden_frame, false))
       OR (m.mechanism = 'overwrite' AND overwrite)
),
mech_orders AS (
    SELECT m.publisher_id, m.mechanism, list(struct_pack(order_id := k.order_id, commission := k.commission::DOUBLE) ORDER BY k.order_id) AS orders
    FROM mech m JOIN credited k ON k.click_id = m.click_id
    GROUP BY 1, 2
),
-- Examples are the first max_examples hits by (ts, click_id), kept as a
-- top-n per group (min_by with n): a list of every hit, cut afterwards,
-- held all of a stuffer's click ids at once and spilled tens of GB at
-- 100 M clicks.
overwrite_devices AS (
    SELECT publisher_id, min_by(device_id, device_id, $8) AS devices
    FROM (SELECT DISTINCT publisher_id, device_id FROM mech WHERE mechanism = 'overwrite')
    GROUP BY 1
),
mech_agg AS (
    SELECT m.publisher_id, m.mechanism, count(*) AS hits, count(*) FILTER (WHERE in_scope) AS hits_in_scope,
           min_by(click_id, struct_pack(ts := ts, click_id := click_id), $8) AS examples,
           count(DISTINCT prev_pub) FILTER (WHERE mechanism = 'overwrite') AS victims,
           min(ts) AS first_ts, max(ts) AS last_ts
    FROM mech m GROUP BY 1, 2
),
snipe_agg AS (
    SELECT t.publisher_id, 'capture' AS mechanism, count(*) AS hits, count(*) FILTER (WHERE t.in_scope) AS hits_in_scope,
           min_by(t.click_id, struct_pack(ts := t.ts, click_id := t.click_id), $8) AS examples,
           count(*) FILTER (WHERE t.self_ref) AS self_ref,
           list(struct_pack(order_id := k.order_id, commission := k.commission::DOUBLE) ORDER BY k.order_id) AS orders,
           min(t.ts) AS first_ts, max(t.ts) AS last_ts
    FROM snipes s JOIN credited k ON k.order_id = s.order_id JOIN tagged t ON t.click_id = s.click_id
    GROUP BY 1
),
base AS (
    SELECT publisher_id, count(*) AS clicks,
           count(not_landed) AS landed_known, count(hidden_frame) AS frame_known,
           count(redirect) AS redirect_known, count(overwrite) AS device_known,
           count(*) FILTER (WHERE self_ref) AS self_ref_clicks, count(*) FILTER (WHERE has_referrer) AS referrer_known
    FROM tagged GROUP BY 1
),
ord AS (
    SELECT t.publisher_id, count(*) AS orders
    FROM credited k JOIN tagged t ON t.click_id = k.click_id GROUP BY 1
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
SELECT r.*, p.p_not_landed, p.p_frame, p.p_redirect, p.p_overwrite, p.p_capture, p.p_publishers
FROM mrows r CROSS JOIN pop p;
