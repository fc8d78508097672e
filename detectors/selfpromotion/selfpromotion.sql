-- self_promotion — E.10.k: "If you are a seller on the AliExpress International
-- Platform, you shall not become either a Publisher or a Network … and
-- advertise your own storefront to earn commissions".
-- Inputs: publishers and sellers (entity_id, payout_hash, email_hash,
-- phone_hash: the identity link), clicks (target_type, target_id: where the
-- links point), orders (publisher_id, seller_id, product_id, commission_usd).
-- A publisher–seller pair is linked when they share an identifier value that
-- at most max_accounts_per_identifier accounts hold (a value many accounts
-- share is a placeholder or a pooled account, not a person). For each linked
-- pair the publisher's share of clicks and of attributed orders going to that
-- seller is compared in Go with the population's share for the same store.

-- name: Links
-- $1 max_accounts_per_identifier; $2..$5 whether entity_id, payout_hash,
-- email_hash, phone_hash may be used (both tables hold values).
WITH ids AS (
    SELECT 'entity_id' AS kind, trim(entity_id) AS v, 'publisher' AS side, publisher_id AS id FROM publishers WHERE $2
    UNION ALL SELECT 'payout_hash', trim(payout_hash), 'publisher', publisher_id FROM publishers WHERE $3
    UNION ALL SELECT 'email_hash', trim(email_hash), 'publisher', publisher_id FROM publishers WHERE $4
    UNION ALL SELECT 'phone_hash', trim(phone_hash), 'publisher', publisher_id FROM publishers WHERE $5
    UNION ALL SELECT 'entity_id', trim(entity_id), 'seller', seller_id FROM sellers WHERE $2
    UNION ALL SELECT 'payout_hash', trim(payout_hash), 'seller', seller_id FROM sellers WHERE $3
    UNION ALL SELECT 'email_hash', trim(email_hash), 'seller', seller_id FROM sellers WHERE $4
    UNION ALL SELECT 'phone_hash', trim(phone_hash), 'seller', seller_id FROM sellers WHERE $5
),
vals AS (
    SELECT DISTINCT kind, v, side, id FROM ids
    WHERE v IS NOT NULL AND v <> '' AND id IS NOT NULL
      -- SHA-256 of the empty string: a hashed blank, never a person.
      AND v <> 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
),
holders AS (
    SELECT kind, v, count(*) AS accounts FROM vals GROUP BY kind, v
),
pairs AS (
    SELECT p.id AS publisher_id, s.id AS seller_id, p.kind, h.accounts
    FROM vals p
    JOIN vals s ON s.kind = p.kind AND s.v = p.v AND s.side = 'seller'
    JOIN holders h ON h.kind = p.kind AND h.v = p.v
    WHERE p.side = 'publisher'
)
SELECT publisher_id, seller_id,
       (SELECT min(name) FROM sellers sl WHERE sl.seller_id = pairs.seller_id) AS seller_name,
       list(kind ORDER BY kind) FILTER (WHERE accounts <= $1) AS matched,
       list(kind ORDER BY kind) FILTER (WHERE accounts > $1) AS ignored,
       list(struct_pack(identifier := kind, accounts := accounts) ORDER BY kind) AS holders
FROM pairs
GROUP BY publisher_id, seller_id
ORDER BY publisher_id, seller_id;

