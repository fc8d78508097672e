-- 001_init: every table of the pipeline (DESIGN §1: stages talk only through tables).
-- Input tables mirror DESIGN §3 column for column; three bookkeeping columns follow:
--   extra     JSON of input columns the contract does not name (kept, never dropped)
--   _file_id  the load_ledger row the row came from (traceability, replacement)
--   _line     line (text formats) or 1-based row number (parquet, arrow) in that file
--   _q        the row's problems while a load is in flight; rows with problems move to
--             quarantine before the load commits, so committed rows always have _q NULL.
-- Input columns carry no NOT NULL: the loader checks required values and quarantines,
-- which lets a load insert in one pass and sort the bad rows out afterwards.
-- Timestamps are stored as TIMESTAMP in UTC. Money is DECIMAL(18,4): exact sums for clawbacks.

CREATE SEQUENCE IF NOT EXISTS load_file_seq START 1;

CREATE TABLE load_ledger (
    file_id          BIGINT PRIMARY KEY,
    run_id           VARCHAR NOT NULL,
    dataset          VARCHAR NOT NULL,
    path             VARCHAR NOT NULL,   -- relative to --in
    sha256           VARCHAR NOT NULL,
    size_bytes       BIGINT NOT NULL,
    format           VARCHAR NOT NULL,
    compression      VARCHAR NOT NULL,
    columns_present  VARCHAR[] NOT NULL,
    rows_read        BIGINT NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    loaded_at        TIMESTAMP NOT NULL,
    superseded_by    VARCHAR             -- run_id whose load replaced these rows
);

CREATE TABLE quarantine (
    run_id      VARCHAR NOT NULL,
    dataset     VARCHAR NOT NULL,
    file_id     BIGINT NOT NULL,
    file        VARCHAR NOT NULL,
    line        BIGINT NOT NULL,
    column_name VARCHAR NOT NULL,   -- '' when the whole row is at fault
    reason      VARCHAR NOT NULL,
    value       VARCHAR             -- the offending raw value, truncated
);

CREATE TABLE clicks (
    click_id     VARCHAR,
    ts           TIMESTAMP,
    publisher_id VARCHAR,
    sub_id       VARCHAR,
    ip           VARCHAR,
    ip_country   VARCHAR,
    user_agent   VARCHAR,
    device_id    VARCHAR,
    buyer_id     VARCHAR,
    referrer     VARCHAR,
    landing_url  VARCHAR,
    target_type  VARCHAR,
    target_id    VARCHAR,
    landed       BOOLEAN,
    in_iframe    BOOLEAN,
    opener       BOOLEAN,
    visible      BOOLEAN,
    viewport_w   INTEGER,
    viewport_h   INTEGER,
    dwell_ms     BIGINT,
    extra        JSON,
    _file_id     BIGINT NOT NULL,
    _line        BIGINT NOT NULL,
    _q           STRUCT(col VARCHAR, reason VARCHAR, val VARCHAR)[]
);

CREATE TABLE orders (
    order_id        VARCHAR,
    ts              TIMESTAMP,
    buyer_id        VARCHAR,
    amount_usd      DECIMAL(18,4),
    publisher_id    VARCHAR,
    click_id        VARCHAR,
    buyer_ip        VARCHAR,
    buyer_device_id VARCHAR,
    ship_country    VARCHAR,
    seller_id       VARCHAR,
    product_id      VARCHAR,
    category        VARCHAR,
    status          VARCHAR,
    commission_usd  DECIMAL(18,4),
    new_buyer       BOOLEAN,
    coupon          BOOLEAN,
    hot_sale        BOOLEAN,
    address_hash    VARCHAR,
    payment_hash    VARCHAR,
    completed_at    TIMESTAMP,
    extra           JSON,
    _file_id        BIGINT NOT NULL,
    _line           BIGINT NOT NULL,
    _q           STRUCT(col VARCHAR, reason VARCHAR, val VARCHAR)[]
);

CREATE TABLE publishers (
    publisher_id  VARCHAR,
    name          VARCHAR,
    kind          VARCHAR,
    entity_id     VARCHAR,
    email_hash    VARCHAR,
    phone_hash    VARCHAR,
    payout_hash   VARCHAR,
    address_hash  VARCHAR,
    ip            VARCHAR,
    country       VARCHAR,
    joined_at     TIMESTAMP,
    traffic_types VARCHAR[],
    extra         JSON,
    _file_id      BIGINT NOT NULL,
    _line         BIGINT NOT NULL,
    _q           STRUCT(col VARCHAR, reason VARCHAR, val VARCHAR)[]
);

