package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"affwatch/pipeline"
)

const compactHelp = `
Compacts the database's storage now: merges the partly filled row groups
that nightly runs leave and reclaims the space of deleted rows (DuckDB's
checkpoint vacuum). 'affwatch run' and 'affwatch merge' do this themselves
on every 7th run (--compact-every); the runs between write only their own
rows, which keeps a night's cost to the night. Use this command to move
the compaction out of the nights instead: run the nights with
--compact-every 0 and 'affwatch compact' in a maintenance window, e.g.
weekly. It is recorded like a compacting night, so runs with
--compact-every N count their N from it.

Nothing else changes: no row is added, deleted or rewritten in value.
It needs the database to itself (no run at the same time) and takes
about as long as the close of a compacting night: seconds at 150 k
clicks a night, a minute or more at millions.

Examples:
  affwatch compact --db /var/lib/affwatch/affwatch.duckdb
  affwatch compact --db affwatch.duckdb --memory-limit 4GB`

// runCompact is `affwatch compact`.
func runCompact(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o dbOptions
	fs := newFlagSet("compact", "affwatch compact --db FILE [--memory-limit SIZE] [--threads N] [--temp-dir DIR]", compactHelp, stderr)
	o.register(fs)
	fs.Lookup("db").Usage = "database file (required)"
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.path == "" {
		return usagef("compact: --db is required (see affwatch compact --help)")
	}
	// Opening would create an empty database.
	if _, err := os.Stat(o.path); err != nil {
		return usagef("compact: database %s: %v", o.path, err)
	}
	fmt.Fprintf(stderr, "compacting %s …\n", o.path)
	c, err := pipeline.Compact(ctx, o.config(), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "compacted %s in %.1f s: %d → %d blocks in use (%s each), %d in the file; recorded as %s\n",
		o.path, c.Elapsed.Seconds(), c.Before.Used, c.After.Used, humanBytes(c.After.BlockSize), c.After.Total, c.ID)
	return nil
}
