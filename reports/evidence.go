package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bounds of the evidence tables in report.html. Evidence holds log fields
// and crawled snippets: an attacker who controls them must not be able to
// bury the rest of the report.
const (
	// MaxEvidenceTableRows caps the rows of a sub-table (an array of
	// objects); the rest is counted as "… N more".
	MaxEvidenceTableRows = 20
	// MaxEvidenceListItems caps the items of an array of scalars.
	MaxEvidenceListItems = 50
	// MaxEvidenceTableColumns caps a sub-table's columns.
	MaxEvidenceTableColumns = 16
	// MaxEvidenceKeys caps the rows shown for one object.
	MaxEvidenceKeys = 100
	// MaxEvidenceTextRunes cuts a string value.
	MaxEvidenceTextRunes = 500
	// MaxEvidenceCellRunes cuts a sub-table cell or a value shown as JSON.
	MaxEvidenceCellRunes = 200
	// maxEvidenceNesting is how deep objects are shown as nested tables;
	// deeper values are shown as (cut) JSON text.
	maxEvidenceNesting = 2
	// maxJSONDepth refuses pathological nesting while parsing.
	maxJSONDepth = 64
)

// jsonKind is the kind of a parsed JSON value.
type jsonKind int

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// jsonValue is a JSON value that, unlike map[string]any, keeps an object's
// keys in the order they were stored: detectors order evidence for the
// reader, most telling first.
type jsonValue struct {
	kind  jsonKind
	text  string       // string value, number literal, "true"/"false"
	keys  []string     // object keys, in order
	elems []*jsonValue // object values (parallel to keys) or array elements
}

// parseJSON parses one JSON document, keeping object key order.
func parseJSON(data []byte) (*jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (*jsonValue, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jsonValue{kind: jsonNull, text: "null"}, nil
	case bool:
		return &jsonValue{kind: jsonBool, text: strconv.FormatBool(t)}, nil
	case json.Number:
		return &jsonValue{kind: jsonNumber, text: t.String()}, nil
	case string:
		return &jsonValue{kind: jsonString, text: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := &jsonValue{kind: jsonArray}
			for dec.More() {
				e, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.elems = append(v.elems, e)
			}
			_, err := dec.Token() // ]
			return v, err
		case '{':
			v := &jsonValue{kind: jsonObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				e, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, k)
				v.elems = append(v.elems, e)
			}
			_, err := dec.Token() // }
			return v, err
		}
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// get returns an object's value for key (the first, if repeated).
func (v *jsonValue) get(key string) *jsonValue {
	if v == nil || v.kind != jsonObject {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.elems[i]
		}
	}
	return nil
}

func (v *jsonValue) scalar() bool { return v.kind != jsonArray && v.kind != jsonObject }

// appendCompact writes v as compact JSON, stopping once b holds more than
// limit bytes (the caller cuts the text anyway).
func (v *jsonValue) appendCompact(b []byte, limit int) []byte {
	if len(b) > limit {
		return b
	}
	switch v.kind {
	case jsonString:
		s, _ := json.Marshal(v.text)
		return append(b, s...)
	case jsonArray, jsonObject:
		open, closing := byte('['), byte(']')
		if v.kind == jsonObject {
			open, closing = '{', '}'
		}
		b = append(b, open)
		for i, e := range v.elems {
			if i > 0 {
				b = append(b, ',')
			}
			if v.kind == jsonObject {
				k, _ := json.Marshal(v.keys[i])
				b = append(append(b, k...), ':')
			}
			b = e.appendCompact(b, limit)
			if len(b) > limit {
				return b
			}
		}
		return append(b, closing)
	default:
		return append(b, v.text...)
	}
}

// display is how a value reads in a table cell: strings bare, numbers and
// booleans as written, lists of scalars joined, other composites as JSON,
// all cut to n runes.
func (v *jsonValue) display(n int) string {
	switch {
	case v.kind == jsonString:
		return truncateRunes(v.text, n)
	case v.scalar():
		return v.text
	case v.kind == jsonArray && v.scalarList():
		var b strings.Builder
		for i, e := range v.elems {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.text)
			if b.Len() > 4*n {
				break
			}
		}
		return truncateRunes(b.String(), n)
	default:
		return truncateRunes(string(v.appendCompact(nil, 4*n)), n)
	}
}

