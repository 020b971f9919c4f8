package access

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// planSweep plans sweep sw. seen holds when each account first matched; the plan carries the
// updated times (users who stopped matching are forgotten). Only users matched for at least
// the sweep's grace are acted on; excluded users are never matched, so never acted on.
//
// A sweep reads the whole org unless its match requires membership of some group: an
// external user may be a managed account on a non-corporate domain, so the "unmanaged only"
// query would miss some, and correctness comes first.
func planSweep(ctx context.Context, org Org, d *desired, sw *Sweep, seen map[string]time.Time) (*plan, error) {
	if sw.Match == nil {
		return nil, Errorf(EINVALID, "Sweep %s has no match.", sw.Name)
	}
	var full []string
	if sw.Action == SweepRemoveFromGroups {
		full = sw.Groups
	}
	s := newSnapshot()
	if err := s.readGroups(ctx, org, append(slices.Clone(full), referencedGroups(sw.Match)...)); err != nil {
		return nil, err
	}
	matched := map[string]bool{}
	err := s.readUsers(ctx, org, full, requiredGroups(sw.Match), func(u *User) (bool, error) {
		if excluded(sw.Exclude, u) {
			return false, nil
		}
		ok, err := sw.Match.Eval(d.input(u))
		if err != nil {
			return false, condError("sweep "+sw.Name, u, err)
		}
		if ok {
			matched[u.AccountID] = true
		}
		return ok, nil
	})
	if err != nil {
		return nil, err
	}
	p := &plan{kind: RunSweep, name: sw.Name, snap: s, seen: map[string]time.Time{}}
	for _, id := range sortedIDs(s.users) {
		if !matched[id] {
			continue
		}
		u := s.users[id]
		first, ok := seen[id]
		if !ok || first.After(d.now) {
			first = d.now
		}
		p.seen[id] = first
		why := fmt.Sprintf("matches sweep %s since %s", sw.Name, first.UTC().Format(time.RFC3339))
		var cs []Change
		switch sw.Action {
		case SweepReport:
			cs = append(cs, Change{Op: OpReport, Account: u.Account(), Reason: why})
		case SweepSuspend:
			if u.Status == "active" {
				cs = append(cs, Change{Op: OpSuspend, Account: u.Account(), Reason: why})
			}
		case SweepRemoveFromGroups:
			for _, name := range sw.Groups {
				if s.isMember(name, id) {
					g := s.group(name)
					cs = append(cs, Change{Op: OpRemove, Account: u.Account(), Group: g.Name, GroupID: g.ID, Reason: why})
				}
			}
		default:
			return nil, Errorf(EINVALID, "Sweep %s has an unknown action %q.", sw.Name, sw.Action)
		}
		if len(cs) > 0 && d.now.Sub(first) < sw.Grace {
			// Matched, but not for long enough: counted, so a plan says who waits.
			if end := first.Add(sw.Grace); p.inGrace == 0 || end.Before(p.graceEnd) {
				p.graceEnd = end
			}
			p.inGrace++
			continue
		}
		p.changes = append(p.changes, cs...)
	}
	p.seenSet = !maps.EqualFunc(seen, p.seen, time.Time.Equal)
	return p, nil
}

// excluded reports whether u is listed by e-mail or account ID.
func excluded(list []string, u *User) bool {
	for _, x := range list {
		if x == u.AccountID || (u.Email != "" && strings.EqualFold(x, u.Email)) {
			return true
		}
	}
	return false
}
