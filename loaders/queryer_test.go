package loaders

import "database/sql"

type queryer interface {
	Query(query string, args ...any) (*sql.Rows, error)
}
