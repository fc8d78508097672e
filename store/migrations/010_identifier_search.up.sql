-- 010_identifier_search: self_purchase searches its identifier graph from
-- the night's publishers outwards instead of building the whole graph of
-- the 90-day look-back every night (issue 16). The search looks values up
-- by (kind, value), so they are stored already compared the way the graph
-- compares them.

-- How the identifier graph compares values: hashes are hex, compared
-- case-insensitively and without surrounding blanks; IPv6 addresses are
-- lower-cased (IPv4 has no case); entity and device ids are opaque tokens,
-- compared exactly.
CREATE MACRO self_purchase_ident_value(kind, val) AS
    CASE WHEN kind IN ('email', 'phone', 'payment', 'address') THEN lower(trim(val))
         WHEN kind = 'ip' AND contains(val, ':') THEN lower(val)
         ELSE val END;

-- The per-day buyer identifiers of 009, rewritten compared: days whose
-- raw rows --retain-days dropped can't be computed again.
CREATE TABLE self_purchase_ident_state_010 (
    day      DATE NOT NULL,
    buyer_id VARCHAR,
    kind     VARCHAR NOT NULL,
    val      VARCHAR
);
INSERT INTO self_purchase_ident_state_010
SELECT DISTINCT day, buyer_id, kind, self_purchase_ident_value(kind, val)
FROM self_purchase_ident_state
WHERE self_purchase_ident_value(kind, val) <> '';
DROP TABLE self_purchase_ident_state;
ALTER TABLE self_purchase_ident_state_010 RENAME TO self_purchase_ident_state;

-- The buyers dataset's identifiers, compared, one row per (buyer, kind,
-- value), and a hash of each buyer's identifier columns as they were
-- read: when the dataset's fingerprint (its row count and hash sum)
-- changes, the buyers whose hash changed, came or went are read again.
CREATE TABLE self_purchase_buyer_idents (
    buyer_id VARCHAR NOT NULL,
    kind     VARCHAR NOT NULL,
    val      VARCHAR NOT NULL
);
CREATE TABLE self_purchase_buyer_rows (
    buyer_id VARCHAR,
    h        UBIGINT NOT NULL
);
CREATE TABLE self_purchase_buyer_idents_of (
    fingerprint VARCHAR NOT NULL
);
