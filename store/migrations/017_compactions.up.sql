-- 017_compactions: the runs whose close compacted the database's storage
-- (DuckDB's checkpoint vacuum: partly filled row groups merged, deleted
-- rows reclaimed). Nightly runs defer it to every Nth run (--compact-every)
-- so that a night's close writes the night, not its neighbours again; the
-- next run counts the runs since the last row here.
CREATE TABLE compactions (
    run_id     VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL
);
