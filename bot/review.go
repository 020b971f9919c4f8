package bot

import (
	"context"
	"fmt"
	"slices"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// notifyReview sends a started review to every reviewer: one DM per reviewItemsPerMessage
// members, each remembered on its items so that decisions update it; then the audit summary.
func (b *Bot) notifyReview(ctx context.Context, n access.Notice, audit string) {
	for _, chunk := range reviewChunks(n.Items) {
		m := reviewMessage(chunk)
		ids := make([]string, len(chunk))
		for i, it := range chunk {
			ids[i] = it.ID
		}
		for _, user := range n.Reviewers {
			ch, ts := b.dm(ctx, user, m)
			if ts == "" {
				continue
			}
			if err := b.svc.AddReviewMessages(ctx, access.MessageRef{Channel: ch, TS: ts}, ids...); err != nil {
				zerolog.Ctx(ctx).Warn().Err(err).Str("user", user).Msg("remember review message")
			}
		}
	}
	if n.Text != "" {
		b.post(ctx, audit, auditMessage(n))
	}
}

// refreshReview shows the current state of it on every message that shows it, with the other
// members of that message as they are now.
func (b *Bot) refreshReview(ctx context.Context, it *access.ReviewItem) {
	if len(it.Messages) == 0 {
		return
	}
	all, err := b.svc.ReviewItems(ctx, access.ReviewFilter{Run: it.Run})
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("review_item", it.ID).Msg("read review items")
		return
	}
	for _, ref := range it.Messages {
		var shown []*access.ReviewItem
		for _, x := range all {
			if slices.Contains(x.Messages, ref) {
				shown = append(shown, x)
			}
		}
		b.update(ctx, ref, reviewMessage(shown))
	}
}

// reviewClick records the clicker's Keep or Remove. Who may decide is the Service's call,
// from the policy; the button's value is only the item's ID. A refused click is answered to
// the clicker alone and changes nothing.
func (b *Bot) reviewClick(ctx context.Context, cb slack.InteractionCallback, id string, keep bool) {
	it, err := b.svc.Review(ctx, access.UserActor(cb.User.ID), id, keep)
	if err != nil {
		if access.ErrorCode(err) == access.EUNAVAILABLE {
			if cur, rerr := b.svc.ReviewItem(ctx, id); rerr == nil {
				b.refreshReview(ctx, cur)
			}
		}
		b.answer(ctx, cb, errorMessage(userText(ctx, b.explainReviewConflict(ctx, id, err))))
		return
	}
	if it.Status == access.ReviewRefused {
		b.answer(ctx, cb, errorMessage(fmt.Sprintf("%s was not removed from %s: the guard refused it (%s). The membership stays.",
			it.Member(), it.Group, escape(it.Note))))
	}
}

// explainReviewConflict turns a conflict on a decided item into "already kept by <@U…> at …".
func (b *Bot) explainReviewConflict(ctx context.Context, id string, err error) error {
	if access.ErrorCode(err) != access.ECONFLICT {
		return err
	}
	it, rerr := b.svc.ReviewItem(ctx, id)
	if rerr != nil || it.Status == access.ReviewPending || it.Decision == nil {
		return err
	}
	return access.Errorf(access.ECONFLICT, "The review of %s in %s is already decided: %s Nothing changed.", it.Member(), it.Group, reviewOutcome(it))
}
