package access

import (
	"context"
	"fmt"
)

// RemoveMember removes account a from group as a plan of one change that goes through the
// same guards and applier as every run: it is skipped, with the reason in Change.Skipped and a
// nil error, when another source still wants the membership (a live grant, a sync rule, a
// standing membership) or when it would leave the group below min_members. A change the guard
// stops outright (a group jitbot may not write, emptying a protected group) returns an
// EINVALID error and changes nothing. source names who asks (for example "review
// quarterly-admins") and is the subject of the change's audit event. A member who is already
// gone is reported done without a call.
func (e *Engine) RemoveMember(ctx context.Context, source, group string, a Account, reason string) (Change, error) {
	c := Change{Op: OpRemove, Account: a, Group: group, Reason: reason}
	pol := e.policy()
	if pol == nil {
		return c, Errorf(EINVALID, "No policy is loaded.")
	}
	now := e.now()
	d, err := loadDesired(ctx, e.Store, pol, now)
	if err != nil {
		return c, fmt.Errorf("remove %s from %s: %w", who(a), group, err)
	}
	p := &plan{kind: RunGuard, name: source, snap: newSnapshot(), desired: d}
	if err := p.snap.readGroups(ctx, e.Org, []string{group}); err != nil {
		return c, fmt.Errorf("remove %s from %s: %w", who(a), group, err)
	}
	visit := func(*User) (bool, error) { return false, nil }
	if err := p.snap.readUsers(ctx, e.Org, []string{group}, []string{}, visit); err != nil {
		return c, fmt.Errorf("remove %s from %s: %w", who(a), group, err)
	}
	grp := p.snap.group(group)
	c.Group, c.GroupID = grp.Name, grp.ID
	if !p.snap.isMember(group, a.ID) {
		c.Done, c.Reason = true, "already not a member"
		return c, nil
	}
	if u := p.snap.users[a.ID]; u != nil {
		c.Account = u.Account()
	}
	p.changes = []Change{c}
	if err := vet(p, d); err != nil {
		return p.changes[0], err
	}
	run := &Run{Name: source, Changes: p.changes}
	if err := e.apply(ctx, e.Org, e.Provisioner, run); err != nil {
		return run.Changes[0], fmt.Errorf("remove %s from %s: %w", who(a), group, err)
	}
	return run.Changes[0], nil
}
