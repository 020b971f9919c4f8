package bot

import (
	"context"
	"fmt"
	"slices"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// onAction handles a button click. Who may act is decided by the Service from the stored state;
// the button's value is only an ID.
func (b *Bot) onAction(ctx context.Context, cb slack.InteractionCallback) {
	for _, a := range cb.ActionCallback.BlockActions {
		if a == nil {
			continue
		}
		ctx := zerolog.Ctx(ctx).With().Str("action", a.ActionID).Str("id", a.Value).Logger().WithContext(ctx)
		switch a.ActionID {
		case actionApprove:
			b.approve(ctx, cb, a.Value)
		case actionDeny:
			b.openDeny(ctx, cb, a.Value)
		case actionRevoke:
			b.revokeClick(ctx, cb, a.Value)
		case actionExtend:
			b.openExtend(ctx, cb, a.Value)
		case actionOpenRequest:
			b.openRequestModal(ctx, cb.TriggerID, cb.User.ID, "", nil)
		case actionReviewKeep, actionReviewDrop:
			b.reviewClick(ctx, cb, a.Value, a.ActionID == actionReviewKeep)
		default:
			zerolog.Ctx(ctx).Debug().Msg("unknown action ignored")
		}
	}
	if cb.View.Type == slack.VTHomeTab {
		b.publishHome(ctx, cb.User.ID)
	}
}

// approve records the clicker's approval.
func (b *Bot) approve(ctx context.Context, cb slack.InteractionCallback, id string) {
	r, err := b.svc.Approve(ctx, access.UserActor(cb.User.ID), id)
	if err != nil {
		b.answer(ctx, cb, b.failure(ctx, id, err))
		return
	}
	b.refreshClicked(ctx, cb, r)
	if r.Status == access.RequestPending {
		b.answer(ctx, cb, textMessage(fmt.Sprintf("Your approval of `%s` is recorded; it still needs another approver.", r.ID)))
	}
}

// failure is what a person is told when deciding (or cancelling) request id failed with err.
// A conflict on a decided request says who decided it and when; the domain answers a conflict
// only to people who may decide the request (or its requester), so nobody else learns it.
func (b *Bot) failure(ctx context.Context, id string, err error) message {
	if access.ErrorCode(err) == access.ECONFLICT {
		if r, rerr := b.svc.Request(ctx, id); rerr == nil && r.Status != access.RequestPending && r.Decision != nil {
			return textMessage(fmt.Sprintf(":warning: Request `%s` is already %s by %s at %s; nothing changed.", r.ID, r.Status, decider(r), when(r.Decision.At)))
		}
	}
	return b.errorAnswer(ctx, err)
}

// refreshClicked updates the clicked message when the notifier does not know it.
func (b *Bot) refreshClicked(ctx context.Context, cb slack.InteractionCallback, r *access.Request) {
	ref, ok := clicked(cb)
	if !ok || slices.Contains(r.Messages, ref) {
		return
	}
	d := delivery{Op: opUpdate, Channel: ref.Channel, TS: ref.TS, Request: r.ID, Decide: true}
	if err := b.enqueue(ctx, d); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("refresh clicked message")
	}
}

// clicked is the message a button was clicked on, unless it was an ephemeral or a view.
func clicked(cb slack.InteractionCallback) (access.MessageRef, bool) {
	if cb.Container.Type != "message" || cb.Container.IsEphemeral {
		return access.MessageRef{}, false
	}
	ch := cb.Container.ChannelID
	if ch == "" {
		ch = cb.Channel.ID
	}
	ts := cb.Container.MessageTs
	if ts == "" {
		ts = cb.Message.Timestamp
	}
	return access.MessageRef{Channel: ch, TS: ts}, ch != "" && ts != ""
}

// answer shows m to the clicker only: through the click's response URL, which reaches the
// clicker in any channel they can see, else as an ephemeral message or a DM.
func (b *Bot) answer(ctx context.Context, cb slack.InteractionCallback, m message) {
	if cb.ResponseURL != "" {
		_, _, err := b.api.PostMessageContext(ctx, "", slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...),
			slack.MsgOptionResponseURL(cb.ResponseURL, slack.ResponseTypeEphemeral))
		if err == nil {
			return
		}
		zerolog.Ctx(ctx).Debug().Err(err).Msg("slack: answer through response_url failed")
	}
	ch := cb.Container.ChannelID
	if ch == "" {
		ch = cb.Channel.ID
	}
	b.tell(ctx, ch, cb.User.ID, m)
}

// openDeny opens the deny modal at once, within the click's 3-second trigger: it reads only the
// stored request (no Slack or Atlassian call). Whether the clicker may deny is checked when the
// modal is submitted, by the Service, on the state at that moment.
func (b *Bot) openDeny(ctx context.Context, cb slack.InteractionCallback, id string) {
	r, err := b.svc.Request(ctx, id)
	if err == nil && r.Status != access.RequestPending {
		err = access.Errorf(access.ECONFLICT, "Request %s is already %s; nothing changed.", r.ID, r.Status)
	}
	if err != nil {
		b.answer(ctx, cb, b.failure(ctx, id, err))
		return
	}
	ch := cb.Container.ChannelID
	if ch == "" {
		ch = cb.Channel.ID
	}
	if _, err := b.api.OpenViewContext(ctx, cb.TriggerID, denyModal(r, ch)); err != nil {
		b.noteFatal(err)
		zerolog.Ctx(ctx).Warn().Err(err).Msg("slack: open deny modal")
		b.answer(ctx, cb, errorMessage(fmt.Sprintf("The deny form could not be opened (%s); please click Deny again.", slackCode(err))))
	}
}

// revokeClick ends the grant now: the holder's own or, for operators, anyone's.
func (b *Bot) revokeClick(ctx context.Context, cb slack.InteractionCallback, id string) {
	g, err := b.svc.Revoke(ctx, access.UserActor(cb.User.ID), id)
	if err != nil {
		b.answer(ctx, cb, b.errorAnswer(ctx, err))
		return
	}
	if g.Status != access.GrantRevoked {
		b.answer(ctx, cb, textMessage(revokedText(g)))
	}
}

// openExtend opens the extend modal for the holder of an active grant.
func (b *Bot) openExtend(ctx context.Context, cb slack.InteractionCallback, id string) {
	g, err := b.svc.Grant(ctx, id)
	if err == nil {
		switch {
		case !access.UserActor(cb.User.ID).Is(g.Holder):
			err = access.Errorf(access.EFORBIDDEN, "Grant %s is not yours; only its holder can extend it.", g.ID)
		case g.Status != access.GrantActive:
			err = access.Errorf(access.ECONFLICT, "Grant %s is %s; only an active grant can be extended.", g.ID, g.Status)
		}
	}
	if err != nil {
		b.answer(ctx, cb, b.errorAnswer(ctx, err))
		return
	}
	if _, err := b.api.OpenViewContext(ctx, cb.TriggerID, extendModal(g, b.role(g.Role))); err != nil {
		b.noteFatal(err)
		zerolog.Ctx(ctx).Warn().Err(err).Msg("slack: open extend modal")
		b.answer(ctx, cb, errorMessage(fmt.Sprintf("The extend form could not be opened (%s); use `extend %s DURATION REASON…`.", slackCode(err), g.ID)))
	}
}
