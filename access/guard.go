package access

import "context"

// planGuard finds drift: members of protected groups with no live grant, sync rule or standing
// membership behind them. With on_drift report each is an OpReport; with revert an OpRemove that
// goes through the applier like any other, so min_members and max_changes hold.
//
// With roles set, holders of the guarded platform roles are checked too (guard_roles.go).
func planGuard(ctx context.Context, org Org, roles RoleOrg, d *desired, g *Guard) (*plan, error) {
	p := &plan{kind: RunGuard, name: "guard", snap: newSnapshot()}
	if roles != nil {
		if err := planGuardRoles(ctx, roles, d, g, p); err != nil {
			return nil, err
		}
	}
	if len(g.ProtectedGroups) == 0 {
		return p, nil
	}
	s := p.snap
	if err := s.readGroups(ctx, org, g.ProtectedGroups); err != nil {
		return nil, err
	}
	if err := s.readUsers(ctx, org, g.ProtectedGroups, []string{}, func(*User) (bool, error) { return false, nil }); err != nil {
		return nil, err
	}
	op := OpReport
	if g.OnDrift == DriftRevert {
		op = OpRemove
	}
	ids := sortedIDs(s.users)
	var done []string
	for _, name := range g.ProtectedGroups {
		if containsFold(done, name) {
			continue
		}
		done = append(done, name)
		grp := s.group(name)
		for _, id := range ids {
			if !s.isMember(name, id) {
				continue
			}
			u := s.users[id]
			why, err := d.want(u, name, true)
			if err != nil {
				return nil, err
			}
			if why != "" {
				continue
			}
			p.changes = append(p.changes, Change{Op: op, Account: u.Account(), Group: grp.Name, GroupID: grp.ID,
				Reason: "member of protected group " + grp.Name + " with no grant, sync rule or standing membership behind it"})
		}
	}
	return p, nil
}