-- name: Shares
-- For the linked pairs in the VALUES list (one bound ($n, $n+1) per pair, from $5), the
-- publisher's clicks and attributed orders to the seller against its total,
-- and the same for every other publisher (the population), over the
-- look-back; plus the activity inside the judged window. Only the pair's
-- publisher's own rows are read here: what needs other publishers' rows
-- (which seller a product belongs to, the population's counts) comes from
-- globals, so a partition that holds only some publishers' clicks and
-- orders judges them as a whole run would. The look-back's clicks are the
-- per-day counts LinkedClickDays keeps; the window's (the night, inside
-- the look-back) are read raw for their examples.
-- $1 lookback_start, $2 lookback_end, $3 window_start, $4 window_end (TIMESTAMP).
WITH pair(publisher_id, seller_id) AS (VALUES %s),
c0 AS (
    SELECT publisher_id, target_type, target_id, clicks,
           -- a plain equi-join key: a condition on target_type inside the
           -- join would turn the hash join into a nested loop
           CASE WHEN target_type = 'product' THEN target_id END AS product_key
    FROM self_promotion_linked_clicks
    WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE) AND publisher_id IN (SELECT publisher_id FROM pair)
),
c AS (
    SELECT c0.publisher_id, c0.clicks,
           CASE WHEN c0.target_type = 'store' THEN c0.target_id ELSE ps.seller_id END AS seller_id
    FROM c0 LEFT JOIN globals.self_promotion_product_sellers ps ON ps.product_id = c0.product_key
),
w0 AS (
    SELECT click_id, ts, publisher_id, target_type, target_id,
           CASE WHEN target_type = 'product' THEN target_id END AS product_key
    FROM clicks
    WHERE ts >= $3 AND ts < $4 AND publisher_id IN (SELECT publisher_id FROM pair)
),
w AS (
    SELECT w0.click_id, w0.ts, w0.publisher_id,
           CASE WHEN w0.target_type = 'store' THEN w0.target_id ELSE ps.seller_id END AS seller_id
    FROM w0 LEFT JOIN globals.self_promotion_product_sellers ps ON ps.product_id = w0.product_key
),
-- One row per attributed order and seller (order lines of one order count once).
o AS (
    SELECT order_id, publisher_id, seller_id, min(ts) AS ts, max(commission_usd) AS commission
    FROM orders
    WHERE publisher_id IN (SELECT publisher_id FROM pair) AND publisher_id <> '' AND ts >= $1 AND ts < $2
    GROUP BY order_id, publisher_id, seller_id
),
-- The linked publishers' own clicks and orders, each tagged with the pair.
pub_c AS (
    SELECT p.seller_id AS linked, c.* FROM c JOIN pair p ON p.publisher_id = c.publisher_id
),
pub_w AS (
    SELECT p.seller_id AS linked, w.* FROM w JOIN pair p ON p.publisher_id = w.publisher_id
),
pub_o AS (
    SELECT p.seller_id AS linked, o.* FROM o JOIN pair p ON p.publisher_id = o.publisher_id
),
pub_clicks AS (
    SELECT publisher_id, linked,
           -- The share is over clicks whose store is known: a product click
           -- no order maps to a seller is unknown, not "another store".
           sum(clicks) FILTER (WHERE seller_id IS NOT NULL)::BIGINT AS n,
           sum(clicks) FILTER (WHERE seller_id = linked)::BIGINT AS n_store,
           sum(clicks) FILTER (WHERE seller_id IS NULL)::BIGINT AS n_unmapped
    FROM pub_c GROUP BY publisher_id, linked
),
pub_window AS (
    SELECT publisher_id, linked,
           count(*) FILTER (WHERE seller_id = linked) AS n_window,
           (list(click_id ORDER BY ts, click_id) FILTER (WHERE seller_id = linked))[1:10] AS examples
    FROM pub_w GROUP BY publisher_id, linked
),
pub_orders AS (
    SELECT publisher_id, linked,
           count(DISTINCT order_id) AS n,
           count(DISTINCT order_id) FILTER (WHERE seller_id = linked) AS n_store,
           count(DISTINCT order_id) FILTER (WHERE seller_id = linked AND ts >= $3 AND ts < $4) AS n_window,
           list(order_id ORDER BY order_id) FILTER (WHERE seller_id = linked AND ts >= $3 AND ts < $4) AS order_ids,
           sum(commission) FILTER (WHERE seller_id = linked AND ts >= $3 AND ts < $4) AS commission
    FROM pub_o GROUP BY publisher_id, linked
),
-- The population is "everyone but the publisher judged": everyone's counts
-- (globals) less the publisher's own.
store AS (SELECT seller_id, clicks, orders FROM globals.self_promotion_population WHERE seller_id IS NOT NULL),
program AS (SELECT clicks, orders FROM globals.self_promotion_population WHERE seller_id IS NULL)
SELECT p.publisher_id, p.seller_id,
       coalesce(pc.n, 0) AS pub_clicks,
       coalesce(pc.n_store, 0) AS pub_store_clicks,
       coalesce(pw.n_window, 0) AS window_store_clicks,
       coalesce((SELECT clicks FROM program), 0) - coalesce(pc.n, 0) AS pop_clicks,
       coalesce(st.clicks, 0) - coalesce(pc.n_store, 0) AS pop_store_clicks,
       coalesce(po.n, 0) AS pub_orders,
       coalesce(po.n_store, 0) AS pub_store_orders,
       coalesce(po.n_window, 0) AS window_store_orders,
       coalesce((SELECT orders FROM program), 0) - coalesce(po.n, 0) AS pop_orders,
       coalesce(st.orders, 0) - coalesce(po.n_store, 0) AS pop_store_orders,
       coalesce(pc.n_unmapped, 0) AS pub_unmapped_clicks,
       coalesce(pw.examples, []) AS example_clicks,
       coalesce(po.order_ids, []) AS order_ids,
       coalesce(po.commission, 0)::DOUBLE AS commission
