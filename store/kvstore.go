package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jitbot/jitbot/access"
)

var _ access.Store = (*KVStore)(nil)

// KVStore is the access.Store of any Backend: the same records, indexes and audit chain as
// DB, written through the same transaction code.
type KVStore struct {
	backend Backend
	key     []byte
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
	return s.backend.Update(ctx, func(k KV) error { return fn(&tx{kv: k, key: s.key}) })
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

// ExportAudit calls fn for every event at or after since, oldest first, as DB.ExportAudit does.
func (s *KVStore) ExportAudit(ctx context.Context, since time.Time, fn func(access.AuditEvent) error) error {
	return s.backend.View(ctx, func(k KV) error {
		return (&tx{kv: k, key: s.key}).exportAudit(since, fn)
	})
}

// SchemaVersion is the bucket layout this code reads and writes; a backend refuses data
// written with a newer one.
func SchemaVersion() uint64 { return schemaVersion }
