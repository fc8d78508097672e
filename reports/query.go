package reports

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed queries.sql
var queriesSQL string

// queries holds queries.sql's statements by their `-- name:` header.
var queries = parseQueries(queriesSQL)

// parseQueries splits a file of `-- name: X` sections (the sqlc/River
// convention of STYLE.md). Text before the first header is the file's
// comment and is dropped.
func parseQueries(src string) map[string]string {
	out := map[string]string{}
	name := ""
	var body strings.Builder
	flush := func() {
		if name != "" {
			out[name] = strings.TrimSpace(body.String())
		}
		body.Reset()
	}
	for _, line := range strings.Split(src, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
			flush()
			name = strings.TrimSpace(rest)
			continue
		}
		body.WriteString(line)
		body.WriteByte('\n')
	}
	flush()
	return out
}

// query returns the named statement; a missing name is a programming error
// caught by the package's tests.
func query(name string) string {
	q, ok := queries[name]
	if !ok {
		panic("reports: no query named " + name + " in queries.sql")
	}
	return q
}

// ctxCheckEvery is how many rows eachRow handles between looks at its
// context: often enough for Ctrl-C to feel immediate while a large file
// streams, rarely enough to cost nothing.
const ctxCheckEvery = 1024

// eachRow runs the named query and calls fn for every row.
func eachRow(ctx context.Context, db *sql.DB, name string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query(name), args...)
	if err != nil {
		return fmt.Errorf("query %s: %w", name, err)
	}
	defer rows.Close()
	for n := 0; rows.Next(); n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(rows); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

// stringList decodes a list column read as JSON text (to_json(list)); NULL
// elements become "".
func stringList(text, what string) ([]string, error) {
	var raw []*string
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := make([]string, len(raw))
	for i, p := range raw {
		if p != nil {
			out[i] = *p
		}
	}
	return out, nil
}
