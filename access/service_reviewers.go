package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rs/zerolog"
)

// reviewSendBatch is how many open review items one transaction of sendOpen sends: an item,
// its two index entries and its review.sent audit event are four keys, and each item may need
// a notice of its own (one outbox key), so 20 items stay within etcd's 128 keys a transaction
// with the audit head, the outbox counter and the transaction key.
const reviewSendBatch = 20

// SendOpenReviews sends the open items of every review in the policy to each of the review's
// reviewers now who was not yet sent them, never to their member (ReviewItem.Send): a reviewer
// added to the policy while a review runs gets its open items, an item that had gone to nobody
// (only its member reviewed it) among them. Each send is written on its item, with its audit
// event, in the transaction of the notice that sends it, so nobody gets an item twice. jitbot
// calls it after a policy reload, when it starts and every hour (a Slack user group named
// among the reviewers may have gained a member; reviewers are resolved past the cache), and
// StartReview does it for its review's earlier items. A review whose items could not be sent is alerted. It returns how many items
// it sent.
func (s *Service) SendOpenReviews(ctx context.Context) (int, error) {
	p, err := s.policy()
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for i := range p.Reviews {
		rv := &p.Reviews[i]
		var open []*ReviewItem
		if err := s.Store.View(ctx, func(tx Tx) (err error) {
			open, err = tx.ReviewItems(ReviewFilter{Review: rv.Name, Status: []ReviewStatus{ReviewPending}})
			return err
		}); err != nil {
			errs = append(errs, s.unsent(ctx, rv, fmt.Errorf("open items: %w", err)))
			continue
		}
		if len(open) == 0 {
			continue // nothing to send: no reviewer is looked up
		}
		// Past the principal cache: a user group's new member is a reviewer from now on.
		reviewers, err := s.resolveCurrent(ctx, rv.Reviewers)
		if err != nil {
			errs = append(errs, s.unsent(ctx, rv, fmt.Errorf("resolve reviewers of %s: %w", rv.Name, err)))
			continue
		}
		k, err := s.sendOpen(ctx, rv, reviewers, open)
		n += k
		if err != nil {
			errs = append(errs, s.unsent(ctx, rv, err))
			continue
		}
		if err := s.alertAlone(ctx, rv, reviewers, open); err != nil {
			errs = append(errs, fmt.Errorf("review %s: %w", rv.Name, err))
		}
	}
	return n, errors.Join(errs...)
}

// alertAlone tells the alerts channel of the pending items among open, of review rv, that no
// reviewer of the policy now but their member can decide (ReviewItem.Alone): the reviewers
// who had them were removed from the policy since. Each item is alerted once while it stays
// alone (AloneAlerted, written in the transaction of the alert), reviewSendBatch items a
// transaction; the start's own alert covers the items it created.
func (s *Service) alertAlone(ctx context.Context, rv *Review, reviewers []string, open []*ReviewItem) error {
	var ids []string
	for _, it := range open {
		if it.Status == ReviewPending && !it.AloneAlerted {
			ids = append(ids, it.ID)
		}
	}
	for batch := range slices.Chunk(ids, reviewSendBatch) {
		err := s.Store.Update(ctx, func(tx Tx) error {
			var alone []*ReviewItem
			for _, id := range batch {
				c, err := tx.ReviewItem(id)
				if ErrorCode(err) == ENOTFOUND {
					continue
				}
				if err != nil {
					return err
				}
				if c.AloneAlerted || !c.Alone(reviewers) {
					continue
				}
				c.AloneAlerted = true
				if err := tx.PutReviewItem(c); err != nil {
					return err
				}
				alone = append(alone, c)
			}
			if len(alone) == 0 {
				return nil
			}
			return s.tell(ctx, tx, nobodyElseReviews(rv, alone))
		})
		if err != nil {
			return fmt.Errorf("alert items left alone: %w", err)
		}
	}
	return nil
}

// unsent alerts that open items of rv could not be sent to its new reviewers, and returns err
// naming the review.
func (s *Service) unsent(ctx context.Context, rv *Review, err error) error {
	err = fmt.Errorf("send open items of review %s: %w", rv.Name, err)
	alert := alertNotice(fmt.Sprintf("Access review %s: its open items could not be sent to the reviewers added to the policy since it started: %s. They are sent at the next policy reload, restart of jitbot or start of the review, or within the hour.",
		rv.Name, errText(err)))
	if terr := s.tellNew(ctx, alert); terr != nil {
		zerolog.Ctx(ctx).Error().Err(terr).Str("review", rv.Name).Msg("queue review alert")
	}
	return err
}

