package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestDeferCompaction checks on real DuckDB storage what DeferCompaction
// promises: deferred, checkpoints still drop row groups whose rows are
// all deleted but leave partly filled ones and scattered deletes as they
// are; turned back on, the next checkpoint merges them.
func TestDeferCompaction(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "c.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := st.DB.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// groups is the table's row groups and the database's used blocks.
	groups := func() (n, blocks int) {
		t.Helper()
		if err := st.DB.QueryRowContext(ctx, `SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('t')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := st.DB.QueryRowContext(ctx, `SELECT total_blocks - free_blocks FROM pragma_database_size()`).Scan(&blocks); err != nil {
			t.Fatal(err)
		}
		return n, blocks
	}
	exec(`CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(1000000)`)
	exec(`CHECKPOINT`)
	if n, _ := groups(); n != 9 { // 1,000,000 rows of 122,880 a group
		t.Fatalf("%d row groups to start with, want 9", n)
	}
	if err := st.DeferCompaction(ctx, true); err != nil {
		t.Fatal(err)
	}
	exec(`DELETE FROM t WHERE i < 500000`) // whole row groups: dropped all the same
	exec(`CHECKPOINT`)
	if n, _ := groups(); n != 5 {
		t.Errorf("deferred, after deleting the first half: %d row groups, want 5 (the emptied ones dropped)", n)
	}
	exec(`DELETE FROM t WHERE i % 3 = 0`)
	exec(`CHECKPOINT`)
	exec(`INSERT INTO t SELECT range + 2000000, 'x' FROM range(10)`)
	exec(`CHECKPOINT`)
	exec(`INSERT INTO t SELECT range + 3000000, 'x' FROM range(10)`)
	exec(`CHECKPOINT`)
	deferredGroups, deferredBlocks := groups()
	if deferredGroups != 7 {
		t.Errorf("deferred, after two small appends: %d row groups, want 7 (each append its own)", deferredGroups)
	}
	before, err := st.Blocks(ctx)
	if err != nil || before.Used != int64(deferredBlocks) || before.Total < before.Used || before.BlockSize != 256<<10 {
		t.Errorf("Blocks() = %+v, %v; want %d used of at least as many, 256 KiB each", before, err, deferredBlocks)
	}
	// Compact turns the vacuum back on and records itself: the checkpoint
	// after it then has a change to write, without which it writes nothing
	at := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	if err := st.Compact(ctx, "compact-test", at); err != nil {
		t.Fatal(err)
	}
	n, blocks := groups()
	if n >= deferredGroups || blocks >= deferredBlocks {
		t.Errorf("compacting checkpoint: %d row groups and %d blocks, want fewer than the deferred %d and %d", n, blocks, deferredGroups, deferredBlocks)
	}
	var live int
	if err := st.DB.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&live); err != nil || live != 333353 {
		t.Errorf("%d rows after compaction (%v), want 333,353", live, err)
	}
	var recorded time.Time
	if err := st.DB.QueryRowContext(ctx, `SELECT started_at FROM compactions WHERE run_id = 'compact-test'`).Scan(&recorded); err != nil || !recorded.Equal(at) {
		t.Errorf("compaction recorded at %v (%v), want %v", recorded, err, at)
	}
}
