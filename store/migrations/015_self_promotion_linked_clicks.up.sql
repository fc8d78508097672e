-- 015_self_promotion_linked_clicks: self_promotion counts the clicks of the
-- publishers linked to a seller per day and target (issue 16), so a night
-- counts its own day and reads the other days of its 28-day look-back from
-- here instead of every click of them. Only the linked publishers' clicks
-- are counted; the list of them is a parameter of the state (another list
-- computes the look-back again). The counts are exact sums.
CREATE TABLE self_promotion_linked_days (
    day  DATE NOT NULL,
    deps VARCHAR NOT NULL
);
CREATE TABLE self_promotion_linked_clicks (
    day          DATE NOT NULL,
    publisher_id VARCHAR NOT NULL,
    target_type  VARCHAR,
    target_id    VARCHAR,
    clicks       BIGINT NOT NULL
);
