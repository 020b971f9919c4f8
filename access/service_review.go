package access

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
)

var openReview = []ReviewStatus{ReviewPending, ReviewRemoving}

// StartReview starts the review with the given name now: for each of its groups it reads the
// members from Atlassian, leaves out those holding a live grant of the group or a standing
// membership (and those already under an open item of this review), and stores one pending
// item per membership, due at now plus the review's deadline, each with a review.started audit
// event, in one transaction. The reviewers get the items (NoticeReview, recorded in SentTo),
// each but those about their own membership (SelfReviewers); items no other reviewer can
// decide are alerted; the audit channel gets a summary. Items of earlier starts still open go
// to the reviewers not yet sent them (SendOpenReviews). It returns the items created.
func (s *Service) StartReview(ctx context.Context, name string) ([]*ReviewItem, error) {
	p, err := s.policy()
	if err != nil {
		return nil, err
	}
	rv := p.Review(name)
	if rv == nil {
		return nil, Errorf(ENOTFOUND, "The policy has no review %s.", name)
	}
	if s.Engine == nil || s.Engine.Org == nil {
		return nil, Errorf(EUNAVAILABLE, "Access reviews are not wired to the Atlassian organization.")
	}
	now := s.now()
	done, err := s.running.start(name, "Review "+name, now)
	if err != nil {
		return nil, err
	}
	defer done()
	d, err := loadDesired(ctx, s.Store, p, now)
	if err != nil {
		return nil, fmt.Errorf("start review %s: %w", name, err)
	}
	var open []*ReviewItem
	if err := s.Store.View(ctx, func(tx Tx) (err error) {
		open, err = tx.ReviewItems(ReviewFilter{Review: name, Status: openReview})
		return err
	}); err != nil {
		return nil, fmt.Errorf("start review %s: open items: %w", name, err)
	}
	under := map[string]bool{} // lower-cased group \x00 account ID
	for _, it := range open {
		under[strings.ToLower(it.Group)+"\x00"+it.Account.ID] = true
	}

	snap := newSnapshot()
	if err := snap.readGroups(ctx, s.Engine.Org, rv.Groups); err != nil {
		return nil, fmt.Errorf("start review %s: %w", name, err)
	}
	var ids []string
	for _, g := range rv.Groups {
		if id := snap.group(g).ID; !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	run := uuid.NewString()
	var items []*ReviewItem
	left := 0
	err = s.Engine.Org.Users(ctx, UserQuery{GroupIDs: ids}, func(u *User) error {
		for _, g := range rv.Groups {
			if !u.InGroup(g) {
				continue
			}
			grp := snap.group(g)
			_, granted := d.grants[u.AccountID][strings.ToLower(grp.Name)]
			if granted || p.IsStanding(grp.Name, u.Account()) {
				left++
				continue
			}
			if under[strings.ToLower(grp.Name)+"\x00"+u.AccountID] {
				continue
			}
			under[strings.ToLower(grp.Name)+"\x00"+u.AccountID] = true
			items = append(items, &ReviewItem{
				ID: NewID(), Review: rv.Name, Run: run, Group: grp.Name, GroupID: grp.ID, Account: u.Account(),
				Status: ReviewPending, OnNoResponse: rv.onNoResponse(), CreatedAt: now, Deadline: now.Add(rv.deadline()),
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("start review %s: read members: %w", name, err)
	}
	slices.SortFunc(items, func(a, b *ReviewItem) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Group), strings.ToLower(b.Group)), cmp.Compare(a.Member(), b.Member()))
	})
	reviewers, rerr := s.reviewers(ctx, rv)
	if rerr != nil {
		zerolog.Ctx(ctx).Warn().Err(rerr).Str("review", name).Msg("resolve reviewers")
	}
	unasked, err := s.leaveOutSelves(ctx, items, reviewers)
	if err != nil {
		return nil, fmt.Errorf("start review %s: %w", name, err)
	}
	for _, it := range items {
		it.sentAtStart(reviewers)
	}
	// Stored reviewItemBatch at a time, each batch one transaction: a store that bounds a
	// transaction's size (etcd) takes a review of any number of members. The notice goes with
	// the last batch, so nobody is told of the review before every item is stored.
	notice := Notice{Kind: NoticeReview, Actor: PolicyActor, Items: items, Reviewers: reviewers,
		Text: startSummary(rv, items, left, reviewers, now)}
	batches := slices.Collect(slices.Chunk(items, reviewItemBatch))
	if len(batches) == 0 {
		batches = [][]*ReviewItem{nil}
	}
	for i, batch := range batches {
		err = s.Store.Update(ctx, func(tx Tx) error {
			for _, it := range batch {
				if err := tx.PutReviewItem(it); err != nil {
					return err
				}
				ev := it.event(ActionReviewStarted, PolicyActor, now, "certify membership of "+it.Group+" by "+it.Deadline.UTC().Format(time.RFC3339))
				if err := tx.AppendAudit(&ev); err != nil {
					return err
				}
			}
			if i < len(batches)-1 {
				return nil
			}
			if len(unasked) > 0 {
				if err := s.tell(ctx, tx, nobodyElseReviews(rv, unasked)); err != nil {
					return err
				}
			}
			return s.tell(ctx, tx, notice)
		})
		if err != nil {
			return nil, fmt.Errorf("start review %s: store items: %w", name, err)
		}
	}
	zerolog.Ctx(ctx).Info().Str("review", name).Str("run", run).Int("items", len(items)).Int("left_out", left).Msg("review started")
	// Items of earlier starts still open go to reviewers added since (alerted if they cannot).
	if _, err := s.sendOpen(ctx, rv, reviewers, open); err != nil {
		zerolog.Ctx(ctx).Error().Err(s.unsent(ctx, rv, err)).Msg("send open review items")
	} else if rerr == nil {
		if err := s.alertAlone(ctx, rv, reviewers, open); err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Str("review", name).Msg("alert review items left alone")
		}
	}
	return items, nil
}