func (v *jsonValue) scalarList() bool {
	for _, e := range v.elems {
		if !e.scalar() {
			return false
		}
	}
	return true
}

// evRow is one row of an evidence table: a key and how its value shows.
type evRow struct {
	Key   string // the label a reviewer reads
	Raw   string // the evidence key, when the label differs
	Value evValue
}

// evValue is an evidence value laid out for the template: exactly one of
// Text, Rows (a nested object) or Table (an array of objects) is used.
type evValue struct {
	Text    string
	Omitted int // items of a list left out
	Rows    []evRow
	Table   *evTable
	// Chart is set for the "timeline" key: the row points at the chart
	// drawn under the table.
	Chart bool
}

// evTable shows an array of objects: the union of the shown rows' keys in
// first-seen order as columns.
type evTable struct {
	Columns        []string
	Rows           [][]string
	Omitted        int // rows left out
	OmittedColumns int
}

// evidenceView lays out an evidence object for report.html.
func evidenceView(v *jsonValue) []evRow {
	if v.kind != jsonObject {
		return []evRow{{Key: "value", Value: valueView(v, 1)}}
	}
	return objectRows(v, 1)
}

func objectRows(v *jsonValue, depth int) []evRow {
	keys := v.keys
	if len(keys) > MaxEvidenceKeys {
		keys = keys[:MaxEvidenceKeys]
	}
	rows := make([]evRow, 0, len(keys)+1)
	for i, k := range keys {
		raw := truncateRunes(k, MaxEvidenceCellRunes)
		row := evRow{Key: HumanLabel(raw), Value: valueView(v.elems[i], depth)}
		if row.Key != raw {
			row.Raw = raw
		}
		rows = append(rows, row)
	}
	if n := len(v.keys) - len(keys); n > 0 {
		rows = append(rows, evRow{Key: "…", Value: evValue{Text: fmt.Sprintf("%d more keys in findings.ndjson", n)}})
	}
	return rows
}

func valueView(v *jsonValue, depth int) evValue {
	switch v.kind {
	case jsonString:
		return evValue{Text: truncateRunes(v.text, MaxEvidenceTextRunes)}
	case jsonObject:
		if depth > maxEvidenceNesting {
			return evValue{Text: v.display(MaxEvidenceCellRunes)}
		}
		if len(v.keys) == 0 {
			return evValue{Text: "(empty)"}
		}
		if keyed := keyedRows(v); keyed != nil && depth <= maxEvidenceNesting {
			return evValue{Table: tableView(keyed)}
		}
		return evValue{Rows: objectRows(v, depth+1)}
	case jsonArray:
		if len(v.elems) == 0 {
			return evValue{Text: "(none)"}
		}
		allObjects := true
		for _, e := range v.elems {
			allObjects = allObjects && e.kind == jsonObject
		}
		if allObjects && depth <= maxEvidenceNesting {
			return evValue{Table: tableView(v.elems)}
		}
		shown := v.elems
		if len(shown) > MaxEvidenceListItems {
			shown = shown[:MaxEvidenceListItems]
		}
		parts := make([]string, len(shown))
		for i, e := range shown {
			parts[i] = e.display(MaxEvidenceCellRunes)
		}
		return evValue{Text: strings.Join(parts, ", "), Omitted: len(v.elems) - len(shown)}
	default:
		return evValue{Text: v.text}
	}
}

