package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// leadership runs the work only one replica may do at a time (the sweeper, scheduled jobs)
// while this replica holds the etcd election under key; with no client (bbolt: one process)
// this replica always leads.
type leadership struct {
	cli     *clientv3.Client // nil: always lead
	key     string
	ttl     time.Duration
	id      string
	log     zerolog.Logger
	gauge   prometheus.Gauge
	leading atomic.Bool
	// changed is told when this replica starts (true) or stops (false) leading.
	changed func(leading bool, why string)
}

// replicaID names this replica in the election and in logs: host name and process ID.
func replicaID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

func newLeaderGauge(reg *prometheus.Registry) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "jitbot_leader", Help: "1 while this replica leads: runs the sweeper and scheduled jobs."})
	reg.MustRegister(g)
	return g
}

// Leading says whether this replica leads now.
func (l *leadership) Leading() bool { return l.leading.Load() }

func (l *leadership) set(leading bool, why string) {
	l.leading.Store(leading)
	if leading {
		l.gauge.Set(1)
	} else {
		l.gauge.Set(0)
	}
	if l.changed != nil {
		l.changed(leading, why)
	}
}

// run does work whenever this replica leads, until ctx ends. work gets a context that is
// cancelled the moment leadership is lost.
func (l *leadership) run(ctx context.Context, work func(ctx context.Context) error) error {
	if l.cli == nil {
		l.set(true, "single replica (bbolt)")
		err := work(ctx)
		l.set(false, "stopping")
		return err
	}
	for ctx.Err() == nil {
		err := l.term(ctx, work)
		if ctx.Err() != nil {
			break
		}
		l.log.Warn().Err(err).Msg("leader election: trying again")
		select {
		case <-ctx.Done():
		case <-time.After(min(l.ttl/4, time.Second)):
		}
	}
	return nil
}

// term campaigns with a fresh lease, does work while the lease holds, and resigns.
func (l *leadership) term(ctx context.Context, work func(ctx context.Context) error) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lease, err := l.cli.Grant(lctx, int64(math.Ceil(l.ttl.Seconds())))
	if err != nil {
		return fmt.Errorf("grant lease: %w", err)
	}
	ka, err := l.cli.KeepAlive(lctx, lease.ID)
	if err != nil {
		return fmt.Errorf("keep lease alive: %w", err)
	}
	s, err := concurrency.NewSession(l.cli, concurrency.WithLease(lease.ID), concurrency.WithContext(lctx))
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	defer func() {
		// Revoking the lease hands over at once on a clean stop.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer rcancel()
		_, _ = l.cli.Revoke(rctx, lease.ID)
		_ = s.Close()
	}()
	lost := watchLease(lctx, ka, l.ttl)
	go func() {
		select {
		case <-lost:
			cancel()
		case <-lctx.Done():
		}
	}()
	e := concurrency.NewElection(s, l.key)
	if err := e.Campaign(lctx, l.id); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	l.set(true, "elected")
	werr := work(lctx)
	why := "stopping"
	if ctx.Err() == nil {
		select {
		case <-lost:
			why = "lease lost (etcd unreachable for 2/3 of JITBOT_LEADER_TTL)"
		default:
			why = "work ended"
		}
	}
	l.set(false, why)
	if werr != nil && !errors.Is(werr, context.Canceled) {
		return werr
	}
	return errors.New(why)
}

// watchLease closes the returned channel when the lease's keep-alives stop: the channel ends,
// or no answer came for 2/3 of the TTL. A leader stops before its lease can expire on the
// server, so two replicas never lead at once as long as clocks advance at the same rate.
func watchLease(ctx context.Context, ka <-chan *clientv3.LeaseKeepAliveResponse, ttl time.Duration) <-chan struct{} {
	lost := make(chan struct{})
	go func() {
		defer close(lost)
		limit := ttl * 2 / 3
		t := time.NewTimer(limit)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				return
			case resp, ok := <-ka:
				if !ok || resp == nil {
					return
				}
				t.Reset(limit)
			}
		}
	}()
	return lost
}