// sendOpen sends the pending items among open, of review rv, to each of reviewers (the review's
// reviewers now) not yet sent them and not their member, reviewSendBatch items a transaction:
// each item records the send and its audit event in the transaction of the notice (one per
// start of the review and set of new reviewers), and the audit channel gets a summary with
// the last. It returns how many items it sent.
func (s *Service) sendOpen(ctx context.Context, rv *Review, reviewers []string, open []*ReviewItem) (int, error) {
	if len(reviewers) == 0 {
		return 0, nil
	}
	// Only items someone new may be owed are looked at again, and only those reviewers
	// identified: a reload that adds nobody costs no Slack call.
	var due []*ReviewItem
	var fresh []string
	for _, it := range open {
		if it.Status != ReviewPending {
			continue
		}
		owed := false
		for _, id := range reviewers {
			if !it.SentKnown || (it.AskedOf(id) && !slices.Contains(it.SentTo, id)) {
				owed = true
				if !slices.Contains(fresh, id) {
					fresh = append(fresh, id)
				}
			}
		}
		if owed {
			due = append(due, it)
		}
	}
	if len(due) == 0 {
		return 0, nil
	}
	who, err := s.identify(ctx, fresh, true)
	if err != nil {
		return 0, fmt.Errorf("reviewers' identities: %w", err)
	}
	now := s.now()
	sent, before := 0, 0 // items sent, and those of them that had gone to nobody
	var to []string      // every reviewer sent an item
	batches := slices.Collect(slices.Chunk(due, reviewSendBatch))
	for i, batch := range batches {
		var n, alone int
		var names []string
		err := s.Store.Update(ctx, func(tx Tx) error {
			n, alone, names = 0, 0, nil // fn may run more than once
			groups := map[string][]*ReviewItem{}
			var keys []string
			for _, it := range batch {
				c, err := tx.ReviewItem(it.ID)
				if ErrorCode(err) == ENOTFOUND {
					continue
				}
				if err != nil {
					return err
				}
				if c.Status != ReviewPending {
					continue // decided meanwhile
				}
				known, selves, had := c.SentKnown, len(c.SelfReviewers), len(c.SentTo)
				newTo, ev, err := c.Send(reviewers, memberOf(who, fresh, c.Account), now)
				if err != nil {
					return err
				}
				if len(newTo) == 0 && known && len(c.SelfReviewers) == selves {
					continue
				}
				if err := tx.PutReviewItem(c); err != nil {
					return err
				}
				if len(newTo) == 0 {
					continue // bookkeeping only: who its member is, or what it was sent to before
				}
				if err := tx.AppendAudit(&ev); err != nil {
					return err
				}
				n++
				if had == 0 {
					alone++
				}
				for _, id := range newTo {
					if !slices.Contains(names, id) {
						names = append(names, id)
					}
				}
				// One notice per start (a review message holds the items of one run: the bot
				// updates it from its run's items) and per set of new reviewers.
				k := c.Run + "\x00" + strings.Join(newTo, ",")
				if _, ok := groups[k]; !ok {
					keys = append(keys, k)
				}
				groups[k] = append(groups[k], c)
			}
			for _, k := range keys {
				_, to, _ := strings.Cut(k, "\x00")
				note := Notice{Kind: NoticeReview, Actor: PolicyActor, Items: groups[k], Reviewers: strings.Split(to, ",")}
				if err := s.tell(ctx, tx, note); err != nil {
					return err
				}
			}
			if i < len(batches)-1 || sent+n == 0 {
				return nil
			}
			all := slices.Clone(to)
			for _, id := range names {
				if !slices.Contains(all, id) {
					all = append(all, id)
				}
			}
			return s.tell(ctx, tx, Notice{Kind: NoticeAudit, Actor: PolicyActor, Text: sentSummary(rv, sent+n, before+alone, all)})
		})
		if err != nil {
			return sent, fmt.Errorf("store sends: %w", err)
		}
		sent, before = sent+n, before+alone
		for _, id := range names {
			if !slices.Contains(to, id) {
				to = append(to, id)
			}
		}
	}
	if sent > 0 {
		zerolog.Ctx(ctx).Info().Str("review", rv.Name).Int("items", sent).Strs("reviewers", to).Msg("open review items sent to new reviewers")
	}
	return sent, nil
}

// memberOf returns those of ids known to be account a.
func memberOf(who identities, ids []string, a Account) []string {
	var out []string
	for _, id := range ids {
		if who.is(id, a) {
			out = append(out, id)
		}
	}
	return out
}

// sentSummary is the audit channel's line for open items of rv sent to reviewers who had not
// been sent them.
func sentSummary(rv *Review, n, alone int, to []string) string {
	s := fmt.Sprintf("Access review %s: %d open membership(s) sent to %s, reviewer(s) of it who had not been sent them (added to the policy since it started).",
		rv.Name, n, strings.Join(to, ", "))
	if alone > 0 {
		s += fmt.Sprintf(" %d of them had been sent to nobody before (no reviewer but their member, or none found).", alone)
	}
	return s
}
