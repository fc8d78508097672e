-- invalid_commission — the commission terms (epn-commission-table.txt,
-- epn-rates-and-rules.txt) and clauses 1.12 (Qualifying Purchases) and
-- 7.8–7.9 (Disqualified Purchases) of portals-rules-agreement-faq.txt.
-- Inputs: orders (ts, publisher_id, commission_usd, amount_usd; click_id,
-- ship_country, status, category, coupon, hot_sale, product_id, seller_id
-- when present), clicks (ts, ip_country, target_type, target_id), sellers
-- (name).
--
-- Money is counted in integer units of US$0.0001 (the store's
-- DECIMAL(18,4)), so nothing drifts: the commission Table 1 gives is
-- amount × rate in basis points, cut down to the cent ("The commission is
-- always 'cut off' to downwards"), then capped. Where the data cannot tell
-- which rate applies (no category, a possible Hot Sale good, a CIS order
-- whose rate the seller set), the expected commission takes the highest
-- rate that could apply: an overpayment is claimed only when no reading of
-- the terms pays that much.

-- name: Audit
-- Every attributed order with commission booked in [$1, $2), with its
-- reasons (CTE m); the Orders and Program queries below each finish it
-- (the Go code appends one of them). An order's click and, for an order id
-- booked to several publishers, which booking counts, are program-wide
-- facts: a partition holds only its publishers' clicks and orders, so they
-- come from globals (tables invalid_commission_clicks and
-- invalid_commission_order_owners, computed first from the whole input).
-- $1 window_start, $2 window_end, $3 CIS countries (VARCHAR[]),
-- $4 window ms for the CIS, $5 for other countries (NULL: not judged),
-- $6 normalized categories (VARCHAR[]), $7 their rates in bp (BIGINT[]),
-- $8 default rate bp (NULL: no table, no overpayment check),
-- $9 zero-rate categories, normalized (VARCHAR[]),
-- $10 brand stores, lower case (VARCHAR[]), $11 brand-store rate bp,
-- $12 Hot Sale maximum rate bp, $13 CIS maximum rate bp (NULL: Table 1),
-- $14 per-order cap in units (0: none), $15 coupon orders disqualified,
-- $16 overpayment tolerance in units
WITH o AS (
    SELECT order_id, ts, publisher_id, click_id, product_id, seller_id, status, coupon, hot_sale,
           nullif(upper(trim(ship_country)), '') AS ship_country,
           category,
           nullif(trim(regexp_replace(replace(lower(category), '&', ' & '), '\s+', ' ', 'g')), '') AS cat,
           (amount_usd * 10000)::HUGEINT AS amount_u,
           (commission_usd * 10000)::BIGINT AS booked_u
    FROM orders
    WHERE ts >= $1 AND ts < $2
      AND publisher_id IS NOT NULL AND publisher_id <> ''
      AND commission_usd > 0
      -- an order id booked to several publishers belongs to the first
      -- booking of the whole input, which may be in another partition
      AND NOT EXISTS (SELECT 1 FROM globals.invalid_commission_order_owners w
                      WHERE w.order_id = orders.order_id AND w.publisher_id <> orders.publisher_id)
    -- each order once, should a key slip through the loader twice
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _file_id, _line) = 1
),
-- An order's click is read locally only when every row of that click id is
-- the order's publisher's, hence in the same partition; any other (a click
-- of another publisher, or one with several rows across publishers) comes
-- as the whole input resolved it.
c_local AS (
    SELECT click_id, ts, nullif(upper(trim(ip_country)), '') AS ip_country, target_type, target_id
    FROM clicks
    WHERE click_id IN (SELECT click_id FROM o)
      AND click_id NOT IN (SELECT click_id FROM globals.invalid_commission_clicks)
    QUALIFY row_number() OVER (PARTITION BY click_id ORDER BY _file_id, _line) = 1
),
c AS (
    SELECT * FROM c_local
    UNION ALL
    SELECT click_id, ts, ip_country, target_type, target_id
    FROM globals.invalid_commission_clicks
    WHERE click_id IN (SELECT click_id FROM o)
),
s AS (
    SELECT seller_id, name
    FROM sellers
    WHERE seller_id IN (SELECT seller_id FROM o)
    QUALIFY row_number() OVER (PARTITION BY seller_id ORDER BY _file_id, _line) = 1
),
rates AS (
    SELECT unnest($6::VARCHAR[]) AS cat, unnest($7::BIGINT[]) AS bp
),
j AS (
    SELECT o.*, c.ts AS click_ts, c.ip_country,
           CASE WHEN o.ship_country IS NULL THEN NULL
                WHEN list_contains($3::VARCHAR[], o.ship_country) THEN 'cis' ELSE 'other' END AS region,
           epoch_ms(o.ts) - epoch_ms(c.ts) AS delay_ms,
           coalesce(list_contains($9::VARCHAR[], o.cat), false) AS zero_rate,
           coalesce(list_contains($10::VARCHAR[], lower(trim(s.name))), false)
               OR coalesce(list_contains($10::VARCHAR[], lower(trim(o.seller_id))), false) AS brand_store,
           -- A Hot Sale rate needs a Hot Sale good and a click straight to
           -- it; unknown counts as possible.
           coalesce(o.hot_sale, true)
               AND coalesce(CASE WHEN c.click_id IS NULL OR c.target_type IS NULL THEN NULL
                                 WHEN c.target_type <> 'product' THEN false
                                 ELSE c.target_id = o.product_id END, true) AS may_be_hot,
           (SELECT r.bp FROM rates r WHERE r.cat = o.cat) AS cat_bp
    FROM o
    LEFT JOIN c ON c.click_id = o.click_id
    LEFT JOIN s ON s.seller_id = o.seller_id
),
w AS (
    SELECT j.*,
           CASE region WHEN 'cis' THEN $4::BIGINT WHEN 'other' THEN $5::BIGINT
                ELSE greatest($4::BIGINT, $5::BIGINT) END AS window_ms,
           -- the rate Table 1 allows at most for this order
           CASE WHEN $8::BIGINT IS NULL THEN NULL
                WHEN zero_rate THEN 0
                ELSE greatest(
                    CASE WHEN region = 'cis' AND $13::BIGINT IS NOT NULL THEN $13::BIGINT
                         WHEN brand_store THEN $11::BIGINT
                         WHEN cat IS NULL THEN (SELECT greatest(max(bp), $8::BIGINT) FROM rates)
                         ELSE coalesce(cat_bp, $8::BIGINT) END,
                    CASE WHEN region IS NULL THEN $13::BIGINT END,
                    CASE WHEN may_be_hot THEN $12::BIGINT END) END AS rate_bp
    FROM j
),
e AS (
    SELECT w.*,
           CASE WHEN rate_bp IS NULL THEN NULL
                WHEN $14::BIGINT > 0 THEN least((amount_u * rate_bp // 1000000) * 100, $14::BIGINT)
                ELSE (amount_u * rate_bp // 1000000) * 100 END::BIGINT AS expected_u
    FROM w
),
r AS (
    SELECT e.*,
           list_filter([
               CASE WHEN click_ts IS NOT NULL AND delay_ms < 0 THEN 'order_before_click' END,
               CASE WHEN click_ts IS NOT NULL AND delay_ms > window_ms THEN 'cookie_window_expired' END,
               CASE WHEN ship_country IS NOT NULL AND ip_country IS NOT NULL AND ship_country <> ip_country THEN 'country_mismatch' END,
               CASE WHEN status = 'refunded' THEN 'refunded' END,
               CASE WHEN status = 'disputed' THEN 'disputed' END,
               CASE WHEN status = 'cancelled' THEN 'cancelled' END,
               CASE WHEN zero_rate THEN 'zero_rate_category' END,
               CASE WHEN $15::BOOLEAN AND coupon THEN 'coupon' END
           ], x -> x IS NOT NULL) AS disq,
           list_filter([
               CASE WHEN $14::BIGINT > 0 AND booked_u > $14::BIGINT + $16::BIGINT THEN 'over_cap' END,
               CASE WHEN NOT zero_rate AND expected_u IS NOT NULL
                         AND CASE WHEN $14::BIGINT > 0 THEN least(booked_u, $14::BIGINT) ELSE booked_u END > expected_u + $16::BIGINT
                    THEN 'overpaid' END
           ], x -> x IS NOT NULL) AS over
    FROM e
),
m AS (
    SELECT r.*,
           list_concat(disq, over) AS reasons,
           CASE WHEN len(disq) > 0 THEN booked_u
                WHEN len(over) > 0 THEN booked_u - expected_u
                ELSE 0 END AS at_stake_u
    FROM r
)

-- name: Orders
-- Appended to Audit: one row per order that breaks a term (QUALIFY), with
-- the publisher's counts over every attributed order of the window
-- (window functions, before QUALIFY) and the program's (globals).
SELECT publisher_id, order_id, ts, click_ts, delay_ms, window_ms, region, ship_country, ip_country,
       category, status, rate_bp, booked_u, expected_u, at_stake_u, reasons, len(disq) > 0 AS disqualified,
       count(*) OVER (PARTITION BY publisher_id) AS pub_orders,
       sum(at_stake_u) OVER (PARTITION BY publisher_id)::BIGINT AS pub_at_stake_u,
       (SELECT orders FROM globals.invalid_commission_program) AS all_orders,
       (SELECT disqualified FROM globals.invalid_commission_program) AS all_disqualified
FROM m
QUALIFY len(reasons) > 0
ORDER BY publisher_id, ts, order_id;

-- name: Program
-- Appended to Audit, global table invalid_commission_program: the
-- program's attributed orders in the window and how many are
-- disqualified, the baseline a publisher's share is compared with.
SELECT count(*)::BIGINT AS orders,
       count(*) FILTER (WHERE len(disq) > 0)::BIGINT AS disqualified
FROM m;

-- name: Clicks
-- Global table invalid_commission_clicks: the click (first row of its id,
-- as the audit reads it) of every attributed order in [$1, $2) for which
-- some row of that click id has another publisher than the order, so a
-- partition that does not hold it still judges the order by it.
WITH o AS (
    SELECT DISTINCT publisher_id, click_id
    FROM orders
    WHERE ts >= $1 AND ts < $2
      AND publisher_id IS NOT NULL AND publisher_id <> ''
      AND commission_usd > 0 AND click_id IS NOT NULL
),
foreign_click AS (
    SELECT DISTINCT o.click_id
    FROM o JOIN clicks c ON c.click_id = o.click_id
    WHERE c.publisher_id IS DISTINCT FROM o.publisher_id
)
SELECT click_id, ts, nullif(upper(trim(ip_country)), '') AS ip_country, target_type, target_id
FROM clicks
WHERE click_id IN (SELECT click_id FROM foreign_click)
QUALIFY row_number() OVER (PARTITION BY click_id ORDER BY _file_id, _line) = 1;

-- name: OrderOwners
-- Global table invalid_commission_order_owners: for an order id that rows
-- of several publishers book in [$1, $2), the publisher of its first row,
-- the booking the audit keeps.
WITH b AS (
    SELECT order_id, publisher_id, _file_id, _line
    FROM orders
    WHERE ts >= $1 AND ts < $2
      AND publisher_id IS NOT NULL AND publisher_id <> ''
      AND commission_usd > 0
)
SELECT order_id, publisher_id
FROM b
WHERE order_id IN (SELECT order_id FROM b GROUP BY order_id HAVING count(DISTINCT publisher_id) > 1)
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _file_id, _line) = 1;
