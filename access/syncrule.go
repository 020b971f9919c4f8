package access

import (
	"context"
	"slices"
)

// planSync plans sync rule r: add the users its match holds on to every add_to group, and with
// remove_unmatched take out members it no longer matches (the applier keeps those another
// source still wants). It reads the add_to groups in full, and of the rest of the org only the
// members of the groups the match requires, or everyone when the match cannot be narrowed.
func planSync(ctx context.Context, org Org, d *desired, r *SyncRule) (*plan, error) {
	if r.Match == nil {
		return nil, Errorf(EINVALID, "Sync rule %s has no match.", r.Name)
	}
	for _, g := range r.AddTo {
		if d.policy.IsProtected(g) && !r.AllowProtected {
			return nil, Errorf(EINVALID, "Sync rule %s adds to protected group %s without allow_protected: true, so it does not run.", r.Name, g)
		}
	}
	s := newSnapshot()
	if err := s.readGroups(ctx, org, append(slices.Clone(r.AddTo), referencedGroups(r.Match)...)); err != nil {
		return nil, err
	}
	matched := map[string]bool{}
	err := s.readUsers(ctx, org, r.AddTo, requiredGroups(r.Match), func(u *User) (bool, error) {
		ok, err := r.Match.Eval(d.input(u))
		if err != nil {
			return false, condError("sync rule "+r.Name, u, err)
		}
		if ok {
			matched[u.AccountID] = true
		}
		return ok, nil
	})
	if err != nil {
		return nil, err
	}
	p := &plan{kind: RunSync, name: r.Name, snap: s}
	ids := sortedIDs(s.users)
	for _, name := range r.AddTo {
		g := s.group(name)
		for _, id := range ids {
			u, member := s.users[id], s.isMember(name, id)
			switch {
			case matched[id] && !member:
				p.changes = append(p.changes, Change{Op: OpAdd, Account: u.Account(), Group: g.Name, GroupID: g.ID,
					Reason: "matches sync rule " + r.Name})
			case !matched[id] && member && r.RemoveUnmatched:
				p.changes = append(p.changes, Change{Op: OpRemove, Account: u.Account(), Group: g.Name, GroupID: g.ID,
					Reason: "no longer matches sync rule " + r.Name + " (remove_unmatched)"})
			}
		}
	}
	return p, nil
}

func sortedIDs(users map[string]*User) []string {
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
