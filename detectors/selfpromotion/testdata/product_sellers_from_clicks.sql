-- The ProductSellers query before migration 015 (reference of
-- TestLinkedClickStateEqualsClickScan).
-- Global table self_promotion_product_sellers: the seller of each product
-- a linked publisher's clicks in the look-back point to. A product belongs
-- to the seller the orders say sold it, whoever's orders they are (organic
-- ones too); a product sold by more than one seller id is ambiguous and
-- left unmapped. The pairs of every day of orders come from the per-day
-- state ProductPairs keeps (raw orders may have been dropped).
-- $1 lookback_start, $2 lookback_end (TIMESTAMP), $3 linked publishers (VARCHAR[]).
WITH clicked AS (
    SELECT DISTINCT target_id AS product_id
    FROM clicks
    WHERE target_type = 'product' AND ts >= $1 AND ts < $2
      AND publisher_id IN (SELECT unnest($3::VARCHAR[]))
)
SELECT product_id, min(seller_id) AS seller_id
FROM self_promotion_product_pairs
WHERE product_id IN (SELECT product_id FROM clicked)
GROUP BY product_id
HAVING count(DISTINCT seller_id) = 1;
