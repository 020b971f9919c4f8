package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/policies"
	"github.com/jitbot/jitbot/store"
)

// soakPolicy: five requestable groups, a sync rule over a fifth of the people, runs kept for
// ten minutes and history for five (the soak prunes both each minute, as the scheduler does
// hourly).
const soakPolicy = `version: 1
organization:
  domains: [example.com]
channels:
  audit: C0AUDIT
teams:
  leads: [U0LEAD]
roles:
  - {name: r0, grants: [{group: g0}], max_duration: 2h, approvers: [leads], reason: optional}
  - {name: r1, grants: [{group: g1}], max_duration: 2h, approvers: [leads], reason: optional}
  - {name: r2, grants: [{group: g2}], max_duration: 2h, approvers: [leads], reason: optional}
  - {name: r3, grants: [{group: g3}], max_duration: 2h, approvers: [leads], reason: optional}
  - {name: r4, grants: [{group: g4}], max_duration: 2h, approvers: [leads], reason: optional}
limits:
  pending_per_user: 50
sync:
  - name: eng-tools
    schedule: "@every 5m"
    match: '"scim-eng" in user.groups'
    add_to: [eng-tools]
    remove_unmatched: true
`

// soakNotes measures each revocation: the real time from the start of the sweep pass that
// revoked it.
type soakNotes struct {
	mu    sync.Mutex
	start time.Time
	lags  []time.Duration
}

