package bot

import (
	"context"
	"sync/atomic"

	"github.com/jitbot/jitbot/access"
)

// countingStore is the Service's store with every outbox read counted: how often the delivery
// loop looks at the outbox, whatever the clock.
type countingStore struct {
	access.Store
	reads atomic.Int64 // Tx.Outbox and Tx.OutboxItem calls
}

func (s *countingStore) View(ctx context.Context, fn func(access.Tx) error) error {
	return s.Store.View(ctx, func(tx access.Tx) error { return fn(countingTx{tx, &s.reads}) })
}

func (s *countingStore) Update(ctx context.Context, fn func(access.Tx) error) error {
	return s.Store.Update(ctx, func(tx access.Tx) error { return fn(countingTx{tx, &s.reads}) })
}

// Watch passes the store's commit reports on, when it makes them.
func (s *countingStore) Watch(fn func(access.Commit)) (stop func()) {
	if w, ok := s.Store.(access.Watcher); ok {
		return w.Watch(fn)
	}
	return func() {}
}

type countingTx struct {
	access.Tx
	reads *atomic.Int64
}

func (t countingTx) Outbox(limit int) ([]*access.OutboxItem, error) {
	t.reads.Add(1)
	return t.Tx.Outbox(limit)
}

func (t countingTx) OutboxItem(id uint64) (*access.OutboxItem, error) {
	t.reads.Add(1)
	return t.Tx.OutboxItem(id)
}

// withCountingStore wraps the Service's store in cs.
func withCountingStore(cs *countingStore) harnessOption {
	return func(c *Config) {
		cs.Store = c.Service.Store
		c.Service.Store = cs
	}
}
