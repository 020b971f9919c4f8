package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store"
	"github.com/jitbot/jitbot/store/etcdstore"
)

// stateStore is the store a command runs on: one bbolt file, or etcd.
type stateStore interface {
	access.Store
	VerifyAudit(ctx context.Context) (*access.ChainBreak, int, error)
	ExportAudit(ctx context.Context, since time.Time, fn func(access.AuditEvent) error) error
	AuditBase(ctx context.Context) (*access.ChainBase, error)
	Close() error
}

var (
	_ stateStore = boltState{}
	_ stateStore = (*etcdstore.DB)(nil)
)

// boltState is the bbolt store seen as a stateStore.
type boltState struct{ *store.DB }

func (b boltState) VerifyAudit(context.Context) (*access.ChainBreak, int, error) {
	return b.DB.VerifyAudit()
}

func (b boltState) ExportAudit(_ context.Context, since time.Time, fn func(access.AuditEvent) error) error {
	return b.DB.ExportAudit(since, fn)
}

// openState opens the configured store. For bbolt, timeout is how long to wait for another
// process to release the file (0: bbolt's default).
func openState(ctx context.Context, c StoreConfig, auditKey []byte, timeout time.Duration) (stateStore, error) {
	if c.Kind == storeEtcd {
		opts := c.Etcd
		opts.AuditKey, opts.Password = auditKey, c.Password.Reveal()
		db, err := etcdstore.Open(ctx, opts)
		if errors.Is(err, etcdstore.ErrNoSpace) {
			return nil, fmt.Errorf("open store (JITBOT_ETCD_ENDPOINTS, JITBOT_ETCD_PREFIX): %w: the etcd cluster's database reached its quota (the NOSPACE alarm is raised) and etcd refuses every write; jitbot writes every change to the store before it acts, so it does not start on a store it cannot write: compact and defragment etcd (etcdctl compact, etcdctl defrag; raise --quota-backend-bytes if it is simply too small), then clear the alarm with etcdctl alarm disarm", err)
		}
		if err != nil {
			return nil, fmt.Errorf("open store (JITBOT_ETCD_ENDPOINTS, JITBOT_ETCD_PREFIX): %w", err)
		}
		return db, nil
	}
	db, err := store.Open(c.DBPath, store.Options{AuditKey: auditKey, Timeout: timeout})
	if err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return nil, fmt.Errorf("open store (JITBOT_DB_PATH): %w: jitbot writes every change to the store before it acts, so it does not start on a store it cannot write: make %s and its directory writable by the user jitbot runs as (uid %d), or set JITBOT_DB_PATH to a file on a writable volume", err, c.DBPath, os.Getuid())
		}
		return nil, fmt.Errorf("open store (JITBOT_DB_PATH): %w", err)
	}
	return boltState{db}, nil
}
