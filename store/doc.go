// Package store opens the one DuckDB database a run works in and keeps its
// schema current. Every pipeline stage (loaders, detectors, penalties,
// reports) reads and writes only through the tables created by the numbered
// migrations in migrations/, so each stage can be re-run alone and every
// number in a report traces back to rows with one SQL query.
//
// Opening an older database applies the migrations it lacks, in order, each
// in its own transaction, and records them in schema_version.
package store
