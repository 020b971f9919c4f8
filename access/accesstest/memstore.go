package accesstest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jitbot/jitbot/access"
)

var _ access.Store = (*MemStore)(nil)

// MemStore is an in-memory access.Store. Records are kept as JSON, so every value handed out
// is a deep copy. Update works on a copy of the state and swaps it in only when fn succeeds.
type MemStore struct {
	mu    sync.RWMutex
	st    memState
	key   []byte
	watch memWatchers
}

type memState struct {
	requests  map[string][]byte
	grants    map[string][]byte
	live      memLive // the live indexes (memlive.go)
	bindings  map[string][]byte
	firstSeen map[string][]byte
	runs      map[string][]byte
	reviews   map[string][]byte
	audit     [][]byte
	auditBase []byte // access.ChainBase once events were pruned (memhistory.go)
	box       memBoxes
}

// clone copies the maps; values are never changed in place, only replaced. The audit slice is
// capped so that an append in the copy never writes into the original's array.
func (s memState) clone() memState {
	return memState{
		requests:  maps.Clone(s.requests),
		grants:    maps.Clone(s.grants),
		live:      s.live.clone(),
		bindings:  maps.Clone(s.bindings),
		firstSeen: maps.Clone(s.firstSeen),
		runs:      maps.Clone(s.runs),
		reviews:   maps.Clone(s.reviews),
		audit:     s.audit[:len(s.audit):len(s.audit)],
		auditBase: s.auditBase,
		box:       s.box.clone(),
	}
}

// NewMemStore returns an empty store whose audit chain uses auditKey (plain SHA-256 when empty).
func NewMemStore(auditKey []byte) *MemStore {
	return &MemStore{
		key: auditKey,
		st: memState{
			requests: map[string][]byte{}, grants: map[string][]byte{}, bindings: map[string][]byte{},
			firstSeen: map[string][]byte{}, runs: map[string][]byte{}, reviews: map[string][]byte{},
			live: newMemLive(),
		},
	}
}

// Update runs fn on a copy of the state and keeps the copy only when fn returns nil.
func (m *MemStore) Update(ctx context.Context, fn func(access.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store update: %w", err)
	}
	note, counts, err := m.update(fn)
	if err != nil {
		return err
	}
	m.committed(note, counts)
	for _, hook := range note.onCommit {
		hook()
	}
	return nil
}

// OnCommit runs fn after the update commits, never when it is rolled back: fakes that stand
// for transactional writes (accesstest.Notices, for the outbox) record through it.
func (t *memTx) OnCommit(fn func()) { t.note.onCommit = append(t.note.onCommit, fn) }

// update runs fn under the lock and returns what the commit tells the watchers.
func (m *MemStore) update(fn func(access.Tx) error) (memNote, *access.LiveCounts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	work := m.st.clone()
	tx := &memTx{st: &work, key: m.key, writable: true}
	if err := fn(tx); err != nil {
		return memNote{}, nil, err
	}
	m.st = work
	if !tx.note.counts {
		return tx.note, nil, nil
	}
	lc := work.live.counts()
	return tx.note, &lc, nil
}

// View runs fn on the current state; writes fail.
func (m *MemStore) View(ctx context.Context, fn func(access.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store view: %w", err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(&memTx{st: &m.st, key: m.key})
}

// AuditLen returns the number of audit events stored.
func (m *MemStore) AuditLen() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.st.audit)
}

type memTx struct {
	st       *memState
	key      []byte
	writable bool
	note     memNote // what the commit tells watchers
}

func (t *memTx) checkWritable(op string) error {
	if !t.writable {
		return fmt.Errorf("%s: transaction is read-only", op)
	}
	return nil
}

func memDecode[T any](data []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, err
	}
	return v, nil
}

func (t *memTx) Request(id string) (*access.Request, error) {
	data, ok := t.st.requests[id]
	if !ok {
		return nil, access.NoRecord("request", id)
	}
	return memDecode[access.Request](data)
}

func (t *memTx) PutRequest(r *access.Request) error {
	if r == nil || r.ID == "" {
		return access.Errorf(access.EINVALID, "A request without an ID cannot be stored.")
	}
	if err := t.checkWritable("put request " + r.ID); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("put request %s: %w", r.ID, err)
	}
	old, _ := t.Request(r.ID)
	t.st.requests[r.ID] = data
	t.indexRequest(old, r)
	return nil
}

