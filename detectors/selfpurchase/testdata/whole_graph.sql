-- The identifier graph of the whole look-back, as self_purchase built it
-- every night before its search started from the night's publishers
-- (issue 16): every node holding a value two or more nodes hold. The test
-- TestSearchEqualsWholeGraph runs GlobalLinks over this table and over
-- the rounds' part of the graph and expects the same links.
-- $1 identifier look-back start, $2 scope end, $3 max_identifier_buyers.
CREATE OR REPLACE TABLE globals.self_purchase_identifiers AS
WITH buyer_raw(buyer_id, kind, val) AS (
    SELECT buyer_id, 'email', email_hash FROM buyers
    UNION ALL SELECT buyer_id, 'phone', phone_hash FROM buyers
    UNION ALL SELECT buyer_id, 'payment', payment_hash FROM buyers
    UNION ALL SELECT buyer_id, 'address', address_hash FROM buyers
    UNION ALL SELECT buyer_id, 'device', device_id FROM buyers
    UNION ALL SELECT buyer_id, 'ip', ip FROM buyers
    UNION ALL SELECT buyer_id, kind, val FROM self_purchase_ident_state
              WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)
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
    SELECT 'B:' || buyer_id, kind, self_purchase_ident_value(kind, val) FROM buyer_raw
    WHERE buyer_id IS NOT NULL AND buyer_id <> '' AND val IS NOT NULL
    UNION ALL
    SELECT 'P:' || publisher_id, kind, self_purchase_ident_value(kind, val) FROM pub_raw
    WHERE publisher_id IS NOT NULL AND publisher_id <> '' AND val IS NOT NULL
),
ident AS MATERIALIZED (
    SELECT DISTINCT node, kind, val FROM nodes WHERE val <> ''
),
holders AS (
    SELECT kind, val, count(*) AS holders, count(*) FILTER (WHERE starts_with(node, 'B:')) AS buyers
    FROM ident GROUP BY kind, val HAVING count(*) >= 2
)
SELECT i.node, i.kind, i.val, h.holders, h.buyers
FROM ident i JOIN holders h ON h.kind = i.kind AND h.val = i.val
WHERE h.buyers <= $3 OR starts_with(i.node, 'P:')
ORDER BY i.kind, i.val, i.node;
