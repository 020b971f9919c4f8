package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// lcSweepInterval is JITBOT_SWEEP_INTERVAL's default: the longest the sweeper sleeps.
const lcSweepInterval = 15 * time.Second

// runSweeper starts the sweeper of e on e's clock and stops it when the test ends.
func (e *lcEnv) runSweeper() {
	e.t.Helper()
	e.svc.After = e.clock.After
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.svc.RunSweeper(ctx, lcSweepInterval) }()
	e.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// waitUntil polls cond (real time, bounded) and fails the test when it stays false.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// sleepsUntil reports whether the sweeper's timer is set for at.
func (e *lcEnv) sleepsUntil(at time.Time) bool {
	return slices.ContainsFunc(e.clock.Sleepers(), at.Equal)
}

// TestSweeper_ExactExpiry: after an idle period, a grant ending 3 s later is revoked on the
// second, not at the next 15 s tick: the sweeper sleeps until the grant's end.
func TestSweeper_ExactExpiry(t *testing.T) {
	e := newLCEnv(t)
	id := e.grant("U0ALICE", time.Hour)
	g := e.get(id)
	e.runSweeper()
	// The warning is 50 min away: the sweeper sleeps its longest, the interval.
	waitUntil(t, "the sweeper sleeps its interval", func() bool { return e.sleepsUntil(e.clock.Now().Add(lcSweepInterval)) })

	// Idle until 3 s before the end; the warning goes out on the way.
	e.clock.Advance(g.EndsAt.Add(-3 * time.Second).Sub(e.clock.Now()))
	waitUntil(t, "the holder is warned", func() bool { return e.get(id).Warned })
	waitUntil(t, "the sweeper sleeps until the end", func() bool { return e.sleepsUntil(g.EndsAt) })
	if !e.member("U0ALICE") || e.get(id).Status != access.GrantActive {
		t.Fatalf("access ended early: member %v, status %s", e.member("U0ALICE"), e.get(id).Status)
	}

	e.clock.Advance(3 * time.Second)
	waitUntil(t, "the grant is revoked", func() bool { return e.get(id).Status == access.GrantRevoked })
	got := e.get(id)
	if lag := got.EndedAt.Sub(got.EndsAt); lag < 0 || lag > time.Second {
		t.Errorf("revoked %s after its end, want within 1s", lag)
	}
	if e.member("U0ALICE") {
		t.Errorf("still a member after the revocation")
	}
}

// TestSweeper_WakesForEarlierWork: a sweeper asleep for its whole interval wakes when a new
// grant ends sooner, and sleeps until that grant's warning and end instead.
func TestSweeper_WakesForEarlierWork(t *testing.T) {
	e := newLCEnv(t)
	e.runSweeper()
	waitUntil(t, "the idle sweeper sleeps its whole interval", func() bool { return e.sleepsUntil(lcT0.Add(lcSweepInterval)) })

	id := e.grant("U0BOB", 10*time.Second) // warned 2 s before its end
	g := e.get(id)
	waitUntil(t, "the sweeper sleeps until the new grant's warning", func() bool { return e.sleepsUntil(g.WarnAt()) })
	e.clock.Advance(g.WarnAt().Sub(e.clock.Now()))
	waitUntil(t, "the sweeper sleeps until the new grant's end", func() bool { return e.sleepsUntil(g.EndsAt) })
	e.clock.Advance(g.EndsAt.Sub(e.clock.Now()))
	waitUntil(t, "the grant is revoked", func() bool { return e.get(id).Status == access.GrantRevoked })
	if got := e.get(id); !got.EndedAt.Equal(got.EndsAt) {
		t.Errorf("revoked at %s, its end is %s", got.EndedAt, got.EndsAt)
	}
}