// leaveOutSelves records on each item the reviewers known to be its member (SelfReviewers):
// by their stored binding, else by their Slack e-mail being the member's. A reviewer whose
// e-mail cannot be read is asked (their click is judged as always). It returns the items that
// no reviewer but their member would be asked about.
func (s *Service) leaveOutSelves(ctx context.Context, items []*ReviewItem, reviewers []string) ([]*ReviewItem, error) {
	if len(items) == 0 || len(reviewers) == 0 {
		return nil, nil
	}
	who, err := s.identify(ctx, reviewers, true)
	if err != nil {
		return nil, fmt.Errorf("reviewers' identities: %w", err)
	}
	var unasked []*ReviewItem
	for _, it := range items {
		it.SelfReviewers = nil
		for _, id := range reviewers {
			if who.is(id, it.Account) {
				it.SelfReviewers = append(it.SelfReviewers, id)
			}
		}
		if len(it.SelfReviewers) == len(reviewers) {
			it.AloneAlerted = true // by the start's alert
			unasked = append(unasked, it)
		}
	}
	return unasked, nil
}

// nobodyElseReviews is the alert for items of rv that no reviewer but their own member can
// decide. They stay pending; at the deadline on_no_response applies as to any item.
func nobodyElseReviews(rv *Review, items []*ReviewItem) Notice {
	var b strings.Builder
	fmt.Fprintf(&b, "Access review %s: %d membership(s) have no reviewer in the policy but their own member, so nobody can certify them. Add another reviewer to review %s in the policy. They stay pending until the deadline, %s, when on_no_response %s applies as to any item.",
		rv.Name, len(items), rv.Name, items[0].Deadline.UTC().Format("2006-01-02 15:04 UTC"), items[0].OnNoResponse)
	for i, it := range items {
		if i == reportLines {
			fmt.Fprintf(&b, "\n… and %d more", len(items)-i)
			break
		}
		fmt.Fprintf(&b, "\n• %s in %s (item %s)", it.Member(), it.Group, it.ID)
	}
	return alertNotice(b.String())
}

// reviewItemBatch is how many review items one transaction of StartReview stores (an item, its
// two index entries and its audit event are four keys; etcd takes 128 in one transaction).
const reviewItemBatch = 25

