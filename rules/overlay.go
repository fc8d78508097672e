package rules

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Tags a pack that extends the default uses to say more than "set this":
// `key: !remove` deletes an inherited key, `- !remove value` deletes an
// inherited list entry (a mapping entry matches every entry whose fields it
// names equal), and `key: !replace …` takes the value whole instead of
// merging it into the inherited one.
const (
	tagRemove  = "!remove"
	tagReplace = "!replace"
)

// position is where a key of the merged pack was written.
type position struct {
	file string
	line int
}

// origins records, for every node of a merged pack, the file it came from.
type origins map[*yaml.Node]string

func (o origins) mark(n *yaml.Node, file string) {
	if n == nil {
		return
	}
	o[n] = file
	for _, c := range n.Content {
		o.mark(c, file)
	}
}

// merger overlays a user's pack onto the default's node tree, keeping the
// file each node came from.
type merger struct {
	src  origins
	file string
	// removed is where the user's file removed each key path, so an error
	// about a removed key (a required threshold) points at the removal.
	removed map[string]position
}

// overlay merges the user's pack onto the base key by key: mappings merge
// recursively, lists gain the user's entries (list entries that are
// mappings with a `name` merge into the inherited entry of that name),
// scalars are replaced; the tags above remove or replace. Errors point into
// the user's file.
func (m *merger) overlay(base, user *yaml.Node) error {
	if len(user.Content) == 0 {
		return nil
	}
	return m.value(base.Content[0], user.Content[0], "")
}

func (m *merger) value(base, user *yaml.Node, path string) error {
	switch {
	case user.Tag == tagReplace:
		m.replace(base, user)
	case user.Tag == tagRemove:
		return &ValidationError{File: m.file, Line: user.Line, Key: path, Msg: "!remove removes a key (`key: !remove`) or a list entry (`- !remove value`)"}
	case base.Kind == yaml.MappingNode && user.Kind == yaml.MappingNode:
		return m.mapping(base, user, path)
	case base.Kind == yaml.SequenceNode && user.Kind == yaml.SequenceNode:
		return m.sequence(base, user, path)
	default:
		m.replace(base, user)
	}
	return nil
}

// replace puts user in base's place (without a !replace tag, so the value
// decodes as what it is).
func (m *merger) replace(base, user *yaml.Node) {
	*base = *user
	if base.Tag == tagReplace {
		base.Tag = ""
		base.Style &^= yaml.TaggedStyle
	}
	m.src[base] = m.file
}

func (m *merger) mapping(base, user *yaml.Node, path string) error {
	for i := 0; i+1 < len(user.Content); i += 2 {
		k, v := user.Content[i], user.Content[i+1]
		kp := joinPath(path, k.Value)
		j := mappingIndex(base, k.Value)
		if v.Tag == tagRemove {
			if j < 0 {
				return &ValidationError{File: m.file, Line: k.Line, Key: kp, Msg: "!remove: the default pack has no such key"}
			}
			base.Content = append(base.Content[:j], base.Content[j+2:]...)
			if m.removed != nil {
				m.removed[kp] = position{m.file, k.Line}
			}
			continue
		}
		if j < 0 {
			if v.Tag == tagReplace {
				m.replace(v, v)
			}
			base.Content = append(base.Content, k, v)
			continue
		}
		base.Content[j] = k // errors about the key point at the user's line
		if err := m.value(base.Content[j+1], v, kp); err != nil {
			return err
		}
	}
	return nil
}

func (m *merger) sequence(base, user *yaml.Node, path string) error {
	for _, item := range user.Content {
		if item.Tag == tagRemove {
			probe := *item
			probe.Tag = ""
			probe.Style &^= yaml.TaggedStyle
			kept := base.Content[:0:0]
			for _, b := range base.Content {
				if !entryMatches(b, &probe) {
					kept = append(kept, b)
				}
			}
			if len(kept) == len(base.Content) {
				return &ValidationError{File: m.file, Line: item.Line, Key: path, Msg: fmt.Sprintf("!remove %s matches no entry of the default pack", describeNode(&probe))}
			}
			base.Content = kept
			continue
		}
		if item.Tag == tagReplace {
			return &ValidationError{File: m.file, Line: item.Line, Key: path, Msg: "!replace goes on the list (`key: !replace [...]`), not on an entry"}
		}
		if item.Kind == yaml.MappingNode {
			if name := mappingValue(item, "name"); name != nil {
				if j := sequenceIndexByName(base, name.Value); j >= 0 {
					if err := m.mapping(base.Content[j], item, fmt.Sprintf("%s[%d]", path, j)); err != nil {
						return err
					}
					continue
				}
			}
		}
		if item.Kind == yaml.ScalarNode && sequenceHasScalar(base, item.Value) {
			continue // already inherited: adding it again changes nothing
		}
		base.Content = append(base.Content, item)
	}
	return nil
}

// entryMatches reports whether a list entry is the one probe names: the
// same scalar, or a mapping whose fields include every field of probe.
func entryMatches(entry, probe *yaml.Node) bool {
	if probe.Kind == yaml.ScalarNode {
		return entry.Kind == yaml.ScalarNode && entry.Value == probe.Value
	}
	if probe.Kind != yaml.MappingNode || entry.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(probe.Content); i += 2 {
		v := mappingValue(entry, probe.Content[i].Value)
		if v == nil || canonical(v) != canonical(probe.Content[i+1]) {
			return false
		}
	}
	return true
}

func mappingIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	if i := mappingIndex(m, key); i >= 0 {
		return m.Content[i+1]
	}
	return nil
}

func sequenceIndexByName(seq *yaml.Node, name string) int {
	for j, b := range seq.Content {
		if n := mappingValue(b, "name"); n != nil && n.Value == name {
			return j
		}
	}
	return -1
}

func sequenceHasScalar(seq *yaml.Node, v string) bool {
	for _, b := range seq.Content {
		if b.Kind == yaml.ScalarNode && b.Value == v {
			return true
		}
	}
	return false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// canonical is a node's value in one line, for comparing and printing.
func canonical(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.AliasNode:
		return canonical(n.Alias)
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return canonical(n.Content[0])
		}
		return ""
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = canonical(c)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case yaml.MappingNode:
		parts := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, n.Content[i].Value+": "+canonical(n.Content[i+1]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return ""
}

func describeNode(n *yaml.Node) string {
	s := canonical(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		s = strconv.Quote(s)
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// indexPositions records where every key and list entry of the merged pack
// was written, by path ("rules.click_burst.thresholds.min_modified_z",
// "allowlist[2]"), so validation errors name the file and line of the
// value they are about.
func indexPositions(n *yaml.Node, src origins, path string, idx map[string]position) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			indexPositions(c, src, path, idx)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			kp := joinPath(path, k.Value)
			idx[kp] = position{src[k], k.Line}
			indexPositions(n.Content[i+1], src, kp, idx)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			ip := fmt.Sprintf("%s[%d]", path, i)
			idx[ip] = position{src[c], c.Line}
			indexPositions(c, src, ip, idx)
		}
	}
}