func (t *memTx) allRequests() ([]*access.Request, error) {
	var out []*access.Request
	for _, data := range t.st.requests {
		r, err := memDecode[access.Request](data)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *access.Request) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (t *memTx) Requests(f access.RequestFilter) ([]*access.Request, error) {
	all, err := t.allRequests()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(r *access.Request) bool { return !memMatchRequest(r, f) }), nil
}

func memMatchRequest(r *access.Request, f access.RequestFilter) bool {
	return (len(f.Status) == 0 || slices.Contains(f.Status, r.Status)) &&
		(f.Requester == "" || r.Requester.SlackID == f.Requester) &&
		(f.GrantID == "" || r.GrantID == f.GrantID)
}

func (t *memTx) DueRequests(now time.Time, limit int) ([]*access.Request, error) {
	all, err := t.allRequests()
	if err != nil {
		return nil, err
	}
	due := slices.DeleteFunc(all, func(r *access.Request) bool {
		return r.Status != access.RequestPending || r.PendingUntil.After(now)
	})
	slices.SortStableFunc(due, func(a, b *access.Request) int {
		return cmp.Or(a.PendingUntil.Compare(b.PendingUntil), cmp.Compare(a.ID, b.ID))
	})
	return memTruncate(due, limit), nil
}

func memTruncate[T any](s []T, limit int) []T {
	if limit > 0 && len(s) > limit {
		return s[:limit]
	}
	return s
}

func (t *memTx) Grant(id string) (*access.Grant, error) {
	data, ok := t.st.grants[id]
	if !ok {
		return nil, access.NoRecord("grant", id)
	}
	return memDecode[access.Grant](data)
}

func (t *memTx) PutGrant(g *access.Grant) error {
	if g == nil || g.ID == "" {
		return access.Errorf(access.EINVALID, "A grant without an ID cannot be stored.")
	}
	if err := t.checkWritable("put grant " + g.ID); err != nil {
		return err
	}
	data, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("put grant %s: %w", g.ID, err)
	}
	old, _ := t.Grant(g.ID)
	t.st.grants[g.ID] = data
	t.indexGrant(old, g)
	return nil
}

func (t *memTx) allGrants() ([]*access.Grant, error) {
	var out []*access.Grant
	for _, data := range t.st.grants {
		g, err := memDecode[access.Grant](data)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *access.Grant) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (t *memTx) Grants(f access.GrantFilter) ([]*access.Grant, error) {
	all, err := t.allGrants()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(g *access.Grant) bool { return !memMatchGrant(g, f) }), nil
}

func memMatchGrant(g *access.Grant, f access.GrantFilter) bool {
	return (len(f.Status) == 0 || slices.Contains(f.Status, g.Status)) &&
		(f.AccountID == "" || g.Account.ID == f.AccountID) &&
		(f.Holder == "" || g.Holder.SlackID == f.Holder) &&
		(f.Role == "" || strings.EqualFold(g.Role, f.Role))
}

func (t *memTx) DueGrants(now time.Time, limit int) ([]*access.Grant, error) {
	all, err := t.allGrants()
	if err != nil {
		return nil, err
	}
	due := slices.DeleteFunc(all, func(g *access.Grant) bool {
		d := g.Due()
		return d.IsZero() || d.After(now)
	})
	slices.SortStableFunc(due, func(a, b *access.Grant) int {
		return cmp.Or(a.Due().Compare(b.Due()), cmp.Compare(a.ID, b.ID))
	})
	return memTruncate(due, limit), nil
}

func (t *memTx) AppendAudit(e *access.AuditEvent) error {
	if err := t.checkWritable("append audit " + string(e.Action)); err != nil {
		return err
	}
	prev, seq := "", uint64(0)
	if n := len(t.st.audit); n > 0 {
		last, err := memDecode[access.AuditEvent](t.st.audit[n-1])
		if err != nil {
			return fmt.Errorf("append audit %s: %w", e.Action, err)
		}
		prev, seq = last.Hash, last.Seq
	} else if base, err := t.AuditBase(); err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	} else if base != nil {
		prev, seq = base.Hash, base.Seq
	}
	e.Seq = seq + 1
	e.Seal(prev, t.key)
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	t.st.audit = append(t.st.audit, data)
	return nil
}