// startSummary is the audit channel's line for a review that started.
func startSummary(rv *Review, items []*ReviewItem, left int, reviewers []string, now time.Time) string {
	groups := strings.Join(rv.Groups, ", ")
	if len(items) == 0 {
		return fmt.Sprintf("Access review %s started: nobody in %s to certify (%d left out: live grant or standing membership).", rv.Name, groups, left)
	}
	s := fmt.Sprintf("Access review %s started: %d memberships of %s to certify by %s; %d left out (live grant or standing membership). No response by then: %s.",
		rv.Name, len(items), groups, now.Add(rv.deadline()).UTC().Format("2006-01-02 15:04 UTC"), left, rv.onNoResponse())
	if len(reviewers) == 0 {
		s += " No reviewer could be found in Slack; tell an operator."
	}
	return s
}

// reviewers resolves the Slack user IDs that may decide the items of rv.
func (s *Service) reviewers(ctx context.Context, rv *Review) ([]string, error) {
	return s.resolve(ctx, rv.Reviewers, "reviewers of "+rv.Name)
}

// ReviewItem returns the review item with the given ID.
func (s *Service) ReviewItem(ctx context.Context, id string) (*ReviewItem, error) {
	var it *ReviewItem
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		it, err = tx.ReviewItem(id)
		return err
	})
	return it, err
}

// ReviewItems returns the review items matching f.
func (s *Service) ReviewItems(ctx context.Context, f ReviewFilter) ([]*ReviewItem, error) {
	var out []*ReviewItem
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		out, err = tx.ReviewItems(f)
		return err
	})
	return out, err
}

// Review records by's decision on the review item: keep certifies the membership, remove takes
// it away through the Engine's guards. Only a reviewer of the item's review (resolved from the
// policy now, never from the button) may decide, and never about their own membership
// (EFORBIDDEN); an item already decided is ECONFLICT naming who decided. A removal a guard
// refuses is recorded on the item (status refused, Note says why) and returned with a nil
// error; a removal Atlassian did not take now stays an intent that the sweeper retries, and
// an EUNAVAILABLE error says so.
func (s *Service) Review(ctx context.Context, by Actor, itemID string, keep bool) (*ReviewItem, error) {
	p, err := s.policy()
	if err != nil {
		return nil, err
	}
	it, err := s.ReviewItem(ctx, itemID)
	if err != nil {
		return nil, err
	}
	rv := p.Review(it.Review)
	if rv == nil {
		return nil, Errorf(ECONFLICT, "Review %s is no longer in the policy; its items can no longer be decided.", it.Review)
	}
	// Who decides is judged on the reviewers as they are now: past the principal cache, on a
	// lookup of the last few seconds (ReviewerFresh), so a reviewer's burst of clicks shares
	// one.
	reviewers, err := s.resolveRecent(ctx, rv.Reviewers, s.settings().reviewerFresh)
	if err != nil {
		return nil, fmt.Errorf("resolve reviewers of %s: %w", rv.Name, err)
	}
	// Who may act first: someone who may not decide learns nothing about how it was decided.
	if by.Kind != ActorUser || !contains(reviewers, by.SlackID) {
		return nil, Errorf(EFORBIDDEN, "You are not a reviewer of access review %s.", rv.Name)
	}
	if !it.Open() {
		return nil, it.conflict()
	}
	if err := s.notSelf(ctx, by, it); err != nil {
		return nil, err
	}
	if !keep && s.Engine == nil {
		return nil, Errorf(EUNAVAILABLE, "Removals are not wired to the Atlassian organization.")
	}
	now := s.now()
	it, err = updateRecord(ctx, s, reviewRecords, itemID, func(c *ReviewItem) (AuditEvent, error) {
		if keep {
			return c.Keep(by, now)
		}
		return c.BeginRemove(by, now, s.settings().lease)
	}, s.reviewNotices)
	if err != nil {
		return nil, err
	}
	if keep {
		return it, nil
	}
	return s.removeReviewed(ctx, it)
}

// notSelf refuses a decision by the member of the item.
func (s *Service) notSelf(ctx context.Context, by Actor, it *ReviewItem) error {
	self := Errorf(EFORBIDDEN, "You cannot certify your own membership of %s; another reviewer must decide it.", it.Group)
	var b *Binding
	err := s.Store.View(ctx, func(tx Tx) (err error) { b, err = tx.Binding(by.SlackID); return err })
	switch {
	case err == nil && b.Account.ID == it.Account.ID:
		return self
	case err != nil && ErrorCode(err) != ENOTFOUND:
		// Fail closed: who is deciding must be known before their decision counts.
		return fmt.Errorf("review %s: identity of %s: %w", it.ID, by.SlackID, err)
	}
	if s.Identity == nil {
		return nil
	}
	email, err := s.Identity.Email(ctx, by.SlackID)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil
	case err != nil:
		return fmt.Errorf("review %s: who is %s: %w", it.ID, by.SlackID, err)
	case it.Account.Email != "" && Mailbox(email) == Mailbox(it.Account.Email):
		return self
	}
	return nil
}

