package atlassian_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
)

// BenchmarkSnapshot reads a whole org of 100,000 users and 2,000 groups (no spec validation).
func BenchmarkSnapshot(b *testing.B) {
	const users, groups = 100_000, 2_000
	srv := atlassiantest.NewServer(b, atlassiantest.WithoutRequestBodies())
	srv.Seed(users, groups)
	c, err := atlassian.New(atlassian.Config{BaseURL: srv.URL(), OrgID: srv.OrgID(), APIKey: atlassian.Secret(srv.APIKey()), Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		b.Fatal(err)
	}
	var peak atomic.Uint64
	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // sample the heap while the snapshot runs
		defer wg.Done()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	start := c.Calls()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := c.Users(context.Background(), access.UserQuery{}, func(*access.User) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != users {
			b.Fatalf("users = %d", n)
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	calls := float64(c.Calls()-start) / float64(b.N)
	minPages := float64((users + 99) / 100)
	b.ReportMetric(calls, "calls/op")
	b.ReportMetric(minPages, "minpages")
	b.ReportMetric(calls/minPages, "calls/min")
	b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peakheapMB")
}

// BenchmarkRateLimited runs 40 user reads from 4 workers against a fake limited to 100
// requests per second with 50 ms latency, the client limiter set to the same 100/s (the
// 100/min of production, scaled to seconds to keep the run short). Goal: 0 429s.
func BenchmarkRateLimited(b *testing.B) {
	srv := atlassiantest.NewServer(b, atlassiantest.WithoutRequestBodies())
	id := srv.AddUser(atlassiantest.User{Email: "alice@example.com"})
	srv.SetLatency(50 * time.Millisecond)
	srv.SetRateLimit(100, time.Second)
	c, err := atlassian.New(atlassian.Config{BaseURL: srv.URL(), OrgID: srv.OrgID(), APIKey: atlassian.Secret(srv.APIKey()), RatePerMinute: 100 * 60, Burst: 10})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 10; j++ {
					if _, err := c.User(context.Background(), id); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(srv.Throttled())/float64(b.N), "429s/op")
	b.ReportMetric(float64(c.Calls())/float64(b.N), "calls/op")
}
