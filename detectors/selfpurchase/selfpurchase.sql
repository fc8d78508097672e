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
-- are expanded hop by hop (at most max_hops), keeping per (publisher,
-- node, hard) the strongest path.
--
-- The graph and the search over it are program-wide state (GlobalTable,
-- issue 8): a buyer's identifiers come from its orders and clicks through
-- every publisher, a value's holders are counted over the whole program,
-- and the population figure counts the publishers of every partition with
-- linked orders. The rounds from SearchStart to GlobalIdentifiers, then
-- GlobalLinks and GlobalPopulation make the tables globals.self_purchase_*
-- in that order (GlobalLinks reads the first); a whole run makes them from
-- its own database, a partition reads them from the baselines pass. The
-- rest reads them and the partition's own orders only.
-- The search runs once, over the whole program, rather than in each
-- partition: the population figure needs it from every publisher, and a
-- partition then needs only its publishers' links. It is a recursive CTE
-- keyed by (publisher, node, hard) over the part of the graph the rounds
-- found it can reach (issue 16: the whole graph of 90 days of a program's
-- buyers was most of a night's time, and the search walks a few hundred
-- of its nodes).

-- name: SearchStart
-- $1 scope start, $2 scope end. The identifier graph is searched from the
-- publishers with attributed orders in scope, outwards: each round looks
-- up the values its frontier's nodes hold, counts every holder of the
-- values not counted before (over the whole program), and moves the
-- frontier to the nodes those values can still reach strongly enough.
-- What the rounds touch is the part of the graph the search below
-- (GlobalLinks) can walk; the rest of the 90-day graph is never built.
-- The rounds name nodes and values by key (migration 012): a probe of the
-- look-back's identifiers then reads two integer columns, not strings;
-- GlobalIdentifiers reads the strings of what the search kept, once.
-- sp_bound: the strongest path any round found to a node (an upper
-- bound: a path may not revisit a node, the rounds don't check), and the
-- factor a further hop multiplies by (1 from a publisher the search starts
-- at, hop_decay after).
CREATE OR REPLACE TEMP TABLE sp_bound AS
SELECT DISTINCT self_purchase_node_key('P:' || publisher_id) AS nkey, false AS buyer, 1.0::DOUBLE AS strength, 1.0::DOUBLE AS factor
FROM orders
WHERE publisher_id IS NOT NULL AND publisher_id <> '' AND ts >= $1 AND ts < $2;

-- name: SearchTables
-- The publishers' identifiers (compared, node 'P:' || publisher_id), the
-- first frontier, the values counted so far and their holders.
CREATE OR REPLACE TEMP TABLE sp_pub_idents AS
SELECT node, self_purchase_node_key(node) AS nkey, kind, val, self_purchase_value_key(kind, val) AS vkey
FROM (
SELECT DISTINCT 'P:' || publisher_id AS node, kind, self_purchase_ident_value(kind, val) AS val
FROM (
    SELECT publisher_id, 'entity' AS kind, entity_id AS val FROM publishers
    UNION ALL SELECT publisher_id, 'email', email_hash FROM publishers
    UNION ALL SELECT publisher_id, 'phone', phone_hash FROM publishers
    UNION ALL SELECT publisher_id, 'payment', payout_hash FROM publishers
    UNION ALL SELECT publisher_id, 'address', address_hash FROM publishers
    UNION ALL SELECT publisher_id, 'ip', ip FROM publishers
)
WHERE publisher_id IS NOT NULL AND publisher_id <> '' AND val IS NOT NULL AND val <> ''
  AND self_purchase_ident_value(kind, val) <> ''
);
CREATE OR REPLACE TEMP TABLE sp_frontier AS SELECT * FROM sp_bound;
CREATE OR REPLACE TEMP TABLE sp_values (vkey UBIGINT, holders BIGINT, buyers BIGINT);
CREATE OR REPLACE TEMP TABLE sp_holders (nkey UBIGINT, buyer BOOLEAN, vkey UBIGINT);

-- name: FrontierValues
-- $1 identifier look-back start, $2 scope end. The values the frontier's
-- nodes hold (a buyer's from the buyers dataset and from the look-back's
-- orders and clicks), each with the strength a hop over it starts from.
CREATE OR REPLACE TEMP TABLE sp_fvals AS
SELECT DISTINCT nkey, s, vkey FROM (
    SELECT f.nkey, f.strength * f.factor AS s, p.vkey
    FROM sp_frontier f JOIN sp_pub_idents p ON p.nkey = f.nkey
    UNION ALL
    SELECT f.nkey, f.strength * f.factor, b.vkey
    FROM sp_frontier f JOIN self_purchase_buyer_idents b ON b.nkey = f.nkey
    UNION ALL
    SELECT f.nkey, f.strength * f.factor, i.vkey
    FROM sp_frontier f JOIN self_purchase_ident_state i ON i.nkey = f.nkey
    WHERE i.day >= CAST($1 AS DATE) AND i.day < CAST($2 AS DATE)
);

-- name: NewValues
-- sp_new: the frontier's values whose holders are not counted yet.
CREATE OR REPLACE TEMP TABLE sp_new AS
SELECT DISTINCT vkey FROM sp_fvals f
WHERE NOT EXISTS (SELECT 1 FROM sp_values v WHERE v.vkey = f.vkey);

-- name: CountHolders
-- $1 identifier look-back start, $2 scope end. Every holder of the new
-- values over the whole program.
INSERT INTO sp_holders
SELECT DISTINCT nkey, buyer, vkey FROM (
    SELECT p.nkey, false AS buyer, p.vkey
    FROM sp_pub_idents p SEMI JOIN sp_new n ON n.vkey = p.vkey
    UNION ALL
    SELECT b.nkey, true, b.vkey
    FROM self_purchase_buyer_idents b SEMI JOIN sp_new n ON n.vkey = b.vkey
    UNION ALL
    SELECT i.nkey, i.nkey IS NOT NULL, i.vkey
    FROM self_purchase_ident_state i SEMI JOIN sp_new n ON n.vkey = i.vkey
    WHERE i.day >= CAST($1 AS DATE) AND i.day < CAST($2 AS DATE)
);

-- name: CountValues
-- Each new value's holder and buyer counts.
INSERT INTO sp_values
SELECT h.vkey, count(*), count(*) FILTER (WHERE h.buyer)
FROM sp_holders h SEMI JOIN sp_new n ON n.vkey = h.vkey
GROUP BY h.vkey;

-- name: NextFrontier
-- $1 max_identifier_buyers, $2 min_link_strength, $3 hop_decay. The nodes
-- this round's values reach at least min_link_strength strong (with a
-- margin for the rounding of the search's other order of products) and
-- more strongly than any round before: the next frontier.
CREATE OR REPLACE TEMP TABLE sp_frontier AS
WITH reached AS (
    SELECT h.nkey, h.buyer, max(f.s / (v.holders - 1)) AS strength
    FROM sp_fvals f
    JOIN sp_values v ON v.vkey = f.vkey
    JOIN sp_holders h ON h.vkey = f.vkey AND h.nkey <> f.nkey
    WHERE v.holders >= 2 AND v.buyers <= $1 AND f.s / (v.holders - 1) >= $2 * (1 - 1e-9)
    GROUP BY h.nkey, h.buyer
)
SELECT r.nkey, r.buyer, r.strength, $3::DOUBLE AS factor
FROM reached r LEFT JOIN sp_bound b ON b.nkey = r.nkey
WHERE b.nkey IS NULL OR r.strength > b.strength;

-- name: MoveBound
-- The frontier's strengths become the nodes' bounds.
DELETE FROM sp_bound WHERE nkey IN (SELECT nkey FROM sp_frontier);
INSERT INTO sp_bound SELECT * FROM sp_frontier;

-- name: GlobalIdentifiers
-- $1 max_identifier_buyers. globals.self_purchase_identifiers: the edges
-- the search touched, one row per node holding a value that two or more
-- nodes hold (a value only one node holds links nobody), with the value's
-- holder and buyer counts. Kept are the values that may link (at most $1
-- buyers) and, of the crowd-shared ones, only the publishers' own rows:
-- they are reported as excluded, never used. $2 identifier look-back
-- start, $3 scope end. The kept rows' keys are named again by the strings
-- of the rows that hold them: the only read of the strings.
WITH kept AS (
    SELECT h.nkey, h.vkey, v.holders, v.buyers
    FROM sp_holders h
    JOIN sp_values v ON v.vkey = h.vkey
    WHERE v.holders >= 2 AND (v.buyers <= $1 OR NOT h.buyer)
),
named AS (
    SELECT DISTINCT nkey, node, vkey, kind, val FROM (
        SELECT p.nkey, p.node, p.vkey, p.kind, p.val
        FROM sp_pub_idents p SEMI JOIN kept k ON k.vkey = p.vkey
        UNION ALL
        SELECT b.nkey, 'B:' || b.buyer_id, b.vkey, b.kind, b.val
        FROM self_purchase_buyer_idents b SEMI JOIN kept k ON k.vkey = b.vkey
        UNION ALL
        SELECT i.nkey, 'B:' || i.buyer_id, i.vkey, i.kind, i.val
        FROM self_purchase_ident_state i SEMI JOIN kept k ON k.vkey = i.vkey
        WHERE i.day >= CAST($2 AS DATE) AND i.day < CAST($3 AS DATE)
    )
)
SELECT n.node, n.kind, n.val, k.holders, k.buyers
FROM kept k JOIN named n ON n.vkey = k.vkey AND n.nkey IS NOT DISTINCT FROM k.nkey
ORDER BY n.kind, n.val, n.node;

-- name: SearchDone
DROP TABLE IF EXISTS sp_bound;
DROP TABLE IF EXISTS sp_pub_idents;
DROP TABLE IF EXISTS sp_frontier;
DROP TABLE IF EXISTS sp_values;
DROP TABLE IF EXISTS sp_holders;
DROP TABLE IF EXISTS sp_fvals;
DROP TABLE IF EXISTS sp_new;

-- name: BuyerIdentsFingerprint
-- The buyers dataset's rows, named by the file and line they were loaded
-- from: the loader never changes a stored row, a new snapshot replaces
-- every row with rows of a new file (detectors.DayState names raw rows the
-- same way). Hashing the identifier columns instead read the whole dataset
-- every night: 1.7–3.8 s at 6.7 M buyers, against 0.06 s. Which buyers a
-- new snapshot changed is found by their columns (ChangedBuyers).
SELECT count(*) || ':' || coalesce(CAST(sum(hash(_file_id, _line)) AS VARCHAR), '')
FROM buyers;

-- name: ChangedBuyers
-- The buyers whose identifier columns differ from when
-- self_purchase_buyer_idents was made: new, changed or gone.
CREATE OR REPLACE TEMP TABLE sp_changed_buyers AS
WITH now AS (
    SELECT buyer_id, hash(buyer_id, email_hash, phone_hash, payment_hash, address_hash, device_id, ip) AS h FROM buyers
)
SELECT buyer_id FROM (
    SELECT buyer_id, h FROM now EXCEPT ALL SELECT buyer_id, h FROM self_purchase_buyer_rows
    UNION ALL
    (SELECT buyer_id, h FROM self_purchase_buyer_rows EXCEPT ALL SELECT buyer_id, h FROM now)
)
GROUP BY buyer_id;

-- name: DropChangedBuyers
DELETE FROM self_purchase_buyer_idents WHERE buyer_id IN (SELECT buyer_id FROM sp_changed_buyers);
DELETE FROM self_purchase_buyer_rows WHERE buyer_id IS NULL OR buyer_id IN (SELECT buyer_id FROM sp_changed_buyers);

-- name: BuyerIdents
-- self_purchase_buyer_idents of the changed buyers ($1: of every buyer, a
-- first build), compared. A buyer is one row of the dataset (the loader
-- keeps buyer_id unique), so its (kind, value) pairs are distinct.
INSERT INTO self_purchase_buyer_idents
SELECT buyer_id, kind, val, self_purchase_node_key('B:' || buyer_id), self_purchase_value_key(kind, val)
FROM (
SELECT buyer_id, kind, self_purchase_ident_value(kind, val) AS val
FROM (
    SELECT buyer_id, 'email' AS kind, email_hash AS val FROM buyers
    UNION ALL SELECT buyer_id, 'phone', phone_hash FROM buyers
    UNION ALL SELECT buyer_id, 'payment', payment_hash FROM buyers
    UNION ALL SELECT buyer_id, 'address', address_hash FROM buyers
    UNION ALL SELECT buyer_id, 'device', device_id FROM buyers
    UNION ALL SELECT buyer_id, 'ip', ip FROM buyers
)
WHERE buyer_id IS NOT NULL AND buyer_id <> '' AND val IS NOT NULL AND val <> ''
  AND self_purchase_ident_value(kind, val) <> ''
  AND ($1::BOOLEAN OR buyer_id IN (SELECT buyer_id FROM sp_changed_buyers))
);

-- name: BuyerRows
-- The hashes the changed buyers ($1: every buyer) were read with.
INSERT INTO self_purchase_buyer_rows
SELECT buyer_id, hash(buyer_id, email_hash, phone_hash, payment_hash, address_hash, device_id, ip) FROM buyers
WHERE $1::BOOLEAN OR buyer_id IS NULL OR buyer_id IN (SELECT buyer_id FROM sp_changed_buyers);

-- name: GlobalLinks
-- $1 scope start, $2 scope end, $3 history start (TIMESTAMP), $4
-- max_identifier_buyers, $5 min_link_strength, $6 hop_decay, $7 max_hops.
-- globals.self_purchase_links: for each publisher with attributed orders
-- in scope (each the start of its own search) and each buyer it reaches,
-- the strongest path, a hard one first (identity, contact, money, address
-- on every hop), for the pairs where the buyer placed an order through the
-- publisher in scope.
-- The search: one hop per round from the last round's new paths over
-- values that may link (at most $4 buyers), never revisiting a node of
-- the path; a path whose strength falls below min_link_strength is
-- dropped (it can only get weaker), and so is one no stronger than a path
-- already found to the same node with the same hardness; of the round's
-- paths to one node and hardness the strongest survives. The reach is
-- keyed by (publisher, node, hard): a surviving path replaces the weaker
-- one found before it (USING KEY), which the choice of the best path
-- below would never pick.
WITH RECURSIVE
edges AS (
    SELECT node, kind, val, holders, buyers,
           1.0 / (holders - 1) AS spec,
           kind NOT IN ('ip', 'device') AS hard
    FROM globals.self_purchase_identifiers
    WHERE buyers <= $4
),
reach(pub, node, hard, strength, hops, path, nodes) USING KEY (pub, node, hard) AS (
    SELECT publisher_id, 'P:' || publisher_id, true, 1.0::DOUBLE, 0,
           []::STRUCT(kind VARCHAR, val VARCHAR, holders BIGINT, buyers BIGINT, node VARCHAR)[],
           ['P:' || publisher_id]
    FROM (SELECT DISTINCT publisher_id FROM orders
          WHERE publisher_id IS NOT NULL AND publisher_id <> '' AND ts >= $1 AND ts < $2)
    UNION
    (WITH ext AS (
        SELECT f.pub, i2.node, f.hard AND h.hard AS hard,
               f.strength * h.spec * CASE WHEN f.hops > 0 THEN $6 ELSE 1.0 END AS strength,
               f.hops + 1 AS hops,
               list_append(f.path, struct_pack(kind := h.kind, val := h.val, holders := h.holders, buyers := h.buyers, node := i2.node)) AS path,
               list_append(f.nodes, i2.node) AS nodes
        FROM reach f
        JOIN edges h ON h.node = f.node
        JOIN edges i2 ON i2.kind = h.kind AND i2.val = h.val AND i2.node <> f.node
        WHERE f.hops < $7 AND NOT list_contains(f.nodes, i2.node)
    )
    SELECT e.*
    FROM ext e
    WHERE e.strength >= $5
      AND NOT EXISTS (SELECT 1 FROM recurring.reach r
                      WHERE r.pub = e.pub AND r.node = e.node AND r.hard = e.hard AND r.strength >= e.strength)
    QUALIFY row_number() OVER (PARTITION BY e.pub, e.node, e.hard ORDER BY e.strength DESC, e.path::VARCHAR) = 1)
),
best AS (
    SELECT pub, substr(node, 3) AS buyer_id, hard, strength, hops, path
    FROM reach
    WHERE starts_with(node, 'B:')
    QUALIFY row_number() OVER (PARTITION BY pub, node ORDER BY hard DESC, strength DESC, hops, path::VARCHAR) = 1
),
ord AS (
    SELECT publisher_id, buyer_id, order_id
    FROM orders
    WHERE ts >= $3 AND ts < $2 AND publisher_id IS NOT NULL AND order_id IS NOT NULL
    GROUP BY publisher_id, buyer_id, order_id
    HAVING min(ts) >= $1
)
SELECT b.pub, b.buyer_id, b.hard, b.strength, b.hops, b.path
FROM best b
WHERE EXISTS (SELECT 1 FROM ord o WHERE o.publisher_id = b.pub AND o.buyer_id = b.buyer_id)
ORDER BY b.pub, b.buyer_id;

-- name: GlobalPopulation
-- $1 scope start, $2 scope end. globals.self_purchase_population: how many
-- publishers have attributed orders in scope (the population figure).
SELECT count(DISTINCT publisher_id) AS publishers_with_orders
FROM orders
WHERE ts >= $1 AND ts < $2 AND publisher_id IS NOT NULL AND publisher_id <> '';

-- name: Population
-- The population figures: publishers with attributed orders in scope, and
-- those with an order in scope by a linked buyer (the program's, whatever
-- the partition).
SELECT (SELECT publishers_with_orders FROM globals.self_purchase_population),
       (SELECT count(DISTINCT pub) FROM globals.self_purchase_links);

-- name: LinkedOrders
-- $1 scope start, $2 scope end, $3 history start. For each (publisher,
-- buyer) of globals.self_purchase_links whose publisher's orders are here:
-- the path, and the buyer's orders through the publisher's links from
-- history start to scope end; in_scope marks the orders judged (nightly:
-- the night; the earlier ones only weigh the evidence). Only buyers with
-- an order in scope are returned.
WITH ord AS (
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
FROM globals.self_purchase_links b
JOIN ord o ON o.publisher_id = b.pub AND o.buyer_id = b.buyer_id
GROUP BY b.pub, b.buyer_id, b.hard, b.strength, b.hops, b.path
HAVING bool_or(o.in_scope)
ORDER BY b.pub, b.buyer_id;

-- name: PublisherOrders
-- $1 scope start, $2 scope end: attributed orders per publisher in scope
-- (the denominator of the share; the partition's own publishers).
SELECT publisher_id, count(DISTINCT order_id)
FROM orders
WHERE ts >= $1 AND ts < $2 AND publisher_id IS NOT NULL AND publisher_id <> ''
GROUP BY publisher_id
ORDER BY publisher_id;

-- name: ExcludedIdentifiers
-- $1 max_identifier_buyers. Each publisher's own identifier values shared
-- by so many buyers that they link nobody (reported, never used).
SELECT substr(node, 3) AS publisher_id, kind, val, buyers
FROM globals.self_purchase_identifiers
WHERE starts_with(node, 'P:') AND buyers > $1
ORDER BY publisher_id, kind, val;

-- name: IdentDays
-- detectors.DayState compute of self_purchase_ident_state: the buyer
-- identifiers the orders and clicks of each day in day_state_days show,
-- once per (day, buyer, kind, value). $1 first day's start, $2 last day's
-- end. Rows GlobalIdentifiers would drop anyway (no buyer, no value) are
-- not kept.
INSERT INTO self_purchase_ident_state
SELECT day, buyer_id, kind, val, self_purchase_node_key('B:' || buyer_id), self_purchase_value_key(kind, val)
FROM (
SELECT DISTINCT CAST(ts AS DATE) AS day, buyer_id, kind, self_purchase_ident_value(kind, val) AS val
FROM (
    SELECT ts, buyer_id, 'ip' AS kind, buyer_ip AS val FROM orders WHERE ts >= $1 AND ts < $2
    UNION ALL SELECT ts, buyer_id, 'device', buyer_device_id FROM orders WHERE ts >= $1 AND ts < $2
    UNION ALL SELECT ts, buyer_id, 'address', address_hash FROM orders WHERE ts >= $1 AND ts < $2
    UNION ALL SELECT ts, buyer_id, 'payment', payment_hash FROM orders WHERE ts >= $1 AND ts < $2
    UNION ALL SELECT ts, buyer_id, 'ip', ip FROM clicks WHERE buyer_id IS NOT NULL AND ts >= $1 AND ts < $2
    UNION ALL SELECT ts, buyer_id, 'device', device_id FROM clicks WHERE buyer_id IS NOT NULL AND ts >= $1 AND ts < $2
) x
WHERE buyer_id IS NOT NULL AND buyer_id <> '' AND val IS NOT NULL AND val <> ''
  AND self_purchase_ident_value(kind, val) <> ''
  AND CAST(ts AS DATE) IN (SELECT day FROM day_state_days)
);
