package access

import (
	"context"
	"crypto/hmac"
	"fmt"
	"strings"
	"time"
)

// History retention: grants, requests and review items that ended, and the audit events older
// than the retention, are removed (Tx.PruneHistory), so the store does not grow with history.

// MinHistoryRetention is the shortest history retention jitbot accepts. The policy's limits look
// back at most this far (limits.break_glass_per_day counts the break-glass grants created in the
// last 24 h, and a grant is created before it ends), and so does the daily digest.
const MinHistoryRetention = 24 * time.Hour

// DefaultHistoryRetention keeps history for over a year, so an annual audit finds the whole
// year in jitbot (Atlassian's own audit log keeps 180 days on standard plans).
const DefaultHistoryRetention = 400 * 24 * time.Hour

// HistoryBatch bounds one Tx.PruneHistory: it deletes at most this many keys, counted as a grant
// 3 (its record, account index and history index entries), a request 2, a review item 3 and an
// audit event 1. With the chain base, the history.pruned event and its chain head that stays
// under etcd's 128 operations a transaction.
const HistoryBatch = 96

// Costs of the records of HistoryBatch.
const (
	HistoryCostGrant   = 3
	HistoryCostRequest = 2
	HistoryCostReview  = 3
	HistoryCostEvent   = 1
)

// HistoryPruned is what a prune of history removed.
type HistoryPruned struct {
	Grants      int       `json:"grants"`
	Requests    int       `json:"requests"`
	ReviewItems int       `json:"review_items"`
	Events      int       `json:"events"`
	FirstSeq    uint64    `json:"first_seq,omitempty"` // the audit events removed, when Events > 0
	LastSeq     uint64    `json:"last_seq,omitempty"`
	Until       time.Time `json:"until,omitempty"` // the latest end (or event time) among what was removed
	// More says the call stopped at HistoryBatch with more to remove: call again, in a new
	// transaction.
	More bool `json:"more,omitempty"`
}

// Removed is how many records and events p removed.
func (p HistoryPruned) Removed() int { return p.Grants + p.Requests + p.ReviewItems + p.Events }

// Cost is p's count of keys as HistoryBatch counts them.
func (p HistoryPruned) Cost() int {
	return p.Grants*HistoryCostGrant + p.Requests*HistoryCostRequest + p.ReviewItems*HistoryCostReview + p.Events*HistoryCostEvent
}

// Add counts q, a later prune, into p.
func (p *HistoryPruned) Add(q HistoryPruned) {
	p.Grants += q.Grants
	p.Requests += q.Requests
	p.ReviewItems += q.ReviewItems
	p.Events += q.Events
	if q.Events > 0 {
		if p.FirstSeq == 0 {
			p.FirstSeq = q.FirstSeq
		}
		p.LastSeq = q.LastSeq
	}
	if q.Until.After(p.Until) {
		p.Until = q.Until
	}
}

// Note records that it removed something ending at at.
func (p *HistoryPruned) Note(at time.Time) {
	if at.After(p.Until) {
		p.Until = at
	}
}

// NoteEvent records the removal of audit event e.
func (p *HistoryPruned) NoteEvent(e AuditEvent) {
	if p.Events == 0 {
		p.FirstSeq = e.Seq
	}
	p.Events++
	p.LastSeq = e.Seq
	p.Note(e.Time)
}

// HistoryEnd is when g ended for the history retention, or zero while it is live.
func (g *Grant) HistoryEnd() time.Time {
	if !g.Ended() {
		return time.Time{}
	}
	return firstSet(g.EndedAt, g.CreatedAt)
}

// HistoryEnd is when r was decided (approved, denied, cancelled or expired), or zero while it
// is pending. A request with a grant (HistoryGrant) is kept at least as long as that grant.
func (r *Request) HistoryEnd() time.Time {
	if r.Status == RequestPending {
		return time.Time{}
	}
	if r.Decision != nil {
		return firstSet(r.Decision.At, r.CreatedAt)
	}
	return r.CreatedAt
}

// HistoryGrant is the grant r is kept with: the grant an extension request is about, or the
// grant an approved access request became (same ID). Empty for requests without one.
func (r *Request) HistoryGrant() string {
	switch {
	case r.Kind == KindExtend:
		return r.GrantID
	case r.Status == RequestApproved:
		return r.ID
	}
	return ""
}

// HistoryEnd is when it was decided for good (kept, removed or refused), but not before its
// review's deadline, or zero while open. An item decided early is kept at least as long as
// the review's last item (decided at the latest at the deadline), so a retention shorter than
// the review's deadline never leaves the review's summary without it.
func (it *ReviewItem) HistoryEnd() time.Time {
	if it.Open() {
		return time.Time{}
	}
	end := firstSet(it.EndedAt, it.CreatedAt)
	if it.Decision != nil {
		end = firstSet(it.EndedAt, it.Decision.At, it.CreatedAt)
	}
	if it.Deadline.After(end) {
		return it.Deadline
	}
	return end
}

