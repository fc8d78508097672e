-- 014_click_burst_buckets: click_burst counts each publisher's clicks per
-- bucket (an hour by default) once, the night they arrive (issue 16), so a
-- night counts its own day and reads the other days of its 14-day baseline
-- from here instead of every click of them. The counts are exact (the
-- bucket length divides a day, so a bucket lies within one day).
CREATE TABLE click_burst_days (
    day  DATE NOT NULL,
    deps VARCHAR NOT NULL
);
CREATE TABLE click_burst_buckets (
    day          DATE NOT NULL,
    publisher_id VARCHAR NOT NULL,
    b            TIMESTAMP NOT NULL,
    n            BIGINT NOT NULL
);
