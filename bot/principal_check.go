package bot

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// PrincipalChecker confirms that the principals a policy names exist in the Slack workspace,
// for `jitbot policy check --online`. It needs only the bot token.
type PrincipalChecker struct{ api *slack.Client }

// NewPrincipalChecker returns a checker calling the Web API at apiURL with the bot token.
func NewPrincipalChecker(botToken, apiURL string) *PrincipalChecker {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	return &PrincipalChecker{api: slack.New(botToken, slack.OptionAPIURL(apiURL), slack.OptionRetry(2))}
}

// CheckPrincipal returns nil when p is a Slack user (U…, W…) who is not deactivated, a user
// group (S…), or the e-mail of a Slack user; ENOTFOUND saying which when it is not; EFORBIDDEN
// or EUNAVAILABLE when Slack could not be asked.
func (c *PrincipalChecker) CheckPrincipal(ctx context.Context, p string) error {
	p = strings.TrimSpace(p)
	switch access.ParsePrincipal(p) {
	case access.PrincipalEmail:
		if _, err := c.api.GetUserByEmailContext(ctx, p); err != nil {
			if access.ErrorCode(slackError("users.lookupByEmail", err)) == access.ENOTFOUND {
				return access.Errorf(access.ENOTFOUND, "no Slack user has the e-mail address %s", p)
			}
			return slackError("users.lookupByEmail", err)
		}
	case access.PrincipalGroup:
		if _, err := c.api.GetUserGroupMembersContext(ctx, p); err != nil {
			if access.ErrorCode(slackError("usergroups.users.list", err)) == access.ENOTFOUND {
				return access.Errorf(access.ENOTFOUND, "no Slack user group %s exists in this workspace", p)
			}
			return slackError("usergroups.users.list", err)
		}
	case access.PrincipalUser:
		u, err := c.api.GetUserInfoContext(ctx, p)
		if err != nil {
			if access.ErrorCode(slackError("users.info", err)) == access.ENOTFOUND {
				return access.Errorf(access.ENOTFOUND, "no Slack user %s exists in this workspace", p)
			}
			return slackError("users.info", err)
		}
		if u.Deleted {
			return access.Errorf(access.ENOTFOUND, "Slack user %s (%s) is deactivated", p, u.Name)
		}
	default:
		return access.Errorf(access.EINVALID, "%q is not a Slack user or user-group ID or an e-mail", p)
	}
	return nil
}
