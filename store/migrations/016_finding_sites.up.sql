-- 016_finding_sites: the hosts of the publisher's sites and pages each
-- finding is about (detectors.Finding.Sites), which an allow-list entry by
-- domain matches (issue 16: the penalty engine reads fields, not evidence
-- keys). A table of its own: not part of the findings' output columns.
CREATE TABLE finding_sites (
    run_id     VARCHAR NOT NULL,
    finding_id VARCHAR NOT NULL,
    host       VARCHAR NOT NULL
);
