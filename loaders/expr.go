package loaders

import (
	"fmt"
	"strings"
)

// maxIntValue bounds Int columns: the store keeps viewports and dwell in
// 32-bit columns, and a larger value is a broken beacon, not a measurement.
const maxIntValue = 2147483647

// rawValueChars bounds the offending value copied into the quarantine table.
const rawValueChars = 200

// srcCol is a column of a source relation as DuckDB sees it. The relation's
// columns are renamed c0, c1, … so that no name from a (hostile) file ever
// reaches SQL text; Name is only ever bound as a parameter.
type srcCol struct {
	Name string
	Ref  string // c0, c1, …
	Type string // DuckDB type; VARCHAR for text formats
}

func isIntegerType(t string) bool {
	switch t {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT":
		return true
	}
	return false
}

func isTimeType(t string) bool {
	return strings.HasPrefix(t, "TIMESTAMP") || t == "DATE"
}

func storeType(k Kind) string {
	switch k {
	case Timestamp:
		return "TIMESTAMP"
	case Bool:
		return "BOOLEAN"
	case Int:
		return "BIGINT"
	case Money:
		return "DECIMAL(18,4)"
	case StringList:
		return "VARCHAR[]"
	}
	return "VARCHAR"
}

// colExprs are the SQL pieces for one contract column.
type colExprs struct {
	raw   string // the value as text, for the quarantine table
	value string // the coerced value in the store's type
	bad   string // true when the row must be quarantined for this column
	why   string // SQL string expression: the reason
}

// columnExprs builds the coercion of contract column c from source column s
// (nil when the file lacks the column). raw and value refer to the inner
// projection's names r_<name> and v_<name>.
func columnExprs(c Column, s *srcCol) (inner []string, e colExprs) {
	rn, vn := "r_"+c.Name, "v_"+c.Name
	e.raw, e.value = rn, vn
	if s == nil {
		inner = []string{fmt.Sprintf("NULL::VARCHAR AS %s", rn), fmt.Sprintf("NULL::%s AS %s", storeType(c.Kind), vn)}
		if c.Required {
			e.bad, e.why = "true", "'missing required value'"
		}
		return inner, e
	}
	ref, text := s.Ref, s.Type == "VARCHAR"
	raw := ref
	if !text {
		raw = fmt.Sprintf("CAST(%s AS VARCHAR)", ref)
	}
	var value, badValue, reason string
	switch c.Kind {
	case String:
		value = fmt.Sprintf("NULLIF(%s, '')", raw)
	case Timestamp:
		reason = "bad timestamp (want RFC 3339 with a zone, e.g. 2026-11-21T10:00:00Z, or epoch milliseconds)"
		switch {
		case text:
			value = fmt.Sprintf("aw_ts(%s)", ref)
		case isTimeType(s.Type):
			value = fmt.Sprintf("CAST(%s AS TIMESTAMP)", ref)
		case isIntegerType(s.Type):
			value = fmt.Sprintf("aw_epoch_ms(%s)", ref)
		default:
			value, reason = "NULL::TIMESTAMP", fmt.Sprintf("unsupported column type %s for a timestamp", s.Type)
		}
	case Bool:
		reason = "bad boolean (want true, false, 1 or 0)"
		switch {
		case s.Type == "BOOLEAN":
			value = ref
		case isIntegerType(s.Type):
			value = fmt.Sprintf("CASE %s WHEN 1 THEN true WHEN 0 THEN false END", ref)
		default:
			value = fmt.Sprintf("aw_bool(%s)", raw)
		}
	case Int:
		reason = "bad integer"
		value = fmt.Sprintf("TRY_CAST(%s AS BIGINT)", ref)
		badValue = fmt.Sprintf("%s < 0 OR %s > %d", vn, vn, maxIntValue)
	case Money:
		reason = "bad amount (want a decimal number of US dollars)"
		value = fmt.Sprintf("TRY_CAST(%s AS DECIMAL(18,4))", ref)
		badValue = fmt.Sprintf("%s < 0", vn)
	case Enum:
		quoted := make([]string, len(c.Values))
		for i, v := range c.Values {
			quoted[i] = "'" + v + "'" // contract constants, not input
		}
		reason = "unknown value (want one of " + strings.Join(c.Values, ", ") + ")"
		value = fmt.Sprintf("CASE WHEN lower(trim(%s)) IN (%s) THEN lower(trim(%s)) END", raw, strings.Join(quoted, ", "), raw)
	case StringList:
		value = fmt.Sprintf("aw_list(%s)", raw)
	}
	inner = []string{fmt.Sprintf("%s AS %s", raw, rn), fmt.Sprintf("%s AS %s", value, vn)}
	var conds, whys []string
	if c.Required {
		conds = append(conds, fmt.Sprintf("%s IS NULL AND NULLIF(%s, '') IS NULL", vn, rn))
		whys = append(whys, "'missing required value'")
	}
	if reason != "" {
		conds = append(conds, fmt.Sprintf("%s IS NULL AND NULLIF(%s, '') IS NOT NULL", vn, rn))
		whys = append(whys, sqlString(reason))
	}
	if badValue != "" {
		conds = append(conds, badValue)
		negative := "'negative value'"
		if c.Kind == Money {
			negative = "'negative amount'"
		}
		if c.Kind == Int {
			negative = fmt.Sprintf("CASE WHEN %s < 0 THEN 'negative value' ELSE 'integer out of range' END", vn)
		}
		whys = append(whys, negative)
	}
	if len(conds) == 0 {
		return inner, e
	}
	var bad strings.Builder
	var why strings.Builder
	why.WriteString("CASE")
	for i, cond := range conds {
		if i > 0 {
			bad.WriteString(" OR ")
		}
		fmt.Fprintf(&bad, "(%s)", cond)
		fmt.Fprintf(&why, " WHEN %s THEN %s", cond, whys[i])
	}
	why.WriteString(" END")
	e.bad, e.why = "coalesce("+bad.String()+", false)", why.String()
	return inner, e
}

// sqlString quotes a constant of ours as a SQL literal. Never used for
// input values: those are bound as parameters.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
