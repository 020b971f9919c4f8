package access

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// SweepStats counts what one sweep pass did.
type SweepStats struct {
	Expired  int // pending requests past their timeout
	Warned   int // holders told their grant ends soon
	Driven   int // grants whose provision or revoke intent was driven
	Overdue  int // revocations late by more than OverdueAfter
	Reviews  int // review items past their deadline (on_no_response applied) or removals retried
	Batches  int
	Duration time.Duration
}

// sweepBatch is how many due grants a pass takes at once; their removals are read back
// together, one read per target touched.
const sweepBatch = 500

// Sweep runs one pass: it expires undecided requests, warns holders of grants about to end,
// revokes grants that have ended and retries failed steps. It finds work through the store's due
// indexes, so a pass with nothing due costs one range scan per index. It loops until nothing is
// due (catch-up after downtime), driving at most Workers grants at once; the Provisioner's own
// rate limit throttles the catch-up.
func (s *Service) Sweep(ctx context.Context) (SweepStats, error) {
	start := time.Now()
	var st SweepStats
	now := s.now()
	if err := s.expireRequests(ctx, now, &st); err != nil {
		return st, err
	}
	n, err := s.ExpireReviews(ctx)
	st.Reviews = n
	if err != nil {
		return st, err
	}
	seen := map[string]bool{}
	for {
		var due []*Grant
		if err := s.Store.View(ctx, func(tx Tx) error {
			var err error
			due, err = tx.DueGrants(now, sweepBatch+len(seen))
			return err
		}); err != nil {
			return st, fmt.Errorf("sweep: due grants: %w", err)
		}
		var work []*Grant
		for _, g := range due {
			if !seen[g.ID] {
				seen[g.ID] = true
				work = append(work, g)
			}
		}
		if len(work) == 0 {
			break
		}
		st.Batches++
		s.sweepBatch(ctx, now, work, &st)
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
	}
	st.Overdue = s.overdueCount()
	s.observer().Overdue(st.Overdue)
	st.Duration = time.Since(start)
	return st, nil
}

func (s *Service) sweepBatch(ctx context.Context, now time.Time, work []*Grant, st *SweepStats) {
	var free []*Grant
	for _, g := range work {
		if _, busy := s.busy.Load(g.ID); !busy {
			free = append(free, g)
		}
	}
	// The removals are read back once every revocation of the batch has made its removals,
	// without waiting for the batch's other work (a slow provisioning, say).
	b := &verifyBatch{}
	var removing sync.WaitGroup
	for _, g := range free {
		if ending(g, now) {
			removing.Add(1)
		}
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		removing.Wait()
		s.finishBatch(ctx, now, b)
	}()
	var mu sync.Mutex
	s.forAccounts(free, func(g *Grant) {
		warned, driven := s.sweepGrant(ctx, now, g, b)
		if ending(g, now) {
			removing.Done()
		}
		mu.Lock()
		defer mu.Unlock()
		if warned {
			st.Warned++
		}
		if driven {
			st.Driven++
		}
	})
	<-finished
}

// ending reports whether due grant g is to be revoked by a pass at now (as it was read).
func ending(g *Grant, now time.Time) bool {
	return g.Op() == OpRevoke || (g.Status == GrantActive && !now.Before(g.EndsAt))
}

// forAccounts calls fn for every grant, at most Workers accounts at once. Grants of one account
// are handled in order by one worker, so overlapping grants see each other's state and a
// shared membership is removed once, by the last grant to end.
func (s *Service) forAccounts(gs []*Grant, fn func(g *Grant)) {
	workers := s.settings().workers
	var order []string
	byAccount := map[string][]*Grant{}
	for _, g := range gs {
		if _, ok := byAccount[g.Account.ID]; !ok {
			order = append(order, g.Account.ID)
		}
		byAccount[g.Account.ID] = append(byAccount[g.Account.ID], g)
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, acct := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func(gs []*Grant) {
			defer func() { <-sem; wg.Done() }()
			for _, g := range gs {
				fn(g)
			}
		}(byAccount[acct])
	}
	wg.Wait()
}

// sweepGrant handles one due grant. Removals it makes are read back with the rest of batch b.
func (s *Service) sweepGrant(ctx context.Context, now time.Time, g *Grant, b *verifyBatch) (warned, driven bool) {
	log := zerolog.Ctx(ctx).With().Str("grant", g.ID).Logger()
	ctx = log.WithContext(ctx)
	if g.Status == GrantActive {
		if now.Before(g.EndsAt) {
			if g.Warned || now.Before(g.WarnAt()) {
				return false, false
			}
			err := s.updateTell(ctx, g.ID, func(c *Grant) (AuditEvent, error) {
				if c.Status != GrantActive || c.Warned {
					return AuditEvent{}, Errorf(ECONFLICT, "grant %s changed", c.ID)
				}
				return c.MarkWarned(now), nil
			}, func(c *Grant) []Notice {
				return []Notice{{Kind: NoticeExpiring, Grant: c, Role: s.roleOrNil(c.Role)}}
			})
			if err != nil {
				logFailure(&log, err).Msg("warn")
				return false, false
			}
			return true, false
		}
		err := s.update(ctx, g.ID, func(c *Grant) (AuditEvent, error) {
			return c.BeginRevoke(SystemActor, false, "expired", now, s.settings().lease)
		})
		if err != nil {
			logFailure(&log, err).Msg("begin revoke")
			return false, false
		}
	}
	if !s.driveIn(ctx, g.ID, b) {
		s.noteOverdue(ctx, now, g.ID) // a handed-over grant is noted once finished
	}
	return false, true
}

