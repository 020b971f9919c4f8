package bot

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// reviewClick records the clicker's Keep or Remove. Who may decide is the Service's call,
// from the policy; the button's value is only the item's ID. A refused click is answered to
// the clicker alone and changes nothing.
func (b *Bot) reviewClick(ctx context.Context, cb slack.InteractionCallback, id string, keep bool) {
	it, err := b.svc.Review(ctx, access.UserActor(cb.User.ID), id, keep)
	if err != nil {
		if access.ErrorCode(err) == access.EUNAVAILABLE {
			if cur, rerr := b.svc.ReviewItem(ctx, id); rerr == nil {
				if err := b.enqueue(ctx, b.reviewUpdates(ctx, cur)...); err != nil {
					zerolog.Ctx(ctx).Warn().Err(err).Msg("refresh review messages")
				}
			}
		}
		b.answer(ctx, cb, b.errorAnswer(ctx, b.explainReviewConflict(ctx, id, err)))
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
