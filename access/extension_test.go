package access_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// Extensions are judged when they are approved, on the grant as it is then: two extensions
// filed side by side cannot together pass max_duration, an extension of a grant that ended
// meanwhile gives nothing back, and the holder's other Slack identity cannot approve one.
func TestService_Extend_judgedAtApproval(t *testing.T) {
	lead := access.UserActor("U0LEAD")
	for _, tt := range []struct {
		name     string
		run      func(h *harness, grant string) error // returns the error of the last approval
		wantCode access.Code
		wantEnds time.Duration // the grant's length afterwards; 0: revoked
	}{
		{"two_pending_together_over_max", func(h *harness, grant string) error {
			x1, err := h.svc.Extend(h.ctx(), alice, grant, 4*24*time.Hour, "more")
			if err != nil {
				return err
			}
			x2, err := h.svc.Extend(h.ctx(), alice, grant, 4*24*time.Hour, "even more")
			if err != nil {
				return err
			}
			if _, err := h.svc.Approve(h.ctx(), lead, x1.ID); err != nil {
				h.t.Fatalf("first extension: %v", err)
			}
			_, err = h.svc.Approve(h.ctx(), lead, x2.ID)
			return err
		}, access.EINVALID, 5 * 24 * time.Hour},
		{"grant_revoked_meanwhile", func(h *harness, grant string) error {
			x, err := h.svc.Extend(h.ctx(), alice, grant, time.Hour, "more")
			if err != nil {
				return err
			}
			if _, err := h.svc.Revoke(h.ctx(), alice, grant); err != nil {
				h.t.Fatalf("revoke: %v", err)
			}
			_, err = h.svc.Approve(h.ctx(), lead, x.ID)
			return err
		}, access.ECONFLICT, 0},
		{"holders_other_identity_approves", func(h *harness, grant string) error {
			h.policy.Roles[1].Approvers = []string{"U0LEAD", "U0ALICE2"}
			h.svc.Identity = people{emails: map[string]string{"U0ALICE": "alice@example.com", "U0ALICE2": "alice+admin@example.com", "U0LEAD": "lead@example.com"}}
			x, err := h.svc.Extend(h.ctx(), alice, grant, time.Hour, "more")
			if err != nil {
				return err
			}
			_, err = h.svc.Approve(h.ctx(), access.UserActor("U0ALICE2"), x.ID)
			return err
		}, access.EFORBIDDEN, 24 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.submit(alice, "jira-software", 24*time.Hour)
			if _, err := h.svc.Approve(h.ctx(), lead, r.ID); err != nil {
				t.Fatal(err)
			}
			err := tt.run(h, r.ID)
			if access.ErrorCode(err) != tt.wantCode {
				t.Fatalf("last approval: %v; want %s", err, tt.wantCode)
			}
			g := h.grant(r.ID)
			switch {
			case tt.wantEnds == 0 && (g.Status != access.GrantRevoked || h.member("acc-alice")):
				t.Errorf("grant is %s, alice a member: %v; want it revoked", g.Status, h.member("acc-alice"))
			case tt.wantEnds != 0 && g.EndsAt.Sub(g.GrantedAt) != tt.wantEnds:
				t.Errorf("grant lasts %s; want %s", g.EndsAt.Sub(g.GrantedAt), tt.wantEnds)
			}
			h.checkChain()
		})
	}
}

// interleave is a Store that runs before once, just before the first Update it is asked for:
// another request committed between a caller's reads and its transaction.
type interleave struct {
	access.Store
	armed  atomic.Bool
	before func()
}

func (s *interleave) Update(ctx context.Context, fn func(access.Tx) error) error {
	if s.armed.CompareAndSwap(true, false) {
		s.before()
	}
	return s.Store.Update(ctx, fn)
}

// Two extensions asked at once are each judged by auto_approve on the grant as it is when
// they are filed: the second one, filed after the first lengthened the grant, is over the
// condition's total and waits for an approver, as it would one after the other.
func TestService_Extend_autoApproveOnGrantAsFiled(t *testing.T) {
	h := newHarness(t)
	h.policy.Role("jira-software").AutoApprove = svcCond(func(in access.Input) (bool, error) {
		return in.Request.Total <= 2*time.Hour, nil
	})
	r := h.submit(alice, "jira-software", time.Hour)
	if r.Status != access.RequestApproved {
		t.Fatalf("first request not auto-approved: %+v", r)
	}
	var second *access.Request
	st := &interleave{Store: h.svc.Store}
	st.before = func() {
		var err error
		if second, err = h.svc.Extend(h.ctx(), alice, r.ID, time.Hour, "at once, from another window"); err != nil {
			t.Errorf("second extension: %v", err)
		}
	}
	st.armed.Store(true)
	h.svc.Store = st
	first, err := h.svc.Extend(h.ctx(), alice, r.ID, time.Hour, "more")
	if err != nil {
		t.Fatal(err)
	}
	if second == nil || second.Status != access.RequestApproved {
		t.Fatalf("the extension filed first is %+v; want auto-approved", second)
	}
	if first.Status != access.RequestPending {
		t.Errorf("the extension filed second is %s; want pending (its total is 3h, over the condition's 2h)", first.Status)
	}
	if g := h.grant(r.ID); g.EndsAt.Sub(g.GrantedAt) != 2*time.Hour {
		t.Errorf("grant lasts %s; want 2h", g.EndsAt.Sub(g.GrantedAt))
	}
	h.checkChain()
}
