package rules

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"gopkg.in/yaml.v3"
)

// A detector declares the thresholds of each rule it reads as a Go struct
// with yaml tags (`yaml:"min_modified_z" range:"(0,]"`): integers stay
// integers, `range` bounds a value ("[lo,hi]", "(" or ")" for an open end,
// an empty bound for none), `optional:"true"` lets a key be left out, and a
// Validate() error method checks what no single field can (bucket_minutes
// must divide a day). Loading a pack decodes every rule's thresholds into
// its declared struct, so a typo, a NaN or a value out of range is an error
// at its own file:line before any input is read.

// Validator is implemented by threshold structs with rules across fields.
// A *FieldError it returns is reported at that threshold's line.
type Validator interface {
	Validate() error
}

// FieldError is a Validate error about one threshold key.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// declaration is what a detector registered for one rule.
type declaration struct {
	typ reflect.Type
}

var (
	declMu       sync.RWMutex
	declarations = map[string]declaration{}
	// sealed: every detector the program runs has declared its rules, so a
	// pack's rule no one declared is a mistake (a typo), and a declared rule
	// a pack lacks is missing. A test binary of one detector leaves it
	// unsealed: it knows one rule, not the program's.
	sealed bool
)

// Seal says that every rule the program reads has been declared; the
// detectors' registry calls it once, after importing every detector.
func Seal() {
	declMu.Lock()
	sealed = true
	declMu.Unlock()
}

// Declared gives a detector its rule's thresholds as the struct it declared.
type Declared[T any] struct{ rule string }

// Declare registers T as the thresholds of rule (a detector code or another
// rule name of the pack); call it once, at package initialization.
func Declare[T any](rule string) Declared[T] {
	var zero T
	t := reflect.TypeOf(zero)
	if t == nil || t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("rules.Declare(%q): thresholds must be a struct type", rule))
	}
	declMu.Lock()
	defer declMu.Unlock()
	if prev, dup := declarations[rule]; dup && prev.typ != t {
		panic(fmt.Sprintf("rules.Declare(%q): declared twice (%s and %s)", rule, prev.typ, t))
	}
	declarations[rule] = declaration{typ: t}
	return Declared[T]{rule: rule}
}

// Rule is the rule name the thresholds belong to.
func (d Declared[T]) Rule() string { return d.rule }

// Of returns the rule's thresholds from a loaded pack.
func (d Declared[T]) Of(p *Pack) (T, error) {
	var zero T
	r, err := p.Rule(d.rule)
	if err != nil {
		return zero, err
	}
	return d.From(r)
}

// From returns the thresholds of an already looked-up rule.
func (d Declared[T]) From(r Rule) (T, error) {
	var zero T
	if r.typed == nil {
		// A rule decoded before this declaration existed (a pack loaded by
		// a program that does not link the detector): decode now.
		v, err := decodeThresholds(r, nil, reflect.TypeOf(zero), nil)
		if err != nil {
			return zero, err
		}
		return v.(T), nil
	}
	v, ok := r.typed.(T)
	if !ok {
		return zero, fmt.Errorf("rule %s: thresholds were decoded as %T, not %T", r.name, r.typed, zero)
	}
	return v, nil
}

// declaredRules returns the rule names detectors declared, sorted, once
// the declarations are sealed (nil before).
func declaredRules() []string {
	declMu.RLock()
	defer declMu.RUnlock()
	if !sealed {
		return nil
	}
	out := make([]string, 0, len(declarations))
	for k := range declarations {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func declarationOf(rule string) (declaration, bool) {
	declMu.RLock()
	defer declMu.RUnlock()
	d, ok := declarations[rule]
	return d, ok
}

// decodeThresholds checks the rule's thresholds node n (nil: r.Thresholds)
// against t strictly and decodes it; src names the file of each node (nil:
// the rule's own file).
func decodeThresholds(r Rule, n *yaml.Node, t reflect.Type, src origins) (any, error) {
	path := "rules." + r.name + ".thresholds"
	if n == nil {
		n = &r.Thresholds
	}
	if src == nil {
		src = origins{}
		src.mark(n, r.source)
	}
	c := &checker{src: src}
	if n.Kind == 0 { // no thresholds key at all
		n = &yaml.Node{Kind: yaml.MappingNode, Line: r.line}
		src[n] = r.source
	}
	c.check(n, t, path, true)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	v := reflect.New(t)
	if err := n.Decode(v.Interface()); err != nil {
		return nil, &ValidationError{File: src[n], Line: n.Line, Key: path, Msg: err.Error()}
	}
	if val, ok := v.Interface().(Validator); ok {
		if err := val.Validate(); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				at := mappingKeyNode(n, fe.Key)
				if at == nil {
					at = n
				}
				return nil, &ValidationError{File: src[at], Line: at.Line, Key: path + "." + fe.Key, Msg: fe.Msg}
			}
			return nil, &ValidationError{File: src[n], Line: n.Line, Key: path, Msg: err.Error()}
		}
	}
	return v.Elem().Interface(), nil
}

func mappingKeyNode(m *yaml.Node, key string) *yaml.Node {
	if i := mappingIndex(m, key); i >= 0 && m.Kind == yaml.MappingNode {
		return m.Content[i]
	}
	return nil
}
