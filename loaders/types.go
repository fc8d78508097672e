package loaders

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// checkTypes refuses, before any work, a typed file (Parquet, Arrow) whose
// contract column has a type no value of which can be right: a nested
// type (a publisher_id written as STRUCT{id} was stored as the text
// "{'id': P000396}", and findings named ids that exist nowhere), or a
// timestamp as a floating-point or decimal number (seconds or
// milliseconds? rounded how?). One clear error beats a quarantine row for
// every row of the file.
func checkTypes(ds Dataset, f File, schema *arrow.Schema) error {
	for _, fld := range schema.Fields() {
		c, ok := ds.Column(fld.Name)
		if !ok {
			continue
		}
		if msg := typeProblem(c, fld.Type); msg != "" {
			return &ContractError{Dataset: ds.Name, File: f.Rel, Column: c.Name, Msg: msg}
		}
	}
	return nil
}

func typeProblem(c Column, t arrow.DataType) string {
	if d, ok := t.(*arrow.DictionaryType); ok {
		t = d.ValueType
	}
	switch t.(type) {
	case *arrow.StructType, arrow.ListLikeType, arrow.UnionType, *arrow.RunEndEncodedType:
		return fmt.Sprintf("nested type %s where the contract wants one %s value per row; write a plain column", t, c.Kind)
	}
	id := t.ID()
	text := id == arrow.STRING || id == arrow.LARGE_STRING || id == arrow.STRING_VIEW
	integer := arrow.IsInteger(id)
	switch c.Kind {
	case Timestamp:
		switch {
		case text, integer, id == arrow.TIMESTAMP, id == arrow.DATE32, id == arrow.DATE64:
			return ""
		}
		return fmt.Sprintf("type %s cannot hold a timestamp; write a timestamp type, RFC 3339 text with a zone, or integer epoch milliseconds", t)
	case Bool:
		if text || integer || id == arrow.BOOL {
			return ""
		}
		return fmt.Sprintf("type %s cannot hold a boolean; write a boolean type, true/false text or 1/0", t)
	case Int, Money:
		if text || integer || arrow.IsFloating(id) || arrow.IsDecimal(id) {
			return ""
		}
		return fmt.Sprintf("type %s cannot hold a number; write a numeric column", t)
	}
	return ""
}
