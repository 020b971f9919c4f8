package access

import (
	"context"
	"fmt"
	"strings"
)

// GuardedRoles are the platform roles the guard watches besides protected groups: whoever
// holds one needs a live grant of it or a standing entry (guard.standing_members
// role:site-admin and so on).
var GuardedRoles = []string{"site-admin", "org-admin", "user-access-admin"}

// RoleKey is the guard key of a platform role: "role:site-admin".
func RoleKey(role string) string { return "role:" + role }

// roleGrant is a platform role a live grant gives.
type roleGrant struct {
	id     string
	target Target
}

// planGuardRoles adds to p the holders of guarded platform roles with no live grant of that
// role (on the same resource) or standing entry behind them: reports, or removals with
// on_drift revert. Holders are counted per role (in p.snap, under the role's key), so
// min_members holds for roles as for groups (guard.min_members role:site-admin), and vet never
// takes org-admin from its last holder.
func planGuardRoles(ctx context.Context, roles RoleOrg, d *desired, g *Guard, p *plan) error {
	hs, err := roles.RoleHolders(ctx, GuardedRoles)
	if err != nil {
		return fmt.Errorf("read platform role holders: %w", err)
	}
	op := OpReport
	if g.OnDrift == DriftRevert {
		op = OpRemove
	}
	for _, h := range hs {
		k := strings.ToLower(RoleKey(h.Role))
		if p.snap.members[k] == nil {
			p.snap.members[k] = map[string]struct{}{}
		}
		p.snap.members[k][h.Account.ID] = struct{}{}
		why, err := d.wantRole(ctx, roles, h)
		if err != nil {
			return err
		}
		if why != "" {
			continue
		}
		on := ""
		if h.Resource != "" {
			on = " on " + h.Resource
		}
		p.changes = append(p.changes, Change{Op: op, Account: h.Account, Role: h.Role, Resource: h.Resource,
			Reason: "holds platform role " + h.Role + on + " with no grant or standing entry behind it"})
	}
	return nil
}

// wantRole returns why h is wanted: a standing entry for the role, or a live grant of the role
// on the same resource; "" when nothing stands behind it.
func (d *desired) wantRole(ctx context.Context, roles RoleOrg, h RoleHolding) (string, error) {
	if d.policy.IsStanding(RoleKey(h.Role), h.Account) {
		return "standing entry " + RoleKey(h.Role), nil
	}
	for _, rg := range d.roles[h.Account.ID] {
		if rg.target.Role != h.Role {
			continue
		}
		same, err := roles.SameResource(ctx, h.Role, rg.target.Resource, h.Resource)
		if err != nil {
			return "", fmt.Errorf("compare %s with grant %s: %w", h.Resource, rg.id, err)
		}
		if same {
			return "live grant " + rg.id, nil
		}
	}
	return "", nil
}

// roleTarget is the target a role change removes.
func (c Change) roleTarget() Target { return RoleTarget(c.Role, c.Resource) }

// Watches reports whether the guard has anything to watch: protected groups, or platform
// roles named in standing_members or min_members (role:site-admin). Role holders are checked
// whenever the guard runs.
func (g Guard) Watches() bool {
	if len(g.ProtectedGroups) > 0 {
		return true
	}
	for k := range g.StandingMembers {
		if strings.HasPrefix(k, "role:") {
			return true
		}
	}
	for k := range g.MinMembers {
		if strings.HasPrefix(k, "role:") {
			return true
		}
	}
	return false
}
