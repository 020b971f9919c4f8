package policies

import (
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/jitbot/jitbot/access"
)

// decoder walks a YAML node tree and collects every problem it finds.
type decoder struct {
	file     string
	problems []Problem
	warnings []Problem // worth knowing, but the file is valid

	recordRefs bool  // collect refs (ParseRefs)
	refs       []Ref // groups, resources and principals the file names
}

// object is one YAML mapping: its fields by key, with the path used in messages.
type object struct {
	node   *yaml.Node
	path   string
	fields map[string]*yaml.Node // null values are left out
}

func (d *decoder) add(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) warn(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.warnings = append(d.warnings, Problem{File: d.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// object reads mapping n, reporting keys not in known and repeated keys. A null n is an empty
// object.
func (d *decoder) object(n *yaml.Node, path string, known ...string) *object {
	n = resolve(n)
	o := &object{node: n, path: path, fields: map[string]*yaml.Node{}}
	if isNull(n) {
		return o
	}
	if n.Kind != yaml.MappingNode {
		d.add(n, path, "must be a mapping")
		return o
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			d.add(n.Content[i], path, "keys must be plain strings")
			continue
		}
		field := child(path, k.Value)
		if seen[k.Value] {
			d.add(k, field, "is set twice")
			continue
		}
		seen[k.Value] = true
		if !contains(known, k.Value) {
			d.add(k, field, "unknown field")
			continue
		}
		if !isNull(v) {
			o.fields[k.Value] = v
		}
	}
	return o
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// line returns the line of the field, or of the object when it is not set.
func (o *object) line(key string) *yaml.Node {
	if n, ok := o.fields[key]; ok {
		return n
	}
	return o.node
}

func (d *decoder) missing(o *object, key string) {
	n := o.node
	if n == nil {
		n = &yaml.Node{Line: 1}
	}
	d.add(n, child(o.path, key), "is required")
}

// scalar returns the text of a scalar field and whether it is set and valid.
func (d *decoder) scalar(o *object, key string, required bool) (string, *yaml.Node, bool) {
	n, ok := o.fields[key]
	if !ok {
		if required {
			d.missing(o, key)
		}
		return "", nil, false
	}
	if n.Kind != yaml.ScalarNode {
		d.add(n, child(o.path, key), "must be a single value")
		return "", n, false
	}
	return n.Value, n, true
}

func (d *decoder) str(o *object, key string, required bool) string {
	s, n, ok := d.scalar(o, key, required)
	if ok && s == "" && required {
		d.add(n, child(o.path, key), "must not be empty")
	}
	return s
}

func (d *decoder) integer(o *object, key string, required bool, def int) (int, bool) {
	s, n, ok := d.scalar(o, key, required)
	if !ok {
		return def, n == nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || n.Tag != "!!int" {
		d.add(n, child(o.path, key), "%q is not a whole number", s)
		return def, false
	}
	return v, true
}

func (d *decoder) boolean(o *object, key string) bool {
	s, n, ok := d.scalar(o, key, false)
	if !ok {
		return false
	}
	if n.Tag != "!!bool" {
		d.add(n, child(o.path, key), "%q is not true or false", s)
		return false
	}
	v, _ := strconv.ParseBool(s)
	return v
}

// duration reads a duration field (docs/configuration.md); ok is false when it is set but bad.
func (d *decoder) duration(o *object, key string, required bool, def time.Duration) (time.Duration, bool) {
	s, n, ok := d.scalar(o, key, required)
	if !ok {
		return def, n == nil
	}
	v, err := access.ParseDuration(s)
	if err != nil {
		d.add(n, child(o.path, key), "%s", access.ErrorMessage(err))
		return def, false
	}
	return v, true
}

// enum reads a field whose value must be one of values.
func (d *decoder) enum(o *object, key string, required bool, def string, values ...string) string {
	s, n, ok := d.scalar(o, key, required)
	if !ok {
		return def
	}
	if !contains(values, s) {
		d.add(n, child(o.path, key), "%q is not one of %v", s, values)
		return def
	}
	return s
}

// seq returns the items of a sequence field.
func (d *decoder) seq(o *object, key string, required bool) []*yaml.Node {
	n, ok := o.fields[key]
	if !ok {
		if required {
			d.missing(o, key)
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.add(n, child(o.path, key), "must be a list")
		return nil
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		items[i] = resolve(c)
	}
	if required && len(items) == 0 {
		d.add(n, child(o.path, key), "must not be empty")
	}
	return items
}

// strings reads a list of non-empty strings.
func (d *decoder) strings(o *object, key string, required bool) []string {
	out, _ := d.stringNodes(o, key, required)
	return out
}

// stringNodes reads a list of non-empty strings with the node of each.
func (d *decoder) stringNodes(o *object, key string, required bool) ([]string, []*yaml.Node) {
	items := d.seq(o, key, required)
	if items == nil {
		return nil, nil
	}
	out := make([]string, 0, len(items))
	nodes := make([]*yaml.Node, 0, len(items))
	for i, n := range items {
		if n == nil || n.Kind != yaml.ScalarNode || isNull(n) || n.Value == "" {
			d.add(n, index(child(o.path, key), i), "must be a non-empty string")
			continue
		}
		out = append(out, n.Value)
		nodes = append(nodes, n)
	}
	return out, nodes
}

// mappingKeys returns the scalar keys of mapping n, for mappings whose keys are free names.
func mappingKeys(n *yaml.Node) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var keys []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode {
			keys = append(keys, k.Value)
		}
	}
	return keys
}
