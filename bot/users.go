package bot

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// userByName finds the Slack user whose handle, display name or real name is name (as typed
// after @, without it), reading the workspace's members with users.list. Results are cached
// with the principals. It returns ENOTFOUND, saying how to mention, when nobody or several
// people have that name.
func (b *Bot) userByName(ctx context.Context, name string) (string, error) {
	name = strings.TrimSpace(strings.TrimPrefix(name, "@"))
	ids, err := b.principal.get("name:"+strings.ToLower(name), -1, func() ([]string, error) {
		users, err := b.api.GetUsersContext(ctx, slack.GetUsersOptionLimit(200))
		if err != nil {
			b.noteFatal(err)
			return nil, slackError("users.list", err)
		}
		var ids []string
		for _, u := range users {
			if u.Deleted || u.IsBot {
				continue
			}
			for _, n := range []string{u.Name, u.Profile.DisplayName, u.RealName, u.Profile.RealName} {
				if n != "" && strings.EqualFold(n, name) {
					ids = append(ids, u.ID)
					break
				}
			}
		}
		return ids, nil
	})
	if err != nil {
		return "", err
	}
	switch len(ids) {
	case 1:
		return ids[0], nil
	case 0:
		return "", access.Errorf(access.ENOTFOUND, "Nobody in this Slack workspace is called @%s. Type @ and pick the person from the list, so Slack sends who you mean.", name)
	}
	return "", access.Errorf(access.ENOTFOUND, "%d people are called @%s. Type @ and pick the one you mean from the list, so Slack sends who you mean.", len(ids), name)
}
