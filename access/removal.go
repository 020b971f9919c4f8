package access

import (
	"context"
	"fmt"
	"strings"
)

// Removal is one membership to remove: account a from group.
type Removal struct {
	Group   string
	Account Account
	Reason  string
}

// RemoveMember removes account a from group as a plan of one change that goes through the
// same guards and applier as every run: it is skipped, with the reason in Change.Skipped and a
// nil error, when another source still wants the membership (a live grant, a sync rule, a
// standing membership) or when it would leave the group below min_members. A change the guard
// stops outright (a group jitbot may not write, emptying a protected group) returns an
// EINVALID error and changes nothing. source names who asks (for example "review
// quarterly-admins") and is the subject of the change's audit event. A member who is already
// gone is reported done without a call.
func (e *Engine) RemoveMember(ctx context.Context, source, group string, a Account, reason string) (Change, error) {
	cs, err := e.RemoveMembers(ctx, source, []Removal{{Group: group, Account: a, Reason: reason}})
	return cs[0], err
}

// RemoveMembers removes several memberships as one run: one plan through the guards, so
// max_changes and min_members bound them together. When the guard stops the plan (more changes
// than max_changes, emptying a protected group, a group jitbot may not write) it returns an
// EINVALID error and nothing is removed. The changes come back in the order of rs; members
// already gone are done without a call.
func (e *Engine) RemoveMembers(ctx context.Context, source string, rs []Removal) ([]Change, error) {
	out := make([]Change, len(rs))
	var groups []string
	for i, r := range rs {
		out[i] = Change{Op: OpRemove, Account: r.Account, Group: r.Group, Reason: r.Reason}
		groups = appendFold(groups, r.Group)
	}
	pol := e.policy()
	if pol == nil {
		return out, Errorf(EINVALID, "No policy is loaded.")
	}
	fail := func(err error) ([]Change, error) {
		if len(rs) == 1 {
			return out, fmt.Errorf("remove %s from %s: %w", rs[0].Account.Handle(), rs[0].Group, err)
		}
		return out, fmt.Errorf("%s: remove %d memberships: %w", source, len(rs), err)
	}
	d, err := loadDesired(ctx, e.Store, pol, e.now())
	if err != nil {
		return fail(err)
	}
	p := &plan{kind: RunGuard, name: source, snap: newSnapshot(), desired: d}
	if err := p.snap.readGroups(ctx, e.Org, groups); err != nil {
		return fail(err)
	}
	visit := func(*User) (bool, error) { return false, nil }
	if err := p.snap.readUsers(ctx, e.Org, groups, []string{}, visit); err != nil {
		return fail(err)
	}
	var planned []int // indexes into out of the changes in the plan
	for i := range out {
		c := &out[i]
		grp := p.snap.group(c.Group)
		c.Group, c.GroupID = grp.Name, grp.ID
		if !p.snap.isMember(c.Group, c.Account.ID) {
			c.Done, c.Absent, c.Reason = true, true, "already not a member"
			continue
		}
		if u := p.snap.users[c.Account.ID]; u != nil {
			c.Account = u.Account()
		}
		planned = append(planned, i)
		p.changes = append(p.changes, *c)
	}
	if len(planned) == 0 {
		return out, nil
	}
	err = vet(p, d)
	for n, i := range planned {
		out[i] = p.changes[n]
	}
	if err != nil {
		return out, err
	}
	run := &Run{Name: source, Changes: p.changes}
	err = e.apply(ctx, e.Org, e.Provisioner, run)
	for n, i := range planned {
		out[i] = run.Changes[n]
	}
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// appendFold appends s to list unless list holds it in another case.
func appendFold(list []string, s string) []string {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return list
		}
	}
	return append(list, s)
}