// keyedRows turns an object whose values are all objects (a collection
// keyed by id, such as invalid_commission's order_reasons: order id →
// reasons and money) into table rows whose first column is the key, so a
// reviewer reads one line per order instead of a sub-table each; nil for
// any other object.
func keyedRows(v *jsonValue) []*jsonValue {
	if len(v.keys) < 3 {
		return nil
	}
	rows := make([]*jsonValue, len(v.keys))
	for i, k := range v.keys {
		e := v.elems[i]
		if e.kind != jsonObject {
			return nil
		}
		rows[i] = &jsonValue{kind: jsonObject,
			keys:  append([]string{"key"}, e.keys...),
			elems: append([]*jsonValue{{kind: jsonString, text: k}}, e.elems...)}
	}
	return rows
}

func tableView(objs []*jsonValue) *evTable {
	t := &evTable{}
	shown := objs
	if len(shown) > MaxEvidenceTableRows {
		shown = shown[:MaxEvidenceTableRows]
		t.Omitted = len(objs) - len(shown)
	}
	col := map[string]int{}
	for _, o := range shown {
		for _, k := range o.keys {
			if _, ok := col[k]; ok {
				continue
			}
			if len(t.Columns) == MaxEvidenceTableColumns {
				col[k] = -1
				t.OmittedColumns++
				continue
			}
			col[k] = len(t.Columns)
			t.Columns = append(t.Columns, k)
		}
	}
	for _, o := range shown {
		cells := make([]string, len(t.Columns))
		filled := make([]bool, len(t.Columns))
		for i, k := range o.keys {
			if c := col[k]; c >= 0 && !filled[c] {
				cells[c], filled[c] = o.elems[i].display(MaxEvidenceCellRunes), true
			}
		}
		t.Rows = append(t.Rows, cells)
	}
	for i, c := range t.Columns {
		t.Columns[i] = HumanLabel(truncateRunes(c, MaxEvidenceCellRunes))
	}
	return t
}

// labelWords spell out the abbreviations of evidence keys.
var labelWords = map[string]string{
	"id": "ID", "ids": "IDs", "ip": "IP", "ips": "IPs", "ua": "user agent", "uas": "user agents", "url": "URL", "urls": "URLs",
	"ctit": "click-to-order time", "ks": "KS", "p": "p", "cis": "CIS", "pct": "%", "html": "HTML", "dns": "DNS",
	"cv": "CV", "z": "z", "mad": "MAD", "sem": "SEM", "seo": "SEO",
}

// labelUnits turn a key's last word into a unit in parentheses.
var labelUnits = map[string]string{
	"usd": "US$", "pct": "%", "ms": "ms", "hours": "hours", "minutes": "minutes", "days": "days", "seconds": "seconds",
	"px": "px", "bytes": "bytes",
}

// labelWhole are keys whose label is not their words.
var labelWhole = map[string]string{
	"single_signal":           "Rests on one signal only",
	"order_reasons":           "Orders and their reasons",
	"key":                     "Order or item",
	"ks_p_value":              "KS test p-value",
	"ks_statistic":            "KS statistic",
	"binomial_p_value":        "Binomial test p-value",
	"population_median_hours": "Program median (hours)",
	"definition":              "How it is counted",
}

// HumanLabel turns an evidence key ("commission_at_stake_usd") into the
// label a reviewer reads ("Commission at stake (US$)"); keys that are not
// snake_case words (an order id used as a key) stay as they are.
func HumanLabel(key string) string {
	if l, ok := labelWhole[key]; ok {
		return l
	}
	if key == "" || strings.ToLower(key) != key || strings.ContainsAny(key, " .:/") {
		return key
	}
	words := strings.Split(key, "_")
	for _, w := range words {
		if w == "" {
			return key
		}
		for _, c := range w {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				return key
			}
		}
	}
	unit := ""
	if len(words) > 1 {
		if u, ok := labelUnits[words[len(words)-1]]; ok {
			unit, words = u, words[:len(words)-1]
		}
	}
	for i, w := range words {
		if l, ok := labelWords[w]; ok {
			words[i] = l
		}
	}
	out := strings.Join(words, " ")
	if out != "" && out[0] >= 'a' && out[0] <= 'z' {
		out = strings.ToUpper(out[:1]) + out[1:]
	}
	if unit != "" {
		out += " (" + unit + ")"
	}
	return out
}
