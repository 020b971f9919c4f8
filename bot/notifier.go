package bot

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// Notify tells people what happened (access.Notifier). It is best-effort: every failure is
// logged, none undoes the change, and it never panics.
func (b *Bot) Notify(ctx context.Context, n access.Notice) (err error) {
	defer func() {
		if r := recover(); r != nil {
			zerolog.Ctx(ctx).Error().Interface("panic", r).Str("notice", string(n.Kind)).Msg("notify panicked")
			err = fmt.Errorf("notify %s: panic: %v", n.Kind, r)
		}
	}()
	p := b.policy()
	audit, alerts := "", ""
	if p != nil {
		audit, alerts = p.Channels.Audit, p.AlertsChannel()
	}
	switch n.Kind {
	case access.NoticeRequested:
		b.notifyRequested(ctx, n)
	case access.NoticeApprovalAdded:
		b.updateCopies(ctx, n.Request, n.Role)
	case access.NoticeApproved, access.NoticeDenied, access.NoticeCancelled, access.NoticeExpired:
		if n.Request == nil {
			return nil
		}
		b.updateCopies(ctx, n.Request, n.Role)
		if n.Kind != access.NoticeCancelled {
			b.dm(ctx, n.Request.Requester.SlackID, outcomeMessage(n.Request))
		}
		b.post(ctx, audit, auditMessage(n))
	case access.NoticeGranted, access.NoticeExpiring, access.NoticeExtended:
		if n.Grant == nil {
			return nil
		}
		if ch, ts := b.dm(ctx, n.Grant.Holder.SlackID, grantMessage(n.Grant, n.Kind)); ts != "" {
			if err := b.svc.AddGrantMessages(ctx, n.Grant.ID, access.MessageRef{Channel: ch, TS: ts}); err != nil {
				zerolog.Ctx(ctx).Warn().Err(err).Str("grant", n.Grant.ID).Msg("remember grant message")
			}
		}
		if n.Kind != access.NoticeExpiring {
			b.post(ctx, audit, auditMessage(n))
		}
	case access.NoticeEnded:
		if n.Grant == nil {
			return nil
		}
		closed := grantClosedMessage(n.Grant)
		for _, ref := range n.Grant.Messages {
			b.update(ctx, ref, closed)
		}
		b.dm(ctx, n.Grant.Holder.SlackID, grantMessage(n.Grant, access.NoticeEnded))
		b.post(ctx, audit, auditMessage(n))
	case access.NoticeReview:
		b.notifyReview(ctx, n, audit)
	case access.NoticeReviewDecided:
		for _, it := range n.Items {
			b.refreshReview(ctx, it)
			b.post(ctx, audit, reviewAuditLine(it))
		}
	case access.NoticeAlert:
		b.post(ctx, alerts, alertMessage(n))
	case access.NoticeAudit:
		b.post(ctx, audit, auditMessage(n))
	}
	return nil
}

// notifyRequested sends a new request to every approver (with buttons while it is pending,
// for information otherwise) and to the role's channel, records every copy, and tells the
// requester it was sent.
func (b *Bot) notifyRequested(ctx context.Context, n access.Notice) {
	r := n.Request
	if r == nil {
		return
	}
	m := requestMessage(r, n.Role, true)
	if r.Status != access.RequestPending {
		m = infoMessage(r, n.Role)
	}
	remember := func(ch, ts string) {
		if ts == "" {
			return
		}
		ref := access.MessageRef{Channel: ch, TS: ts}
		if err := b.svc.AddMessages(ctx, r.ID, ref); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Str("request", r.ID).Msg("remember request message")
		}
	}
	for _, id := range n.Approvers {
		if id == r.Requester.SlackID {
			continue // the requester never decides their own request
		}
		remember(b.dm(ctx, id, m))
	}
	if n.Role != nil && n.Role.Channel != "" {
		remember(b.post(ctx, n.Role.Channel, m))
	}
	b.dm(ctx, r.Requester.SlackID, sentMessage(r, n.Approvers))
}

// updateCopies shows r's current state on every message that shows it.
func (b *Bot) updateCopies(ctx context.Context, r *access.Request, role *access.Role) {
	if r == nil {
		return
	}
	if role == nil {
		role = b.role(r.Role)
	}
	m := requestMessage(r, role, true)
	for _, ref := range r.Messages {
		b.update(ctx, ref, m)
	}
}

// dm sends m to a user's DM with the bot and returns where it landed.
func (b *Bot) dm(ctx context.Context, user string, m message) (channel, ts string) {
	if user == "" {
		return "", ""
	}
	ch, _, _, err := b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		b.noteFatal(err)
		zerolog.Ctx(ctx).Warn().Err(err).Str("user", user).Msg("slack: open DM")
		return "", ""
	}
	return b.post(ctx, ch.ID, m)
}

// post sends m to a channel and returns where it landed.
func (b *Bot) post(ctx context.Context, channel string, m message) (string, string) {
	if channel == "" {
		return "", ""
	}
	ch, ts, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...))
	if err != nil {
		b.noteFatal(err)
		zerolog.Ctx(ctx).Warn().Err(err).Str("channel", channel).Msg("slack: post message")
		return "", ""
	}
	return ch, ts
}

// update replaces a message's content in place.
func (b *Bot) update(ctx context.Context, ref access.MessageRef, m message) {
	if ref.Channel == "" || ref.TS == "" {
		return
	}
	_, _, _, err := b.api.UpdateMessageContext(ctx, ref.Channel, ref.TS, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...))
	if err != nil {
		b.noteFatal(err)
		zerolog.Ctx(ctx).Warn().Err(err).Str("channel", ref.Channel).Str("ts", ref.TS).Msg("slack: update message")
	}
}

// tell shows m to user only: an ephemeral message in channel, or a DM when that fails.
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
