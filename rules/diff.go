package rules

import (
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

// Change is one difference between the default pack and a pack built on
// it: a key or list entry added (+), removed (-) or changed (~).
type Change struct {
	Op   string // "+", "-" or "~"
	Path string // "rules.click_burst.thresholds.min_modified_z", "commission.cis_countries[GE]"
	Old  string // the default's value (empty for +)
	New  string // the pack's value (empty for -)
	File string // where the pack sets it (for -, where the nearest key it sits under is)
	Line int
}

func (c Change) String() string {
	at := c.File
	if c.Line > 0 {
		at = fmt.Sprintf("%s:%d", c.File, c.Line)
	}
	switch c.Op {
	case "+":
		return fmt.Sprintf("%s: + %s: %s", at, c.Path, c.New)
	case "-":
		return fmt.Sprintf("%s: - %s: %s", at, c.Path, c.Old)
	}
	return fmt.Sprintf("%s: ~ %s: %s → %s", at, c.Path, c.Old, c.New)
}

// Diff lists what the pack changes against the embedded default, in the
// order the default's keys are written (keys the default lacks last), so
// an analyst sees at a glance what a tuned pack does.
func (p *Pack) Diff() ([]Change, error) {
	base, err := parseYAML(defaultYAML, DefaultName)
	if err != nil {
		return nil, err
	}
	d := &differ{p: p}
	d.node(base.Content[0], p.root.Content[0], "")
	return d.out, nil
}

type differ struct {
	p   *Pack
	out []Change
}

func (d *differ) add(op, path, old, new string) {
	file, line := d.p.at(path)
	d.out = append(d.out, Change{Op: op, Path: path, Old: old, New: new, File: file, Line: line})
}

func (d *differ) node(a, b *yaml.Node, path string) {
	switch {
	case a.Kind == yaml.MappingNode && b.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(a.Content); i += 2 {
			k := a.Content[i].Value
			kp := joinPath(path, k)
			if bv := mappingValue(b, k); bv != nil {
				d.node(a.Content[i+1], bv, kp)
			} else {
				d.add("-", kp, describeNode(a.Content[i+1]), "")
			}
		}
		for i := 0; i+1 < len(b.Content); i += 2 {
			if mappingIndex(a, b.Content[i].Value) < 0 {
				d.add("+", joinPath(path, b.Content[i].Value), "", describeNode(b.Content[i+1]))
			}
		}
	case a.Kind == yaml.SequenceNode && b.Kind == yaml.SequenceNode:
		d.sequence(a, b, path)
	case a.Kind != b.Kind || canonical(a) != canonical(b):
		d.add("~", path, describeNode(a), describeNode(b))
	}
}

// sequence compares lists as sets: entries with a name are matched by it
// and compared key by key, the others by value.
func (d *differ) sequence(a, b *yaml.Node, path string) {
	named := func(n *yaml.Node) string {
		if v := mappingValue(n, "name"); v != nil {
			return v.Value
		}
		return ""
	}
	// Lists may hold an entry twice: match them as multisets.
	inB := map[string][]int{}
	key := func(x *yaml.Node) string {
		if nm := named(x); nm != "" {
			return "name:" + nm
		}
		return canonical(x)
	}
	for j, x := range b.Content {
		inB[key(x)] = append(inB[key(x)], j)
	}
	seen := map[int]bool{}
	for _, x := range a.Content {
		js := inB[key(x)]
		if len(js) == 0 {
			d.add("-", path+"["+describeEntry(x)+"]", describeNode(x), "")
			continue
		}
		j := js[0]
		inB[key(x)] = js[1:]
		seen[j] = true
		if named(x) != "" {
			d.node(x, b.Content[j], path+"["+named(x)+"]")
		}
	}
	var added []int
	for j := range b.Content {
		if !seen[j] {
			added = append(added, j)
		}
	}
	sort.Ints(added)
	for _, j := range added {
		x := b.Content[j]
		p := fmt.Sprintf("%s[%d]", path, j)
		file, line := d.p.at(p)
		d.out = append(d.out, Change{Op: "+", Path: path + "[" + describeEntry(x) + "]", New: describeNode(x), File: file, Line: line})
	}
}

// describeEntry names a list entry in a path: its name or scalar value,
// shortened.
func describeEntry(n *yaml.Node) string {
	for _, k := range []string{"name", "publisher_id", "domain", "value"} {
		if v := mappingValue(n, k); v != nil && v.Kind == yaml.ScalarNode {
			return v.Value
		}
	}
	s := canonical(n)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}
