package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// TestGuard_platformRoles: the drift check lists holders of site-admin, org-admin and
// user-access-admin with no grant or standing entry behind them, against the fake org through
// the real client, and on_drift revert revokes them through the guards.
func TestGuard_platformRoles(t *testing.T) {
	e := newLCEnv(t)
	e.policy.Roles = append(e.policy.Roles, access.Role{
		Name: "site-admin", Grants: []access.Target{access.RoleTarget("site-admin", "example.atlassian.net")},
		MaxDuration: 4 * time.Hour, DefaultDuration: time.Hour, Approvers: []string{lcLead}, Approvals: 1, PendingTimeout: time.Hour,
	})
	e.policy.Guard = access.Guard{StandingMembers: map[string][]string{"role:site-admin": {"erin@example.com"}}, MaxChanges: 10}
	site := e.org.SiteID()
	cloud := strings.TrimPrefix(site, "ari:cloud:platform::site/")
	e.org.SetRole(e.acct["U0DAVE"], "atlassian/site-admin", site, true)                                      // by hand, outside jitbot
	e.org.SetRole(e.acct["U0ERIN"], "atlassian/site-admin", site, true)                                      // break-glass account, standing
	e.org.SetRole(e.acct["U0FRANK"], "atlassian/org-admin", "", true)                                        // by hand
	e.org.SetRole(e.acct["U0BOB"], "atlassian/user-access-admin", "ari:cloud:jira-admin::site/"+cloud, true) // by hand, reported on the workspace ID
	r, err := e.svc.Submit(e.ctx, access.UserActor("U0CAROL"), "site-admin", time.Hour, "incident")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Approve(e.ctx, access.UserActor(lcLead), r.ID); err != nil {
		t.Fatal(err)
	}
	if g := e.get(r.ID); g.Status != access.GrantActive {
		t.Fatalf("carol's grant: %s %s", g.Status, g.LastError)
	}
	eng := &access.Engine{Store: e.db, Org: e.atl, Provisioner: e.atl, Roles: e.atl, Notifier: e.notes,
		Policy: func() *access.Policy { return e.policy }, Now: e.clock.Now}

	drift := func(run *access.Run) []string {
		var out []string
		for _, c := range run.Changes {
			out = append(out, string(c.Op)+" "+c.Account.Email+" "+c.Role)
		}
		slices.Sort(out)
		return out
	}
	run, err := eng.Plan(e.ctx, access.RunGuard, access.GuardRunName)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"report bob@example.com user-access-admin", "report dave@example.com site-admin", "report frank@example.com org-admin"}
	if got := drift(run); !slices.Equal(got, want) {
		t.Fatalf("drift report %v, want %v", got, want)
	}
	if !strings.Contains(formatRun(run), "dave@example.com holding site-admin on "+site) {
		t.Errorf("plan output does not show the role:\n%s", formatRun(run))
	}

	// Revert: frank is the only org-admin, so the run stops before changing anything.
	e.policy.Guard.OnDrift = access.DriftRevert
	run, err = eng.Run(e.ctx, access.RunGuard, access.GuardRunName, false)
	if err != nil || run.Outcome != access.OutcomeStopped || !strings.Contains(run.Error, "org-admin") {
		t.Fatalf("revert with the last org-admin: %v %+v", err, run)
	}
	if !e.org.HasRole(e.acct["U0DAVE"], "atlassian/site-admin", site) {
		t.Fatal("a stopped run changed Atlassian")
	}
	e.policy.Guard.StandingMembers["role:org-admin"] = []string{"lead@example.com"}
	e.org.SetRole(e.acct[lcLead], "atlassian/org-admin", "", true)
	run, err = eng.Run(e.ctx, access.RunGuard, access.GuardRunName, false)
	if err != nil || run.Outcome != access.OutcomeOK {
		t.Fatalf("revert: %v %+v", err, run)
	}
	if want := []string{"remove bob@example.com user-access-admin", "remove dave@example.com site-admin", "remove frank@example.com org-admin"}; !slices.Equal(drift(run), want) {
		t.Fatalf("revert changes %v, want %v", drift(run), want)
	}
	for who, role := range map[string]string{"U0DAVE": "atlassian/site-admin", "U0FRANK": "atlassian/org-admin"} {
		if e.org.HasRole(e.acct[who], role, site) {
			t.Errorf("%s still holds %s", who, role)
		}
	}
	if e.org.HasRole(e.acct["U0BOB"], "atlassian/user-access-admin", e.org.ProductID("jira")) {
		t.Error("bob still holds user-access-admin")
	}
	for who, role := range map[string]string{"U0ERIN": "atlassian/site-admin", "U0CAROL": "atlassian/site-admin", lcLead: "atlassian/org-admin"} {
		if !e.org.HasRole(e.acct[who], role, site) {
			t.Errorf("%s lost %s", who, role)
		}
	}
}
