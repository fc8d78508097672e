-- 005_ledger_cases: what the penalty engine remembers across nights (issue
-- 14): the ledger of clause 7.8 dispositions, so that each disqualified order
-- is reported new once and every later change says what changed, and the
-- cases, so that a publisher × detector seen night after night is one case
-- and not a new accusation every night.
--
-- Rows belong to the run that wrote them; a run's rows count only once the
-- run succeeded, and a successful re-run of the same night (or backfill)
-- deletes the earlier run's rows (store.ReplaceEarlierResults), as for
-- findings. as_of orders events across runs: the night, or a backfill's last
-- day. A night is judged against the events of earlier days only, so
-- re-running it gives the same rows.

-- One row per change of an order's disposition (clause 7.8). The order's
-- state is its latest row: disqualified for commission_usd (0 once
-- released). delta_usd is the change in money this row makes (new: +the
-- amount; amended: new minus old; released: -the old amount), in the column
-- money names: 'withhold' (pending commission, F.11.c) or 'clawback'
-- (commission already paid, F.11.d). Summing delta_usd over the nightly files
-- gives the ledger's totals. Amounts are whole cents.
CREATE TABLE dispositions (
    run_id           VARCHAR NOT NULL,
    night            DATE,              -- the run's scope; NULL for a backfill
    as_of            DATE NOT NULL,
    order_id         VARCHAR NOT NULL,
    publisher_id     VARCHAR NOT NULL,
    change           VARCHAR NOT NULL,  -- new, amended, released
    order_ts         TIMESTAMP,
    order_amount_usd DECIMAL(18,4),
    order_status     VARCHAR NOT NULL,  -- pending, paid (the commission's)
    money            VARCHAR NOT NULL,  -- withhold, clawback
    reason_codes     VARCHAR[] NOT NULL,
    finding_ids      VARCHAR[] NOT NULL,
    case_ids         VARCHAR[] NOT NULL,
    commission_usd   DECIMAL(18,4) NOT NULL,
    delta_usd        DECIMAL(18,4) NOT NULL,
    note             VARCHAR NOT NULL
);

-- One row per case per run that saw it or changed it. A case is a publisher
-- × detector that stays open while findings keep coming; case_id is stable
-- while it stays open. status is what this run made of it: new, continuing,
-- escalated, cleared (an appeal cleared it), closed (quiet for the pack's
-- case_close_quiet_nights). finding_ids are this run's findings of the case,
-- acting or suppressed.
CREATE TABLE case_events (
    run_id       VARCHAR NOT NULL,
    night        DATE,
    as_of        DATE NOT NULL,
    case_id      VARCHAR NOT NULL,
    publisher_id VARCHAR NOT NULL,
    detector     VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,
    severity     VARCHAR,               -- the worst finding's; NULL without findings
    score        DOUBLE,
    action       VARCHAR,               -- the ladder's rung for the worst finding
    finding_ids  VARCHAR[] NOT NULL,
    suppressed   BOOLEAN NOT NULL,      -- every finding of the night suppressed
    note         VARCHAR NOT NULL
);

-- Recommendations: money new tonight is withhold_usd / clawback_usd (the net
-- change the night's dispositions make); the running totals the ledger
-- still holds for the publisher after tonight stand beside. kind says
-- whether the recommendation alleges a breach or only corrects commission;
-- case_status is the most urgent status among its cases (escalated, new,
-- continuing, cleared).
ALTER TABLE recommendations ADD COLUMN withheld_total_usd DECIMAL(18,4);
ALTER TABLE recommendations ADD COLUMN clawed_back_total_usd DECIMAL(18,4);
ALTER TABLE recommendations ADD COLUMN kind VARCHAR;
ALTER TABLE recommendations ADD COLUMN case_status VARCHAR;
ALTER TABLE recommendations ADD COLUMN case_ids VARCHAR[];
ALTER TABLE recommendations ADD COLUMN risk DOUBLE;
