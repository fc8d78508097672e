-- self_purchase — E.10.j: "dishonest or fraudulent transactions, whether by
-- yourself or together with your associates (including but not limited
-- friends, relatives, colleagues…) … making purchases … on designated links
-- so that you or your associate may obtain commissions".
-- Inputs: publishers (entity_id, email_hash, phone_hash, payout_hash,
-- address_hash, ip), buyers (email_hash, phone_hash, payment_hash,
-- address_hash, device_id, ip; optional), orders (buyer_id, publisher_id,
-- buyer_ip, buyer_device_id, address_hash, payment_hash, commission_usd),
-- clicks (buyer_id, device_id, ip).
--
-- The identifier graph: publishers and buyers are nodes; two nodes are
-- linked when they hold the same identifier value of one kind (a
-- publisher's payout account and a buyer's payment instrument are the same
-- kind). A value held by more than max_identifier_buyers distinct buyers
-- links nobody (carrier-grade NAT, office gateways, parcel lockers); the
-- others link with specificity 1/(holders − 1). Paths from each publisher
-- are expanded hop by hop (Expand, run max_hops times from Go on one
-- connection), keeping per (publisher, node, hard) the strongest path.
-- The statements run on one connection: sp_* are that connection's
-- temporary tables.

-- name: Identifiers
-- $1 identifier look-back start, $2 scope end (TIMESTAMP): order and click
-- identifiers seen in that range; publisher and buyer records always.
-- Hashes are hex: compared case-insensitively. IPv6 addresses are
-- lower-cased (IPv4 has no case). Device ids are opaque tokens, compared
-- exactly. Values are normalized after de-duplication, where rows are few.
CREATE OR REPLACE TEMP TABLE sp_ident AS
WITH buyer_raw(buyer_id, kind, val) AS (
    SELECT buyer_id, 'email', email_hash FROM buyers
    UNION ALL SELECT buyer_id, 'phone', phone_hash FROM buyers
    UNION ALL SELECT buyer_id, 'payment', payment_hash FROM buyers
    UNION ALL SELECT buyer_id, 'address', address_hash FROM buyers
    UNION ALL SELECT buyer_id, 'device', device_id FROM buyers
    UNION ALL SELECT buyer_id, 'ip', ip FROM buyers
    UNION ALL SELECT DISTINCT buyer_id, 'ip', buyer_ip FROM orders WHERE ts >= $1 AND ts < $2
    UNION ALL SELECT DISTINCT buyer_id, 'device', buyer_device_id FROM orders WHERE ts >= $1 AND ts < $2
    UNION ALL SELECT DISTINCT buyer_id, 'address', address_hash FROM orders WHERE ts >= $1 AND ts < $2
    UNION ALL SELECT DISTINCT buyer_id, 'payment', payment_hash FROM orders WHERE ts >= $1 AND ts < $2
    UNION ALL SELECT DISTINCT buyer_id, 'ip', ip FROM clicks WHERE buyer_id IS NOT NULL AND ts >= $1 AND ts < $2
    UNION ALL SELECT DISTINCT buyer_id, 'device', device_id FROM clicks WHERE buyer_id IS NOT NULL AND ts >= $1 AND ts < $2
),
pub_raw(publisher_id, kind, val) AS (
    SELECT publisher_id, 'entity', entity_id FROM publishers
    UNION ALL SELECT publisher_id, 'email', email_hash FROM publishers
    UNION ALL SELECT publisher_id, 'phone', phone_hash FROM publishers
    UNION ALL SELECT publisher_id, 'payment', payout_hash FROM publishers
    UNION ALL SELECT publisher_id, 'address', address_hash FROM publishers
    UNION ALL SELECT publisher_id, 'ip', ip FROM publishers
),
nodes(node, kind, val) AS (
    SELECT 'B:' || buyer_id, kind, val FROM buyer_raw WHERE buyer_id IS NOT NULL AND buyer_id <> '' AND val IS NOT NULL
    UNION ALL
    SELECT 'P:' || publisher_id, kind, val FROM pub_raw WHERE publisher_id IS NOT NULL AND publisher_id <> '' AND val IS NOT NULL
)
SELECT DISTINCT node, kind,
       CASE WHEN kind IN ('email', 'phone', 'payment', 'address') THEN lower(trim(val))
            WHEN kind = 'ip' AND contains(val, ':') THEN lower(val)
            ELSE val END AS val
FROM nodes
WHERE val <> '';

-- name: Holders
-- $1 max_identifier_buyers. One row per identifier value held by two or
-- more nodes; kept = it may link (not shared by a crowd).
CREATE OR REPLACE TEMP TABLE sp_holders AS
SELECT kind, val,
       count(*) AS holders,
       count(*) FILTER (WHERE starts_with(node, 'B:')) AS buyers,
       count(*) FILTER (WHERE starts_with(node, 'B:')) <= $1 AS kept,
       1.0 / (count(*) - 1) AS spec,
       kind NOT IN ('ip', 'device') AS hard
FROM sp_ident
GROUP BY kind, val
HAVING count(*) >= 2;

-- name: Start
-- $1 scope start, $2 scope end: the publishers with attributed orders in
-- scope, each the start of its own search.
CREATE OR REPLACE TEMP TABLE sp_frontier AS
SELECT publisher_id AS pub, 'P:' || publisher_id AS node, true AS hard, 1.0::DOUBLE AS strength, 0 AS hops,
       []::STRUCT(kind VARCHAR, val VARCHAR, holders BIGINT, buyers BIGINT, node VARCHAR)[] AS path,
       ['P:' || publisher_id] AS nodes
