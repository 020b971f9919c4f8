package access

import (
	"context"
	"fmt"
	"strings"
)

// DefaultMaxChanges is the guard's max_changes when the policy does not set it.
const DefaultMaxChanges = 50

// vet applies the guards every plan goes through, whatever produced it: it marks as skipped
// the removals another source still wants (a sync rule, a live grant, a standing membership),
// suspensions of standing members and removals that would go below min_members. It returns an
// error, and the run stops before any change, when a change would touch a group jitbot may not
// write, would empty a protected group, or when the plan still has more than max_changes
// changes.
func vet(p *plan, d *desired) error {
	var groups []string            // lower-cased, in order of first removal
	removals := map[string][]int{} // lower-cased group -> indexes of removals
	for i := range p.changes {
		c := &p.changes[i]
		u := p.snap.users[c.Account.ID]
		if u == nil {
			u = &User{AccountID: c.Account.ID, Email: c.Account.Email, Name: c.Account.Name}
		}
		if c.Role != "" { // a platform role held with nothing behind it (guard_roles.go)
			if c.Op == OpRemove {
				k := strings.ToLower(RoleKey(c.Role))
				if _, ok := removals[k]; !ok {
					groups = append(groups, k)
				}
				removals[k] = append(removals[k], i)
			}
			continue
		}
		switch c.Op {
		case OpAdd, OpRemove:
			if g := p.snap.group(c.Group); !g.Writable() {
				return Errorf(EINVALID, "Group %s is managed by the identity provider or cannot be modified, so jitbot cannot change its members.", c.Group)
			}
		}
		switch c.Op {
		case OpRemove:
			why, err := d.want(u, c.Group, true)
			if err != nil {
				return err
			}
			if why != "" {
				c.Skipped = "still wanted: " + why
				continue
			}
			k := strings.ToLower(c.Group)
			if _, ok := removals[k]; !ok {
				groups = append(groups, k)
			}
			removals[k] = append(removals[k], i)
		case OpSuspend:
			if g := d.standingAnywhere(u); g != "" {
				c.Skipped = "standing member of " + g
			}
		}
	}
	for _, k := range groups {
		idx := removals[k]
		name := p.changes[idx[0]].Group
		if r := p.changes[idx[0]].Role; r != "" {
			name = RoleKey(r)
		}
		have, floor := p.snap.count(k), minMembers(d.policy, k)
		allowed := max(have-floor, 0)
		for n, i := range idx {
			if n >= allowed {
				p.changes[i].Skipped = fmt.Sprintf("would leave %s below min_members (%d)", name, floor)
			}
		}
		if p.changes[idx[0]].Role == "org-admin" && have-min(len(idx), allowed) == 0 {
			return Errorf(EINVALID, "The plan would take platform role %s from every holder (%d), locking everyone out of the organization's administration; add the ones to keep to guard.standing_members under %s.", p.changes[idx[0]].Role, have, name)
		}
		if d.policy.IsProtected(name) && have > 0 && have-min(len(idx), allowed) == 0 {
			return Errorf(EINVALID, "The plan would empty protected group %s (%d members); set guard.min_members for it, or remove them by hand.", name, have)
		}
	}
	limit := d.policy.Guard.MaxChanges
	if limit <= 0 {
		limit = DefaultMaxChanges
	}
	if n := writes(p.changes); n > limit {
		return Errorf(EINVALID, "The plan has %d changes, more than guard.max_changes (%d), so nothing was changed. Check the rule with a dry run, then raise max_changes or fix the rule.", n, limit)
	}
	return nil
}

// writes counts the changes that would write to Atlassian.
func writes(cs []Change) int {
	n := 0
	for _, c := range cs {
		if c.Skipped == "" && c.Op != OpReport {
			n++
		}
	}
	return n
}

// minMembers returns the guard's min_members for group, 0 when not set.
func minMembers(p *Policy, group string) int {
	for g, n := range p.Guard.MinMembers {
		if strings.EqualFold(g, group) {
			return n
		}
	}
	return 0
}

// apply makes the vetted changes of run one by one, appending an ActionChange audit event as
// each is done. It stops at the first failure; the next run recomputes its plan from what
// Atlassian then holds, so it resumes where this one stopped.
func (e *Engine) apply(ctx context.Context, org Org, prov Provisioner, run *Run) error {
	for i := range run.Changes {
		c := &run.Changes[i]
		if c.Skipped != "" {
			continue
		}
		var err error
		switch c.Op {
		case OpAdd:
			err = prov.Add(ctx, c.Account, GroupTarget(c.Group))
		case OpRemove:
			t := GroupTarget(c.Group)
			if c.Role != "" {
				t = c.roleTarget()
			}
			err = prov.Remove(ctx, c.Account, t)
		case OpSuspend:
			err = org.Suspend(ctx, c.Account.ID)
		case OpRestore:
			err = org.Restore(ctx, c.Account.ID)
		case OpReport:
		default:
			err = Errorf(EINTERNAL, "Unknown change %q.", c.Op)
		}
		if err != nil {
			c.Error = errText(err)
			return fmt.Errorf("%s %s: %w", c.Op, c.Account.Handle(), err)
		}
		c.Done = true
		if c.Op == OpReport {
			continue
		}
		ev := AuditEvent{Time: e.now(), Action: ActionChange, Actor: PolicyActor, Subject: run.Name,
			Member: c.Account.Handle(), Detail: c.Describe()}
		if err := e.Store.Update(ctx, func(tx Tx) error { return tx.AppendAudit(&ev) }); err != nil {
			return fmt.Errorf("audit %s %s: %w", c.Op, c.Account.Handle(), err)
		}
	}
	return nil
}