// reviewRunDone returns every item of it's run when it was the run's last open item (the
// review is complete), and nothing otherwise.
func reviewRunDone(tx Tx, it *ReviewItem) ([]*ReviewItem, error) {
	if it.Open() {
		return nil, nil
	}
	rest, err := tx.ReviewItems(ReviewFilter{Run: it.Run, Status: openReview})
	if err != nil || len(rest) > 0 {
		return nil, err
	}
	return tx.ReviewItems(ReviewFilter{Run: it.Run})
}

// removeReviewed removes the membership of an item in the removing state through the Engine
// and records the outcome.
func (s *Service) removeReviewed(ctx context.Context, it *ReviewItem) (*ReviewItem, error) {
	log := zerolog.Ctx(ctx).With().Str("review_item", it.ID).Str("review", it.Review).Logger()
	c, err := s.Engine.RemoveMember(ctx, "review "+it.Review, it.Group, it.Account, removalReason(it))
	if err != nil && !stops(err) {
		log.Warn().Err(err).Msg("review removal; the sweeper retries it")
		return it, fmt.Errorf("review %s: %w", it.ID, Errorf(EUNAVAILABLE,
			"Removing %s from %s did not go through yet; jitbot retries it automatically.", it.Member(), it.Group))
	}
	return s.finishRemoval(ctx, it, c, err)
}

func removalReason(it *ReviewItem) string {
	by := "no response by the deadline"
	if it.Decision != nil && it.Decision.By.Kind == ActorUser {
		by = "rejected by reviewer " + it.Decision.By.SlackID
	}
	return "access review " + it.Review + ": " + by
}

// finishRemoval records the outcome of removing it's membership: change c, or the guard's
// refusal err.
func (s *Service) finishRemoval(ctx context.Context, it *ReviewItem, c Change, err error) (*ReviewItem, error) {
	removed, why := c.Done, c.Skipped
	if c.Absent {
		why = c.Reason
	}
	if err != nil {
		removed, why = false, errText(err)
	}
	now := s.now()
	cur, err := updateRecord(ctx, s, reviewRecords, it.ID, func(c *ReviewItem) (AuditEvent, error) {
		return c.FinishRemove(removed, why, now)
	}, s.reviewNotices)
	if err != nil {
		return nil, fmt.Errorf("review %s: record removal: %w", it.ID, err)
	}
	return cur, nil
}

// removeExpired removes, as one run through the guards, the memberships of items of one review
// run whose deadline passed with on_no_response remove: max_changes and min_members bound them
// together, and a run the guard stops removes nothing and is alerted.
func (s *Service) removeExpired(ctx context.Context, items []*ReviewItem) {
	rs := make([]Removal, len(items))
	for i, it := range items {
		rs[i] = Removal{Group: it.Group, Account: it.Account, Reason: removalReason(it)}
	}
	name := items[0].Review
	cs, err := s.Engine.RemoveMembers(ctx, "review "+name, rs)
	if err != nil && !stops(err) {
		zerolog.Ctx(ctx).Warn().Err(err).Str("review", name).Msg("review deadline removals; the sweeper retries them")
		return
	}
	for i, it := range items {
		if _, ferr := s.finishRemoval(ctx, it, cs[i], err); ferr != nil {
			zerolog.Ctx(ctx).Error().Err(ferr).Str("review_item", it.ID).Msg("record review removal")
		}
	}
	if err != nil {
		if terr := s.tellNew(ctx, alertNotice(fmt.Sprintf("Access review %s: the %d removals due at its deadline (on_no_response: remove) were stopped by the guard, so none was made: %s",
			name, len(items), errText(err)))); terr != nil {
			zerolog.Ctx(ctx).Error().Err(terr).Str("review", name).Msg("queue review alert")
		}
	}
}

