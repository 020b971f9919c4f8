package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jitbot/jitbot/access"
)

var _ access.Watcher = (*DB)(nil)

// liveEntry is the value of a live_grants key: what GrantFilter looks at, so a filter by
// holder, role or status decodes only the grants it returns.
func liveEntry(g *access.Grant) []byte {
	return []byte(string(g.Status) + "\x00" + g.Holder.SlackID + "\x00" + g.Role)
}

// matchLiveEntry reports whether a live_grants value may match f (the account is in the key).
func matchLiveEntry(v []byte, f access.GrantFilter) bool {
	parts := bytes.SplitN(v, []byte{0}, 3)
	if len(parts) != 3 {
		return true // let the record decide
	}
	return (len(f.Status) == 0 || slices.Contains(f.Status, access.GrantStatus(parts[0]))) &&
		(f.Holder == "" || string(parts[1]) == f.Holder) &&
		(f.Role == "" || strings.EqualFold(string(parts[2]), f.Role))
}

func grantCountKey(s access.GrantStatus) []byte { return []byte("grants/" + string(s)) }

var keyPendingCount = []byte("pending")

// commitNote gathers, during one transaction, what its commit tells the watchers.
type commitNote struct {
	due    time.Time
	counts bool
	outbox bool // an item was put in the outbox
}

func (n *commitNote) noteDue(at time.Time) {
	if !at.IsZero() && (n.due.IsZero() || at.Before(n.due)) {
		n.due = at
	}
}

// indexGrant moves g's live_grants entry and counters from old (nil when new) to g.
func (t *tx) indexGrant(old, g *access.Grant) error {
	live, err := t.bucket(bucketLiveGrants)
	if err != nil {
		return err
	}
	if old != nil && !old.Ended() {
		if err := live.Delete(accountKey(old.Account.ID, old.ID)); err != nil {
			return err
		}
	}
	if !g.Ended() {
		if err := live.Put(accountKey(g.Account.ID, g.ID), liveEntry(g)); err != nil {
			return err
		}
	}
	var was, is access.GrantStatus
	if old != nil && !old.Ended() {
		was = old.Status
	}
	if !g.Ended() {
		is = g.Status
	}
	if was != is {
		if was != "" {
			if err := t.addCount(grantCountKey(was), -1); err != nil {
				return err
			}
		}
		if is != "" {
			if err := t.addCount(grantCountKey(is), 1); err != nil {
				return err
			}
		}
	}
	t.note.noteDue(g.Due())
	return nil
}

// indexRequest moves r's pending_requests entry and counter from old (nil when new) to r.
func (t *tx) indexRequest(old, r *access.Request) error {
	pending, err := t.bucket(bucketPendingReqs)
	if err != nil {
		return err
	}
	wasPending := old != nil && old.Status == access.RequestPending
	isPending := r.Status == access.RequestPending
	if wasPending {
		if err := pending.Delete(pendingKey(old)); err != nil {
			return err
		}
	}
	if isPending {
		if err := pending.Put(pendingKey(r), nil); err != nil {
			return err
		}
		t.note.noteDue(r.PendingUntil)
	}
	switch {
	case wasPending && !isPending:
		return t.addCount(keyPendingCount, -1)
	case isPending && !wasPending:
		return t.addCount(keyPendingCount, 1)
	}
	return nil
}

func pendingKey(r *access.Request) []byte {
	return append(append([]byte(r.Requester.SlackID), 0), r.ID...)
}

func (t *tx) addCount(k []byte, delta int64) error {
	b, err := t.bucket(bucketLiveCounts)
	if err != nil {
		return err
	}
	n := int64(0)
	if v := b.Get(k); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += delta
	if n < 0 {
		return fmt.Errorf("%w: live count %s would go below zero", ErrCorrupt, k)
	}
	t.note.counts = true
	return b.Put(k, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

// LiveGrants returns the grants not yet ended matching f, oldest first. It reads the
// live_grants index (one account's prefix when f.AccountID is set): O(live).
func (t *tx) LiveGrants(f access.GrantFilter) ([]*access.Grant, error) {
	live, err := t.bucket(bucketLiveGrants)
	if err != nil {
		return nil, fmt.Errorf("live grants: %w", err)
	}
	var out []*access.Grant
	c := live.Cursor()
	var prefix []byte
	if f.AccountID != "" {
		prefix = accountPrefix(f.AccountID)
	}
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if !matchLiveEntry(v, f) {
			continue
		}
		i := bytes.IndexByte(k, 0)
		g, err := t.Grant(string(k[i+1:]))
		if err != nil {
			return nil, fmt.Errorf("live grants: %w", err)
		}
		if matchGrant(g, f) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b *access.Grant) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// PendingRequests returns the pending requests matching f, oldest first, from the
// pending_requests index (one requester's prefix when f.Requester is set): O(pending).
func (t *tx) PendingRequests(f access.RequestFilter) ([]*access.Request, error) {
	pending, err := t.bucket(bucketPendingReqs)
	if err != nil {
		return nil, fmt.Errorf("pending requests: %w", err)
	}
	var out []*access.Request
	var prefix []byte
	if f.Requester != "" {
		prefix = append([]byte(f.Requester), 0)
	}
	c := pending.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		i := bytes.IndexByte(k, 0)
		r, err := t.Request(string(k[i+1:]))
		if err != nil {
			return nil, fmt.Errorf("pending requests: %w", err)
		}
		if matchRequest(r, f) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *access.Request) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// LiveCounts reads the live_counts counters.
func (t *tx) LiveCounts() (access.LiveCounts, error) {
	b, err := t.bucket(bucketLiveCounts)
	if err != nil {
		return access.LiveCounts{}, fmt.Errorf("live counts: %w", err)
	}
	out := access.LiveCounts{Grants: map[access.GrantStatus]int{}}
	for _, s := range access.LiveStatuses {
		if v := b.Get(grantCountKey(s)); len(v) == 8 && binary.BigEndian.Uint64(v) > 0 {
			out.Grants[s] = int(binary.BigEndian.Uint64(v))
		}
	}
	if v := b.Get(keyPendingCount); len(v) == 8 {
		out.Pending = int(binary.BigEndian.Uint64(v))
	}
	return out, nil
}

// NextDue returns the earliest key time of the due indexes, or zero: three cursor reads.
func (t *tx) NextDue() (time.Time, error) {
	var next time.Time
	for _, name := range [][]byte{bucketDueGrants, bucketDueRequests, bucketDueReviews} {
		b, err := t.bucket(name)
		if err != nil {
			return time.Time{}, fmt.Errorf("next due: %w", err)
		}
		k, _ := b.Cursor().First()
		if k == nil {
			continue
		}
		at := time.Unix(0, int64(keyNanos(k))).UTC()
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next, nil
}

// watchers are the functions Watch registered.
type watchers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(access.Commit)
}

// buildLive fills the live indexes and counters from the records (migration to version 2).
func buildLive(btx *bolt.Tx) error {
	t := &tx{kv: boltKV{btx}}
	grants, err := t.bucket(bucketGrants)
	if err != nil {
		return err
	}
	err = eachJSON(grants, func(g *access.Grant) error {
		return t.indexGrant(nil, g)
	})
	if err != nil {
		return fmt.Errorf("index live grants: %w", err)
	}
	requests, err := t.bucket(bucketRequests)
	if err != nil {
		return err
	}
	err = eachJSON(requests, func(r *access.Request) error {
		return t.indexRequest(nil, r)
	})
	if err != nil {
		return fmt.Errorf("index pending requests: %w", err)
	}
	return nil
}
