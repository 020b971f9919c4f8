package accesstest

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jitbot/jitbot/access"
)

var _ access.Watcher = (*MemStore)(nil)

// memLive is MemStore's live indexes: the IDs of grants not ended and of pending requests,
// and the counters. Like the bbolt store's, they change only with the records they index.
type memLive struct {
	grants  map[string]access.GrantStatus // grant ID -> status, grants not ended
	pending map[string]bool               // request IDs of pending requests
	byState map[access.GrantStatus]int
	nPend   int
}

func newMemLive() memLive {
	return memLive{grants: map[string]access.GrantStatus{}, pending: map[string]bool{}, byState: map[access.GrantStatus]int{}}
}

func (l memLive) clone() memLive {
	return memLive{grants: maps.Clone(l.grants), pending: maps.Clone(l.pending), byState: maps.Clone(l.byState), nPend: l.nPend}
}

func (l memLive) counts() access.LiveCounts {
	c := access.LiveCounts{Grants: map[access.GrantStatus]int{}, Pending: l.nPend}
	for s, n := range l.byState {
		if n > 0 {
			c.Grants[s] = n
		}
	}
	return c
}

type memNote struct {
	due      time.Time
	counts   bool
	outbox   bool     // an item was put in the outbox
	onCommit []func() // OnCommit hooks, run once the update is kept
}

func (n *memNote) noteDue(at time.Time) {
	if !at.IsZero() && (n.due.IsZero() || at.Before(n.due)) {
		n.due = at
	}
}

func (t *memTx) indexGrant(old, g *access.Grant) {
	l := &t.st.live
	if old != nil && !old.Ended() {
		delete(l.grants, old.ID)
		l.byState[old.Status]--
		t.note.counts = true
	}
	if !g.Ended() {
		l.grants[g.ID] = g.Status
		l.byState[g.Status]++
		t.note.counts = true
	}
	t.note.noteDue(g.Due())
}

func (t *memTx) indexRequest(old, r *access.Request) {
	l := &t.st.live
	if old != nil && old.Status == access.RequestPending {
		delete(l.pending, old.ID)
		l.nPend--
		t.note.counts = true
	}
	if r.Status == access.RequestPending {
		l.pending[r.ID] = true
		l.nPend++
		t.note.counts = true
		t.note.noteDue(r.PendingUntil)
	}
}

// LiveGrants reads the grants named by the live index.
func (t *memTx) LiveGrants(f access.GrantFilter) ([]*access.Grant, error) {
	var out []*access.Grant
	for id := range t.st.live.grants {
		g, err := t.Grant(id)
		if err != nil {
			return nil, err
		}
		if memMatchGrant(g, f) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b *access.Grant) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// PendingRequests reads the requests named by the pending index.
func (t *memTx) PendingRequests(f access.RequestFilter) ([]*access.Request, error) {
	var out []*access.Request
	for id := range t.st.live.pending {
		r, err := t.Request(id)
		if err != nil {
			return nil, err
		}
		if memMatchRequest(r, f) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *access.Request) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (t *memTx) LiveCounts() (access.LiveCounts, error) { return t.st.live.counts(), nil }

// NextDue scans every record: the fake keeps no due index.
func (t *memTx) NextDue() (time.Time, error) {
	var next time.Time
	consider := func(at time.Time) {
		if !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	gs, err := t.allGrants()
	if err != nil {
		return time.Time{}, err
	}
	for _, g := range gs {
		consider(g.Due())
	}
	rs, err := t.allRequests()
	if err != nil {
		return time.Time{}, err
	}
	for _, r := range rs {
		if r.Status == access.RequestPending {
			consider(r.PendingUntil)
		}
	}
	its, err := t.allReviewItems()
	if err != nil {
		return time.Time{}, err
	}
	for _, it := range its {
		consider(it.Due())
	}
	return next, nil
}

type memWatchers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(access.Commit)
}

// Watch calls fn after every committed Update that stored a due time, changed a live count or
// put an item in the outbox.
func (m *MemStore) Watch(fn func(access.Commit)) (stop func()) {
	m.watch.mu.Lock()
	defer m.watch.mu.Unlock()
	if m.watch.fns == nil {
		m.watch.fns = map[int]func(access.Commit){}
	}
	id := m.watch.next
	m.watch.next++
	m.watch.fns[id] = fn
	return func() {
		m.watch.mu.Lock()
		defer m.watch.mu.Unlock()
		delete(m.watch.fns, id)
	}
}

func (m *MemStore) committed(n memNote, counts *access.LiveCounts) {
	if n.due.IsZero() && counts == nil && !n.outbox {
		return
	}
	m.watch.mu.Lock()
	fns := slices.Collect(maps.Values(m.watch.fns))
	m.watch.mu.Unlock()
	for _, fn := range fns {
		fn(access.Commit{Due: n.due, Counts: counts, Outbox: n.outbox})
	}
}
