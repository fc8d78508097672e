package rules

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"
)

// checker decodes pack nodes strictly against Go types and collects every
// problem with the file and line it sits at: keys the type does not know
// (with the nearest known key as a suggestion), values of the wrong kind
// (an integer field given 1.5, a list given a word), NaN and infinities,
// values outside a field's `range` tag, and missing fields a threshold
// struct requires.
type checker struct {
	src  origins
	errs []error
}

func (c *checker) fail(n *yaml.Node, path, msg string) {
	c.errs = append(c.errs, &ValidationError{File: c.src[n], Line: n.Line, Key: path, Msg: msg})
}

// fieldInfo is one yaml-visible field of a struct.
type fieldInfo struct {
	name     string
	index    []int
	optional bool
	rng      string
}

func structFields(t reflect.Type) (fields []fieldInfo, inline *fieldInfo) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			fi := fieldInfo{index: f.Index}
			if f.Type.Kind() == reflect.Map {
				inline = &fi
				continue
			}
			sub, subInline := structFields(f.Type)
			for _, s := range sub {
				s.index = append(append([]int{}, f.Index...), s.index...)
				fields = append(fields, s)
			}
			if subInline != nil {
				inline = subInline
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields = append(fields, fieldInfo{name: name, index: f.Index, optional: f.Tag.Get("optional") == "true", rng: f.Tag.Get("range")})
	}
	return fields, inline
}

// check walks node as a value of type t. required asks for every field of
// a struct that is not tagged optional (thresholds); the pack's own
// sections check required keys in validate, with messages of their own.
func (c *checker) check(n *yaml.Node, t reflect.Type, path string, required bool) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Tag == tagRemove || n.Tag == tagReplace {
		c.fail(n, path, n.Tag+" only works in a pack that says `extends: default` (it edits what the default has)")
		return
	}
	if t == reflect.TypeOf(yaml.Node{}) {
		return // kept raw: checked against the type declared for it (thresholds)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && t.Kind() != reflect.String {
		return // an empty value: the zero value, like the decoder
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.fail(n, path, fmt.Sprintf("want a mapping of keys, have %s", kindName(n)))
			return
		}
		fields, inline := structFields(t)
		known := map[string]fieldInfo{}
		names := make([]string, 0, len(fields))
		for _, f := range fields {
			known[f.name] = f
			names = append(names, f.name)
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := joinPath(path, k.Value)
			if seen[k.Value] {
				c.fail(k, kp, "set twice in this mapping")
			}
			seen[k.Value] = true
			f, ok := known[k.Value]
			if !ok {
				if inline != nil {
					c.check(v, t.FieldByIndex(inline.index).Type.Elem(), kp, required)
					continue
				}
				c.fail(k, kp, unknownKeyMsg(k.Value, names))
				continue
			}
			ft := t.FieldByIndex(f.index).Type
			c.check(v, ft, kp, required)
			if f.rng != "" {
				c.checkRange(v, ft, kp, f.rng)
			}
		}
		if required {
			for _, f := range fields {
				if !seen[f.name] && !f.optional {
					c.fail(n, joinPath(path, f.name), "required threshold is missing")
				}
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.fail(n, path, fmt.Sprintf("want a mapping, have %s", kindName(n)))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			c.check(n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value), required)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.fail(n, path, fmt.Sprintf("want a list, have %s", kindName(n)))
			return
		}
		for i, item := range n.Content {
			c.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), required)
		}
	case reflect.Interface:
	default:
		c.checkScalar(n, t, path)
	}
}

func (c *checker) checkScalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		c.fail(n, path, fmt.Sprintf("want %s, have %s", typeName(t), kindName(n)))
		return
	}
	v := reflect.New(t)
	// The decoder would truncate 7.5 into an int: integers must be written
	// as integers.
	if err := n.Decode(v.Interface()); err != nil || isInt(t) && n.ShortTag() != "!!int" {
		c.fail(n, path, fmt.Sprintf("want %s, have %q", typeName(t), n.Value))
		return
	}
	if t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32 {
		if f := v.Elem().Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			c.fail(n, path, fmt.Sprintf("want a finite number, have %s", n.Value))
		}
	}
}

