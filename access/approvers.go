package access

// Who is asked to decide a request: the role's approvers, never the requester in any of their
// Slack identities.

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/rs/zerolog"
)

// emailLookups is how many Slack e-mail lookups RequestApprovers makes at once.
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
	var others, unbound []string
	if err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		others, unbound, err = notRequester(tx, r, ids)
		return err
	}); err != nil {
		return nil, fmt.Errorf("approvers of request %s: %w", r.ID, err)
	}
	if len(unbound) == 0 || s.Identity == nil || r.Account.Email == "" {
		return others, nil
	}
	same := s.sameEmail(ctx, r.Account.Email, unbound)
	out := others[:0:0]
	for _, id := range others {
		if !same[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// notRequester returns ids without r's requester: their Slack ID, and every user whose stored
// binding is r's account. unbound are the others that have no stored binding.
func notRequester(tx Tx, r *Request, ids []string) (others, unbound []string, err error) {
	for _, id := range ids {
		if id == r.Requester.SlackID {
			continue
		}
		b, err := tx.Binding(id)
		switch {
		case err == nil:
			if b.Account.Same(r.Account) {
				continue
			}
		case ErrorCode(err) == ENOTFOUND:
			unbound = append(unbound, id)
		default:
			return nil, nil, fmt.Errorf("read identity of %s: %w", id, err)
		}
		others = append(others, id)
	}
	return others, unbound, nil
}

// cachedIdentity is an Identity that can also answer from a cache, good enough for whom a
// request is shown to (never for a decision).
type cachedIdentity interface {
	CachedEmail(ctx context.Context, slackID string) (string, error)
}

// sameEmail looks up the Slack e-mail of every user in ids (through the Identity's cache when
// it has one: every request asks again) and returns those whose e-mail is email.
func (s *Service) sameEmail(ctx context.Context, email string, ids []string) map[string]bool {
	lookup := s.Identity.Email
	if c, ok := s.Identity.(cachedIdentity); ok {
		lookup = c.CachedEmail
	}
	var (
		mu   sync.Mutex
		same = map[string]bool{}
		wg   sync.WaitGroup
		sem  = make(chan struct{}, emailLookups)
	)
	for _, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			got, err := lookup(ctx, id)
			if err != nil {
				zerolog.Ctx(ctx).Debug().Err(err).Str("slack_user", id).Msg("approver's e-mail not read; they are asked")
				return
			}
			if strings.EqualFold(got, email) {
				mu.Lock()
				same[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return same
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
