package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
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

// relapsingProv is the real client, except that one account's removal does not show yet: the
// fake org puts the membership back right after the removal, as a lagging read would show it.
type relapsingProv struct {
	*atlassian.Client
	org     *atlassiantest.Server
	relapse string // account ID
}

func (p *relapsingProv) Remove(ctx context.Context, a access.Account, t access.Target) error {
	err := p.Client.Remove(ctx, a, t)
	if err == nil && a.ID == p.relapse {
		p.org.AddMember(t.Group, a.ID)
	}
	return err
}

// TestSweeper_BatchedVerification: the removals of one pass are read back together, one
// users/search for the group rather than one per removal, and a grant whose removal is still
// visible is not marked ended.
func TestSweeper_BatchedVerification(t *testing.T) {
	const n = 25
	e := newLCEnv(t)
	role := e.policy.Role("jira-software")
	var ids []string
	for i := range n {
		id := e.org.AddUser(atlassiantest.User{Email: fmt.Sprintf("batch%02d@example.com", i)})
		e.org.AddMember(jiraGroup, id)
		ids = append(ids, id)
	}
	if err := e.db.Update(e.ctx, func(tx access.Tx) error {
		for i := range n {
			if err := putActiveGrant(tx, role, i, ids, time.Hour); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	relapsed := ids[7]
	e.svc.Provisioner = &relapsingProv{Client: e.atl, org: e.org, relapse: relapsed}
	e.clock.Advance(time.Hour + time.Second)

	before := len(e.org.Requests())
	e.sweep()
	var removes, reads int
	for _, r := range e.org.Requests()[before:] {
		switch r.Route {
		case atlassiantest.RouteMembershipRemove:
			removes++
		case atlassiantest.RouteUsersSearch:
			reads++
		}
	}
	if removes != n || reads > (n+9)/10 {
		t.Errorf("%d removals read back with %d users/search calls; want %d removals and at most %d reads", removes, reads, n, (n+9)/10)
	}
	for i := range n {
		g := e.get(fmt.Sprintf("B%07d", i))
		switch {
		case ids[i] == relapsed && g.Status == access.GrantRevoked:
			t.Errorf("grant %s marked ended while its removal is still visible", g.ID)
		case ids[i] == relapsed && (g.Items[0].Removed || !strings.Contains(g.LastError, "still visible")):
			t.Errorf("grant %s: item %+v, last error %q; want a retry for a removal still visible", g.ID, g.Items[0], g.LastError)
		case ids[i] != relapsed && g.Status != access.GrantRevoked:
			t.Errorf("grant %s is %s, want revoked", g.ID, g.Status)
		}
	}
	if m := e.org.Members(jiraGroup); len(m) != 1 || m[0] != relapsed {
		t.Errorf("members left: %v, want only the relapsed %s", m, relapsed)
	}
}
