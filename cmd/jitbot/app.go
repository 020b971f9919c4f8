package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/bot"
	"github.com/jitbot/jitbot/policies"
	"github.com/jitbot/jitbot/store/etcdstore"
)

// App is the running jitbot: every part wired together.
type App struct {
	cfg      *Config
	log      zerolog.Logger
	now      func() time.Time
	db       stateStore
	leader   *leadership
	runLocks *runLocks // several replicas: rules held across them (nil with bbolt)
	policy   atomic.Pointer[access.Policy]
	atl      *atlassian.Client
	svc      *access.Service
	engine   *access.Engine
	bot      *bot.Bot
	metrics  *metrics
	sched    *scheduler
	httpLn   net.Listener
	backups  *backups

	refs          atomic.Pointer[[]policies.Ref] // groups, resources and principals of the policy
	atlPending    atomic.Pointer[string]         // why the Atlassian key is not verified yet; nil once it is
	verifyBackoff time.Duration                  // first retry delay of the key check (tests)
	real          func(d time.Duration) time.Duration
}

// appOptions adjust the wiring for tests and the demo.
type appOptions struct {
	Now            func() time.Time // default time.Now
	AtlassianSleep func(ctx context.Context, d time.Duration) error
	NoSchedule     bool          // do not start cron jobs
	VerifyBackoff  time.Duration // first retry delay of the start-up key check, default 1s
	// Real says how long d of Now's time lasts on the real clock, for every timer that waits
	// on Now's time: the sweeper's sleeps, the scheduled jobs, the Atlassian client's waits and
	// the start-up key check's backoff. Nil means d itself. A test that runs jitbot on an
	// accelerated clock sets it with Now.
	Real func(d time.Duration) time.Duration
}

// realDuration is how long d of the app's clock lasts on the real clock.
func (a *App) realDuration(d time.Duration) time.Duration {
	if a.real == nil {
		return d
	}
	return a.real(d)
}

// after is a timer of d on the app's clock.
func (a *App) after(d time.Duration) <-chan time.Time { return time.After(a.realDuration(d)) }

// sleep waits for d on the app's clock or until ctx is done (the Atlassian client's waits).
func (a *App) sleep(ctx context.Context, d time.Duration) error {
	return atlassian.Sleep(ctx, a.realDuration(d))
}

// newLogger logs to w, one whole line at a time whichever goroutine logs (w need not be safe
// for concurrent use).
func newLogger(cfg *Config, w io.Writer) zerolog.Logger {
	w = zerolog.SyncWriter(w)
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	}
	return zerolog.New(w).Level(cfg.LogLevel).With().Timestamp().Str("service", "jitbot").Logger()
}