// checkRange applies a field's `range` tag: "[lo,hi]" with ( or ) for an
// open end and an empty bound for none ("(0,]" is positive, "[0,1]" a
// share).
func (c *checker) checkRange(n *yaml.Node, t reflect.Type, path, rng string) {
	if n.Kind != yaml.ScalarNode {
		return
	}
	var x float64
	if err := n.Decode(&x); err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return // reported by checkScalar
	}
	lo, hi, loOpen, hiOpen, err := parseRange(rng)
	if err != nil {
		panic(fmt.Sprintf("rules: bad range tag %q on %s: %v", rng, path, err))
	}
	if (lo != nil && (x < *lo || loOpen && x == *lo)) || (hi != nil && (x > *hi || hiOpen && x == *hi)) {
		c.fail(n, path, fmt.Sprintf("%s is out of range: want %s", n.Value, describeRange(lo, hi, loOpen, hiOpen, t)))
	}
}

func parseRange(s string) (lo, hi *float64, loOpen, hiOpen bool, err error) {
	s = strings.TrimSpace(s)
	if len(s) < 3 {
		return nil, nil, false, false, fmt.Errorf("too short")
	}
	loOpen, hiOpen = s[0] == '(', s[len(s)-1] == ')'
	a, b, ok := strings.Cut(s[1:len(s)-1], ",")
	if !ok {
		return nil, nil, false, false, fmt.Errorf("want lo,hi")
	}
	parse := func(x string) (*float64, error) {
		x = strings.TrimSpace(x)
		if x == "" {
			return nil, nil
		}
		f, err := strconv.ParseFloat(x, 64)
		return &f, err
	}
	if lo, err = parse(a); err != nil {
		return
	}
	hi, err = parse(b)
	return
}

func describeRange(lo, hi *float64, loOpen, hiOpen bool, t reflect.Type) string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	unit := "a number"
	if isInt(t) {
		unit = "an integer"
	}
	switch {
	case lo != nil && hi != nil:
		l, r := "[", "]"
		if loOpen {
			l = "("
		}
		if hiOpen {
			r = ")"
		}
		return fmt.Sprintf("%s in %s%s, %s%s", unit, l, f(*lo), f(*hi), r)
	case lo != nil && loOpen:
		return fmt.Sprintf("%s above %s", unit, f(*lo))
	case lo != nil:
		return fmt.Sprintf("%s of at least %s", unit, f(*lo))
	case hi != nil && hiOpen:
		return fmt.Sprintf("%s below %s", unit, f(*hi))
	case hi != nil:
		return fmt.Sprintf("%s of at most %s", unit, f(*hi))
	}
	return unit
}

func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func typeName(t reflect.Type) string {
	switch {
	case isInt(t):
		return "an integer"
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		return "a number"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.String:
		return "a string"
	}
	return t.String()
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// unknownKeyMsg says a key is unknown and suggests the nearest known one
// (a typo of one or two letters, or of a third of a long key).
func unknownKeyMsg(key string, known []string) string {
	if s := suggest(key, known); s != "" {
		return fmt.Sprintf("unknown key; did you mean %s?", s)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	if len(sorted) > 12 {
		return fmt.Sprintf("unknown key (%d keys are known here, e.g. %s)", len(sorted), strings.Join(sorted[:12], ", "))
	}
	return fmt.Sprintf("unknown key (known: %s)", strings.Join(sorted, ", "))
}

func suggest(key string, known []string) string {
	best, bestD := "", 1<<30
	for _, k := range known {
		d := levenshtein.ComputeDistance(key, k)
		if d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	limit := 2
	if l := len(key) / 3; l > limit {
		limit = l
	}
	if bestD <= limit {
		return best
	}
	return ""
}
