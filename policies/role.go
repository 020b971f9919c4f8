package policies

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/jitbot/jitbot/access"
)

// platformRoles are the Atlassian platform roles a role may grant.
var platformRoles = []string{"site-admin", "org-admin", "admin", "user-access-admin", "user", "guest",
	"contributor", "basic", "stakeholder", "customer"}

const defaultMaxDefault = time.Hour

func (d *decoder) roles(root *object, teams map[string][]string) []access.Role {
	items := d.seq(root, "roles", false)
	roles := make([]access.Role, 0, len(items))
	seen := map[string]int{}
	for i, n := range items {
		o := d.object(n, index("roles", i), "name", "description", "grants", "max_duration",
			"default_duration", "approvers", "approvals", "reason", "pending_timeout", "channel",
			"auto_approve", "break_glass", "requesters", "request_if")
		roles = append(roles, d.role(o, teams, seen))
	}
	return roles
}

func (d *decoder) role(o *object, teams map[string][]string, seen map[string]int) access.Role {
	r := access.Role{
		Name:        d.name(o, "role", seen),
		Description: d.str(o, "description", false),
		Grants:      d.grants(o),
		Channel:     d.str(o, "channel", false),
		AutoApprove: d.condition(o, "auto_approve", false),
		BreakGlass:  d.boolean(o, "break_glass"),
	}
	maxOK := false
	r.MaxDuration, maxOK = d.duration(o, "max_duration", true, 0)
	if maxOK && o.fields["max_duration"] != nil && r.MaxDuration <= 0 {
		d.add(o.fields["max_duration"], child(o.path, "max_duration"), "must be longer than 0")
		maxOK = false
	}
	r.DefaultDuration = min(defaultMaxDefault, r.MaxDuration)
	if v, ok := d.duration(o, "default_duration", false, 0); ok && o.fields["default_duration"] != nil {
		switch {
		case v <= 0:
			d.add(o.fields["default_duration"], child(o.path, "default_duration"), "must be longer than 0")
		case maxOK && v > r.MaxDuration:
			d.add(o.fields["default_duration"], child(o.path, "default_duration"), "%s is longer than max_duration %s",
				access.FormatDuration(v), access.FormatDuration(r.MaxDuration))
		default:
			r.DefaultDuration = v
		}
	}
	r.PendingTimeout, _ = d.duration(o, "pending_timeout", false, access.DefaultPendingTimeout)
	if r.PendingTimeout <= 0 {
		d.add(o.line("pending_timeout"), child(o.path, "pending_timeout"), "must be longer than 0")
	}
	reason := d.enum(o, "reason", false, "required", "required", "optional")
	r.ReasonRequired = reason == "required"
	if r.BreakGlass && !r.ReasonRequired {
		d.add(o.line("reason"), child(o.path, "reason"), "a break_glass role always requires a reason")
		r.ReasonRequired = true
	}
	r.Approvers = d.principals(o, "approvers", teams, !r.BreakGlass)
	r.Requesters, r.RequesterNames = d.principalsNamed(o, "requesters", teams, false)
	r.RequestIf = d.condition(o, "request_if", false)
	if r.BreakGlass {
		if len(r.RequesterNames) == 0 {
			d.add(o.line("break_glass"), child(o.path, "requesters"),
				"is required for a break_glass role: list the teams or people who may grant it to themselves")
		}
		if o.fields["auto_approve"] != nil {
			d.add(o.fields["auto_approve"], child(o.path, "auto_approve"),
				"has no effect on a break_glass role, which is granted at once on the requester's reason; remove it (approvers, if any, may end the grant)")
		}
		if o.fields["approvals"] != nil {
			d.add(o.fields["approvals"], child(o.path, "approvals"),
				"has no effect on a break_glass role, which nobody approves; remove it (approvers, if any, may end the grant)")
		}
	}
	d.warnTrusted(o, "auto_approve")
	d.warnTrusted(o, "request_if")
	var approvalsOK bool
	r.Approvals, approvalsOK = d.integer(o, "approvals", false, 1)
	switch {
	case !approvalsOK:
	case r.Approvals < 1:
		d.add(o.line("approvals"), child(o.path, "approvals"), "must be at least 1")
	case len(r.Approvers) > 0 && r.Approvals > len(r.Approvers):
		d.add(o.line("approvals"), child(o.path, "approvals"),
			"%d approvals needed but only %d approvers after expanding teams (a user group counts as one)",
			r.Approvals, len(r.Approvers))
	}
	return r
}

func (d *decoder) grants(o *object) []access.Target {
	items := d.seq(o, "grants", true)
	path := child(o.path, "grants")
	targets := make([]access.Target, 0, len(items))
	for i, n := range items {
		g := d.object(n, index(path, i), "group", "role", "resource")
		group := d.str(g, "group", false)
		role := d.str(g, "role", false)
		resource := d.str(g, "resource", false)
		switch {
		case group != "" && role != "":
			d.add(g.line("role"), g.path, "give either group or role, not both")
		case group != "":
			d.ref(RefGroup, g.fields["group"], child(g.path, "group"), group, func(r *Ref) { r.Writes = true })
			if resource != "" {
				d.add(g.line("resource"), child(g.path, "resource"), "is only for role grants")
			}
			targets = append(targets, access.GroupTarget(group))
		case role != "":
			switch {
			case !contains(platformRoles, role):
				d.add(g.line("role"), child(g.path, "role"), "%q is not a platform role: use one of %s",
					role, strings.Join(platformRoles, ", "))
			case resource == "" && role != "org-admin":
				d.add(g.node, child(g.path, "resource"), "is required for role %s: give the site host or resource ARI", role)
			default:
				if role != "org-admin" { // org-admin is organization-wide: its resource is not used
					d.ref(RefResource, g.fields["resource"], child(g.path, "resource"), resource, func(r *Ref) { r.Role = role })
				}
				targets = append(targets, access.RoleTarget(role, resource))
			}
		default:
			n := g.node
			if n == nil {
				n = o.line("grants")
			}
			d.add(n, g.path, "give a group or a role")
		}
	}
	return targets
}

// untrusted are the fields of conditions the requester controls.
var untrusted = [][2]string{{"request", "reason"}, {"requester", "name"}}

// warnTrusted warns when the condition in key reads something the requester types themselves.
func (d *decoder) warnTrusted(o *object, key string) {
	n, ok := o.fields[key]
	if !ok || n.Kind != yaml.ScalarNode {
		return
	}
	c, err := Compile(n.Value)
	if err != nil {
		return
	}
	for _, u := range untrusted {
		if c.Reads(u[0], u[1]) {
			d.warn(n, child(o.path, key), "reads %s.%s, which the requester controls: never a basis for trust", u[0], u[1])
		}
	}
}