// NewApp opens the store, loads the policy and builds every adapter. Nothing is started.
func NewApp(ctx context.Context, cfg *Config, log zerolog.Logger, opt appOptions) (*App, error) {
	a := &App{cfg: cfg, log: log, now: opt.Now, verifyBackoff: opt.VerifyBackoff, real: opt.Real}
	if a.now == nil {
		a.now = time.Now
	}
	atlSleep := opt.AtlassianSleep
	if atlSleep == nil && a.real != nil {
		atlSleep = a.sleep
	}
	p, refs, _, err := policies.LoadRefs(cfg.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("load policy (JITBOT_POLICY_FILE):\n%w", err)
	}
	a.policy.Store(p)
	a.refs.Store(&refs)
	pending := "Atlassian key not verified yet"
	a.atlPending.Store(&pending)
	sc := cfg.Store
	sc.DBPath = cfg.DBPath // the field the rest of the wiring (and tests) set
	db, err := openState(ctx, sc, []byte(cfg.AuditKey.Reveal()), 0)
	if err != nil {
		return nil, err
	}
	a.db = db
	a.metrics = newMetrics(db)
	a.leader = a.newLeadership()
	bolt, _ := db.(boltState) // backups copy the bbolt file; etcd has its own snapshots
	a.backups = newBackups(bolt.DB, cfg.Backup, log, a.now, a.metrics.reg)
	a.atl, err = atlassian.New(atlassian.Config{
		BaseURL: cfg.AtlassianURL, OrgID: cfg.AtlassianOrgID, DirectoryID: cfg.DirectoryID,
		APIKey: atlassian.Secret(cfg.AtlassianAPIKey.Reveal()), Now: a.now, Sleep: atlSleep,
		Observe: a.metrics.atlassianCall,
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("atlassian client: %w", err)
	}
	a.engine = &access.Engine{Store: db, Org: a.atl, Provisioner: a.atl, Roles: a.atl, Policy: a.policy.Load, Now: a.now, OnRun: a.metrics.run}
	if e, ok := db.(*etcdstore.DB); ok {
		// Several replicas: a rule runs on one of them at a time, whoever starts it.
		a.runLocks = &runLocks{cli: e.Client(), prefix: e.Prefix(), ttl: cfg.Store.LeaderTTL}
		a.engine.Exclusive = a.runLocks.hold
	}
	a.svc = &access.Service{
		Store: db, Directory: a.atl, Provisioner: a.atl, Policy: a.policy.Load, Now: a.now,
		Engine: a.engine, Observer: a.metrics, AlertAfter: cfg.AlertAfter,
	}
	if a.real != nil {
		a.svc.After = a.after
	}
	if a.runLocks != nil {
		// Every replica drives the grants of the clicks it handles: a new leader leaves an
		// intent another replica holds to it, and one a dead replica held is re-driven by the
		// sweeper when its lease runs out, a few TTLs later.
		a.svc.Shared, a.svc.Lease = true, 3*cfg.Store.LeaderTTL
	}
	bcfg := bot.Config{
		BotToken: cfg.SlackBotToken.Reveal(), AppToken: cfg.SlackAppToken.Reveal(), APIURL: cfg.SlackAPIURL,
		Command: cfg.SlashCommand, Service: a.svc, Policy: a.policy.Load,
		Observer: a.metrics, Now: a.now,
		DeliverElsewhere: a.runLocks != nil, // etcd: the leader delivers (lead.go)
	}
	if a.real != nil {
		bcfg.After = a.after // the outbox's waits on its clock
	}
	a.bot, err = bot.New(bcfg)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("slack bot: %w", err)
	}
	a.svc.Notifier, a.svc.Identity, a.svc.Principals = a.bot, a.bot, a.bot
	a.registerReady()
	a.engine.Notifier = a.bot
	if !opt.NoSchedule {
		a.sched = newScheduler(a)
	}
	return a, nil
}

// Close releases the store.
func (a *App) Close() error {
	if a.db == nil {
		return nil
	}
	if a.runLocks != nil {
		a.runLocks.close()
	}
	return a.db.Close()
}

// Ready says whether jitbot can serve, and why not.
func (a *App) Ready() error {
	switch {
	case a.db == nil:
		return errors.New("store not open")
	case a.policy.Load() == nil:
		return errors.New("no policy loaded")
	case a.atlPending.Load() != nil:
		return errors.New(*a.atlPending.Load())
	case !a.bot.Connected():
		return errors.New("slack socket mode not connected")
	}
	return nil
}

// Run starts the bot, the sweeper, scheduled jobs and the HTTP endpoints, and stops them all
// when ctx ends or one fails (a fatal Slack auth error).
func (a *App) Run(ctx context.Context) error {
	ctx = a.log.WithContext(ctx)
	g, ctx := errgroup.WithContext(ctx)
	if a.cfg.HTTPAddr != "" {
		srv := newHTTPServer(a.routes(), defaultHTTPLimits)
		ln := a.httpLn
		if ln == nil {
			var err error
			if ln, err = net.Listen("tcp", a.cfg.HTTPAddr); err != nil {
				return fmt.Errorf("listen on JITBOT_HTTP_ADDR %s: %w", a.cfg.HTTPAddr, err)
			}
		}
		g.Go(func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
	}
	g.Go(func() error { return a.bot.Run(ctx) })
	g.Go(func() error {
		// Nothing reaches Atlassian but the key check before the key is known to work; until
		// then /readyz says why jitbot is not ready. The sweeper and scheduled jobs run on the
		// leading replica only (always, with bbolt). They start at once when Atlassian does not
		// answer the check (an outage at start, a restart during one), with every other call
		// held back by the client until the key is verified: late revocations are alerted as
		// in any outage, and nothing changes before the key is known to work.
		var started sync.Once
		start := func(hold bool) {
			started.Do(func() {
				if hold {
					a.atl.HoldUntilVerified()
				}
				g.Go(func() error { return a.leader.run(ctx, a.lead) })
				g.Go(func() error { return a.watchReload(ctx) })
			})
		}
		if err := a.verifyAtlassian(ctx, func() { start(true) }); err != nil {
			return err
		}
		a.checkPolicyTargets(ctx, *a.refs.Load(), "at start-up")
		start(false)
		a.atlPending.Store(nil)
		a.log.Info().Str("policy", a.cfg.PolicyFile).Str("store", a.cfg.Store.describe()).Msg("jitbot started")
		return nil
	})
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	a.log.Info().Err(err).Msg("jitbot stopped")
	return err
}

// watchReload re-reads the policy on SIGHUP.
func (a *App) watchReload(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			a.reload(ctx)
		}
	}
}

