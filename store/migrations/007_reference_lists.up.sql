-- 007_reference_lists: general invalid traffic (GIVT) labels from the
-- maintained lists of the rule pack's reference_lists (loaders/reflists).
-- Both tables are rebuilt by every run from all stored clicks and orders,
-- and hold only rows a list matched: a click absent from click_traffic is
-- not GIVT (view click_givt says so for every click).

-- One row per click a list matched: a known-bot user agent (the list, its
-- version and the entry that matched) and/or an address in a CIDR file's
-- range (its class, list, version and range). givt: a declared bot or a
-- data-centre address.
CREATE TABLE click_traffic (
    click_id     VARCHAR NOT NULL,
    publisher_id VARCHAR,
    ts           TIMESTAMP,
    givt         BOOLEAN NOT NULL,
    ua_list      VARCHAR,
    ua_version   VARCHAR,
    ua_entry     VARCHAR,
    ip_class     VARCHAR,
    ip_list      VARCHAR,
    ip_version   VARCHAR,
    ip_range     VARCHAR
);

-- Orders whose checkout IP (buyer_ip) is in a CIDR file's range.
CREATE TABLE order_ip_class (
    order_id     VARCHAR NOT NULL,
    publisher_id VARCHAR,
    ip_class     VARCHAR NOT NULL,
    ip_list      VARCHAR NOT NULL,
    ip_version   VARCHAR,
    ip_range     VARCHAR NOT NULL
);

-- The lists a run read (run.json reference_lists): name, version, hash.
CREATE TABLE reference_lists (
    run_id     VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL,  -- bot_user_agents, ip_ranges
    name       VARCHAR NOT NULL,
    class      VARCHAR,           -- ip_ranges: datacenter, tor, internal
    version    VARCHAR,
    sha256     VARCHAR,
    path       VARCHAR NOT NULL,
    entries    BIGINT NOT NULL,
    rejected   BIGINT NOT NULL,
    first_rejects JSON,
    matched    BIGINT NOT NULL    -- clicks (bot lists) or clicks and orders (ranges) it matched
);

CREATE VIEW click_givt AS
SELECT c.click_id, c.publisher_id, c.ts, coalesce(t.givt, false) AS givt
FROM clicks c LEFT JOIN click_traffic t ON t.click_id = c.click_id;
