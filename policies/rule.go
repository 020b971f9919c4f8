package policies

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/jitbot/jitbot/access"
)

const (
	defaultDeadline      = 7 * 24 * time.Hour
	defaultGuardSchedule = "@every 1h"
	defaultMaxChanges    = 50
)

func (d *decoder) syncRules(root *object, p *access.Policy) []access.SyncRule {
	items := d.seq(root, "sync", false)
	rules := make([]access.SyncRule, 0, len(items))
	seen := map[string]int{}
	for i, n := range items {
		o := d.object(n, index("sync", i), "name", "schedule", "match", "add_to", "remove_unmatched", "allow_protected")
		d.groupRefs(o, "add_to", true)
		r := access.SyncRule{
			Name:            d.name(o, "sync rule", seen),
			Schedule:        d.schedule(o, "schedule", true, ""),
			Match:           d.condition(o, "match", true),
			RemoveUnmatched: d.boolean(o, "remove_unmatched"),
			AllowProtected:  d.boolean(o, "allow_protected"),
		}
		var nodes []*yaml.Node
		r.AddTo, nodes = d.stringNodes(o, "add_to", true)
		for j, g := range r.AddTo {
			if p.IsProtected(g) && !r.AllowProtected {
				d.add(nodes[j], index(child(o.path, "add_to"), j),
					"sync rule %s adds to protected group %s: set allow_protected: true on the rule if that is meant", r.Name, g)
			}
		}
		rules = append(rules, r)
	}
	return rules
}

func (d *decoder) sweeps(root *object) []access.Sweep {
	items := d.seq(root, "sweeps", false)
	sweeps := make([]access.Sweep, 0, len(items))
	seen := map[string]int{}
	for i, n := range items {
		o := d.object(n, index("sweeps", i), "name", "schedule", "match", "exclude", "action", "groups", "grace")
		d.groupRefs(o, "groups", true)
		s := access.Sweep{
			Name:     d.name(o, "sweep", seen),
			Schedule: d.schedule(o, "schedule", true, ""),
			Match:    d.condition(o, "match", true),
			Exclude:  d.strings(o, "exclude", false),
			Action: access.SweepAction(d.enum(o, "action", true, "", string(access.SweepReport),
				string(access.SweepSuspend), string(access.SweepRemoveFromGroups))),
			Groups: d.strings(o, "groups", false),
		}
		s.Grace, _ = d.duration(o, "grace", false, 0)
		if s.Action == access.SweepRemoveFromGroups && len(s.Groups) == 0 {
			d.add(o.line("groups"), child(o.path, "groups"), "is required for action remove_from_groups")
		}
		sweeps = append(sweeps, s)
	}
	return sweeps
}

func (d *decoder) reviews(root *object, teams map[string][]string) []access.Review {
	items := d.seq(root, "reviews", false)
	reviews := make([]access.Review, 0, len(items))
	seen := map[string]int{}
	for i, n := range items {
		o := d.object(n, index("reviews", i), "name", "schedule", "groups", "reviewers", "deadline", "on_no_response")
		d.groupRefs(o, "groups", true) // reviewers may remove members
		r := access.Review{
			Name:         d.name(o, "review", seen),
			Schedule:     d.schedule(o, "schedule", true, ""),
			Groups:       d.strings(o, "groups", true),
			Reviewers:    d.principals(o, "reviewers", teams, true),
			OnNoResponse: d.enum(o, "on_no_response", false, "keep", "keep", "remove"),
		}
		r.Deadline, _ = d.duration(o, "deadline", false, defaultDeadline)
		if r.Deadline <= 0 {
			d.add(o.line("deadline"), child(o.path, "deadline"), "must be longer than 0")
		}
		reviews = append(reviews, r)
	}
	return reviews
}

func (d *decoder) guard(o *object) access.Guard {
	g := access.Guard{
		ProtectedGroups: d.strings(o, "protected_groups", false),
		StandingMembers: map[string][]string{},
		MinMembers:      map[string]int{},
		OnDrift: access.DriftAction(d.enum(o, "on_drift", false, string(access.DriftReport),
			string(access.DriftReport), string(access.DriftRevert))),
		Schedule: d.schedule(o, "schedule", false, defaultGuardSchedule),
	}
	d.groupRefs(o, "protected_groups", g.OnDrift == access.DriftRevert)
	for _, key := range []string{"standing_members", "min_members"} {
		m := resolve(o.fields[key])
		for i := 0; m != nil && m.Kind == yaml.MappingNode && i+1 < len(m.Content); i += 2 {
			k := resolve(m.Content[i])
			if k == nil || k.Kind != yaml.ScalarNode {
				continue
			}
			role, isRole := strings.CutPrefix(k.Value, "role:")
			switch {
			case isRole && !contains(access.GuardedRoles, role):
				d.add(k, child("guard."+key, k.Value), "%q is not a watched platform role: use role:%s", k.Value, strings.Join(access.GuardedRoles, ", role:"))
			case !isRole:
				d.ref(RefGroup, k, child("guard."+key, k.Value), k.Value, nil)
			}
		}
	}
	var ok bool
	g.MaxChanges, ok = d.integer(o, "max_changes", false, defaultMaxChanges)
	if ok && g.MaxChanges < 1 {
		d.add(o.line("max_changes"), child(o.path, "max_changes"), "must be at least 1")
	}
	standing := d.object(o.fields["standing_members"], "guard.standing_members", mappingKeys(o.fields["standing_members"])...)
	for _, group := range mappingKeys(o.fields["standing_members"]) {
		if members := d.strings(standing, group, false); members != nil {
			g.StandingMembers[group] = members
		}
	}
	minimum := d.object(o.fields["min_members"], "guard.min_members", mappingKeys(o.fields["min_members"])...)
	for _, group := range mappingKeys(o.fields["min_members"]) {
		if v, ok := d.integer(minimum, group, false, 0); ok && minimum.fields[group] != nil {
			if v < 0 {
				d.add(minimum.fields[group], child(minimum.path, group), "must not be negative")
			}
			g.MinMembers[group] = v
		}
	}
	return g
}

func (d *decoder) digest(o *object, audit string) access.Digest {
	dg := access.Digest{
		Channel:  d.str(o, "channel", false),
		Schedule: d.schedule(o, "schedule", false, ""),
	}
	if dg.Channel == "" && dg.Schedule != "" {
		dg.Channel = audit
	}
	return dg
}