func (t *memTx) AuditEvents(f access.AuditFilter) ([]access.AuditEvent, error) {
	var out []access.AuditEvent
	for i := len(t.st.audit) - 1; i >= 0 && (f.Limit <= 0 || len(out) < f.Limit); i-- {
		e, err := memDecode[access.AuditEvent](t.st.audit[i])
		if err != nil {
			return nil, err
		}
		if (f.Since.IsZero() || !e.Time.Before(f.Since)) &&
			(f.Subject == "" || e.Subject == f.Subject) &&
			(f.Member == "" || strings.EqualFold(e.Member, f.Member)) &&
			(f.Role == "" || strings.EqualFold(e.Role, f.Role)) &&
			(f.Actor == "" || e.Actor.String() == f.Actor) {
			out = append(out, *e)
		}
	}
	slices.Reverse(out)
	return out, nil
}

func (t *memTx) Binding(slackID string) (*access.Binding, error) {
	data, ok := t.st.bindings[slackID]
	if !ok {
		return nil, access.Errorf(access.ENOTFOUND, "Slack user %s is not bound to an Atlassian account yet.", slackID)
	}
	return memDecode[access.Binding](data)
}

func (t *memTx) PutBinding(b *access.Binding) error {
	if b == nil || b.SlackID == "" {
		return access.Errorf(access.EINVALID, "A binding without a Slack user ID cannot be stored.")
	}
	if err := t.checkWritable("put binding " + b.SlackID); err != nil {
		return err
	}
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("put binding %s: %w", b.SlackID, err)
	}
	t.st.bindings[b.SlackID] = data
	return nil
}

func (t *memTx) FirstSeen(sweep string) (map[string]time.Time, error) {
	seen := map[string]time.Time{}
	if data, ok := t.st.firstSeen[sweep]; ok {
		if err := json.Unmarshal(data, &seen); err != nil {
			return nil, fmt.Errorf("get first seen %s: %w", sweep, err)
		}
	}
	return seen, nil
}

func (t *memTx) PutFirstSeen(sweep string, seen map[string]time.Time) error {
	if sweep == "" {
		return access.Errorf(access.EINVALID, "First-seen times need a sweep name.")
	}
	if err := t.checkWritable("put first seen " + sweep); err != nil {
		return err
	}
	if len(seen) == 0 {
		delete(t.st.firstSeen, sweep)
		return nil
	}
	data, err := json.Marshal(seen)
	if err != nil {
		return fmt.Errorf("put first seen %s: %w", sweep, err)
	}
	t.st.firstSeen[sweep] = data
	return nil
}

func (t *memTx) PutRun(r *access.Run) error {
	if r == nil || r.ID == "" {
		return access.Errorf(access.EINVALID, "A run without an ID cannot be stored.")
	}
	if err := t.checkWritable("put run " + r.ID); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("put run %s: %w", r.ID, err)
	}
	t.st.runs[r.ID] = data
	return nil
}

func (t *memTx) Runs(name string, limit int) ([]*access.Run, error) {
	var out []*access.Run
	for _, data := range t.st.runs {
		r, err := memDecode[access.Run](data)
		if err != nil {
			return nil, err
		}
		if name == "" || r.Name == name {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *access.Run) int {
		return cmp.Or(b.Started.Compare(a.Started), cmp.Compare(b.ID, a.ID))
	})
	return memTruncate(out, limit), nil
}

func (t *memTx) PruneRuns(before time.Time) (int, error) {
	if err := t.checkWritable("prune runs"); err != nil {
		return 0, err
	}
	var old []*access.Run
	for _, data := range t.st.runs {
		r, err := memDecode[access.Run](data)
		if err != nil {
			return 0, err
		}
		if r.Started.Before(before) {
			old = append(old, r)
		}
	}
	slices.SortFunc(old, func(a, b *access.Run) int { return cmp.Or(a.Started.Compare(b.Started), cmp.Compare(a.ID, b.ID)) })
	old = old[:min(len(old), access.PruneBatch)]
	for _, r := range old {
		delete(t.st.runs, r.ID)
	}
	return len(old), nil
}
