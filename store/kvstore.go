package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jitbot/jitbot/access"
)

var (
	_ access.Store   = (*KVStore)(nil)
	_ access.Watcher = (*KVStore)(nil)
)

// KVStore is the access.Store of any Backend: the same records, indexes and audit chain as
// DB, written through the same transaction code.
type KVStore struct {
	backend Backend
	key     []byte
	watch   watchers
}

// NewKVStore returns the store over b whose audit chain uses auditKey (plain SHA-256 when empty).
func NewKVStore(b Backend, auditKey []byte) *KVStore {
	return &KVStore{backend: b, key: auditKey}
}

// Update runs fn in one backend transaction. fn may run more than once when the backend
// retries a conflict; only the last run's writes are kept.
func (s *KVStore) Update(ctx context.Context, fn func(access.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store update: %w", err)
	}
	var (
		last   *tx
		counts *access.LiveCounts
	)
	err := s.backend.Update(ctx, func(k KV) error {
		t := &tx{kv: k, key: s.key}
		last, counts = t, nil
		if err := fn(t); err != nil {
			return err
		}
		if t.note.counts {
			lc, err := t.LiveCounts()
			if err != nil {
				return err
			}
			counts = &lc
		}
		return nil
	})
	if err == nil && last != nil {
		s.watch.tell(last.note, counts)
	}
	return err
}

// Watch calls fn after every committed Update of this store that stored a due time, changed
// a live count or put an item in the outbox, and for every commit its backend reports through Notify.
func (s *KVStore) Watch(fn func(access.Commit)) (stop func()) { return s.watch.add(fn) }

// Notify tells the watchers of a commit made elsewhere (another replica sharing the backend).
func (s *KVStore) Notify(c access.Commit) {
	s.watch.tell(commitNote{due: c.Due, counts: c.Counts != nil, outbox: c.Outbox}, c.Counts)
}

// View runs fn in one read-only backend transaction.
func (s *KVStore) View(ctx context.Context, fn func(access.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store view: %w", err)
	}
	return s.backend.View(ctx, func(k KV) error { return fn(&tx{kv: k, key: s.key}) })
}

// VerifyAudit walks the whole audit chain in one read transaction, as DB.VerifyAudit does.
func (s *KVStore) VerifyAudit(ctx context.Context) (*access.ChainBreak, int, error) {
	var (
		brk *access.ChainBreak
		n   int
	)
	err := s.backend.View(ctx, func(k KV) error {
		var err error
		brk, n, err = (&tx{kv: k, key: s.key}).verifyAudit()
		return err
	})
	return brk, n, err
}

// AuditBase returns where the audit chain starts after the history retention pruned its oldest
// events, or nil when none were pruned.
func (s *KVStore) AuditBase(ctx context.Context) (*access.ChainBase, error) {
	var b *access.ChainBase
	err := s.backend.View(ctx, func(k KV) (err error) {
		b, err = (&tx{kv: k, key: s.key}).AuditBase()
		return err
	})
	return b, err
}

// ExportAudit calls fn for every event at or after since, oldest first, as DB.ExportAudit does.
func (s *KVStore) ExportAudit(ctx context.Context, since time.Time, fn func(access.AuditEvent) error) error {
	return s.backend.View(ctx, func(k KV) error {
		return (&tx{kv: k, key: s.key}).exportAudit(since, fn)
	})
}

// SchemaVersion is the bucket layout this code reads and writes; a backend refuses data
// written with a newer one.
func SchemaVersion() uint64 { return schemaVersion }

func (w *watchers) add(fn func(access.Commit)) (stop func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = map[int]func(access.Commit){}
	}
	id := w.next
	w.next++
	w.fns[id] = fn
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.fns, id)
	}
}

func (w *watchers) tell(n commitNote, counts *access.LiveCounts) {
	if n.due.IsZero() && counts == nil && !n.outbox {
		return
	}
	w.mu.Lock()
	fns := make([]func(access.Commit), 0, len(w.fns))
	for _, fn := range w.fns {
		fns = append(fns, fn)
	}
	w.mu.Unlock()
	for _, fn := range fns {
		fn(access.Commit{Due: n.due, Counts: counts, Outbox: n.outbox})
	}
}
