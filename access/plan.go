package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// plan is what a run intends to do, with what the applier needs to check it.
type plan struct {
	kind     RunKind
	name     string
	changes  []Change
	snap     *snapshot
	desired  *desired
	inGrace  int                  // users a sweep would act on but for its grace
	graceEnd time.Time            // when the first of them leaves it
	seen     map[string]time.Time // a sweep's first-seen times to keep, nil for other runs
	seenSet  bool                 // seen differs from what is stored
}

// desired answers whether some source wants a user in a group: a live grant, a sync rule whose
// match holds on the user, or a standing membership. It is the desired state of docs/design.md
// ("Desired state, one reconciler"), evaluated one member at a time.
type desired struct {
	policy *Policy
	now    time.Time
	grants map[string]map[string]string // account ID -> lower-cased group -> grant ID
	roles  map[string][]roleGrant       // account ID -> platform roles live grants give (guard_roles.go)
}

// loadDesired reads the live grants. A nil store means no grants (for Wanted).
func loadDesired(ctx context.Context, st Store, p *Policy, now time.Time) (*desired, error) {
	d := &desired{policy: p, now: now, grants: map[string]map[string]string{}, roles: map[string][]roleGrant{}}
	if st == nil {
		return d, nil
	}
	err := st.View(ctx, func(tx Tx) error {
		gs, err := tx.LiveGrants(GrantFilter{Status: []GrantStatus{GrantProvisioning, GrantActive, GrantFailed}})
		if err != nil {
			return err
		}
		for _, g := range gs {
			if !g.Live() {
				continue
			}
			for _, it := range g.Items {
				if it.Target.Kind == TargetRole {
					d.roles[g.Account.ID] = append(d.roles[g.Account.ID], roleGrant{id: g.ID, target: it.Target})
				}
				if it.Target.Kind != TargetGroup {
					continue
				}
				if d.grants[g.Account.ID] == nil {
					d.grants[g.Account.ID] = map[string]string{}
				}
				d.grants[g.Account.ID][strings.ToLower(it.Target.Group)] = g.ID
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read live grants: %w", err)
	}
	return d, nil
}

// input is what conditions see about u.
func (d *desired) input(u *User) Input {
	return Input{User: u, Now: d.now, Domains: d.policy.Organization.Domains}
}

// standing reports whether u is a standing member of group.
func (d *desired) standing(u *User, group string) bool {
	return d.policy.IsStanding(group, u.Account())
}

// standingAnywhere returns a group u is a standing member of, or "".
func (d *desired) standingAnywhere(u *User) string {
	for g := range d.policy.Guard.StandingMembers {
		if d.standing(u, g) {
			return g
		}
	}
	return ""
}

// want returns why some source wants u in group, or "" when none does. grants says whether
// live grants count. A condition that fails on u is an error naming the rule.
func (d *desired) want(u *User, group string, grants bool) (string, error) {
	if d.standing(u, group) {
		return "standing member of " + group, nil
	}
	if grants {
		if id, ok := d.grants[u.AccountID][strings.ToLower(group)]; ok {
			return "live grant " + id, nil
		}
	}
	for i := range d.policy.Sync {
		r := &d.policy.Sync[i]
		if !containsFold(r.AddTo, group) || r.Match == nil {
			continue
		}
		ok, err := r.Match.Eval(d.input(u))
		if err != nil {
			return "", condError("sync rule "+r.Name, u, err)
		}
		if ok {
			return "sync rule " + r.Name, nil
		}
	}
	return "", nil
}

// condError is the error of a condition that failed at run time on u: the run stops.
func condError(where string, u *User, err error) error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf("The match of %s failed on user %s: %v.", where, u.Account().Handle(), strings.TrimSuffix(errText(err), "."))}
}

// errText returns the message of a domain error, or the error's text for other errors
// (condition evaluation errors are about the policy, not secrets).
func errText(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// who names a user for people.