FROM pair p
LEFT JOIN pub_clicks pc ON pc.publisher_id = p.publisher_id AND pc.linked = p.seller_id
LEFT JOIN pub_window pw ON pw.publisher_id = p.publisher_id AND pw.linked = p.seller_id
LEFT JOIN pub_orders po ON po.publisher_id = p.publisher_id AND po.linked = p.seller_id
LEFT JOIN store st ON st.seller_id = p.seller_id
ORDER BY p.publisher_id, p.seller_id;

-- name: LinkedClickDays
-- detectors.DayState compute of self_promotion_linked_clicks for the days
-- of day_state_days: per day, linked publisher and target, the clicks.
-- $1, $2 the span; $3 the linked publishers (VARCHAR[])
INSERT INTO self_promotion_linked_clicks
SELECT CAST(ts AS DATE) AS day, publisher_id, target_type, target_id, count(*) AS clicks
FROM clicks
WHERE ts >= $1 AND ts < $2 AND publisher_id IN (SELECT unnest($3::VARCHAR[]))
  AND CAST(ts AS DATE) IN (SELECT day FROM day_state_days)
GROUP BY ALL;

-- name: ProductSellers
-- Global table self_promotion_product_sellers: the seller of each product
-- a linked publisher's clicks in the look-back point to. A product belongs
-- to the seller the orders say sold it, whoever's orders they are (organic
-- ones too); a product sold by more than one seller id is ambiguous and
-- left unmapped. The pairs of every day of orders come from the per-day
-- state ProductPairs keeps (raw orders may have been dropped), the linked
-- publishers' clicked products from LinkedClickDays'.
-- $1 lookback_start, $2 lookback_end (TIMESTAMP), $3 linked publishers (VARCHAR[]).
WITH clicked AS (
    SELECT DISTINCT target_id AS product_id
    FROM self_promotion_linked_clicks
    WHERE target_type = 'product' AND day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)
      AND publisher_id IN (SELECT unnest($3::VARCHAR[]))
)
SELECT product_id, min(seller_id) AS seller_id
FROM self_promotion_product_pairs
WHERE product_id IN (SELECT product_id FROM clicked)
GROUP BY product_id
HAVING count(DISTINCT seller_id) = 1;