func firstSet(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// NoRecord is the ENOTFOUND error of a lookup of a request, grant or review item that is not
// stored: a wrong ID, or one that ended longer ago than the history retention and was removed.
func NoRecord(kind, id string) *Error {
	return Errorf(ENOTFOUND, "There is no %s %s: the ID is wrong, or it ended longer ago than jitbot keeps history (its history retention) and was removed. Nothing changed.", kind, id)
}

// ChainBase is where the audit chain starts once its oldest events were removed by the history
// retention: the sequence number, hash and time of the last event removed, sealed under the
// audit key. The first remaining event must follow it.
type ChainBase struct {
	Seq  uint64    `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
	Seal string    `json:"seal"`
}

// NewChainBase returns the base after removing the events up to seq, the last of which had hash
// and time at, sealed with key (plain SHA-256 without one: then anyone can rewrite it).
func NewChainBase(seq uint64, hash string, at time.Time, key []byte) ChainBase {
	b := ChainBase{Seq: seq, Hash: hash, Time: at.UTC()}
	b.Seal = b.seal(key)
	return b
}

func (b ChainBase) seal(key []byte) string {
	// Another message than the head's, so a head record cannot pass for a base.
	return chainMAC([]byte("jitbot audit base "+uitoa(b.Seq)+" "+b.Hash+" "+b.Time.UTC().Format(time.RFC3339Nano)), key)
}

// Check returns a break unless b's seal holds under key.
func (b ChainBase) Check(key []byte) *ChainBreak {
	if !hmac.Equal([]byte(b.Seal), []byte(b.seal(key))) {
		return &ChainBreak{Seq: b.Seq + 1, Reason: "the chain's base record (where it starts after pruning) does not match its seal (edited, or wrong audit key)"}
	}
	return nil
}

// VerifyChainFrom is VerifyChain for a chain whose events up to base were pruned: the first event
// must be base.Seq+1 and link to base.Hash, and the base's seal must hold. With a nil base the
// first event must be event 1.
func VerifyChainFrom(base *ChainBase, events []AuditEvent, key []byte) *ChainBreak {
	w, brk := NewChainWalk(base, key)
	if brk != nil {
		return brk
	}
	for _, e := range events {
		if brk := w.Next(e); brk != nil {
			return brk
		}
	}
	return nil
}

// PruneHistory removes what ended more than retention before now: revoked grants, decided
// requests (kept as long as their grant), decided review items, and the audit events older than
// that from the front of the chain. It works in transactions of at most HistoryBatch keys, so a
// bounded store (etcd) takes each, and appends to each transaction that removed anything a
// history.pruned audit event saying what it removed, so the removal is on the record. It
// returns the totals. Live grants, pending requests and open review items are never removed.
func PruneHistory(ctx context.Context, st Store, now time.Time, retention time.Duration) (HistoryPruned, error) {
	before := now.Add(-retention)
	var total HistoryPruned
	for {
		var p HistoryPruned
		err := st.Update(ctx, func(tx Tx) (err error) {
			p, err = tx.PruneHistory(before)
			if err != nil || p.Removed() == 0 {
				return err
			}
			ev := p.event(now, before, retention)
			return tx.AppendAudit(&ev)
		})
		if err != nil {
			return total, fmt.Errorf("prune history ended before %s: %w", before.UTC().Format(time.RFC3339), err)
		}
		total.Add(p)
		if !p.More || p.Removed() == 0 {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("prune history: %w", err)
		}
	}
}

// event is the history.pruned audit event of p.
func (p HistoryPruned) event(now, before time.Time, retention time.Duration) AuditEvent {
	var parts []string
	parts = append(parts, fmt.Sprintf("%d grants, %d requests, %d review items", p.Grants, p.Requests, p.ReviewItems))
	if p.Events > 0 {
		parts = append(parts, fmt.Sprintf("audit events %d to %d (the chain now starts at event %d)", p.FirstSeq, p.LastSeq, p.LastSeq+1))
	} else {
		parts = append(parts, "no audit events")
	}
	detail := fmt.Sprintf("history retention %s: removed %s, all ended before %s (the latest at %s)",
		FormatDuration(retention), strings.Join(parts, "; "), before.UTC().Format(time.RFC3339), p.Until.UTC().Format(time.RFC3339))
	return AuditEvent{Time: now, Action: ActionHistoryPruned, Actor: SystemActor, Subject: "history", Detail: detail}
}
