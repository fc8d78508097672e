package reports

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStoredMeta(t *testing.T) {
	db := openStore(t)
	manifest := `{"manifest_version":1,"tool_version":"old","run_id":"r2","command":"run","night":"2026-11-21",` +
		`"started_at":"2026-11-22T02:00:00Z","finished_at":"2026-11-22T02:05:30.5Z","input_dir":"/in","db_path":"/db",` +
		`"strict":true,"rules":{"source":"default","version":"2026.11.1","sha256":"ab"},` +
		`"inputs":[{"dataset":"clicks","path":"clicks.csv","sha256":"01","format":"csv","compression":"","size_bytes":4,` +
		`"file_id":7,"rows_read":1,"rows_loaded":1,"rows_quarantined":0,"status":"loaded"}],` +
		`"timings":[{"stage":"load","seconds":1.5},{"stage":"report","seconds":0}],"outputs":[]}`
	for _, q := range []string{
		`INSERT INTO runs (run_id, command, night, started_at, finished_at, status, manifest) VALUES
			('r1', 'run', DATE '2026-11-21', TIMESTAMP '2026-11-21 02:00:00', TIMESTAMP '2026-11-21 02:05:00', 'succeeded', '{}'),
			('r2', 'run', DATE '2026-11-21', TIMESTAMP '2026-11-22 02:00:00', TIMESTAMP '2026-11-22 02:05:30.5', 'succeeded', '` + manifest + `'),
			('r3', 'run', DATE '2026-11-22', TIMESTAMP '2026-11-23 02:00:00', NULL, 'failed', NULL),
			('c1', 'crawl', NULL, TIMESTAMP '2026-11-24 02:00:00', TIMESTAMP '2026-11-24 02:01:00', 'succeeded', NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	want := Meta{
		RunID: "r2", Command: "run", ToolVersion: "new", Night: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
		InputDir: "/in", DBPath: "/db", RulesSource: "default", RulesVersion: "2026.11.1", RulesSHA256: "ab", Strict: true,
		StartedAt: time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 22, 2, 5, 30, 5e8, time.UTC),
		Timings: []Timing{{"load", 1.5}, {"report", 0}},
		Inputs: []InputFile{{Dataset: "clicks", Path: "clicks.csv", SHA256: "01", Format: "csv", SizeBytes: 4, FileID: 7,
			RowsRead: 1, RowsLoaded: 1, Status: "loaded"}},
	}
	for _, id := range []string{"r2", ""} { // by id, and the latest succeeded run
		got, err := StoredMeta(ctx, db, id, "new")
		if err != nil {
			t.Fatalf("StoredMeta(%q): %v", id, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("StoredMeta(%q) (-want +got):\n%s", id, diff)
		}
	}
	for _, tc := range []struct {
		id   string
		want error
	}{{"r1", ErrResultsReplaced}, {"r3", ErrNoRun}, {"nope", ErrNoRun}} {
		if _, err := StoredMeta(ctx, db, tc.id, "new"); !errors.Is(err, tc.want) {
			t.Errorf("StoredMeta(%q) error = %v, want %v", tc.id, err, tc.want)
		}
	}
}
