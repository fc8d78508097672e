-- The Shares query before the linked publishers' per-day click counts
-- (migration 015), kept as the reference TestLinkedClickStateEqualsClickScan
-- compares with: it reads every click of the look-back.
-- For the linked pairs in the VALUES list (one bound ($n, $n+1) per pair, from $5), the
-- publisher's clicks and attributed orders to the seller against its total,
-- and the same for every other publisher (the population), over the
-- look-back; plus the activity inside the judged window. Only the pair's
-- publisher's own rows are read here: what needs other publishers' rows
-- (which seller a product belongs to, the population's counts) comes from
-- globals, so a partition that holds only some publishers' clicks and
-- orders judges them as a whole run would.
-- $1 lookback_start, $2 lookback_end, $3 window_start, $4 window_end (TIMESTAMP).
WITH pair(publisher_id, seller_id) AS (VALUES %s),
c0 AS (
    SELECT click_id, ts, publisher_id, target_type, target_id,
           -- a plain equi-join key: a condition on target_type inside the
           -- join would turn the hash join into a nested loop
           CASE WHEN target_type = 'product' THEN target_id END AS product_key
    FROM clicks
    WHERE ts >= $1 AND ts < $2 AND publisher_id IN (SELECT publisher_id FROM pair)
),
c AS (
    SELECT c0.click_id, c0.ts, c0.publisher_id,
           CASE WHEN c0.target_type = 'store' THEN c0.target_id ELSE ps.seller_id END AS seller_id
    FROM c0 LEFT JOIN globals.self_promotion_product_sellers ps ON ps.product_id = c0.product_key
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
pub_o AS (
    SELECT p.seller_id AS linked, o.* FROM o JOIN pair p ON p.publisher_id = o.publisher_id
),
pub_clicks AS (
    SELECT publisher_id, linked,
           -- The share is over clicks whose store is known: a product click
           -- no order maps to a seller is unknown, not "another store".
           count(seller_id) AS n,
           count(*) FILTER (WHERE seller_id = linked) AS n_store,
           count(*) FILTER (WHERE seller_id = linked AND ts >= $3 AND ts < $4) AS n_window,
           count(*) FILTER (WHERE seller_id IS NULL) AS n_unmapped,
           (list(click_id ORDER BY ts, click_id) FILTER (WHERE seller_id = linked AND ts >= $3 AND ts < $4))[1:10] AS examples
    FROM pub_c GROUP BY publisher_id, linked
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
       coalesce(pc.n_window, 0) AS window_store_clicks,
       coalesce((SELECT clicks FROM program), 0) - coalesce(pc.n, 0) AS pop_clicks,
       coalesce(st.clicks, 0) - coalesce(pc.n_store, 0) AS pop_store_clicks,
       coalesce(po.n, 0) AS pub_orders,
       coalesce(po.n_store, 0) AS pub_store_orders,
       coalesce(po.n_window, 0) AS window_store_orders,
       coalesce((SELECT orders FROM program), 0) - coalesce(po.n, 0) AS pop_orders,
       coalesce(st.orders, 0) - coalesce(po.n_store, 0) AS pop_store_orders,
       coalesce(pc.n_unmapped, 0) AS pub_unmapped_clicks,
       coalesce(pc.examples, []) AS example_clicks,
       coalesce(po.order_ids, []) AS order_ids,
       coalesce(po.commission, 0)::DOUBLE AS commission
FROM pair p
LEFT JOIN pub_clicks pc ON pc.publisher_id = p.publisher_id AND pc.linked = p.seller_id
LEFT JOIN pub_orders po ON po.publisher_id = p.publisher_id AND po.linked = p.seller_id
LEFT JOIN store st ON st.seller_id = p.seller_id
ORDER BY p.publisher_id, p.seller_id;
