-- 008_state: what a night keeps for the next one, so that a night costs
-- what the night brings rather than what the database holds (issue 16).

-- Reference-list labels are computed once per distinct user agent and
-- address and once per loaded file, not again every night for every stored
-- click. reflist_state holds the fingerprint of the lists the stored labels
-- were computed with: other lists (an update, another pack) relabel all.
CREATE TABLE reflist_state (
    fingerprint VARCHAR NOT NULL
);
-- Every distinct user agent already matched against the lists: idx is the
-- first pattern (by precedence) it matched, NULL for none.
CREATE TABLE reflist_ua (
    ua  VARCHAR NOT NULL,
    idx INTEGER
);
-- Every distinct click or checkout address already classed: the range list
-- (lid) and entry holding it, NULL for none.
CREATE TABLE reflist_ip (
    ip    VARCHAR NOT NULL,
    lid   INTEGER,
    entry VARCHAR
);
-- The pattern and range lists the labels refer to by idx and lid.
CREATE TABLE reflist_patterns (idx INTEGER, list VARCHAR, version VARCHAR, entry VARCHAR);
CREATE TABLE reflist_lists (lid INTEGER, name VARCHAR, version VARCHAR, class VARCHAR);
-- Loaded click and order files whose rows are labelled.
CREATE TABLE reflist_files (
    file_id BIGINT NOT NULL
);

ALTER TABLE order_ip_class ADD COLUMN ts TIMESTAMP;

-- cookie_stuffing's overwrites (a click on a device another publisher's
-- click reached at most overwrite_gap_seconds before), kept per day: a
-- night computes its own day and reads the look-back's days from here.
-- A day's rows hold while the clicks they were computed from are the same:
-- deps is the fingerprint of the gap and of the clicks of the day and of
-- the days its look-back reaches into (detectors/cookiestuffing).
CREATE TABLE cookie_stuffing_overwrite_days (
    day  DATE NOT NULL,
    deps VARCHAR NOT NULL
);
CREATE TABLE cookie_stuffing_overwrite_state (
    day      DATE NOT NULL,
    click_id VARCHAR,
    prev_pub VARCHAR
);

-- self_promotion's clicks per day and target (a store, or a product whose
-- seller the orders tell at read time): the population's shares over the
-- look-back sum these instead of reading the look-back's clicks.
CREATE TABLE self_promotion_click_days (
    day  DATE NOT NULL,
    deps VARCHAR NOT NULL
);
CREATE TABLE self_promotion_click_counts (
    day         DATE NOT NULL,
    target_type VARCHAR NOT NULL,
    target_id   VARCHAR NOT NULL,
    clicks      BIGINT NOT NULL
);
