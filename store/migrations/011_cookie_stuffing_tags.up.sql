-- 011_cookie_stuffing_tags: cookie_stuffing counts its mechanisms per day
-- of clicks (issue 16), so a night tags its own clicks and sums the other
-- days of its 14-day look-back from here instead of tagging them again.
-- One row per (day, publisher) with the counts the rates divide by
-- (mechanism NULL), and one per (day, publisher, mechanism[, device,
-- overwritten publisher]) with the hits, the first examples (time, click)
-- and the first and last hit. Non-rendered hits are kept per device: whether
-- a person uses the device is decided over every night the program held, so
-- at the time of reading.
CREATE TABLE cookie_stuffing_tag_days (
    day  DATE NOT NULL,
    deps VARCHAR NOT NULL
);
CREATE TABLE cookie_stuffing_tag_state (
    day             DATE NOT NULL,
    publisher_id    VARCHAR NOT NULL,
    mechanism       VARCHAR,
    device_id       VARCHAR,
    prev_pub        VARCHAR,
    hits            BIGINT,
    examples        STRUCT(ts TIMESTAMP, click_id VARCHAR)[],
    first_ts        TIMESTAMP,
    last_ts         TIMESTAMP,
    clicks          BIGINT,
    landed          BIGINT,
    frame_known     BIGINT,
    redirect_known  BIGINT,
    device_known    BIGINT,
    self_ref_clicks BIGINT,
    referrer_known  BIGINT,
    givt_clicks     BIGINT,
    givt_unlanded   BIGINT
);
