//go:build unix

package access_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
)

// benchOrg builds 100,000 users in 2,000 groups: every user in two of grp-0…grp-1995, one in
// ten in scim-engineering, one in a hundred in contractors, and jira-users out of step with
// the rule so that the first plan has thousands of adds and removes.
func benchOrg(b *testing.B) *accesstest.Org {
	b.Helper()
	org := accesstest.NewOrg()
	for _, g := range []string{"scim-engineering", "contractors", "jira-users", "site-admins"} {
		org.AddGroup(g)
	}
	for i := range 1996 {
		org.AddGroup(fmt.Sprintf("grp-%d", i))
	}
	for i := range 100_000 {
		groups := []string{fmt.Sprintf("grp-%d", i%1996), fmt.Sprintf("grp-%d", (i*7+3)%1996)}
		if i%10 == 0 {
			groups = append(groups, "scim-engineering")
		}
		if i%100 == 0 {
			groups = append(groups, "contractors")
		}
		if (i%10 == 0 && i%30 != 0) || i%97 == 0 {
			groups = append(groups, "jira-users")
		}
		id := fmt.Sprintf("u%06d", i)
		org.AddUser(access.User{AccountID: id, Email: id + "@example.com", Managed: true, Groups: groups})
	}
	return org
}

// heapPeak samples the live heap until stop is called and returns the highest value seen.
func heapPeak() (stop func() uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak }
}

// BenchmarkPlan100k plans a sync rule over 100,000 users and 2,000 groups of the in-memory
// fake org, then converges and runs again: the second run must make zero writes. Metrics:
// reads per plan (pages of 100 users and group look-ups) against the minimum, peak heap
// during planning over the heap holding the fake org, and writes of the second run.
func BenchmarkPlan100k(b *testing.B) {
	rules := []struct {
		name  string
		match condFunc
	}{
		{"narrowed", inGroupNot("scim-engineering", "contractors")},
		{"whole_org", condFunc{
			src: `user.groups.exists(g, g == "scim-engineering") && !("contractors" in user.groups)`,
			fn: func(u *access.User) (bool, error) {
				return u.InGroup("scim-engineering") && !u.InGroup("contractors"), nil
			},
		}},
	}
	for _, r := range rules {
		b.Run(r.name, func(b *testing.B) {
			store := accesstest.NewMemStore(nil)
			pol := &access.Policy{
				Organization: access.Organization{Domains: []string{"example.com"}},
				Sync:         []access.SyncRule{{Name: "engineering-jira", Match: r.match, AddTo: []string{"jira-users"}, RemoveUnmatched: true}},
				Guard:        access.Guard{MaxChanges: 1 << 30},
			}
			org := benchOrg(b)
			// minimum reads: one group look-up and the pages of the users that can matter
			// (the members of scim-engineering ∪ jira-users, or the whole org).
			union := map[string]bool{}
			for _, g := range []string{"scim-engineering", "jira-users"} {
				for _, id := range org.Members(g) {
					union[id] = true
				}
			}
			minReads := map[string]int{"narrowed": 1 + (len(union)+99)/100, "whole_org": 1 + 100_000/100}
			eng := &access.Engine{Store: store, Org: org, Provisioner: org, Notifier: &accesstest.Notices{},
				Policy: func() *access.Policy { return pol }, Now: func() time.Time { return engineT0 }}
			ctx := context.Background()
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			org.ResetCalls()
			stop := heapPeak()
			cpu0 := cpuTime()
			var planned int
			b.ReportAllocs()
			for b.Loop() {
				p, err := eng.Plan(ctx, access.RunSync, "engineering-jira")
				if err != nil || p.Outcome != access.OutcomeDryRun {
					b.Fatalf("plan: %v %+v", err, p)
				}
				planned = len(p.Changes)
			}
			cpu := cpuTime() - cpu0
			peak := stop()
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/plan")
			b.ReportMetric(float64(planned), "changes")
			reads := float64(org.Reads()) / float64(b.N)
			b.ReportMetric(reads, "reads/plan")
			b.ReportMetric(reads/float64(minReads[r.name]), "reads/min")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(peak-min(peak, base.HeapAlloc))/(1<<20), "plan-heap-MB")

			b.StopTimer()
			if run, err := eng.Run(ctx, access.RunSync, "engineering-jira", false); err != nil || run.Outcome != access.OutcomeOK {
				b.Fatalf("converge: %v %s %s", err, run.Outcome, run.Error)
			}
			org.ResetCalls()
			run, err := eng.Run(ctx, access.RunSync, "engineering-jira", false)
			if err != nil || run.Outcome != access.OutcomeOK {
				b.Fatalf("second run: %v %+v", err, run)
			}
			b.ReportMetric(float64(org.Writes()), "writes/second-run")
			b.ReportMetric(float64(len(run.Changes)), "changes/second-run")
		})
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