FROM (SELECT DISTINCT publisher_id FROM orders
      WHERE publisher_id IS NOT NULL AND publisher_id <> '' AND ts >= $1 AND ts < $2);

-- name: StartReach
CREATE OR REPLACE TEMP TABLE sp_reach AS SELECT * FROM sp_frontier;

-- name: Expand
-- $1 min_link_strength, $2 hop_decay. One hop from the frontier over kept
-- identifiers, never revisiting a node of the path; a path whose strength
-- falls below min_link_strength is dropped (it can only get weaker).
CREATE OR REPLACE TEMP TABLE sp_next AS
WITH ext AS (
    SELECT f.pub, i2.node, f.hard AND h.hard AS hard,
           f.strength * h.spec * CASE WHEN f.hops > 0 THEN $2 ELSE 1.0 END AS strength,
           f.hops + 1 AS hops,
           list_append(f.path, struct_pack(kind := h.kind, val := h.val, holders := h.holders, buyers := h.buyers, node := i2.node)) AS path,
           list_append(f.nodes, i2.node) AS nodes
    FROM sp_frontier f
    JOIN sp_ident i1 ON i1.node = f.node
    JOIN sp_holders h ON h.kind = i1.kind AND h.val = i1.val AND h.kept
    JOIN sp_ident i2 ON i2.kind = i1.kind AND i2.val = i1.val AND i2.node <> f.node
    WHERE NOT list_contains(f.nodes, i2.node)
)
SELECT e.*
FROM ext e
WHERE e.strength >= $1
  AND NOT EXISTS (SELECT 1 FROM sp_reach r
                  WHERE r.pub = e.pub AND r.node = e.node AND r.hard = e.hard AND r.strength >= e.strength)
QUALIFY row_number() OVER (PARTITION BY e.pub, e.node, e.hard ORDER BY e.strength DESC, e.path::VARCHAR) = 1;

-- name: Advance
INSERT INTO sp_reach SELECT * FROM sp_next;

-- name: NextFrontier
CREATE OR REPLACE TEMP TABLE sp_frontier AS SELECT * FROM sp_next;

-- name: FrontierSize
SELECT count(*) FROM sp_frontier;

-- name: LinkedOrders
-- $1 scope start, $2 scope end, $3 history start. For each (publisher,
-- buyer) reached: the strongest path, a hard one first (identity, contact,
-- money, address on every hop), and the buyer's orders through the
-- publisher's links from history start to scope end; in_scope marks the
-- orders judged (nightly: the night; the earlier ones only weigh the
-- evidence). Only buyers with an order in scope are returned.
WITH best AS (
    SELECT pub, substr(node, 3) AS buyer_id, hard, strength, hops, path
    FROM sp_reach
    WHERE starts_with(node, 'B:')
    QUALIFY row_number() OVER (PARTITION BY pub, node ORDER BY hard DESC, strength DESC, hops, path::VARCHAR) = 1
),
ord AS (
    SELECT publisher_id, buyer_id, order_id, min(ts) AS ts,
           sum(amount_usd)::DOUBLE AS amount, coalesce(sum(commission_usd), 0)::DOUBLE AS commission,
           string_agg(DISTINCT status, ',' ORDER BY status) AS status,
           min(ts) >= $1 AS in_scope
    FROM orders
    WHERE ts >= $3 AND ts < $2 AND publisher_id IS NOT NULL AND order_id IS NOT NULL
    GROUP BY publisher_id, buyer_id, order_id
)
SELECT b.pub, b.buyer_id, b.hard, b.strength, b.hops,
       [struct_pack(kind := p.kind, val := p.val, holders := p.holders, buyers := p.buyers, node := p.node) FOR p IN b.path] AS path,
       list(struct_pack(order_id := o.order_id, ts := o.ts, amount := o.amount, commission := o.commission, status := o.status, in_scope := o.in_scope)
            ORDER BY o.order_id) AS orders
FROM best b
JOIN ord o ON o.publisher_id = b.pub AND o.buyer_id = b.buyer_id
GROUP BY b.pub, b.buyer_id, b.hard, b.strength, b.hops, b.path
HAVING bool_or(o.in_scope)
ORDER BY b.pub, b.buyer_id;

-- name: PublisherOrders
-- $1 scope start, $2 scope end: attributed orders per publisher in scope
-- (the denominator of the share), and the population size.
SELECT publisher_id, count(DISTINCT order_id)
FROM orders
WHERE ts >= $1 AND ts < $2 AND publisher_id IS NOT NULL AND publisher_id <> ''
GROUP BY publisher_id
ORDER BY publisher_id;

-- name: ExcludedIdentifiers
-- Each publisher's own identifier values shared
-- by so many buyers that they link nobody (reported, never used).
SELECT substr(i.node, 3) AS publisher_id, i.kind, i.val, h.buyers
FROM sp_ident i
JOIN sp_holders h ON h.kind = i.kind AND h.val = i.val
WHERE starts_with(i.node, 'P:') AND NOT h.kept
ORDER BY publisher_id, i.kind, i.val;

-- name: OrderSpan
-- Backfill scope: every day with orders.
SELECT min(ts), max(ts) FROM orders;
