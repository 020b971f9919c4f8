package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/jitbot/jitbot/access"
)

// scheduler runs sync rules, sweeps, the guard, access reviews and the digest on the policy's schedules, in the
// policy's time zone, with panic recovery and without overlapping runs of one job.
type scheduler struct {
	app    *App
	reload chan struct{} // a policy reload asks run for the new policy's jobs

	mu   sync.Mutex
	cron *cron.Cron              // the running jobs; nil while run is not running
	jobs map[string]cron.EntryID // the running jobs by name
}

func newScheduler(a *App) *scheduler { return &scheduler{app: a, reload: make(chan struct{}, 1)} }

// run runs the current policy's jobs until ctx ends, replacing them on every reschedule.
func (s *scheduler) run(ctx context.Context) error {
	select { // a reload asked for while not running is already in the policy loaded now
	case <-s.reload:
	default:
	}
	s.start(ctx)
	for {
		select {
		case <-s.reload:
			s.start(ctx)
		case <-ctx.Done():
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.cron != nil {
				<-s.cron.Stop().Done()
			}
			s.cron = nil // stopped (this replica no longer leads): a reload starts nothing here
			return nil
		}
	}
}

// reschedule asks a running scheduler to replace every job with the current policy's. It does
// not wait; a scheduler that is not running starts with the current policy when it runs.
func (s *scheduler) reschedule() {
	select {
	case s.reload <- struct{}{}:
	default: // a reload is already pending and will read the current policy
	}
}

// start replaces every job with the current policy's; jobs run with ctx.
func (s *scheduler) start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cron != nil {
		s.cron.Stop()
	}
	p := s.app.policy.Load()
	loc := time.UTC
	if p.Organization.Timezone != nil {
		loc = p.Organization.Timezone
	}
	log := s.app.log.With().Str("component", "cron").Logger()
	c := cron.New(cron.WithLocation(loc), cron.WithChain(cron.Recover(cronLogger{log}), cron.SkipIfStillRunning(cronLogger{log})))
	jobs := map[string]cron.EntryID{}
	add := func(spec, job string, fn func(ctx context.Context) error) {
		if spec == "" {
			return
		}
		sched, err := cron.ParseStandard(spec)
		if err != nil { // the policy loader already checked every schedule
			log.Error().Err(err).Str("job", job).Msg("cannot schedule")
			return
		}
		if s.app.real != nil {
			sched = clockSchedule{Schedule: sched, now: s.app.now, real: s.app.real}
		}
		jobs[job] = c.Schedule(sched, cron.FuncJob(func() {
			ctx := log.With().Str("job", job).Logger().WithContext(ctx)
			err := fn(ctx)
			if access.IsRunning(err) {
				// Started by hand (or by the schedule before a reload) and still running.
				zerolog.Ctx(ctx).Warn().Err(err).Msg("scheduled job skipped: already running")
				return
			}
			if err != nil {
				zerolog.Ctx(ctx).Error().Err(err).Msg("scheduled job")
				n := access.Notice{Kind: access.NoticeAlert,
					Text: fmt.Sprintf("Scheduled job %q failed and will run again at its next time: %s", job, access.ErrorMessage(err))}
				if err := s.app.db.Update(ctx, func(tx access.Tx) error { return s.app.bot.Notify(ctx, tx, n) }); err != nil {
					zerolog.Ctx(ctx).Error().Err(err).Msg("queue alert")
				}
			}
		}))
	}
	runner := s.app.engine
	for _, r := range p.Sync {
		add(r.Schedule, "sync "+r.Name, func(ctx context.Context) error {
			_, err := runner.Run(ctx, access.RunSync, r.Name, false)
			return err
		})
	}
	for _, sw := range p.Sweeps {
		add(sw.Schedule, "sweep "+sw.Name, func(ctx context.Context) error {
			_, err := runner.Run(ctx, access.RunSweep, sw.Name, false)
			return err
		})
	}
	if p.Guard.Watches() {
		add(p.Guard.Schedule, "guard", func(ctx context.Context) error {
			_, err := runner.Run(ctx, access.RunGuard, "guard", false)
			return err
		})
	}
	for _, rv := range p.Reviews {
		add(rv.Schedule, "review "+rv.Name, func(ctx context.Context) error {
			_, err := s.app.svc.StartReview(ctx, rv.Name)
			return err
		})
	}
	add(p.Digest.Schedule, "digest", func(ctx context.Context) error {
		_, err := s.app.svc.Digest(ctx)
		return err
	})
	if s.app.cfg.Backup.Dir != "" {
		add(s.app.cfg.Backup.Schedule, "backup", s.app.backups.run)
	}
	if len(p.Reviews) > 0 {
		// A Slack user group among a review's reviewers may gain a member: no Slack event says
		// so, and the reload and lead triggers do not fire for it. Failures are alerted by
		// SendOpenReviews itself, so the job only logs them.
		add("@every 1h", "send open reviews", func(ctx context.Context) error {
			if _, err := s.app.svc.SendOpenReviews(ctx); err != nil {
				zerolog.Ctx(ctx).Error().Err(err).Msg("send open review items")
			}
			return nil
		})
	}
	add("@every 1h", "prune runs", func(ctx context.Context) error {
		return pruneRuns(ctx, s.app.db, s.app.now().Add(-s.app.cfg.RunRetention))
	})
	if keep := s.app.cfg.KeepHistory; keep > 0 {
		add("@every 1h", "prune history", func(ctx context.Context) error {
			return pruneHistory(ctx, s.app.db, s.app.now(), keep)
		})
	}
	c.Start()
	s.cron, s.jobs = c, jobs
}

// clockSchedule runs a schedule on the app's clock instead of cron's own (the real one): cron
// asks for the next run after its now, and gets its now plus the wait the schedule gives on
// the app's clock, converted to real time.
type clockSchedule struct {
	cron.Schedule
	now  func() time.Time
	real func(d time.Duration) time.Duration
}

func (c clockSchedule) Next(t time.Time) time.Time {
	now := c.now().In(t.Location())
	return t.Add(c.real(c.Schedule.Next(now).Sub(now)))
}

// cronLogger adapts zerolog to cron.Logger.
type cronLogger struct{ l zerolog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug().Fields(kv).Msg(msg) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error().Err(err).Fields(kv).Msg(msg)
}

// pruneRuns deletes every run started before before, access.PruneBatch per transaction.
func pruneRuns(ctx context.Context, st access.Store, before time.Time) error {
	for {
		var n int
		err := st.Update(ctx, func(tx access.Tx) (err error) {
			n, err = tx.PruneRuns(before)
			return err
		})
		if err != nil || n < access.PruneBatch {
			return err
		}
	}
}

// pruneHistory removes what ended more than retention before now (access.PruneHistory: a
// bounded transaction per batch, each with its history.pruned audit event) and logs what it
// removed.
func pruneHistory(ctx context.Context, st access.Store, now time.Time, retention time.Duration) error {
	p, err := access.PruneHistory(ctx, st, now, retention)
	if p.Removed() > 0 {
		zerolog.Ctx(ctx).Info().Int("grants", p.Grants).Int("requests", p.Requests).Int("review_items", p.ReviewItems).
			Int("audit_events", p.Events).Uint64("audit_last_seq", p.LastSeq).Time("until", p.Until).Msg("history pruned")
	}
	return err
}
