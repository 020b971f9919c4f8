package policies

import (
	"fmt"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/jitbot/jitbot/access"
)

// RefKind is what a policy names outside itself.
type RefKind string

// Reference kinds.
const (
	RefGroup     RefKind = "group"     // an Atlassian group, by name
	RefResource  RefKind = "resource"  // a role grant's resource: site host, URL or ARI
	RefPrincipal RefKind = "principal" // a Slack user, user group or e-mail written in the file
)

// Ref is one name a policy file uses that only the live org or Slack workspace can confirm,
// with where it is written, for `jitbot policy check --online` and start-up checks.
type Ref struct {
	Kind   RefKind
	Value  string
	Role   string // for a resource: the platform role granted on it (site-admin, admin, …)
	Writes bool   // for a group: jitbot may change its members (a grant, sync, sweep, review or revert)
	File   string
	Line   int
	Field  string
}

// Problem returns a problem at r's place in the file.
func (r Ref) Problem(format string, args ...any) Problem {
	return Problem{File: r.File, Line: r.Line, Field: r.Field, Message: fmt.Sprintf(format, args...)}
}

// LoadRefs is LoadWithWarnings that also returns every group, resource and principal the file
// names, in file order.
func LoadRefs(path string) (*access.Policy, []Ref, []Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load policy: %w", err)
	}
	return ParseRefs(path, data)
}

// ParseRefs is ParseWithWarnings that also returns the references of the file (see LoadRefs).
func ParseRefs(name string, data []byte) (*access.Policy, []Ref, []Problem, error) {
	d := &decoder{file: name, recordRefs: true}
	p, warnings, err := d.parse(data)
	if err != nil {
		return nil, nil, nil, err
	}
	slices.SortStableFunc(d.refs, func(a, b Ref) int { return a.Line - b.Line })
	return p, d.refs, warnings, nil
}

// ref records a reference written at n, when references are being recorded.
func (d *decoder) ref(kind RefKind, n *yaml.Node, field, value string, mod func(*Ref)) {
	if !d.recordRefs || n == nil || value == "" {
		return
	}
	r := Ref{Kind: kind, Value: value, File: d.file, Line: n.Line, Field: field}
	if mod != nil {
		mod(&r)
	}
	d.refs = append(d.refs, r)
}

// groupRefs records the groups of a list field.
func (d *decoder) groupRefs(o *object, key string, writes bool) {
	n, ok := o.fields[key]
	if !ok || resolve(n).Kind != yaml.SequenceNode {
		return
	}
	for i, c := range resolve(n).Content {
		if c = resolve(c); c != nil && c.Kind == yaml.ScalarNode {
			d.ref(RefGroup, c, index(child(o.path, key), i), c.Value, func(r *Ref) { r.Writes = writes })
		}
	}
}
