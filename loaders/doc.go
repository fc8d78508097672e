// Package loaders turns the input datasets of DESIGN §3 (clicks, orders,
// publishers, sites, sellers, buyers, ads) into rows of the store, in any
// format the contract lists: csv, tsv, ndjson/jsonl (optionally .gz or .zst),
// parquet and Arrow IPC (file or stream), as one file NAME.EXT or a folder
// NAME/ of files (hive partitions allowed).
//
// Files are read by DuckDB's own readers (Arrow IPC through duckdb-go's Arrow
// view), never parsed row by row in Go. Every value is coerced to the
// contract's type; a row that cannot be (bad timestamp, negative amount,
// unknown enum value, invalid UTF-8, duplicate key, malformed line) goes to
// the quarantine table with its file, line, column and reason. Nothing is
// dropped silently and one bad row never aborts a load.
//
// A missing required dataset or column is a ContractError, reported for all
// datasets before any row is loaded.
//
// Loads are idempotent: a file whose content hash is already in the load
// ledger is skipped, and the rows of a new file replace the rows the
// database held for the dates the file covers (dated datasets) or for the
// whole dataset (reference datasets), so re-running a night never
// duplicates rows.
package loaders
