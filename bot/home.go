package bot

import (
	"context"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// publishHome shows a user's App Home: their pending requests, their grants, approvals waiting
// for them and the Request access button.
func (b *Bot) publishHome(ctx context.Context, user string) {
	mine, grants, err := b.svc.Mine(ctx, user)
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("home: read requests and grants")
		return
	}
	awaiting, err := b.svc.Awaiting(ctx, user)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("home: read approvals")
	}
	roles, err := b.svc.Requestable(ctx, access.UserActor(user))
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("home: roles the user may request")
	}
	req := slack.PublishViewContextRequest{UserID: user, View: homeView(mine, grants, awaiting, b.policy(), roles)}
	if _, err := b.api.PublishViewContext(ctx, req); err != nil {
		b.noteFatal(err)
		zerolog.Ctx(ctx).Warn().Err(err).Msg("slack: publish home")
	}
}
