package access

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ReviewStatus is where a review item is in its life.
type ReviewStatus string

// Review item statuses.
const (
	ReviewPending  ReviewStatus = "pending"  // waiting for a reviewer
	ReviewRemoving ReviewStatus = "removing" // intent: the membership is being removed
	ReviewKept     ReviewStatus = "kept"     // certified, or kept by on_no_response keep
	ReviewRemoved  ReviewStatus = "removed"  // the membership is gone
	ReviewRefused  ReviewStatus = "refused"  // removal asked for, refused by a guard; Note says why
)

// On-no-response actions of a review.
const (
	ReviewOnNoResponseKeep   = "keep"
	ReviewOnNoResponseRemove = "remove"
)

// DefaultReviewDeadline is a review's deadline when the policy does not set it.
const DefaultReviewDeadline = 7 * 24 * time.Hour

// ReviewDecision is who decided a review item, when, and what.
type ReviewDecision struct {
	By   Actor     `json:"by"`
	At   time.Time `json:"at"`
	Keep bool      `json:"keep"`
}

// ReviewItem is one membership (an account in a group) a review asks reviewers to certify.
// Items of one start of a review share a Run ID.
type ReviewItem struct {
	ID           string          `json:"id"`
	Review       string          `json:"review"` // the review's name in the policy
	Run          string          `json:"run"`
	Group        string          `json:"group"`
	GroupID      string          `json:"group_id,omitempty"`
	Account      Account         `json:"account"`
	Status       ReviewStatus    `json:"status"`
	OnNoResponse string          `json:"on_no_response"` // keep | remove, as when the review started
	CreatedAt    time.Time       `json:"created_at"`
	Deadline     time.Time       `json:"deadline"`
	LeaseUntil   time.Time       `json:"lease_until,omitempty"` // while removing: when another pass may retry
	Decision     *ReviewDecision `json:"decision,omitempty"`
	EndedAt      time.Time       `json:"ended_at,omitempty"`
	Note         string          `json:"note,omitempty"` // why a removal was refused, or what happened
	Messages     []MessageRef    `json:"messages,omitempty"`
	// SelfReviewers are the reviewers (Slack user IDs) known to be the item's member, when the
	// review started or when the item was later sent to reviewers added to the policy: they are
	// not sent the item (a click of theirs is refused anyway).
	SelfReviewers []string `json:"self_reviewers,omitempty"`
	// SentTo are the reviewers (Slack user IDs) the item was sent to, each written in the
	// transaction that wrote the notice sending it: at the review's start, then to reviewers
	// added to the policy while the item is open (Send).
	SentTo []string `json:"sent_to,omitempty"`
	// SentKnown says SentTo is kept. An item stored by a jitbot that did not keep it went to
	// the reviewers of its start, which are not known: Send takes them to be the current ones.
	SentKnown bool `json:"sent_known,omitempty"`
	// AloneAlerted says the alerts channel was told that no reviewer but the item's member can
	// decide it; sending it to a reviewer clears it, so a later change that leaves it alone
	// again is alerted again.
	AloneAlerted bool `json:"alone_alerted,omitempty"`
}

// Alone reports whether none of reviewers (the review's reviewers now) has been sent the
// pending item, which is so only when each is its member (Send sends it to every other): no
// one can decide it before its deadline. An item that did not keep SentTo is not judged.
func (it *ReviewItem) Alone(reviewers []string) bool {
	if it.Status != ReviewPending || !it.SentKnown {
		return false
	}
	for _, id := range reviewers {
		if slices.Contains(it.SentTo, id) {
			return false
		}
	}
	return true
}

// AskedOf reports whether reviewer is sent the item: every reviewer but its member.
func (it *ReviewItem) AskedOf(reviewer string) bool {
	return !slices.Contains(it.SelfReviewers, reviewer)
}

// sentAtStart records, on an item not yet stored, that the review's start notice sends it to
// every one of reviewers but its member.
func (it *ReviewItem) sentAtStart(reviewers []string) {
	it.SentTo, it.SentKnown = nil, true
	for _, id := range reviewers {
		if it.AskedOf(id) && !slices.Contains(it.SentTo, id) {
			it.SentTo = append(it.SentTo, id)
		}
	}
}

// Send records that the pending item goes, at now, to each of reviewers (the review's
// reviewers now) it was not yet sent to, never to its member: selves, those of reviewers known
// now to be its member, join SelfReviewers. It returns the reviewers it newly goes to and, when
// there are any, the review.sent audit event. An item that did not keep SentTo (SentKnown
// false) is taken to have gone to every reviewer but its member and goes to nobody new. It
// returns ECONFLICT when the item no longer waits for a reviewer's decision.
func (it *ReviewItem) Send(reviewers, selves []string, now time.Time) ([]string, AuditEvent, error) {
	if it.Status != ReviewPending {
		return nil, AuditEvent{}, it.conflict()
	}
	for _, id := range selves {
		if !slices.Contains(it.SelfReviewers, id) {
			it.SelfReviewers = append(it.SelfReviewers, id)
		}
	}
	if !it.SentKnown {
		it.sentAtStart(reviewers)
		return nil, AuditEvent{}, nil
	}
	var sent []string
	for _, id := range reviewers {
		if it.AskedOf(id) && !slices.Contains(it.SentTo, id) && !slices.Contains(sent, id) {
			sent = append(sent, id)
		}
	}
	if len(sent) == 0 {
		return nil, AuditEvent{}, nil
	}
	it.AloneAlerted = false
	detail := "sent to " + strings.Join(sent, ", ") + ", reviewer(s) since it started"
	if len(it.SentTo) == 0 {
		detail += "; nobody had been sent it before (no reviewer but its member, or none found)"
	}
	it.SentTo = append(it.SentTo, sent...)
	return sent, it.event(ActionReviewSent, PolicyActor, now, detail), nil
}

