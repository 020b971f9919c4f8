package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store/etcdstore"
)

// newLeadership elects among the replicas sharing an etcd prefix; with bbolt the one process
// always leads.
func (a *App) newLeadership() *leadership {
	l := &leadership{ttl: a.cfg.Store.LeaderTTL, id: replicaID(), gauge: newLeaderGauge(a.metrics.reg)}
	l.log = a.log.With().Str("component", "leader").Str("replica", l.id).Logger()
	if e, ok := a.db.(*etcdstore.DB); ok {
		l.cli, l.key = e.Client(), e.Prefix()+"leader/"
	}
	l.changed = func(leading bool, why string) {
		switch {
		case leading:
			l.log.Info().Str("why", why).Msg("this replica leads: it runs the sweeper and scheduled jobs")
		case why == "stopping":
			l.log.Info().Str("why", why).Msg("this replica stopped leading")
		default:
			l.log.Warn().Str("why", why).Msg("this replica stopped leading")
		}
		if l.cli == nil {
			return
		}
		text := fmt.Sprintf("jitbot replica %s now leads: it runs the sweeper and scheduled jobs.", l.id)
		if !leading {
			text = fmt.Sprintf("jitbot replica %s stopped leading (%s); another replica takes over within %s.", l.id, why, a.cfg.Store.LeaderTTL)
		}
		// Told from its own goroutine, so a slow Slack never delays the work or its stop.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := a.db.Update(ctx, func(tx access.Tx) error {
				return a.bot.Notify(ctx, tx, access.Notice{Kind: access.NoticeAudit, Actor: access.SystemActor, Text: text})
			})
			if err != nil {
				l.log.Warn().Err(err).Msg("post leadership change")
			}
		}()
	}
	return l
}

// lead is the work of the leading replica: the revocation sweeper (which first re-drives every
// intent left in flight), the scheduled jobs, with several replicas the delivery of the Slack
// outbox, and once, at its start, sending open review items to reviewers added to the policy
// while this replica was not leading (or jitbot not running). It stops when ctx ends: at once
// when the lease is lost.
func (a *App) lead(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.svc.RunSweeper(ctx, a.cfg.SweepInterval) })
	g.Go(func() error { a.sendOpenReviews(ctx, "when this replica began to lead"); return nil })
	if a.bot != nil && a.runLocks != nil { // several replicas: one delivers the outbox
		g.Go(func() error { a.bot.RunDelivery(ctx); return nil })
	}
	if a.sched != nil {
		g.Go(func() error { return a.sched.run(ctx) })
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