// reload loads the policy file again. An invalid file is refused: the old policy stays in
// force and the alerts channel says why.
func (a *App) reload(ctx context.Context) error {
	now := a.now()
	p, refs, _, err := policies.LoadRefs(a.cfg.PolicyFile)
	if err != nil {
		a.log.Error().Err(err).Msg("policy reload refused")
		ev := access.AuditEvent{Time: now, Action: access.ActionPolicyRefused, Actor: access.SystemActor, Subject: a.cfg.PolicyFile, Detail: err.Error()}
		alert := access.Notice{Kind: access.NoticeAlert, Text: "Policy reload refused; the previous policy stays in force.\n" + err.Error()}
		if aerr := a.db.Update(ctx, func(tx access.Tx) error {
			if err := tx.AppendAudit(&ev); err != nil {
				return err
			}
			return a.bot.Notify(ctx, tx, alert)
		}); aerr != nil {
			a.log.Error().Err(aerr).Msg("audit policy refusal")
		}
		return err
	}
	ev := access.AuditEvent{Time: now, Action: access.ActionPolicyReloaded, Actor: access.SystemActor, Subject: a.cfg.PolicyFile,
		Detail: fmt.Sprintf("%d roles, %d sync rules, %d sweeps", len(p.Roles), len(p.Sync), len(p.Sweeps))}
	if err := a.db.Update(ctx, func(tx access.Tx) error { return tx.AppendAudit(&ev) }); err != nil {
		a.log.Error().Err(err).Msg("policy reload: audit write failed; keeping the old policy")
		return err
	}
	a.policy.Store(p)
	a.refs.Store(&refs)
	if a.sched != nil {
		a.sched.reschedule()
	}
	a.log.Info().Msg("policy reloaded")
	a.checkPolicyTargets(ctx, refs, "after the policy reload")
	a.sendOpenReviews(ctx, "after the policy reload")
	return nil
}

// sendOpenReviews sends the open items of every access review to the reviewers of the policy
// now who were not yet sent them (a reviewer added while a review runs); when says on what
// occasion. access.Service.SendOpenReviews alerts a review whose items it could not send; any
// replica may do it, since each send is recorded in the transaction of its notice.
func (a *App) sendOpenReviews(ctx context.Context, when string) {
	n, err := a.svc.SendOpenReviews(ctx)
	if err != nil {
		a.log.Error().Err(err).Str("when", when).Msg("send open review items")
	}
	if n > 0 {
		a.log.Info().Int("items", n).Str("when", when).Msg("open review items sent to reviewers added to the policy")
	}
}

func cmdRun(ctx context.Context, args, environ []string, stderr io.Writer) error {
	return runApp(ctx, args, environ, stderr, appOptions{})
}

// runApp is `jitbot run` with the wiring adjusted by opt (the crash suite's accelerated clock).
func runApp(ctx context.Context, args, environ []string, stderr io.Writer, opt appOptions) error {
	if err := parseFlags(newFlags("run", stderr), args); err != nil {
		return err
	}
	cfg, err := LoadConfig(environ)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	log := newLogger(cfg, stderr)
	app, err := NewApp(ctx, cfg, log, opt)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	defer app.Close()
	if err := app.Run(ctx); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}
