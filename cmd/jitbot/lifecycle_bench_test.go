package main

// Benchmarks of the sweeper with the real parts (bbolt file, real Atlassian client over HTTP to
// the fake org). Run them with
//
//	go test -run '^$' -bench 'Revocation|Sweep|CatchUp' -benchtime 1x ./cmd/jitbot/
//
// Grants are written straight into the store (the same transitions and audit events the
// Service writes), so seeding 10,000 takes a second, not a sweep per grant. Only the accounts a
// benchmark revokes exist in the fake org: its users/search scans every user under one lock,
// which real Atlassian does not.

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/store"
)

// benchEnv is a Service on a bbolt file full of active grants, with a fake clock.
type benchEnv struct {
	clock *accesstest.Clock
	db    *store.DB
	org   *atlassiantest.Server // nil when the benchmark never calls Atlassian
	atl   *atlassian.Client
	svc   *access.Service

	mu     sync.Mutex
	start  time.Time       // real start of the pass being measured
	lags   []time.Duration // real time from start to each grant's revocation
	endLag bool            // lags are measured from each grant's end instead (real clock)
}

func (e *benchEnv) Notify(_ context.Context, _ access.Tx, n access.Notice) error {
	if n.Kind != access.NoticeEnded {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.endLag {
		e.lags = append(e.lags, time.Since(n.Grant.EndsAt))
		return nil
	}
	e.lags = append(e.lags, time.Since(e.start))
	return nil
}

// benchSetup describes the grants of a benchmark: n active grants, granted at lcT0 for
// duration(i); the first inOrg have their account in the fake org and its group.
type benchSetup struct {
	n        int
	inOrg    int
	duration func(i int) time.Duration
	latency  time.Duration
	client   atlassian.Config // rate limit and the like; the rest is filled in
	workers  int
	start    time.Time // when the grants were given (default lcT0)
	real     bool      // the Service runs on the real clock, not the benchmark's fake one
	warned   bool      // the holders were already told their grants end soon
}

func newBenchEnv(b *testing.B, s benchSetup) *benchEnv {
	b.Helper()
	e := &benchEnv{clock: accesstest.NewClock(lcT0)}
	db, err := store.Open(filepath.Join(b.TempDir(), "jitbot.db"), store.Options{AuditKey: lcAuditKey})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	e.db = db
	policy := lcPolicy()
	role := policy.Role("jira-software")
	var ids []string
	if s.inOrg > 0 {
		e.org = atlassiantest.NewServer(b, atlassiantest.WithoutRequestBodies())
		e.org.AddGroup(atlassiantest.Group{Name: jiraGroup})
		for i := range s.inOrg {
			id := e.org.AddUser(atlassiantest.User{Email: fmt.Sprintf("u%05d@example.com", i)})
			e.org.AddMember(jiraGroup, id)
			ids = append(ids, id)
		}
		e.org.SetLatency(s.latency)
		cfg := s.client
		cfg.BaseURL, cfg.OrgID, cfg.APIKey = e.org.URL(), e.org.OrgID(), atlassian.Secret(e.org.APIKey())
		if e.atl, err = atlassian.New(cfg); err != nil {
			b.Fatal(err)
		}
	}
	const batch = 1000
	for lo := 0; lo < s.n; lo += batch {
		err := db.Update(context.Background(), func(tx access.Tx) error {
			for i := lo; i < min(lo+batch, s.n); i++ {
				if err := putActiveGrantAt(tx, role, i, ids, cmp.Or(s.start, lcT0), s.duration(i), s.warned); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	e.svc = &access.Service{
		Store: db, Provisioner: e.atl, Directory: e.atl, Notifier: e, Workers: s.workers,
		Policy: func() *access.Policy { return policy }, Now: e.clock.Now,
	}
	if s.real {
		e.svc.Now = nil
	}
	return e
}

// putActiveGrant writes grant i as the Service would have left it once given: request submitted
// and approved, prior state checked, membership added, active until lcT0+d.
func putActiveGrant(tx access.Tx, role *access.Role, i int, ids []string, d time.Duration) error {
	return putActiveGrantAt(tx, role, i, ids, lcT0, d, false)
}

// putActiveGrantAt is putActiveGrant with the grant given at t0, and its holder already warned
// of its end when warned is set.
func putActiveGrantAt(tx access.Tx, role *access.Role, i int, ids []string, lcT0 time.Time, d time.Duration, warned bool) error {
	acct := access.Account{ID: fmt.Sprintf("bench-%07d", i), Email: fmt.Sprintf("u%05d@example.com", i)}
	if i < len(ids) {
		acct.ID = ids[i]
	}
	r, ev, err := access.NewRequest(fmt.Sprintf("B%07d", i), role, access.UserActor(fmt.Sprintf("U%07d", i)), acct, d, "bench", lcT0)
	if err != nil {
		return err
	}
	ae, err := r.ApproveByPolicy(lcT0, "bench")
	if err != nil {
		return err
	}
	g, gev, err := access.NewGrant(r, role, lcT0, 2*time.Minute)
	if err != nil {
		return err
	}
	pe, ie := g.RecordPrior(0, false, "", lcT0), g.ItemAdded(0, lcT0)
	ace, err := g.Activate(lcT0)
	if err != nil {
		return err
	}
	if warned {
		g.Warned = true
	}
	if err := tx.PutRequest(r); err != nil {
		return err
	}
	if err := tx.PutGrant(g); err != nil {
		return err
	}
	for _, e := range []*access.AuditEvent{&ev, &ae, &gev, &pe, &ie, &ace} {
		if err := tx.AppendAudit(e); err != nil {
			return err
		}
	}
	return nil
}

// pass runs one sweep with the clock at at and measures it; it fails unless want grants were
// revoked and their memberships are gone.
func (e *benchEnv) pass(b *testing.B, at time.Time, want int) (access.SweepStats, time.Duration) {
	b.Helper()
	e.clock.Advance(at.Sub(e.clock.Now()))
	e.mu.Lock()
	e.lags, e.start = nil, time.Now()
	e.mu.Unlock()
	st, err := e.svc.Sweep(context.Background())
	took := time.Since(e.start)
	if err != nil {
		b.Fatal(err)
	}
	e.mu.Lock()
	got := len(e.lags)
	e.mu.Unlock()
	if got != want {
		b.Fatalf("%d grants revoked, want %d (stats %+v)", got, want, st)
	}
	if e.org != nil {
		if m := len(e.org.Members(jiraGroup)); m != 0 {
			b.Fatalf("%d memberships left after the pass", m)
		}
	}
	return st, took
}

// percentile returns the p-th percentile (0–100) of ds, sorted in place.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(float64(len(ds))*p/100))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkRevocationLag: 10,000 active grants, 500 of them ending within the same minute;
// Atlassian answers in 20 ms. One pass just after that minute; per grant, the real time from the
// start of the pass to its verified revocation. The client's rate limit is raised out of the way
// (the catch-up benchmark measures it).
func BenchmarkRevocationLag(b *testing.B) {
	const total, due = 10_000, 500
	for _, workers := range []int{4, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var p50, p99, took time.Duration
			var calls int
			for range b.N {
				b.StopTimer()
				e := newBenchEnv(b, benchSetup{
					n: total, inOrg: due, latency: 20 * time.Millisecond, workers: workers,
					client: atlassian.Config{RatePerMinute: 1_000_000, Burst: 1000},
					duration: func(i int) time.Duration {
						if i < due {
							return time.Hour + time.Duration(i)*100*time.Millisecond // within 50 s
						}
						return 25*time.Hour + time.Duration(i)*time.Second
					},
				})
				before := e.org.Calls()
				b.StartTimer()
				_, took = e.pass(b, lcT0.Add(time.Hour+time.Minute), due)
				b.StopTimer()
				p50, p99 = percentile(e.lags, 50), percentile(e.lags, 99)
				calls = e.org.Calls() - before
			}
			b.ReportMetric(ms(p50), "p50-lag-ms")
			b.ReportMetric(ms(p99), "p99-lag-ms")
			b.ReportMetric(ms(took), "pass-ms")
			b.ReportMetric(float64(calls)/due, "calls/grant")
		})
	}
}

// BenchmarkSweepNothingDue: a sweep pass over 10,000 active grants, none due.
func BenchmarkSweepNothingDue(b *testing.B) {
	e := newBenchEnv(b, benchSetup{n: 10_000, duration: func(i int) time.Duration { return 25*time.Hour + time.Duration(i)*time.Second }})
	e.clock.Advance(time.Hour)
	ctx := context.Background()
	for b.Loop() {
		st, err := e.svc.Sweep(ctx)
		if err != nil || st.Driven+st.Warned+st.Expired != 0 {
			b.Fatalf("%+v %v", st, err)
		}
	}
}

// BenchmarkCatchUp: every grant ended while jitbot was down; the start-up pass revokes them all,
// throttled by the client's limiter. The fake org enforces the same rate (with a burst of two
// seconds' worth, for network jitter) and answers 429 beyond it: throttled counts those.
//
// At the client's default limit (600/min, burst 10) 5,000 grants take minutes, so the default
// limit is measured with 50 grants, and 5,000 grants with the limit (and the fake's) raised a
// hundredfold; the time at the default limit is extrapolated as calls/10 s. Set
// JITBOT_BENCH_CATCHUP_REAL=1 to also run 5,000 at the default limit for real (about 9 minutes).
func BenchmarkCatchUp(b *testing.B) {
	cases := []struct {
		grants int
		perMin int
	}{
		{50, atlassian.DefaultRatePerMinute},
		{5000, 100 * atlassian.DefaultRatePerMinute},
	}
	if os.Getenv("JITBOT_BENCH_CATCHUP_REAL") != "" {
		cases = append(cases, struct {
			grants int
			perMin int
		}{5000, atlassian.DefaultRatePerMinute})
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("grants=%d/rate=%dpm", c.grants, c.perMin), func(b *testing.B) {
			var took time.Duration
			var calls, throttled int
			for range b.N {
				b.StopTimer()
				e := newBenchEnv(b, benchSetup{
					n: c.grants, inOrg: c.grants,
					client:   atlassian.Config{RatePerMinute: c.perMin, Burst: atlassian.DefaultBurst},
					duration: func(i int) time.Duration { return time.Hour + time.Duration(i)*time.Second },
				})
				perSec := c.perMin / 60
				e.org.SetRateLimit(2*perSec, 2*time.Second)
				before := e.org.Calls()
				b.StartTimer()
				_, took = e.pass(b, lcT0.Add(24*time.Hour), c.grants)
				b.StopTimer()
				calls, throttled = e.org.Calls()-before, e.org.Throttled()
			}
			b.ReportMetric(ms(took), "pass-ms")
			b.ReportMetric(float64(calls), "calls")
			b.ReportMetric(float64(calls)/float64(c.grants), "calls/grant")
			b.ReportMetric(float64(throttled), "throttled")
			// At the default limit: 5,000 grants' calls at 10 a second.
			b.ReportMetric(float64(calls)/float64(c.grants)*5000/10, "s-for-5000-at-600pm")
		})
	}
}

// BenchmarkExactExpiry: the sweeper itself (RunSweeper) on the real clock with the default
// JITBOT_SWEEP_INTERVAL (15 s); 10,000 live grants, 500 of which end within the same minute
// (120 ms apart); Atlassian answers in 20 ms. Per grant, the real time from its end to its
// verified revocation. Run with the client's limit raised out of the way, and at the client's
// default (600 calls/min, burst 10) with the fake org enforcing the same rate. Each run takes
// a minute of wall time.
func BenchmarkExactExpiry(b *testing.B) {
	const total, due = 10_000, 500
	for _, c := range []struct {
		name    string
		client  atlassian.Config
		enforce bool
	}{
		{"rate=unlimited", atlassian.Config{RatePerMinute: 1_000_000, Burst: 1000}, false},
		{"rate=default", atlassian.Config{}, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			var lags []time.Duration
			var calls, throttled int
			for range b.N {
				b.StopTimer()
				first := time.Now().Add(5 * time.Second) // after seeding
				e := newBenchEnv(b, benchSetup{
					n: total, inOrg: due, latency: 20 * time.Millisecond, client: c.client,
					real: true, warned: true, start: first.Add(-time.Hour),
					duration: func(i int) time.Duration {
						if i < due {
							return time.Hour + time.Duration(i)*120*time.Millisecond // within 60 s
						}
						return 25*time.Hour + time.Duration(i)*time.Second
					},
				})
				e.endLag = true
				if c.enforce {
					perSec := atlassian.DefaultRatePerMinute / 60
					e.org.SetRateLimit(2*perSec, 2*time.Second)
				}
				before := e.org.Calls()
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- e.svc.RunSweeper(ctx, 15*time.Second) }()
				b.StartTimer()
				deadline := time.Now().Add(10 * time.Minute)
				for {
					e.mu.Lock()
					n := len(e.lags)
					e.mu.Unlock()
					if n >= due {
						break
					}
					if time.Now().After(deadline) {
						b.Fatalf("%d of %d revoked after 10 minutes", n, due)
					}
					time.Sleep(50 * time.Millisecond)
				}
				b.StopTimer()
				cancel()
				<-done
				if m := len(e.org.Members(jiraGroup)); m != 0 {
					b.Fatalf("%d memberships left", m)
				}
				lags, calls, throttled = slices.Clone(e.lags), e.org.Calls()-before, e.org.Throttled()
			}
			b.ReportMetric(ms(percentile(lags, 50)), "p50-lag-ms")
			b.ReportMetric(ms(percentile(lags, 99)), "p99-lag-ms")
			b.ReportMetric(ms(percentile(lags, 100)), "max-lag-ms")
			b.ReportMetric(float64(calls)/due, "calls/grant")
			b.ReportMetric(float64(throttled), "throttled")
		})
	}
}

// BenchmarkIdleSweeper: the sweeper on the real clock with 10,000 live grants, none due for
// an hour: between due times it sleeps on one timer (the interval, 15 s, caps it). Reports the
// process's CPU time over 10 s of idling, after start-up.
func BenchmarkIdleSweeper(b *testing.B) {
	for range b.N {
		b.StopTimer()
		e := newBenchEnv(b, benchSetup{n: 10_000, real: true, warned: true, start: time.Now(),
			duration: func(i int) time.Duration { return time.Hour + time.Duration(i)*time.Second }})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.svc.RunSweeper(ctx, 15*time.Second) }()
		time.Sleep(time.Second) // start-up: recover and the first pass
		before := cpuTime(b)
		b.StartTimer()
		time.Sleep(10 * time.Second)
		b.StopTimer()
		b.ReportMetric(ms(cpuTime(b)-before), "cpu-ms/10s")
		cancel()
		<-done
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