func (n *soakNotes) Notify(_ context.Context, _ access.Tx, x access.Notice) error {
	if x.Kind != access.NoticeEnded {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lags = append(n.lags, time.Since(n.start))
	return nil
}

// BenchmarkSoak runs an hour of simulated time (fake clock) through the Service with the real
// parts: a bbolt file, the real Atlassian client over HTTP to the fake org with 1,000 people.
// 10,000 grants are requested and approved through the Service at a steady rate (5–30 min
// each), a sweep pass runs every 5 simulated seconds, the sync rule every 5 simulated minutes
// (a few people join or leave its IdP group each time), stored runs older than 10 minutes are
// pruned every minute, and so is history (grants, requests and audit events) that ended more
// than 5 minutes before, through pruneHistory as the scheduler's job runs it. Each simulated
// minute it samples the live heap (after a GC),
// goroutines, the store file's size, live grants, and the revocation lag (real time from the
// start of the pass that revoked a grant to its verified revocation); JITBOT_SOAK_CSV=FILE
// writes the samples (scripts/benchmarks plots them). Run with
//
//	go test -run '^$' -bench Soak -benchtime 1x -timeout 30m ./cmd/jitbot/
func BenchmarkSoak(b *testing.B) {
	const (
		people   = 1000
		grants   = 10_000
		minutes  = 60
		step     = 5 * time.Second
		syncs    = 5 * time.Minute
		keepRuns = 10 * time.Minute
		keepHist = 5 * time.Minute
	)
	for range b.N {
		clock := accesstest.NewClock(lcT0)
		org := atlassiantest.NewServer(b, atlassiantest.WithClock(clock.Now), atlassiantest.WithoutRequestLog())
		for g := range 5 {
			org.AddGroup(atlassiantest.Group{Name: fmt.Sprintf("g%d", g)})
		}
		org.AddGroup(atlassiantest.Group{Name: "eng-tools"})
		org.AddGroup(atlassiantest.Group{Name: "scim-eng", ExternalSynced: true})
		ppl := lcPeople{lcLead: "lead@example.com"}
		org.AddUser(atlassiantest.User{Email: "lead@example.com"})
		users := make([]string, people)
		accts := make([]string, people)
		for i := range people {
			users[i] = fmt.Sprintf("U%07d", i)
			ppl[users[i]] = fmt.Sprintf("p%04d@example.com", i)
			accts[i] = org.AddUser(atlassiantest.User{Email: ppl[users[i]], Name: users[i]})
			if i%5 == 0 {
				org.AddMember("scim-eng", accts[i])
			}
		}
		pol, err := policies.Parse("soak.yaml", []byte(soakPolicy))
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "jitbot.db")
		db, err := store.Open(path, store.Options{AuditKey: lcAuditKey, NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		atl, err := atlassian.New(atlassian.Config{
			BaseURL: org.URL(), OrgID: org.OrgID(), APIKey: atlassian.Secret(org.APIKey()),
			RatePerMinute: 1 << 30, Burst: 1 << 20, Now: clock.Now,
			Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		})
		if err != nil {
			b.Fatal(err)
		}
		notes := &soakNotes{}
		policy := func() *access.Policy { return pol }
		eng := &access.Engine{Store: db, Org: atl, Provisioner: atl, Policy: policy, Now: clock.Now}
		svc := &access.Service{
			Store: db, Directory: atl, Provisioner: atl, Identity: ppl, Principals: ppl, Notifier: notes,
			Policy: policy, Now: clock.Now, Engine: eng, Jitter: func(d time.Duration) time.Duration { return d },
		}
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(1, 2))

		var out *csv.Writer
		if p := os.Getenv("JITBOT_SOAK_CSV"); p != "" {
			f, err := os.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			out = csv.NewWriter(f)
			_ = out.Write([]string{"minute", "heap_mb", "goroutines", "store_mb", "live_grants", "given", "revoked", "lag_p50_ms", "lag_p99_ms", "lag_max_ms", "atlassian_calls", "runs_kept", "history_pruned_grants", "history_pruned_events", "audit_events_kept", "store_in_use_mb"})
		}
		type sample struct {
			heap, goroutines, storeMB, inUseMB, p99 float64
			live                                    int
		}
		var samples []sample
		given, calls0 := 0, atl.Calls()
		var minuteLags []time.Duration
		prunedGrants := 0
		revokedInMinute := 0
		b.ResetTimer()
		realStart := time.Now()
		for s := 1; s <= minutes*int(time.Minute/step); s++ {
			clock.Advance(step)
			// Steady requests: 10,000 over the hour, each approved by the lead at once.
			for given < grants*s/(minutes*int(time.Minute/step)) {
				i := rng.IntN(people)
				d := time.Duration(5+rng.IntN(26)) * time.Minute
				r, err := svc.Submit(ctx, access.UserActor(users[i]), fmt.Sprintf("r%d", rng.IntN(5)), d, "soak")
				if err != nil {
					b.Fatalf("submit %d: %v", given, err)
				}
				if _, err := svc.Approve(ctx, access.UserActor(lcLead), r.ID); err != nil {
					b.Fatalf("approve %d: %v", given, err)
				}
				given++
			}
			notes.mu.Lock()
			notes.start, notes.lags = time.Now(), nil
			notes.mu.Unlock()
			if _, err := svc.Sweep(ctx); err != nil {
				b.Fatalf("sweep at %s: %v", clock.Now().Sub(lcT0), err)
			}
			notes.mu.Lock()
			minuteLags = append(minuteLags, notes.lags...)
			revokedInMinute += len(notes.lags)
			notes.mu.Unlock()
			elapsed := time.Duration(s) * step
			if elapsed%syncs == 0 {
				for range 5 { // people join and leave the IdP group between runs
					org.AddMember("scim-eng", accts[rng.IntN(people)])
				}
				if _, err := eng.Run(ctx, access.RunSync, "eng-tools", false); err != nil {
					b.Fatalf("sync at %s: %v", elapsed, err)
				}
			}
			if elapsed%time.Minute != 0 {
				continue
			}
			kept := 0
			err := db.Update(ctx, func(tx access.Tx) error {
				if _, err := tx.PruneRuns(clock.Now().Add(-keepRuns)); err != nil {
					return err
				}
				runs, err := tx.Runs("eng-tools", 1000)
				kept = len(runs)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			pruned, err := access.PruneHistory(ctx, db, clock.Now(), keepHist)
			if err != nil {
				b.Fatal(err)
			}
			prunedGrants += pruned.Grants
			eventsKept := 0
			if err := db.View(ctx, func(tx access.Tx) error {
				evs, err := tx.AuditEvents(access.AuditFilter{})
				eventsKept = len(evs)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			_, inUse, err := db.Usage()
			if err != nil {
				b.Fatal(err)
			}
			var live access.LiveCounts
			if err := db.View(ctx, func(tx access.Tx) error { live, err = tx.LiveCounts(); return err }); err != nil {
				b.Fatal(err)
			}
			calls := atl.Calls()
			p50, p99, pmax := percentile(minuteLags, 50), percentile(minuteLags, 99), percentile(minuteLags, 100)
			sm := sample{heap: float64(ms.HeapAlloc) / (1 << 20), goroutines: float64(runtime.NumGoroutine()), storeMB: float64(fi.Size()) / (1 << 20), inUseMB: float64(inUse) / (1 << 20), p99: ms2(p99), live: live.Grants[access.GrantActive]}
			samples = append(samples, sm)
			if out != nil {
				_ = out.Write([]string{
					strconv.Itoa(int(elapsed / time.Minute)), f2(sm.heap), strconv.Itoa(int(sm.goroutines)), f2(sm.storeMB),
					strconv.Itoa(live.Grants[access.GrantActive]), strconv.Itoa(given), strconv.Itoa(revokedInMinute),
					f2(ms2(p50)), f2(ms2(p99)), f2(ms2(pmax)), strconv.FormatInt(calls-calls0, 10), strconv.Itoa(kept),
					strconv.Itoa(pruned.Grants), strconv.Itoa(pruned.Events), strconv.Itoa(eventsKept), f2(sm.inUseMB),
				})
				out.Flush()
			}
			minuteLags, revokedInMinute, calls0 = nil, 0, calls
		}
		b.StopTimer()
		_ = db.Close()
		if len(samples) < 20 {
			b.Fatalf("only %d samples", len(samples))
		}
		// Flatness: the last quarter against the second (the first fills up to steady state).
		q := len(samples) / 4
		mean := func(from, to int, f func(sample) float64) float64 {
			t := 0.0
			for _, s := range samples[from:to] {
				t += f(s)
			}
			return t / float64(to-from)
		}
		heap := func(s sample) float64 { return s.heap }
		gor := func(s sample) float64 { return s.goroutines }
		lag := func(s sample) float64 { return s.p99 }
		inUse := func(s sample) float64 { return s.inUseMB }
		b.ReportMetric(mean(3*q, len(samples), heap)/mean(q, 2*q, heap), "heap-late/mid")
		b.ReportMetric(mean(3*q, len(samples), gor)-mean(q, 2*q, gor), "goroutines-late-mid")
		b.ReportMetric(mean(3*q, len(samples), lag)/max(mean(q, 2*q, lag), 0.001), "lag-p99-late/mid")
		b.ReportMetric(samples[len(samples)-1].storeMB, "store-MB")
		b.ReportMetric(mean(3*q, len(samples), inUse)/mean(q, 2*q, inUse), "in-use-late/mid")
		b.ReportMetric(samples[len(samples)-1].inUseMB, "in-use-MB")
		b.ReportMetric(float64(prunedGrants), "grants-pruned")
		b.ReportMetric(float64(given), "grants")
		b.ReportMetric(time.Since(realStart).Seconds(), "real-s")
	}
}

func ms2(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
