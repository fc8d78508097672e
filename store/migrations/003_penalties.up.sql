-- 003_penalties: what the penalty engine (rules/penalty, issue 7) decides and
-- remembers between nights: why each recommendation is what it is, the
-- findings an allow-list entry or an appeal suppressed (listed in the report,
-- never dropped silently), and appeal decisions (clause G.12).

-- Why the action: the confidence and severity of the finding that set it,
-- the earlier offences counted (repeat offenders escalate), the findings of
-- non-stable rules (shown, never acted on beyond a warning) and, per
-- finding, its step on the ladder (JSON array, see rules/penalty.Basis).
ALTER TABLE recommendations ADD COLUMN severity VARCHAR;
ALTER TABLE recommendations ADD COLUMN confidence VARCHAR;
ALTER TABLE recommendations ADD COLUMN strikes INTEGER;
ALTER TABLE recommendations ADD COLUMN shadow_finding_ids VARCHAR[];
ALTER TABLE recommendations ADD COLUMN basis JSON;

-- A finding the pack's allow-list or a cleared appeal suppressed: every
-- column of findings, then what suppressed it. Suppressed findings are not
-- in findings.ndjson and drive no recommendation; report.html lists them.
CREATE TABLE suppressed_findings (
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
    commission_usd DECIMAL(18,4) NOT NULL,
    suppressed_by  VARCHAR NOT NULL,   -- allowlist, appeal
    -- the allow-list entry (match, rule, reason, approved_by, expires) or the
    -- appeal (appeal_id, decided_on, decided_by, note)
    suppression    JSON NOT NULL
);

-- Appeal decisions (G.12), recorded by `affwatch appeal`. A publisher
-- cleared for a detector is not escalated for it: its offences of that
-- detector up to decided_on do not count as history, and a finding with the
-- cleared finding_id is suppressed if it comes back.
CREATE TABLE appeals (
    appeal_id    VARCHAR PRIMARY KEY,
    publisher_id VARCHAR NOT NULL,
    detector     VARCHAR NOT NULL,   -- detector code; '*' for every detector
    finding_id   VARCHAR,            -- the finding appealed, when known
    outcome      VARCHAR NOT NULL,   -- cleared, upheld
    decided_on   DATE NOT NULL,
    decided_by   VARCHAR NOT NULL,
    note         VARCHAR NOT NULL,
    recorded_at  TIMESTAMP NOT NULL
);