// reviewNotices is what people are told, in tx, of a decided item and, when its review is
// complete, the summary for the audit channel.
func (s *Service) reviewNotices(tx Tx, it *ReviewItem) ([]Notice, error) {
	if it.Status == ReviewRemoving {
		return nil, nil // told when the removal finishes
	}
	all, err := reviewRunDone(tx, it)
	if err != nil {
		return nil, err
	}
	ns := []Notice{{Kind: NoticeReviewDecided, Actor: it.Decision.By, Items: []*ReviewItem{it}}}
	if len(all) > 0 {
		ns = append(ns, Notice{Kind: NoticeAudit, Actor: PolicyActor, Text: completeSummary(all)})
	}
	return ns, nil
}

// completeSummary is the audit channel's line for a review whose items are all decided.
func completeSummary(all []*ReviewItem) string {
	var kept, byPolicy, removed, refused int
	var notes []string
	for _, it := range all {
		switch it.Status {
		case ReviewKept:
			kept++
			if it.Decision != nil && it.Decision.By.Kind != ActorUser {
				byPolicy++
			}
		case ReviewRemoved:
			removed++
		case ReviewRefused:
			refused++
			notes = append(notes, fmt.Sprintf("%s in %s: %s", it.Member(), it.Group, it.Note))
		}
	}
	s := fmt.Sprintf("Access review %s complete: %d memberships certified: %d kept (%d by on_no_response), %d removed, %d removals refused by the guard.",
		all[0].Review, len(all), kept, byPolicy, removed, refused)
	for i, n := range notes {
		if i == reportLines {
			s += fmt.Sprintf("\n… and %d more", len(notes)-i)
			break
		}
		s += "\n• refused: " + n
	}
	return s
}

// ExpireReviews applies on_no_response to review items past their deadline (keep, or remove
// through the Engine's guards) and retries removals whose lease is over. It finds them through
// the store's due index, so it costs O(due). It returns how many items it handled.
func (s *Service) ExpireReviews(ctx context.Context) (int, error) {
	now := s.now()
	var due []*ReviewItem
	if err := s.Store.View(ctx, func(tx Tx) (err error) {
		due, err = tx.DueReviewItems(now, 0)
		return err
	}); err != nil {
		return 0, fmt.Errorf("expire reviews: due items: %w", err)
	}
	n := 0
	// Removals by policy at a deadline are one run per start of a review.
	batches := map[string][]*ReviewItem{}
	var runs []string
	for _, it := range due {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		log := zerolog.Ctx(ctx).With().Str("review_item", it.ID).Logger()
		remove := it.Status == ReviewRemoving || it.OnNoResponse == ReviewOnNoResponseRemove
		if remove && s.Engine == nil {
			log.Warn().Msg("review removal due, but no engine is wired")
			continue
		}
		err := s.Store.Update(ctx, func(tx Tx) error {
			c, err := tx.ReviewItem(it.ID)
			if err != nil {
				return err
			}
			if c.Status == ReviewRemoving {
				if err := c.Renew(now, s.settings().lease); err != nil {
					return err
				}
				it = c
				return tx.PutReviewItem(c)
			}
			c, err = transition(ctx, s, tx, reviewRecords, it.ID, func(c *ReviewItem) (AuditEvent, error) {
				if c.Status != ReviewPending || c.Deadline.After(now) {
					return AuditEvent{}, Errorf(ECONFLICT, "review item %s changed", c.ID)
				}
				if remove {
					return c.BeginRemove(PolicyActor, now, s.settings().lease)
				}
				return c.Keep(PolicyActor, now)
			}, s.reviewNotices)
			if err != nil {
				return err
			}
			it = c
			return nil
		})
		if err != nil {
			logFailure(&log, err).Msg("expire review item")
			continue
		}
		n++
		if it.Status == ReviewRemoving {
			if it.Decision == nil || it.Decision.By.Kind != ActorUser {
				if _, ok := batches[it.Run]; !ok {
					runs = append(runs, it.Run)
				}
				batches[it.Run] = append(batches[it.Run], it)
				continue
			}
			if _, err := s.removeReviewed(ctx, it); err != nil {
				logFailure(&log, err).Msg("review removal")
			}
		}
	}
	for _, run := range runs {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		s.removeExpired(ctx, batches[run])
	}
	return n, nil
}