func (s *Service) expireRequests(ctx context.Context, now time.Time, st *SweepStats) error {
	var due []*Request
	if err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		due, err = tx.DueRequests(now, 0)
		return err
	}); err != nil {
		return fmt.Errorf("sweep: due requests: %w", err)
	}
	for _, r := range due {
		_, err := updateRecord(ctx, s, requestRecords, r.ID, func(c *Request) (AuditEvent, error) {
			return c.Expire(now)
		}, tellOf(func(c *Request) []Notice {
			return []Notice{{Kind: NoticeExpired, Request: c, Role: s.roleOrNil(c.Role)}}
		}))
		if err != nil {
			logFailure(zerolog.Ctx(ctx), err).Str("request", r.ID).Msg("expire request")
			continue
		}
		st.Expired++
	}
	return nil
}

// noteOverdue raises one alert for a revocation late by more than OverdueAfter, and keeps the
// set of overdue grants for the gauge.
func (s *Service) noteOverdue(ctx context.Context, now time.Time, id string) {
	g, err := s.Grant(ctx, id)
	if err != nil {
		return
	}
	if g.Status == GrantRevoked || !g.Ending() {
		s.overdue.Delete(id)
		return
	}
	if g.EndsAt.IsZero() || now.Sub(g.EndsAt) < s.settings().overdueAfter {
		return
	}
	s.overdue.Store(id, struct{}{})
	if g.Overdue {
		return
	}
	_ = s.updateTell(ctx, g.ID, func(c *Grant) (AuditEvent, error) { return c.MarkOverdue(now), nil }, func(cur *Grant) []Notice {
		return []Notice{alertNotice(fmt.Sprintf("Revocation overdue: grant %s (%s for %s) ended %s ago and is not yet verifiably revoked; jitbot keeps retrying. Last error: %s",
			cur.ID, cur.Role, cur.Account.Email, FormatDuration(now.Sub(cur.EndsAt).Truncate(time.Second)), cur.LastError))}
	})
}

func (s *Service) overdueCount() int {
	n := 0
	s.overdue.Range(func(_, _ any) bool { n++; return true })
	return n
}

// RunSweeper revokes on time. At start it re-drives the intents a previous run left behind
// (Recover) while the first pass revokes what fell due during the downtime, both in parallel.
// Then it sleeps until the earliest due time in the store (an expiry, an expiry warning, a
// pending timeout, a retry, a review deadline), or until a commit schedules something earlier
// (a new grant, an extension, a failed step's retry), and sweeps again. every is the longest
// it sleeps: a safety net for clock jumps and for stores that cannot report their commits.
func (s *Service) RunSweeper(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = 15 * time.Second
	}
	w := newWaker()
	if st, ok := s.Store.(Watcher); ok {
		stop := st.Watch(func(c Commit) { w.schedule(c.Due) })
		defer stop()
	}
	var recovering sync.WaitGroup
	defer recovering.Wait()
	recovering.Add(1)
	go func() {
		defer recovering.Done()
		if _, err := s.Recover(ctx); err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("recover intents")
		}
	}()
	for {
		w.awake()
		started := s.now()
		worked := s.sweepPass(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.drain()
		next, err := s.nextWake(ctx)
		if err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("next due time")
		}
		wait := every
		if !next.IsZero() {
			wait = min(every, max(0, next.Sub(s.now())))
		}
		if wait == 0 && !worked && !next.After(started) {
			// Due work the pass saw and could not take (driven elsewhere right now, or a
			// store error): do not spin on it.
			wait = min(every, stuckRetry)
		}
		if wait == 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.sleep(s.now().Add(wait)):
		case <-s.after(wait):
		}
	}
}

// stuckRetry is how soon the sweeper looks again at due work it could not take.
const stuckRetry = time.Second

// sweepPass runs one Sweep and logs it; it reports whether the pass did anything.
func (s *Service) sweepPass(ctx context.Context) bool {
	st, err := s.Sweep(ctx)
	if err != nil {
		if ctx.Err() == nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("sweep pass")
		}
		return false
	}
	worked := st.Driven+st.Expired+st.Warned+st.Reviews > 0
	if worked {
		zerolog.Ctx(ctx).Info().Int("driven", st.Driven).Int("expired", st.Expired).Int("warned", st.Warned).Int("overdue", st.Overdue).Msg("sweep pass")
	}
	return worked
}

// nextWake returns when the sweeper must next run: the earliest due time in the store, or
// zero when nothing is scheduled.
func (s *Service) nextWake(ctx context.Context) (time.Time, error) {
	var next time.Time
	err := s.Store.View(ctx, func(tx Tx) (err error) { next, err = tx.NextDue(); return err })
	if err != nil {
		return time.Time{}, fmt.Errorf("sweeper: next due time: %w", err)
	}
	return next, nil
}

func (s *Service) after(d time.Duration) <-chan time.Time {
	if s.After != nil {
		return s.After(d)
	}
	return time.After(d)
}
