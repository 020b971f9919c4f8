package access

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Asker is a person about to ask for a role: their Slack identity and Atlassian user.
type Asker struct {
	Actor   Actor
	Account Account // the match of Actor
	User    *User
	binding func(Tx) error // stores a new match with the request; nil when already stored
}

// bind stores a's identity match inside tx, when it is new.
func (a Asker) bind(tx Tx) error {
	if a.binding == nil {
		return nil
	}
	return a.binding(tx)
}

// asker returns the Slack user's Atlassian user, with the attributes conditions see. Nothing
// is stored: a refused request leaves no trace.
func (s *Service) asker(ctx context.Context, by Actor) (Asker, error) {
	acct, bind, err := s.match(ctx, by.SlackID)
	if err != nil {
		return Asker{}, err
	}
	if s.Directory == nil {
		return Asker{}, Errorf(EUNAVAILABLE, "jitbot cannot look up who you are right now.")
	}
	u, err := s.Directory.User(ctx, acct.ID)
	if err != nil {
		return Asker{}, fmt.Errorf("read requester %s: %w", acct.ID, err)
	}
	return Asker{Actor: by, Account: acct, User: u, binding: bind}, nil
}

// mayRequest returns nil when a may ask for role with the request described by info, and an
// EFORBIDDEN error naming who may otherwise. External users may ask only for roles that list
// them by Slack ID or e-mail (directly or through a team). atOnce says the request would be
// granted without a click (auto_approve or break-glass): its requesters are then resolved as
// they are now, past any cache, as an approver's click is judged.
func (s *Service) mayRequest(ctx context.Context, p *Policy, role *Role, a Asker, info *RequestInfo, now time.Time, atOnce bool) error {
	named := listed(role.Requesters, a.Actor.SlackID, a.User.Email)
	switch {
	case a.User.External(p.Organization.Domains) && !named:
		return s.refuse(role, "you are outside the organization (%s), and only people a role lists by name may ask from outside", externalWhy(a.User, p))
	case len(role.Requesters) > 0 && !named:
		var ids []string
		var err error
		switch {
		case s.Principals == nil:
		case role.BreakGlass || atOnce: // granted at once: judged on who is a requester now
			ids, err = s.resolveCurrent(ctx, role.Requesters)
		default:
			ids, err = s.Principals.Resolve(ctx, role.Requesters)
		}
		if err != nil {
			return fmt.Errorf("resolve requesters of %s: %w", role.Name, err)
		}
		if !contains(ids, a.Actor.SlackID) {
			return s.refuse(role, "you are not one of its requesters")
		}
	}
	if role.RequestIf == nil {
		return nil
	}
	ok, err := role.RequestIf.Eval(Input{Requester: a.User, Request: info, Now: now, Domains: p.Organization.Domains})
	if err != nil {
		return s.refuse(role, "its request_if condition could not be checked (%v)", err)
	}
	if !ok {
		return s.refuse(role, "its condition `%s` does not hold for this request", role.RequestIf.String())
	}
	return nil
}

func externalWhy(u *User, p *Policy) string {
	if !u.Managed {
		return "your Atlassian account is not managed by the organization"
	}
	return fmt.Sprintf("your e-mail domain %s is not one of %s", u.EmailDomain(), strings.Join(p.Organization.Domains, ", "))
}

// refuse is the EFORBIDDEN answer to someone who may not ask for role: why, and who may.
func (s *Service) refuse(role *Role, format string, args ...any) error {
	return Errorf(EFORBIDDEN, "You may not request role %s: %s. %s", role.Name, fmt.Sprintf(format, args...), WhoMayAsk(role))
}

// WhoMayAsk is a sentence naming who may ask for role.
func WhoMayAsk(role *Role) string {
	who := "Every internal user (a managed account with a corporate e-mail) may ask for it"
	if len(role.RequesterNames) > 0 {
		who = "Only " + strings.Join(role.RequesterNames, ", ") + " may ask for it"
	}
	if role.RequestIf != nil {
		who += ", when `" + role.RequestIf.String() + "` holds"
	}
	return who + "."
}

// listed reports whether the Slack ID or e-mail is written among principals.
func listed(principals []string, slackID, email string) bool {
	for _, p := range principals {
		if p == slackID || (email != "" && strings.EqualFold(p, email)) {
			return true
		}
	}
	return false
}

// Requestable returns the roles of the policy the Slack user may request now (judged with each
// role's default duration and no reason), in policy order.
func (s *Service) Requestable(ctx context.Context, by Actor) ([]*Role, error) {
	p, err := s.policy()
	if err != nil {
		return nil, err
	}
	a, err := s.asker(ctx, by)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []*Role
	for i := range p.Roles {
		role := &p.Roles[i]
		info := &RequestInfo{Role: role.Name, Kind: InputKindRequest, Duration: role.DefaultDuration, Total: role.DefaultDuration}
		err := s.mayRequest(ctx, p, role, a, info, now, false)
		switch ErrorCode(err) {
		case "":
			out = append(out, role)
		case EFORBIDDEN:
		default:
			return nil, err
		}
	}
	return out, nil
}

// endOfTime is later than any request's pending timeout.
var endOfTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// checkLimits refuses a new request r of role when its requester already has
// limits.pending_per_user undecided requests, from any of their Slack identities (unless r is
// decided at once), or, for a break-glass role, holds a live break-glass grant or had
// limits.break_glass_per_day of them in the last 24 h. It reads inside tx, so two requests at
// once cannot both slip under a limit. It costs O(pending requests + the account's grants).
func checkLimits(tx Tx, p *Policy, role *Role, r *Request, decidedNow bool, now time.Time) error {
	if !decidedNow {
		// Every pending request is in the due index, so this reads the pending ones only.
		pending, err := tx.DueRequests(endOfTime, 0)
		if err != nil {
			return err
		}
		mine := 0
		for _, o := range pending {
			if o.Requester.Is(r.Requester) || (r.Account.ID != "" && o.Account.ID == r.Account.ID) {
				mine++
			}
		}
		if n := p.Limits.Pending(); mine >= n {
			return Errorf(EFORBIDDEN, "You already have %d undecided requests, the most one person may have at once (limits.pending_per_user: %d). Cancel one or wait for a decision, then ask again.", mine, n).WithUsage("list")
		}
	}
	if !role.BreakGlass {
		return nil
	}
	gs, err := tx.Grants(GrantFilter{AccountID: r.Account.ID})
	if err != nil {
		return err
	}
	recent := 0
	for _, g := range gs {
		if !g.BreakGlass {
			continue
		}
		if g.Live() || g.Ending() {
			return Errorf(EFORBIDDEN, "You already hold break-glass grant %s (%s), and the limit is one live break-glass grant at a time. End it before asking for another.", g.ID, g.Role).WithUsage("revoke %s", g.ID)
		}
		if now.Sub(g.CreatedAt) < 24*time.Hour {
			recent++
		}
	}
	if n := p.Limits.BreakGlass(); recent >= n {
		return Errorf(EFORBIDDEN, "You have had %d break-glass grants in the last 24 hours, the most allowed (limits.break_glass_per_day: %d). Ask for a normal request instead.", recent, n)
	}
	return nil
}
