package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// TestBot_AutoApproveJudgesRequestersNow: a role granted without a click (auto_approve) is
// requested by someone just removed from its requesters' user group. The principal cache still
// has the old membership (it lasts a minute); the grant must follow the group as it is now, as
// an approver's click and break-glass do.
func TestBot_AutoApproveJudgesRequestersNow(t *testing.T) {
	h := newHarness(t)
	h.fake.AddUserGroup("S0ONCALL", dave)
	h.setPolicy(func(p *access.Policy) {
		r := roleIn(p, "jira-admin")
		r.Requesters, r.RequesterNames = []string{"S0ONCALL"}, []string{"S0ONCALL"}
		r.AutoApprove = condFunc{`true`, func(access.Input) bool { return true }}
	})
	// dave looks at the roles he may ask for: the group is now cached with him in it.
	if _, m := h.slash(dave, "roles"); !strings.Contains(m.PlainText(), "jira-admin") {
		t.Fatalf("dave's roles: %q", m.PlainText())
	}
	// He leaves on-call, and asks at once.
	h.fake.AddUserGroup("S0ONCALL")
	reqs, audit := h.counts()
	_, m := h.slash(dave, "request jira-admin 1h quick fix")
	if !strings.Contains(m.PlainText(), "not one of its requesters") {
		t.Errorf("request after leaving the group answered %q", m.PlainText())
	}
	if h.org.Member("jira-admins", "acc-dave") {
		t.Error("dave was added to jira-admins after leaving the requesters' group")
	}
	h.assertUnchanged("an auto-approved request by a former requester", reqs, audit)
}

// TestBot_AutoApprovedExtensionJudgesRequestersNow is the same for an extension that
// auto_approve lets through: the holder left the requesters' group since the grant.
func TestBot_AutoApprovedExtensionJudgesRequestersNow(t *testing.T) {
	h := newHarness(t)
	h.fake.AddUserGroup("S0ONCALL", alice)
	h.setPolicy(func(p *access.Policy) {
		r := roleIn(p, "jira-admin")
		r.Requesters, r.RequesterNames = []string{"S0ONCALL"}, []string{"S0ONCALL"}
		r.AutoApprove = condFunc{`true`, func(access.Input) bool { return true }}
	})
	_, m := h.slash(alice, "request jira-admin 1h quick fix")
	if !strings.Contains(m.PlainText(), "approved automatically") {
		t.Fatalf("request answered %q", m.PlainText())
	}
	h.next("grant DM", bottest.And(h.fake.InChannel(alice), bottest.WithButton(actionRevoke)))
	_, gs, err := h.svc.Mine(h.ctx, alice)
	if err != nil || len(gs) != 1 {
		t.Fatalf("alice's grants: %v, %v", gs, err)
	}
	g := gs[0]
	h.fake.AddUserGroup("S0ONCALL")
	_, m = h.slash(alice, "extend "+g.ID+" 1h still fixing")
	if !strings.Contains(m.PlainText(), "not one of its requesters") {
		t.Errorf("extension after leaving the group answered %q", m.PlainText())
	}
	if cur, _ := h.svc.Grant(h.ctx, g.ID); !cur.EndsAt.Equal(g.EndsAt) {
		t.Errorf("grant now ends %s; was %s", cur.EndsAt, g.EndsAt)
	}
}

