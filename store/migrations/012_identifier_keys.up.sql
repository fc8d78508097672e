-- 012_identifier_keys: the identifier search looks rows up by key, not by
-- string (issue 16). Its rounds probe the whole look-back's identifiers
-- several times a night; comparing 64-bit integers instead of the
-- (kind, value) and buyer strings makes each probe read two narrow columns.
-- The keys are half an MD5 (stable across engine versions, unlike hash()).
-- The search only decides which nodes to visit by key: its last step names
-- what it kept by the strings of the rows that hold it, and the links are
-- walked by strings, so two values sharing a key (odds about 3 in a
-- million for 10^7 values) would merge their holder counts (a weaker or
-- excluded link) but can never link two nodes that share no value.

CREATE MACRO self_purchase_node_key(node) AS CAST(md5_number(node) >> 64 AS UBIGINT);
CREATE MACRO self_purchase_value_key(kind, val) AS CAST(md5_number(kind || ':' || val) >> 64 AS UBIGINT);

CREATE TABLE self_purchase_ident_state_012 (
    day      DATE NOT NULL,
    buyer_id VARCHAR,
    kind     VARCHAR NOT NULL,
    val      VARCHAR,
    nkey     UBIGINT,
    vkey     UBIGINT
);
INSERT INTO self_purchase_ident_state_012
SELECT day, buyer_id, kind, val, self_purchase_node_key('B:' || buyer_id), self_purchase_value_key(kind, val)
FROM self_purchase_ident_state;
DROP TABLE self_purchase_ident_state;
ALTER TABLE self_purchase_ident_state_012 RENAME TO self_purchase_ident_state;

CREATE TABLE self_purchase_buyer_idents_012 (
    buyer_id VARCHAR NOT NULL,
    kind     VARCHAR NOT NULL,
    val      VARCHAR NOT NULL,
    nkey     UBIGINT NOT NULL,
    vkey     UBIGINT NOT NULL
);
INSERT INTO self_purchase_buyer_idents_012
SELECT buyer_id, kind, val, self_purchase_node_key('B:' || buyer_id), self_purchase_value_key(kind, val)
FROM self_purchase_buyer_idents;
DROP TABLE self_purchase_buyer_idents;
ALTER TABLE self_purchase_buyer_idents_012 RENAME TO self_purchase_buyer_idents;
