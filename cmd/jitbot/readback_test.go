package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
)

// TestLifecycle_addedByHandDuringRetry: the add answers 500 (every attempt of the client), an
// admin adds the member by hand before the retry, and the retry's read-back records it as held
// before the grant: it is never added again and never removed at the grant's end.
func TestLifecycle_addedByHandDuringRetry(t *testing.T) {
	e := newLCEnv(t)
	e.org.Fail(atlassiantest.RouteMembershipAdd, atlassian.DefaultMaxRetries+1, 500)
	alice := e.grant("U0ALICE", time.Hour)
	if g := e.get(alice); g.Status != access.GrantProvisioning || g.Items[0].AddSent || e.member("U0ALICE") {
		t.Fatalf("after the refused add: %s add_sent=%v member=%v", g.Status, g.Items[0].AddSent, e.member("U0ALICE"))
	}
	e.org.AddMember(jiraGroup, e.acct["U0ALICE"]) // by hand, in admin.atlassian.com
	adds := e.calls(atlassiantest.RouteMembershipAdd, "U0ALICE")
	for i := 0; e.get(alice).Status != access.GrantActive; i++ {
		if i > 20 {
			t.Fatalf("not active after retries: %+v", e.get(alice))
		}
		e.clock.Advance(15 * time.Second)
		e.sweep()
	}
	g := e.get(alice)
	if !g.Items[0].Had || g.Items[0].Added {
		t.Fatalf("item after the read-back: %+v", g.Items[0])
	}
	if n := e.calls(atlassiantest.RouteMembershipAdd, "U0ALICE"); n != adds {
		t.Fatalf("added again after the read-back found it: %d adds, want %d", n, adds)
	}
	if !auditHas(t, e, alice, "given outside jitbot, it will be left in place") {
		t.Fatal("the read-back's outcome is not in the audit log")
	}
	e.clock.Advance(time.Hour)
	e.sweep()
	if g := e.get(alice); g.Status != access.GrantRevoked || !e.member("U0ALICE") {
		t.Fatalf("at the end: %s member=%v", g.Status, e.member("U0ALICE"))
	}
	e.checkConsistent()
}

// TestLifecycle_addOutcomeUnknown: the add reaches Atlassian but no answer comes back (the
// process dies right after sending it). The read-back finds the membership and, since jitbot's
// own add may have made it, counts it as given by the grant: it is removed at the end.
func TestLifecycle_addOutcomeUnknown(t *testing.T) {
	e := newLCEnv(t)
	kill := &lcKill{Provisioner: e.atl, e: e, op: "add", after: true}
	e.svc.Provisioner = kill
	alice := e.submit("U0ALICE", time.Hour)
	_, _ = e.svc.Approve(e.ctx, access.UserActor(lcLead), alice)
	if !kill.done {
		t.Fatal("not killed")
	}
	e.clock.Advance(3 * time.Minute) // past the lease
	e.start()
	e.sweep()
	g := e.get(alice)
	if g.Status != access.GrantActive || g.Items[0].Had || !g.Items[0].Added {
		t.Fatalf("after restart: %s %+v", g.Status, g.Items[0])
	}
	if !auditHas(t, e, alice, "outcome was unknown; counted as given by this grant") {
		t.Fatal("the read-back's outcome is not in the audit log")
	}
	e.clock.Advance(time.Hour)
	e.sweep()
	if e.member("U0ALICE") {
		t.Fatal("membership outlived the grant")
	}
	e.checkConsistent()
}

func auditHas(t *testing.T, e *lcEnv, id, sub string) bool {
	t.Helper()
	found := false
	err := e.db.View(context.Background(), func(tx access.Tx) error {
		evs, err := tx.AuditEvents(access.AuditFilter{Subject: id})
		for _, ev := range evs {
			found = found || strings.Contains(ev.Detail, sub)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
