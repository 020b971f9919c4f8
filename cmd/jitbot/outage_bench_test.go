package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jitbot/jitbot/atlassian"
)

// BenchmarkOutageRecovery: 200 grants end during a 60 s Atlassian outage (every answer a 500),
// one every 250 ms. The sweeper is simulated on the fake clock, a pass every 100 ms (it sleeps
// until the next grant is due). When Atlassian answers again, detect-ms is the fake time from
// recovery to the probe's revocation, and first/p50/last-ms the real time from recovery to
// each grant's verified revocation, at the client's default rate limit and at one a hundred
// times higher. The outage runs on the fake clock in a fraction of a second of real time, so the
// probes' calls drain the client's (real-time) rate limiter: first-ms at the default rate is
// mostly that wait, which a real 60 s outage would not cause.
//
//	go test -run '^$' -bench OutageRecovery -benchtime 1x ./cmd/jitbot/
func BenchmarkOutageRecovery(b *testing.B) {
	const grants, step = 200, 100 * time.Millisecond
	for _, perMin := range []int{atlassian.DefaultRatePerMinute, 100 * atlassian.DefaultRatePerMinute} {
		b.Run(fmt.Sprintf("rate=%dpm", perMin), func(b *testing.B) {
			var detect, first, p50, last time.Duration
			var calls int
			for range b.N {
				b.StopTimer()
				e := newBenchEnv(b, benchSetup{
					n: grants, inOrg: grants,
					client:   atlassian.Config{RatePerMinute: perMin, Burst: atlassian.DefaultBurst},
					duration: func(i int) time.Duration { return time.Hour + time.Duration(i)*250*time.Millisecond },
				})
				ctx := context.Background()
				start := lcT0.Add(time.Hour - 5*time.Second)
				e.clock.Advance(start.Sub(e.clock.Now()))
				e.org.SetOutage(true)
				for e.clock.Now().Before(start.Add(time.Minute)) {
					e.clock.Advance(step)
					if _, err := e.svc.Sweep(ctx); err != nil {
						b.Fatal(err)
					}
				}
				if n := len(e.org.Members(jiraGroup)); n != grants {
					b.Fatalf("%d memberships left during the outage, want %d", n, grants)
				}
				before := e.org.Calls()
				e.org.SetOutage(false)
				recovered := e.clock.Now()
				b.StartTimer()
				e.mu.Lock()
				e.lags, e.start = nil, time.Now()
				e.mu.Unlock()
				for {
					e.mu.Lock()
					n := len(e.lags)
					e.mu.Unlock()
					if n > 0 {
						break
					}
					if e.clock.Now().Sub(recovered) > time.Minute {
						b.Fatal("nothing revoked a minute after recovery")
					}
					e.clock.Advance(step)
					if _, err := e.svc.Sweep(ctx); err != nil {
						b.Fatal(err)
					}
				}
				detect = e.clock.Now().Sub(recovered)
				e.svc.WaitReleased()
				b.StopTimer()
				e.mu.Lock()
				if len(e.lags) != grants {
					b.Fatalf("%d revoked after the release, want %d", len(e.lags), grants)
				}
				first, p50, last = percentile(e.lags, 0), percentile(e.lags, 50), percentile(e.lags, 100)
				e.mu.Unlock()
				if m := len(e.org.Members(jiraGroup)); m != 0 {
					b.Fatalf("%d memberships left", m)
				}
				calls = e.org.Calls() - before
			}
			b.ReportMetric(ms(detect), "detect-ms")
			b.ReportMetric(ms(first), "first-ms")
			b.ReportMetric(ms(p50), "p50-ms")
			b.ReportMetric(ms(last), "last-ms")
			b.ReportMetric(float64(calls)/grants, "calls/grant")
		})
	}
}
