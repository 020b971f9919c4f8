package access_test

import (
	"strings"
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