// TestBot_ReviewJudgesReviewersNow: a reviewer removed from the reviewers' user group while a
// review runs clicks Keep on what they were sent. The principal cache still has them; their
// decision must follow the group as it is now.
func TestBot_ReviewJudgesReviewersNow(t *testing.T) {
	h := reviewHarness(t) // reviewers S0SEC: bob and carol; members alice, bob, dave
	// A click is judged on a lookup of the reviewers of the last ReviewerFresh (5 s by default,
	// so a burst of clicks shares one: TestBot_ReviewClickBurst); the group changes here right
	// after the start's lookup, so the window is taken down to nothing.
	h.svc.ReviewerFresh = time.Nanosecond
	items, err := h.svc.StartReview(h.ctx, "quarterly-admins")
	if err != nil || len(items) != 3 {
		t.Fatalf("StartReview = %d items, %v", len(items), err)
	}
	carolDM := h.next("carol's review DM", bottest.And(h.fake.InChannel(carol), bottest.WithButton(actionReviewKeep)))
	h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })
	h.fake.AddUserGroup("S0SEC", bob)
	alices := reviewItemOf(t, items, "acc-alice")
	_, audit := h.counts()
	h.rawClick(carol, carolDM.Channel, carolDM.TS, actionReviewKeep, alices.ID)
	if m := h.next("carol's refusal", bottest.EphemeralTo(carol)); !strings.Contains(m.PlainText(), "not a reviewer") {
		t.Errorf("carol, removed from the reviewers' group, was told %q", m.PlainText())
	}
	if cur, err := h.svc.ReviewItem(h.ctx, alices.ID); err != nil || cur.Status != access.ReviewPending {
		t.Errorf("after the removed reviewer's Keep alice's item is %+v, %v", cur, err)
	}
	if _, a := h.counts(); a != audit {
		t.Errorf("the removed reviewer's click wrote %d audit events", a-audit)
	}
}

// TestBot_OperatorJudgedNow: an operator removed from the operators' user group ends someone
// else's grant at once. The principal cache still has them (they ran a command a moment
// ago); who may end another's grant is judged on the group as it is now.
func TestBot_OperatorJudgedNow(t *testing.T) {
	h := newHarness(t)
	h.fake.AddUserGroup("S0IT", frank)
	h.setPolicy(func(p *access.Policy) { p.Permissions.Operators = []string{"S0IT"} })
	g := h.granted()
	h.slash(frank, "sync engineering-jira dry-run") // resolves the operators: frank is cached as one
	h.fake.AddUserGroup("S0IT")
	if _, m := h.slash(frank, "revoke "+g.ID); !strings.Contains(m.PlainText(), "not yours") {
		t.Errorf("frank, no longer an operator, was told %q", m.PlainText())
	}
	if cur, _ := h.svc.Grant(h.ctx, g.ID); cur.Status != access.GrantActive || !h.org.Member("jira-admins", "acc-alice") {
		t.Errorf("alice's grant is %s after a former operator's revoke", cur.Status)
	}
}

// TestBot_ApprovalJudgesRequesterNow: a request waits for approval; meanwhile its requester
// is taken out of the role's requesters' user group (moved team, leaving). An approver's
// click on the DM they were sent must not give the role to someone who may no longer ask.
func TestBot_ApprovalJudgesRequesterNow(t *testing.T) {
	h := newHarness(t)
	h.fake.AddUserGroup("S0ENG", dave)
	h.setPolicy(func(p *access.Policy) {
		r := roleIn(p, "jira-admin")
		r.Requesters, r.RequesterNames = []string{"S0ENG"}, []string{"S0ENG"}
	})
	if _, m := h.slash(dave, "request jira-admin 1h fixing SSO"); !strings.Contains(m.PlainText(), "was sent to") {
		t.Fatalf("dave's request answered %q", m.PlainText())
	}
	dm := h.next("bob's approval DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove)))
	id := requestID(t, dm)
	h.fake.AddUserGroup("S0ENG")
	h.click(bob, dm, actionApprove)
	if m := h.next("bob's answer", bottest.EphemeralTo(bob)); !strings.Contains(m.PlainText(), "may no longer ask") {
		t.Errorf("bob was told %q", m.PlainText())
	}
	if r := h.request(id); r.Status != access.RequestPending || len(r.Approvals) != 0 {
		t.Errorf("request is %s with %d approvals", r.Status, len(r.Approvals))
	}
	if h.org.Member("jira-admins", "acc-dave") {
		t.Error("dave was given jira-admin after leaving its requesters")
	}
}
