package bot

import (
	"context"

	"github.com/jitbot/jitbot/access"
)

// Email returns the e-mail address of a Slack user's profile (access.Identity), read with
// users.info (scope users:read.email). It returns ENOTFOUND when the user has none, is
// deleted or is a bot, and EFORBIDDEN for a user of another workspace (Slack Connect, whose
// profile e-mail their own organization sets). It never answers before it knows which
// workspace is jitbot's (homeTeam).
func (b *Bot) Email(ctx context.Context, slackID string) (string, error) {
	u, err := b.api.GetUserInfoContext(ctx, slackID)
	if err != nil {
		b.noteFatal(err)
		if slackCode(err) == "user_not_found" {
			return "", access.Errorf(access.ENOTFOUND, "Slack user %s does not exist.", slackID)
		}
		return "", slackError("users.info", err)
	}
	home, err := b.homeTeam(ctx)
	if err != nil {
		return "", err
	}
	if u.TeamID != "" && u.TeamID != home {
		return "", access.Errorf(access.EFORBIDDEN, "%s", foreignText)
	}
	if u.Deleted || u.IsBot {
		return "", access.Errorf(access.ENOTFOUND, "Slack user %s is deactivated or a bot, and has no e-mail address.", slackID)
	}
	if u.Profile.Email == "" {
		return "", access.Errorf(access.ENOTFOUND, "Slack shows jitbot no e-mail address for user %s: it is hidden or not set.", slackID)
	}
	return u.Profile.Email, nil
}

// CachedEmail is Email through the principal cache (a few minutes; a user without an e-mail
// is remembered too), for choosing whom to show a request (access.Service.RequestApprovers
// asks it for every approver jitbot has not matched yet, on every request). Never for a
// decision: a click is judged on Email and the stored binding.
func (b *Bot) CachedEmail(ctx context.Context, slackID string) (string, error) {
	ids, err := b.principal.get("users.info "+slackID, -1, func() ([]string, error) {
		email, err := b.Email(ctx, slackID)
		if err != nil {
			return nil, err
		}
		return []string{email}, nil
	})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// homeTeam is the ID of the workspace jitbot is installed in, from auth.test: the one read at
// start, or, when that failed, read now (an error while Slack cannot say, so that nobody from
// another workspace is taken for a member meanwhile).
func (b *Bot) homeTeam(ctx context.Context) (string, error) {
	if home, _ := b.team.Load().(string); home != "" {
		return home, nil
	}
	at, err := b.api.AuthTestContext(ctx)
	if err != nil {
		b.noteFatal(err)
		return "", slackError("auth.test", err)
	}
	if at.TeamID == "" {
		return "", access.Errorf(access.EUNAVAILABLE, "Slack did not say which workspace jitbot is in; try again in a minute.")
	}
	b.team.Store(at.TeamID)
	return at.TeamID, nil
}
