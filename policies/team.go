package policies

import (
	"strings"

	"github.com/jitbot/jitbot/access"
)

// isPrincipal reports whether s is a Slack user or user-group ID, or an e-mail address.
func isPrincipal(s string) bool { return access.ParsePrincipal(s) != access.PrincipalInvalid }

// teams reads the teams mapping: names to principals.
func (d *decoder) teams(root *object) map[string][]string {
	teams := map[string][]string{}
	n, ok := root.fields["teams"]
	if !ok {
		return teams
	}
	names := mappingKeys(n)
	o := d.object(n, "teams", names...)
	for _, name := range names {
		field := child("teams", name)
		if isPrincipal(name) {
			d.add(o.line(name), field, "a team name must not look like a Slack ID or e-mail")
			continue
		}
		members, nodes := d.stringNodes(o, name, true)
		for i, m := range members {
			if !isPrincipal(m) {
				d.add(nodes[i], index(field, i), "%q is not a Slack user or user-group ID (U…, W…, S…) or an e-mail", m)
				continue
			}
			d.ref(RefPrincipal, nodes[i], index(field, i), m, nil)
		}
		teams[name] = dedupe(members)
	}
	return teams
}

// principals reads a list of principals and team names, expanding teams.
func (d *decoder) principals(o *object, key string, teams map[string][]string, required bool) []string {
	out, _ := d.principalsNamed(o, key, teams, required)
	return out
}

// principalsNamed reads a list of principals and team names; it returns the principals with
// teams expanded, and the list as written.
func (d *decoder) principalsNamed(o *object, key string, teams map[string][]string, required bool) ([]string, []string) {
	items, nodes := d.stringNodes(o, key, required)
	var out []string
	for i, s := range items {
		if isPrincipal(s) {
			d.ref(RefPrincipal, nodes[i], index(child(o.path, key), i), s, nil)
			out = append(out, s)
			continue
		}
		members, ok := teams[s]
		if !ok {
			d.add(nodes[i], index(child(o.path, key), i), "unknown team %q: define it under teams, or give a Slack ID or e-mail", s)
			continue
		}
		out = append(out, members...)
	}
	return dedupe(out), items
}

func dedupe(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	seen := map[string]bool{}
	out := list[:0:0]
	for _, s := range list {
		k := strings.ToLower(s)
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}
