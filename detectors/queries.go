package detectors

import (
	"fmt"
	"strings"
)

// Queries splits a .sql file into its named queries. A query starts at a
// line `-- name: Name` and runs to the next such line (the convention of
// sqlc and River); text before the first name is the file's header.
func Queries(sqlText string) (map[string]string, error) {
	out := map[string]string{}
	var name string
	var body strings.Builder
	flush := func() error {
		if name == "" {
			return nil
		}
		q := strings.TrimSpace(body.String())
		if q == "" {
			return fmt.Errorf("query %s is empty", name)
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("query %s is defined twice", name)
		}
		out[name] = strings.TrimSuffix(q, ";")
		return nil
	}
	for _, line := range strings.Split(sqlText, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
			if err := flush(); err != nil {
				return nil, err
			}
			name = strings.TrimSpace(rest)
			body.Reset()
			continue
		}
		if name != "" {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// MustQueries is Queries for embedded files, whose errors are bugs.
func MustQueries(sqlText string) map[string]string {
	q, err := Queries(sqlText)
	if err != nil {
		panic(err)
	}
	return q
}
