package bot

import (
	"context"

	"github.com/jitbot/jitbot/access"
)

// Email returns the e-mail address of a Slack user's profile (access.Identity), read with
// users.info (scope users:read.email). It returns ENOTFOUND when the user has none, is
// deleted or is a bot.
func (b *Bot) Email(ctx context.Context, slackID string) (string, error) {
	u, err := b.api.GetUserInfoContext(ctx, slackID)
	if err != nil {
		b.noteFatal(err)
		if slackCode(err) == "user_not_found" {
			return "", access.Errorf(access.ENOTFOUND, "Slack user %s does not exist.", slackID)
		}
		return "", slackError("users.info", err)
	}
	if home, _ := b.team.Load().(string); home != "" && u.TeamID != "" && u.TeamID != home {
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