-- name: Population
-- Global table self_promotion_population: over the look-back, every
-- publisher's clicks (with a known store) and attributed orders (one per
-- order and publisher) to each linked seller, and, on the row whose
-- seller_id is NULL, the program's totals. The Shares query subtracts the
-- judged publisher's own counts.
-- $1 lookback_start, $2 lookback_end (TIMESTAMP), $3 linked sellers (VARCHAR[]).
WITH product_seller AS (
    SELECT product_id, min(seller_id) AS seller_id
    FROM self_promotion_product_pairs
    GROUP BY product_id
    HAVING count(DISTINCT seller_id) = 1
),
-- The look-back's clicks per target, from the per-day counts ClickCounts
-- keeps (a click to a store or product without an id has no seller).
c0 AS (
    SELECT target_type, target_id, clicks,
           CASE WHEN target_type = 'product' THEN target_id END AS product_key
    FROM self_promotion_click_counts
    WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)
),
c AS (
    SELECT CASE WHEN c0.target_type = 'store' THEN c0.target_id ELSE ps.seller_id END AS seller_id, c0.clicks
    FROM c0 LEFT JOIN product_seller ps ON ps.product_id = c0.product_key
),
o AS (
    SELECT DISTINCT order_id, publisher_id, seller_id
    FROM orders
    WHERE publisher_id IS NOT NULL AND publisher_id <> '' AND ts >= $1 AND ts < $2
),
linked AS (SELECT DISTINCT unnest($3::VARCHAR[]) AS seller_id),
store_clicks AS (
    SELECT seller_id, sum(clicks) AS n FROM c WHERE seller_id IN (SELECT seller_id FROM linked) GROUP BY seller_id
),
-- an order counts once per publisher it is attributed to
store_orders AS (
    SELECT seller_id, count(*) AS n
    FROM (SELECT DISTINCT seller_id, publisher_id, order_id FROM o WHERE seller_id IN (SELECT seller_id FROM linked))
    GROUP BY seller_id
)
SELECT l.seller_id, coalesce(sc.n, 0)::BIGINT AS clicks, coalesce(so.n, 0)::BIGINT AS orders
FROM linked l
LEFT JOIN store_clicks sc ON sc.seller_id = l.seller_id
LEFT JOIN store_orders so ON so.seller_id = l.seller_id
UNION ALL
SELECT NULL, (SELECT coalesce(sum(clicks) FILTER (WHERE seller_id IS NOT NULL), 0) FROM c)::BIGINT, (SELECT count(*) FROM (SELECT DISTINCT order_id, publisher_id FROM o))::BIGINT;

-- name: ClickCounts
-- The clicks per day and target of the days listed in temp table
-- day_state_days (detectors.DayState). $1, $2 the span (TIMESTAMP).
INSERT INTO self_promotion_click_counts
SELECT CAST(ts AS DATE), target_type, target_id, count(*)
FROM clicks
WHERE ts >= $1 AND ts < $2 AND CAST(ts AS DATE) IN (SELECT day FROM day_state_days)
  AND target_type IN ('store', 'product') AND target_id IS NOT NULL
GROUP BY ALL;

-- name: Inputs
-- Global table self_promotion_inputs: which optional click and order
-- columns hold a value anywhere in the input. A partition whose own
-- publishers happen to leave one empty must not drop the test it feeds.
-- EXISTS stops at the first value; count(x) > 0 read every row of the
-- history each night.
SELECT EXISTS (SELECT 1 FROM clicks WHERE target_type IS NOT NULL) AS clicks_target_type,
       EXISTS (SELECT 1 FROM clicks WHERE target_id IS NOT NULL) AS clicks_target_id,
       EXISTS (SELECT 1 FROM orders WHERE seller_id IS NOT NULL) AS orders_seller_id,
       EXISTS (SELECT 1 FROM orders WHERE product_id IS NOT NULL) AS orders_product_id,
       EXISTS (SELECT 1 FROM orders WHERE commission_usd IS NOT NULL) AS orders_commission_usd;

-- name: ProductPairs
-- detectors.DayState compute of self_promotion_product_pairs: which seller
-- sold which product on each day of day_state_days. $1, $2 the span.
INSERT INTO self_promotion_product_pairs
SELECT DISTINCT CAST(ts AS DATE), product_id, seller_id
FROM orders
WHERE ts >= $1 AND ts < $2 AND CAST(ts AS DATE) IN (SELECT day FROM day_state_days)
  AND product_id IS NOT NULL AND seller_id IS NOT NULL;
