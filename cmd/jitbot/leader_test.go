package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

// replica is one leadership campaigning in a test; its work counts how many replicas work at once.
type replica struct {
	l      *leadership
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	events []bool
}

func startReplica(t *testing.T, srv *etcdtest.Server, id string, ttl time.Duration, working *atomic.Int32, overlap *atomic.Bool) *replica {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	r := &replica{done: make(chan struct{})}
	r.l = &leadership{cli: cli, key: "/test/leader/", ttl: ttl, id: id, log: zerolog.Nop(), gauge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"})}
	r.l.changed = func(leading bool, _ string) {
		r.mu.Lock()
		r.events = append(r.events, leading)
		r.mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		_ = r.l.run(ctx, func(ctx context.Context) error {
			if working.Add(1) > 1 {
				overlap.Store(true)
			}
			<-ctx.Done()
			working.Add(-1)
			return ctx.Err()
		})
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// waitFor polls cond for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLeadership_oneLeaderAndHandover(t *testing.T) {
	srv := etcdtest.Start(t)
	var working atomic.Int32
	var overlap atomic.Bool
	rs := []*replica{
		startReplica(t, srv, "a", 2*time.Second, &working, &overlap),
		startReplica(t, srv, "b", 2*time.Second, &working, &overlap),
		startReplica(t, srv, "c", 2*time.Second, &working, &overlap),
	}
	leader := func() *replica {
		var l *replica
		for _, r := range rs {
			if r.l.Leading() {
				l = r
			}
		}
		return l
	}
	for round := range 2 {
		waitFor(t, 10*time.Second, "no replica leads", func() bool { return leader() != nil })
		l := leader()
		l.cancel()
		<-l.done
		if l.l.Leading() {
			t.Fatalf("round %d: a stopped replica still leads", round)
		}
		rest := rs[:0:0]
		for _, r := range rs {
			if r != l {
				rest = append(rest, r)
			}
		}
		rs = rest
	}
	waitFor(t, 10*time.Second, "the last replica does not lead", func() bool { return leader() != nil })
	if overlap.Load() {
		t.Fatal("two replicas did the leader's work at once")
	}
}

// TestLeadership_stopsWhenEtcdIsLost: a leader cut off from etcd stops its work within the
// TTL, before its lease can expire on the server.
func TestLeadership_stopsWhenEtcdIsLost(t *testing.T) {
	srv := etcdtest.Start(t)
	var working atomic.Int32
	var overlap atomic.Bool
	r := startReplica(t, srv, "a", 2*time.Second, &working, &overlap)
	waitFor(t, 10*time.Second, "the replica does not lead", r.l.Leading)
	lost := time.Now()
	srv.Stop()
	waitFor(t, 5*time.Second, "the leader keeps working without etcd", func() bool { return working.Load() == 0 })
	if d := time.Since(lost); d > 2*time.Second {
		t.Errorf("work stopped %s after etcd was lost; the TTL is 2s", d)
	}
	if r.l.Leading() {
		t.Fatal("still reports leading")
	}
}

// TestRunLocks: a rule held by one replica is refused to another until it lets go, and a
// replica that closes (or dies) lets go of what it held.
func TestRunLocks(t *testing.T) {
	srv := etcdtest.Start(t)
	newLocks := func() *runLocks {
		cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: time.Second, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cli.Close() })
		return &runLocks{cli: cli, prefix: "/locks/", ttl: 2 * time.Second}
	}
	a, b := newLocks(), newLocks()
	ctx := context.Background()
	release, err := a.hold(ctx, "sync/engineering")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.hold(ctx, "sync/engineering"); err == nil {
		t.Fatal("two replicas hold one rule")
	}
	other, err := b.hold(ctx, "sync/other")
	if err != nil {
		t.Fatalf("another rule: %v", err)
	}
	other()
	release()
	again, err := b.hold(ctx, "sync/engineering")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	_ = again
	b.close() // as a replica that stops mid-run
	if _, err := a.hold(ctx, "sync/engineering"); err != nil {
		t.Fatalf("after the holder closed: %v", err)
	}
}
