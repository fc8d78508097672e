-- 004_globals: the schema of the state a detector needs from the whole
-- program rather than from one publisher's rows (population baselines,
-- cross-publisher links). A whole run computes its tables in place; a run
-- of one partition (affwatch run --partition i/N) reads them from the
-- Parquet files of the baselines pass (affwatch run --stage baselines).
-- Tables in it are replaced by every run and never history.
CREATE SCHEMA IF NOT EXISTS globals;