// Due returns when the sweeper must look at the item: the deadline while pending, the lease's
// end while removing, zero once decided.
func (it *ReviewItem) Due() time.Time {
	switch it.Status {
	case ReviewPending:
		return it.Deadline
	case ReviewRemoving:
		return it.LeaseUntil
	}
	return time.Time{}
}

// Open reports whether the item still waits for a decision or its removal.
func (it *ReviewItem) Open() bool { return it.Status == ReviewPending || it.Status == ReviewRemoving }

// Member names the item's account for people.
func (it *ReviewItem) Member() string { return it.Account.Handle() }

// event returns an audit event about the item.
func (it *ReviewItem) event(action Action, by Actor, now time.Time, detail string) AuditEvent {
	return AuditEvent{Time: now, Action: action, Actor: by, Subject: it.ID, Role: it.Group, Member: it.Member(),
		Detail: fmt.Sprintf("review %s: %s", it.Review, detail)}
}

// conflict is the error for a decision on an item that is no longer pending.
func (it *ReviewItem) conflict() error {
	if it.Decision == nil {
		return Errorf(ECONFLICT, "The review of %s in %s is already %s.", it.Member(), it.Group, it.Status)
	}
	return Errorf(ECONFLICT, "The review of %s in %s is already %s, decided by %s; nothing changed.", it.Member(), it.Group, it.Status, it.Decision.By)
}

// Keep records that by certified the membership at now. by is a person, or the policy at the
// deadline (on_no_response keep). It returns ECONFLICT when the item is no longer pending.
func (it *ReviewItem) Keep(by Actor, now time.Time) (AuditEvent, error) {
	if it.Status != ReviewPending {
		return AuditEvent{}, it.conflict()
	}
	it.Status, it.EndedAt = ReviewKept, now
	it.Decision = &ReviewDecision{By: by, At: now, Keep: true}
	if by.Kind != ActorUser {
		it.Note = "no response by the deadline: kept (on_no_response keep)"
		return it.event(ActionReviewExpired, by, now, "no response by the deadline; kept (on_no_response keep)"), nil
	}
	return it.event(ActionReviewKept, by, now, "kept"), nil
}

// BeginRemove records by's decision to remove the membership and the intent to do it, held
// until now+lease. It returns ECONFLICT when the item is no longer pending.
func (it *ReviewItem) BeginRemove(by Actor, now time.Time, lease time.Duration) (AuditEvent, error) {
	if it.Status != ReviewPending {
		return AuditEvent{}, it.conflict()
	}
	it.Status, it.LeaseUntil = ReviewRemoving, now.Add(lease)
	it.Decision = &ReviewDecision{By: by, At: now}
	if by.Kind != ActorUser {
		return it.event(ActionReviewExpired, by, now, "no response by the deadline; removing (on_no_response remove)"), nil
	}
	return it.event(ActionReviewRemoving, by, now, "removal asked"), nil
}

// Renew extends the lease of a removal whose lease is over, so one pass retries it. It returns
// ECONFLICT when the item is not removing or its lease still runs.
func (it *ReviewItem) Renew(now time.Time, lease time.Duration) error {
	if it.Status != ReviewRemoving || it.LeaseUntil.After(now) {
		return Errorf(ECONFLICT, "The removal of %s from %s is not due for a retry.", it.Member(), it.Group)
	}
	it.LeaseUntil = now.Add(lease)
	return nil
}

// FinishRemove records the outcome of the removal: removed, or refused by a guard with why.
// It returns ECONFLICT when the item is not removing.
func (it *ReviewItem) FinishRemove(removed bool, why string, now time.Time) (AuditEvent, error) {
	if it.Status != ReviewRemoving {
		return AuditEvent{}, Errorf(ECONFLICT, "The review of %s in %s is %s, not being removed.", it.Member(), it.Group, it.Status)
	}
	it.LeaseUntil, it.EndedAt, it.Note = time.Time{}, now, why
	by := SystemActor
	if it.Decision != nil {
		by = it.Decision.By
	}
	if removed {
		it.Status = ReviewRemoved
		detail := "removed from " + it.Group
		if why != "" {
			detail += " (" + why + ")"
		}
		return it.event(ActionReviewRemoved, by, now, detail), nil
	}
	it.Status = ReviewRefused
	return it.event(ActionReviewRefused, by, now, "removal refused: "+why), nil
}

// Review returns the review with the given name, or nil.
func (p *Policy) Review(name string) *Review {
	for i := range p.Reviews {
		if p.Reviews[i].Name == name {
			return &p.Reviews[i]
		}
	}
	return nil
}

// deadline returns the review's deadline, DefaultReviewDeadline when not set.
func (r *Review) deadline() time.Duration {
	if r.Deadline > 0 {
		return r.Deadline
	}
	return DefaultReviewDeadline
}

// onNoResponse returns keep or remove, keep when not set.
func (r *Review) onNoResponse() string {
	if r.OnNoResponse == ReviewOnNoResponseRemove {
		return ReviewOnNoResponseRemove
	}
	return ReviewOnNoResponseKeep
}
