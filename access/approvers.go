package access

// Who is asked to decide: a request's approvers never include the requester in any of their
// Slack identities, and a review's reviewers are never asked about their own membership.

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/rs/zerolog"
)

// emailLookups is how many Slack e-mail lookups identify makes at once.
const emailLookups = 8

// RequestApprovers resolves the Slack users asked to decide r, a request for role: the role's
// approvers but the requester, in every Slack identity known to be the requester's Atlassian
// account: one whose stored binding is that account, or, for an approver jitbot has not
// matched yet, one whose Slack e-mail is the account's. It keeps Approve buttons from people
// who may not press them; the click is judged again when it comes (Request.ApproveAs). An
// approver whose e-mail cannot be read now is kept (their click is still refused).
func (s *Service) RequestApprovers(ctx context.Context, role *Role, r *Request) ([]string, error) {
	ids, err := s.Approvers(ctx, role)
	if err != nil {
		return nil, err
	}
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == r.Requester.SlackID })
	who, err := s.identify(ctx, ids, r.Account.Email != "")
	if err != nil {
		return nil, fmt.Errorf("approvers of request %s: %w", r.ID, err)
	}
	return who.without(ids, r.Account), nil
}

// notRequester returns ids without r's requester: their Slack ID, and every user whose stored
// binding, read in tx, is r's account.
func notRequester(tx Tx, r *Request, ids []string) ([]string, error) {
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == r.Requester.SlackID })
	var who identities
	var err error
	if who.bound, _, err = readBindings(tx, ids); err != nil {
		return nil, err
	}
	return who.without(ids, r.Account), nil
}

// identities is who some Slack users are known to be in Atlassian: the account of each one's
// stored binding and, for those without one, their Slack e-mail when it could be read.
type identities struct {
	bound  map[string]Account // Slack user ID → the account of its stored binding
	emails map[string]string  // Slack user ID without a binding → its Slack e-mail
}

// identify reads who the Slack users ids are: their stored bindings and, when emails is true,
// the Slack e-mail of each one without a binding (one that cannot be read is left unknown).
func (s *Service) identify(ctx context.Context, ids []string, emails bool) (identities, error) {
	var who identities
	var unbound []string
	if err := s.Store.View(ctx, func(tx Tx) (err error) {
		who.bound, unbound, err = readBindings(tx, ids)
		return err
	}); err != nil {
		return identities{}, err
	}
	if emails && len(unbound) > 0 && s.Identity != nil {
		who.emails = s.slackEmails(ctx, unbound)
	}
	return who, nil
}

// readBindings returns the account of the stored binding of every user in ids that has one,
// and the users that have none.
func readBindings(tx Tx, ids []string) (bound map[string]Account, unbound []string, err error) {
	bound = map[string]Account{}
	for _, id := range ids {
		b, err := tx.Binding(id)
		switch {
		case err == nil:
			bound[id] = b.Account
		case ErrorCode(err) == ENOTFOUND:
			unbound = append(unbound, id)
		default:
			return nil, nil, fmt.Errorf("read identity of %s: %w", id, err)
		}
	}
	return bound, unbound, nil
}

// is reports whether Slack user id is known to be account a: by its stored binding, else by
// its Slack e-mail being a's.
func (who identities) is(id string, a Account) bool {
	if b, ok := who.bound[id]; ok {
		return b.Same(a)
	}
	e := who.emails[id]
	return e != "" && a.Email != "" && Mailbox(e) == Mailbox(a.Email)
}

// without returns ids without every user known to be account a.
func (who identities) without(ids []string, a Account) []string {
	out := ids[:0:0]
	for _, id := range ids {
		if !who.is(id, a) {
			out = append(out, id)
		}
	}
	return out
}

// cachedIdentity is an Identity that can also answer from a cache, good enough for whom a
// request or a review item is shown to (never for a decision).
type cachedIdentity interface {
	CachedEmail(ctx context.Context, slackID string) (string, error)
}

// slackEmails looks up the Slack e-mail of every user in ids, emailLookups at once, through
// the Identity's cache when it has one (every request asks again); a user whose e-mail cannot
// be read is left out.
func (s *Service) slackEmails(ctx context.Context, ids []string) map[string]string {
	lookup := s.Identity.Email
	if c, ok := s.Identity.(cachedIdentity); ok {
		lookup = c.CachedEmail
	}
	var (
		mu     sync.Mutex
		emails = map[string]string{}
		wg     sync.WaitGroup
		sem    = make(chan struct{}, emailLookups)
	)
	for _, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			got, err := lookup(ctx, id)
			if err != nil {
				zerolog.Ctx(ctx).Debug().Err(err).Str("slack_user", id).Msg("e-mail not read; the user is asked, and their click judged")
				return
			}
			mu.Lock()
			emails[id] = got
			mu.Unlock()
		})
	}
	wg.Wait()
	return emails
}

// approversNeeded is how many distinct approvers role needs.
func approversNeeded(role *Role) int {
	return max(role.Approvals, 1)
}

// tooFewApprovers is the alert for request r of role that cannot be approved: fewer people
// than it needs may approve it, the requester aside.
func tooFewApprovers(r *Request, role *Role, approvers []string) Notice {
	need := approversNeeded(role)
	return alertNotice(fmt.Sprintf("Request %s for %s by %s cannot be approved: it needs %d approver(s) other than the requester and the role has %d in Slack (the others are the requester's own Slack identities, or not found). Add approvers to role %s in the policy; the request waits until %s.",
		r.ID, role.Name, r.Requester.SlackID, need, len(approvers), role.Name, r.PendingUntil.UTC().Format("2006-01-02 15:04 UTC")))
}
