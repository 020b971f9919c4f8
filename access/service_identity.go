package access

// Identity binding: which Atlassian account a Slack user is, stored and re-checked.

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
)

// Account returns the Atlassian account of a Slack user: the stored binding, or the account
// whose e-mail matches the user's Slack e-mail, which is then stored.
func (s *Service) Account(ctx context.Context, slackID string) (Account, error) {
	acct, bind, err := s.match(ctx, slackID)
	if err != nil || bind == nil {
		return acct, err
	}
	if err := s.Store.Update(ctx, func(tx Tx) error { return bind(tx) }); err != nil {
		return Account{}, fmt.Errorf("store identity of %s: %w", slackID, err)
	}
	return acct, nil
}

// match returns the Atlassian account of a Slack user without storing anything: the stored
// binding while it is fresh, or a new match. bind, when not nil, stores the match (and its
// audit event) in a transaction; nothing is written until the caller runs it.
func (s *Service) match(ctx context.Context, slackID string) (acct Account, bind func(Tx) error, err error) {
	var b *Binding
	err = s.Store.View(ctx, func(tx Tx) error {
		var err error
		b, err = tx.Binding(slackID)
		return err
	})
	now := s.now()
	if err == nil && now.Sub(b.At) < s.settings().bindingTTL {
		return b.Account, nil, nil
	}
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return Account{}, nil, fmt.Errorf("read identity of %s: %w", slackID, err)
	}
	if s.Identity == nil || s.Directory == nil {
		return Account{}, nil, Errorf(EUNAVAILABLE, "jitbot cannot look up who you are right now.")
	}
	email, err := s.Identity.Email(ctx, slackID)
	if err != nil && ErrorCode(err) == EUNAVAILABLE && b != nil {
		// Slack cannot say right now: the stored match stands until it can be checked again.
		zerolog.Ctx(ctx).Warn().Err(err).Str("slack_user", slackID).Msg("identity re-check failed; using the stored binding")
		return b.Account, nil, nil
	}
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return Account{}, nil, Errorf(ENOTFOUND, "Slack shows jitbot no e-mail address for you (it is hidden, or not set), so jitbot cannot match you to an Atlassian account. Ask a Slack admin to set it, and to let apps see it (users:read.email).")
		}
		return Account{}, nil, fmt.Errorf("slack e-mail of %s: %w", slackID, err)
	}
	u, err := s.Directory.UserByEmail(ctx, email)
	if err != nil && ErrorCode(err) == EUNAVAILABLE && b != nil && strings.EqualFold(b.Email, email) {
		zerolog.Ctx(ctx).Warn().Err(err).Str("slack_user", slackID).Msg("account re-check failed; using the stored binding")
		return b.Account, nil, nil
	}
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return Account{}, nil, Errorf(ENOTFOUND, "No Atlassian account has the e-mail %s (your Slack e-mail), so you cannot request access. Ask IT to invite that address to Atlassian.", email)
		}
		return Account{}, nil, fmt.Errorf("atlassian account of %s: %w", email, err)
	}
	acct = u.Account()
	if b != nil && b.Account.ID == acct.ID {
		b.At = now
		return acct, func(tx Tx) error { return tx.PutBinding(b) }, nil
	}
	nb := &Binding{SlackID: slackID, Email: email, Account: acct, At: now}
	return acct, func(tx Tx) error {
		if err := tx.PutBinding(nb); err != nil {
			return err
		}
		return tx.AppendAudit(&AuditEvent{Time: now, Action: ActionIdentityBound, Actor: UserActor(slackID), Member: email, Detail: "Slack " + slackID + " is Atlassian " + acct.ID})
	}, nil
}

// deciderAccount returns the Atlassian account of a Slack user deciding a request: the stored
// match, or one looked up now (and not stored, so a refused click changes nothing). It is
// empty when the user has no e-mail or no account; a lookup that fails is an error, so an
// unknown identity never slips past the self-approval check.
func (s *Service) deciderAccount(ctx context.Context, slackID string) (Account, error) {
	var b *Binding
	err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		b, err = tx.Binding(slackID)
		return err
	})
	switch {
	case err == nil:
		return b.Account, nil
	case ErrorCode(err) != ENOTFOUND:
		return Account{}, fmt.Errorf("read identity of %s: %w", slackID, err)
	case s.Identity == nil || s.Directory == nil:
		return Account{}, nil
	}
	email, err := s.Identity.Email(ctx, slackID)
	if ErrorCode(err) == ENOTFOUND {
		return Account{}, nil
	}
	if err != nil {
		return Account{}, fmt.Errorf("slack e-mail of %s: %w", slackID, err)
	}
	u, err := s.Directory.UserByEmail(ctx, email)
	if err != nil {
		// The e-mail alone identifies the account (that is how accounts are matched), so an
		// Atlassian outage does not hold decisions up.
		zerolog.Ctx(ctx).Debug().Err(err).Str("slack_user", slackID).Msg("decider's account not found; judging self-approval by e-mail")
		return Account{Email: email}, nil
	}
	return u.Account(), nil
}
