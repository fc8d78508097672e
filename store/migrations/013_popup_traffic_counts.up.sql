-- 013_popup_traffic_counts: popup_traffic counts its publishers' clicks per
-- day (issue 16), so a night counts its own day and sums the other days of
-- its 14-day window from here instead of reading them again, twice (once
-- for the population, once for the publishers judged). The counts are
-- exact sums; the first and last pop-up-like click are a min and a max.
CREATE TABLE popup_traffic_days (
    day  DATE NOT NULL,
    deps VARCHAR NOT NULL
);
CREATE TABLE popup_traffic_counts (
    day          DATE NOT NULL,
    publisher_id VARCHAR NOT NULL,
    clicks       BIGINT NOT NULL,
    known        BIGINT NOT NULL,
    popups       BIGINT NOT NULL,
    hidden       BIGINT NOT NULL,
    quick        BIGINT NOT NULL,
    small        BIGINT NOT NULL,
    first_popup  TIMESTAMP,
    last_popup   TIMESTAMP
);