CREATE TABLE sites (
    publisher_id VARCHAR,
    url          VARCHAR,
    kind         VARCHAR,
    extra        JSON,
    _file_id     BIGINT NOT NULL,
    _line        BIGINT NOT NULL,
    _q           STRUCT(col VARCHAR, reason VARCHAR, val VARCHAR)[]
);

CREATE TABLE sellers (
    seller_id   VARCHAR,
    name        VARCHAR,
    entity_id   VARCHAR,
    email_hash  VARCHAR,
    phone_hash  VARCHAR,
    payout_hash VARCHAR,
    country     VARCHAR,
    extra       JSON,
    _file_id    BIGINT NOT NULL,
    _line       BIGINT NOT NULL,
    _q           STRUCT(col VARCHAR, reason VARCHAR, val VARCHAR)[]
);

CREATE TABLE buyers (
    buyer_id     VARCHAR,
    email_hash   VARCHAR,
    phone_hash   VARCHAR,
    payment_hash VARCHAR,
    address_hash VARCHAR,
    device_id    VARCHAR,
    ip           VARCHAR,
    extra        JSON,
    _file_id     BIGINT NOT NULL,
    _line        BIGINT NOT NULL,
    _q           STRUCT(col VARCHAR, reason VARCHAR, val VARCHAR)[]
);

CREATE TABLE ads (
    publisher_id VARCHAR,
    ad_id        VARCHAR,
    keyword      VARCHAR,
    title        VARCHAR,
    text         VARCHAR,
    display_url  VARCHAR,
    extra        JSON,
    _file_id     BIGINT NOT NULL,
    _line        BIGINT NOT NULL,
    _q           STRUCT(col VARCHAR, reason VARCHAR, val VARCHAR)[]
);

-- One row per invocation of a stage that writes results. manifest is run.json's body.
CREATE TABLE runs (
    run_id        VARCHAR PRIMARY KEY,
    command       VARCHAR NOT NULL,
    night         DATE,               -- --date; NULL for a backfill
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    status        VARCHAR NOT NULL,   -- running, succeeded, failed
    error         VARCHAR,
    rules_version VARCHAR,
    rules_sha256  VARCHAR,
    tool_version  VARCHAR,
    manifest      JSON
);

-- Detectors write here; a finding belongs to the night it covers (night NULL: backfill scope).
CREATE TABLE findings (
    finding_id     VARCHAR NOT NULL,
    run_id         VARCHAR NOT NULL,
    night          DATE,
    publisher_id   VARCHAR NOT NULL,
    detector       VARCHAR NOT NULL,
    rule_id        VARCHAR NOT NULL,
    rule_status    VARCHAR NOT NULL,
    severity       VARCHAR NOT NULL,
    score          DOUBLE NOT NULL,
    policy_ref     VARCHAR NOT NULL,
    summary        VARCHAR NOT NULL,
    evidence       JSON NOT NULL,
    window_start   TIMESTAMP NOT NULL,
    window_end     TIMESTAMP NOT NULL,
    order_ids      VARCHAR[] NOT NULL,
    commission_usd DECIMAL(18,4) NOT NULL
);

-- Signals a detector could not use because an optional input column was absent.
CREATE TABLE signals_unavailable (
    run_id   VARCHAR NOT NULL,
    detector VARCHAR NOT NULL,
    signal   VARCHAR NOT NULL,
    reason   VARCHAR NOT NULL
);

CREATE TABLE recommendations (
    run_id          VARCHAR NOT NULL,
    night           DATE,
    publisher_id    VARCHAR NOT NULL,
    action          VARCHAR NOT NULL,
    policy_ref      VARCHAR NOT NULL,
    finding_ids     VARCHAR[] NOT NULL,
    withhold_usd    DECIMAL(18,4) NOT NULL,
    clawback_usd    DECIMAL(18,4) NOT NULL,
    appeal_deadline DATE NOT NULL,
    review_required BOOLEAN NOT NULL,
    summary         VARCHAR NOT NULL
);

-- Clause 7.8's itemized Disqualified Purchases Report, one row per order.
CREATE TABLE disqualified_orders (
    run_id         VARCHAR NOT NULL,
    night          DATE,
    order_id       VARCHAR NOT NULL,
    publisher_id   VARCHAR NOT NULL,
    reason_codes   VARCHAR[] NOT NULL,
    finding_ids    VARCHAR[] NOT NULL,
    commission_usd DECIMAL(18,4) NOT NULL
);
