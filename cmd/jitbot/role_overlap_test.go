package main

import (
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// TestLifecycle_overlappingRoleGrantsWrittenDifferently: two roles give site-admin on the same
// site, one by host and one by the site's ARI. When the first grant ends the role stays (the
// other still gives it); when the second ends it goes.
func TestLifecycle_overlappingRoleGrantsWrittenDifferently(t *testing.T) {
	e := newLCEnv(t)
	site := e.org.SiteID()
	for _, r := range []struct{ name, resource string }{{"site-admin", "example.atlassian.net"}, {"site-admin-ari", site}} {
		e.policy.Roles = append(e.policy.Roles, access.Role{
			Name: r.name, Grants: []access.Target{access.RoleTarget("site-admin", r.resource)},
			MaxDuration: 4 * time.Hour, DefaultDuration: time.Hour, Approvers: []string{lcLead}, Approvals: 1, PendingTimeout: time.Hour,
		})
	}
	grant := func(role string, d time.Duration) string {
		t.Helper()
		r, err := e.svc.Submit(e.ctx, access.UserActor("U0ALICE"), role, d, "incident")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Approve(e.ctx, access.UserActor(lcLead), r.ID); err != nil {
			t.Fatal(err)
		}
		if g := e.get(r.ID); g.Status != access.GrantActive {
			t.Fatalf("grant %s: %s %s", r.ID, g.Status, g.LastError)
		}
		return r.ID
	}
	first := grant("site-admin", time.Hour)
	second := grant("site-admin-ari", 2*time.Hour)
	acct := e.acct["U0ALICE"]
	e.clock.Advance(time.Hour)
	e.sweep()
	if g := e.get(first); g.Status != access.GrantRevoked || g.Items[0].Kept == "" || !e.org.HasRole(acct, "atlassian/site-admin", site) {
		t.Fatalf("first grant ended: %s kept=%q held=%v", g.Status, g.Items[0].Kept, e.org.HasRole(acct, "atlassian/site-admin", site))
	}
	e.clock.Advance(time.Hour)
	e.sweep()
	if g := e.get(second); g.Status != access.GrantRevoked || e.org.HasRole(acct, "atlassian/site-admin", site) {
		t.Fatalf("second grant ended: %s held=%v", g.Status, e.org.HasRole(acct, "atlassian/site-admin", site))
	}
}
