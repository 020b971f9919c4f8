package bot

import (
	"context"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
)

// post sends m to a channel, or to a user's DM with the bot when channel is a user ID (Slack
// answers with the DM's channel ID), and returns where it landed.
func (b *Bot) post(ctx context.Context, channel string, m message) (string, string, error) {
	ch, ts, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...))
	if err != nil {
		b.noteFatal(err)
		return "", "", err
	}
	return ch, ts, nil
}

// update replaces a message's content in place.
func (b *Bot) update(ctx context.Context, channel, ts string, m message) error {
	_, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...))
	if err != nil {
		b.noteFatal(err)
	}
	return err
}

// tell shows m to user only: an ephemeral message in channel, or else a message in their DM
// through the outbox.
func (b *Bot) tell(ctx context.Context, channel, user string, m message) {
	if channel != "" {
		_, err := b.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...))
		if err == nil {
			return
		}
		b.noteFatal(err)
		zerolog.Ctx(ctx).Debug().Err(err).Str("channel", channel).Msg("slack: ephemeral failed; sending a DM")
	}
	b.dm(ctx, user, m)
}

// dm sends m to user's DM with the bot through the outbox.
func (b *Bot) dm(ctx context.Context, user string, m message) {
	if user == "" {
		return
	}
	if err := b.enqueue(ctx, staticDelivery(user, m)); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("user", user).Msg("slack: queue DM")
	}
}
