package main

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// runLocks holds sync rules, sweeps and guard checks across the replicas sharing an etcd
// prefix (access.Engine.Exclusive): one etcd mutex per rule under PREFIX/runs/, on a session
// of this replica, so a replica that dies mid-run lets go within the TTL.
type runLocks struct {
	cli    *clientv3.Client
	prefix string
	ttl    time.Duration

	mu      sync.Mutex
	session *concurrency.Session
}

// current returns the live session, making a new one when there is none or it ended.
func (r *runLocks) current(ctx context.Context) (*concurrency.Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.session != nil {
		select {
		case <-r.session.Done():
			r.session = nil
		default:
			return r.session, nil
		}
	}
	// The session outlives the run that asked for it; Close ends it.
	s, err := concurrency.NewSession(r.cli, concurrency.WithTTL(int(math.Ceil(r.ttl.Seconds()))), concurrency.WithContext(context.WithoutCancel(ctx)))
	if err != nil {
		return nil, err
	}
	r.session = s
	return s, nil
}

// hold takes the rule key for this replica, or fails at once when another holds it.
func (r *runLocks) hold(ctx context.Context, key string) (func(), error) {
	s, err := r.current(ctx)
	if err != nil {
		return nil, fmt.Errorf("hold %s: %w", key, err)
	}
	m := concurrency.NewMutex(s, r.prefix+"runs/"+key)
	if err := m.TryLock(ctx); err != nil {
		return nil, fmt.Errorf("hold %s: %w", key, err)
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = m.Unlock(uctx) // if it fails, the session's lease lets go
	}, nil
}

// close ends the session, letting go of every rule still held.
func (r *runLocks) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.session != nil {
		_ = r.session.Close()
		r.session = nil
	}
}
