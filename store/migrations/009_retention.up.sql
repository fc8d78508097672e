-- 009_retention: --retain-days (issue 16). A nightly run may drop raw
-- clicks and orders older than the longest look-back of the pack's
-- detectors; what later nights need from those days is kept as state
-- (008 and the self_purchase identifiers below). retention records each
-- drop: detectors.DayState never recomputes a day before the latest
-- retained_from (its raw rows are gone; its stored rows stay).
CREATE TABLE retention (
    run_id        VARCHAR NOT NULL,
    retained_from DATE NOT NULL,
    clicks        BIGINT NOT NULL,
    orders        BIGINT NOT NULL
);

-- self_purchase's buyer identifiers seen in orders and clicks, per day:
-- the identifier graph of a night reads its 90-day look-back from here, not
-- from the raw rows (detectors/selfpurchase).
CREATE TABLE self_purchase_ident_days (
    day  DATE NOT NULL,
    deps VARCHAR NOT NULL
);
CREATE TABLE self_purchase_ident_state (
    day      DATE NOT NULL,
    buyer_id VARCHAR,
    kind     VARCHAR NOT NULL,
    val      VARCHAR
);

-- self_promotion's product-seller pairs per day of orders: a product's one
-- seller is read from every order the program held, raw or dropped.
CREATE TABLE self_promotion_pair_days (
    day  DATE NOT NULL,
    deps VARCHAR NOT NULL
);
CREATE TABLE self_promotion_product_pairs (
    day        DATE NOT NULL,
    product_id VARCHAR NOT NULL,
    seller_id  VARCHAR NOT NULL
);

-- cookie_stuffing's devices (publishers with a rendered landing page;
-- orders paid from them) and buyers (orders, first order) per day: both
-- are read over every click and order the program held.
CREATE TABLE cookie_stuffing_device_days (
    day  DATE NOT NULL,
    deps VARCHAR NOT NULL
);
CREATE TABLE cookie_stuffing_device_state (
    day          DATE NOT NULL,
    device_id    VARCHAR NOT NULL,
    publisher_id VARCHAR
);
CREATE TABLE cookie_stuffing_buyer_days (
    day  DATE NOT NULL,
    deps VARCHAR NOT NULL
);
CREATE TABLE cookie_stuffing_buyer_state (
    day      DATE NOT NULL,
    buyer_id VARCHAR NOT NULL,
    orders   BIGINT NOT NULL,
    first_ts TIMESTAMP NOT NULL
);
