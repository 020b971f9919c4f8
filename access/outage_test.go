package access_test

import (
	"context"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// outageErr is Atlassian answering 503: it carries the cause the way the client's errors do.
type outageErr struct{}

func (outageErr) Error() string { return "Atlassian is unavailable." }
func (outageErr) Unwrap() error {
	return access.Errorf(access.EUNAVAILABLE, "Atlassian is unavailable.")
}
func (outageErr) Cause() string  { return "Atlassian answered 503 (ADMIN-500)" }
func (outageErr) Answered() bool { return true }

// TestService_outageProbeThenRelease: while Atlassian is down only one grant calls it per
// pass; the first answer releases the others at once, not on their own backoff.
func TestService_outageProbeThenRelease(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for _, who := range []access.Actor{alice, bob} {
		r := h.submit(who, "jira-software", time.Hour)
		h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID)
		ids = append(ids, r.ID)
	}
	var down atomic.Bool
	var calls atomic.Int64
	down.Store(true)
	h.org.Fail = func(op, _, _ string) error {
		if op == "user" {
			return nil
		}
		calls.Add(1)
		if down.Load() {
			return outageErr{}
		}
		return nil
	}
	h.clock.Advance(time.Hour)
	h.sweep() // both due: the first fails and probes, the other is held
	for range 30 {
		calls.Store(0)
		h.clock.Advance(time.Second)
		h.sweep()
		if n := calls.Load(); n > 1 {
			t.Fatalf("%d calls to Atlassian in one pass during the outage, want the probe's one", n)
		}
	}
	for _, id := range ids {
		if g := h.grant(id); g.Status == access.GrantRevoked || g.Late == nil || !g.Late.Outage {
			t.Fatalf("grant %s during the outage: %s late %+v", id, g.Status, g.Late)
		}
	}
	down.Store(false)
	h.clock.Advance(time.Second)
	h.sweep()
	h.svc.WaitReleased()
	for _, id := range ids {
		if g := h.grant(id); g.Status != access.GrantRevoked || g.Late != nil {
			t.Fatalf("grant %s a second after recovery: %s late %+v", id, g.Status, g.Late)
		}
	}
	for _, n := range h.notes.Of(access.NoticeEnded) {
		if !strings.Contains(n.Text, "after expiry: Atlassian answered 503 (ADMIN-500) from") || !strings.Contains(n.Text, "s late)") {
			t.Errorf("ended note %q", n.Text)
		}
	}
}

// hangingProv blocks the first call made after hang is set until release is closed, and
// counts every other call by account.
type hangingProv struct {
	access.Provisioner
	hang     atomic.Bool
	hung     chan string // the hung call's account, once
	release  chan struct{}
	mu       sync.Mutex
	byOthers map[string]int
}

func (p *hangingProv) call(a access.Account) {
	if p.hang.CompareAndSwap(true, false) {
		p.hung <- a.ID
		<-p.release
		return
	}
	p.mu.Lock()
	p.byOthers[a.ID]++
	p.mu.Unlock()
}

func (p *hangingProv) Add(ctx context.Context, a access.Account, t access.Target) error {
	p.call(a)
	return p.Provisioner.Add(ctx, a, t)
}

func (p *hangingProv) Remove(ctx context.Context, a access.Account, t access.Target) error {
	p.call(a)
	return p.Provisioner.Remove(ctx, a, t)
}

func (p *hangingProv) Has(ctx context.Context, a access.Account, t access.Target) (bool, error) {
	p.call(a)
	return p.Provisioner.Has(ctx, a, t)
}

// TestService_outageSlowProbe: a probe whose call hangs (an outage that times out rather than
// answering 5xx) is not taken over while its attempt lasts, within the lease: the held grant
// does not start calling Atlassian beside it.
func TestService_outageSlowProbe(t *testing.T) {
	h := newHarness(t)
	for _, who := range []access.Actor{alice, bob} {
		r := h.submit(who, "jira-software", time.Hour)
		h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID)
	}
	h.org.Fail = func(op, _, _ string) error {
		if op == "user" {
			return nil
		}
		return outageErr{}
	}
	p := &hangingProv{Provisioner: h.prov, hung: make(chan string, 1), release: make(chan struct{}), byOthers: map[string]int{}}
	h.svc.Provisioner = p
	h.clock.Advance(time.Hour)
	h.sweep() // both due: the first fails and probes, the other is held

	p.hang.Store(true)
	h.clock.Advance(time.Second)
	done := make(chan struct{})
	go func() { defer close(done); h.svc.Sweep(h.ctx()) }()
	probe := <-p.hung
	clear(p.byOthers)
	// The held grant is due again after OutageHold (1m); the probe's attempt is still under way.
	h.clock.Advance(access.DefaultOutageHold + time.Second)
	h.sweep()
	p.mu.Lock()
	others := maps.Clone(p.byOthers)
	p.mu.Unlock()
	close(p.release)
	<-done
	if len(others) > 0 {
		t.Fatalf("while the probe's (%s) call hung for %s, other grants called Atlassian: %v", probe, access.DefaultOutageHold, others)
	}
}
