package atlassian_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
)

func TestClient_Group_AddRemoveHas(t *testing.T) {
	for _, removeNon := range []int{http.StatusNotFound, http.StatusNoContent} {
		t.Run(http.StatusText(removeNon), func(t *testing.T) {
			f := setup(t)
			f.srv.SetRemoveNonMember(removeNon)
			ctx := context.Background()
			a, tg := access.Account{ID: f.bob}, access.GroupTarget("jira-users")
			for i := 0; i < 2; i++ { // second add hits 409 "already a member": success
				if err := f.c.Add(ctx, a, tg); err != nil {
					t.Fatalf("add #%d: %v", i+1, err)
				}
			}
			if has, err := f.c.Has(ctx, a, tg); err != nil || !has {
				t.Fatalf("Has = %v, %v", has, err)
			}
			for i := 0; i < 2; i++ { // second remove of a non-member: success
				if err := f.c.Remove(ctx, a, tg); err != nil {
					t.Fatalf("remove #%d: %v", i+1, err)
				}
			}
			if has, err := f.c.Has(ctx, a, tg); err != nil || has {
				t.Fatalf("Has after remove = %v, %v", has, err)
			}
			if got := f.srv.Members("jira-users"); len(got) != 1 || got[0] != f.alice {
				t.Errorf("members = %v", got)
			}
		})
	}
}

func TestClient_Group_refusals(t *testing.T) {
	tests := []struct {
		name     string
		group    string
		code     access.Code
		contains []string
		writes   bool // whether a write request may reach the fake
	}{
		{"synced", "scim-engineering", access.EFORBIDDEN, []string{"scim-engineering", "identity provider", "jitbot cannot change it"}, false},
		{"not_modifiable", "org-admins", access.EFORBIDDEN, []string{"org-admins", "not modifiable by API"}, false},
		{"unknown", "no-such-group", access.ENOTFOUND, []string{"no-such-group"}, false},
		{"licence_limit", "confluence-users", access.ECONFLICT, []string{"confluence-users", "user limit"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			err := f.c.Add(context.Background(), access.Account{ID: f.bob}, access.GroupTarget(tt.group))
			wantCode(t, err, tt.code, tt.contains...)
			if got := f.srv.Members(tt.group); len(got) != 0 {
				t.Errorf("members changed: %v", got)
			}
			for _, r := range f.srv.Requests() {
				if r.Route == atlassiantest.RouteMembershipAdd && !tt.writes {
					t.Errorf("write sent before refusing: %+v", r)
				}
			}
		})
	}
}

func TestClient_Role_siteAdmin(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a := access.Account{ID: f.alice}
	tg := access.RoleTarget("site-admin", "example.atlassian.net")
	if err := f.c.Add(ctx, a, tg); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Add(ctx, a, tg); err != nil { // idempotent
		t.Fatal(err)
	}
	if !f.srv.HasRole(f.alice, "atlassian/site-admin", f.srv.SiteID()) {
		t.Fatal("role not assigned in the fake")
	}
	if has, err := f.c.Has(ctx, a, tg); err != nil || !has {
		t.Fatalf("Has = %v, %v", has, err)
	}
	// The same role through the ARI.
	if has, err := f.c.Has(ctx, a, access.RoleTarget("site-admin", f.srv.SiteID())); err != nil || !has {
		t.Fatalf("Has by ARI = %v, %v", has, err)
	}
	for i := 0; i < 2; i++ { // revoking a role not held succeeds
		if err := f.c.Remove(ctx, a, tg); err != nil {
			t.Fatal(err)
		}
	}
	if has, _ := f.c.Has(ctx, a, tg); has {
		t.Fatal("still held")
	}
}

func TestClient_Role_orgAdminEventuallyConsistent(t *testing.T) {
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f := setup(t, atlassiantest.WithClock(clock))
	f.srv.SetRoleDelay(30 * time.Second)
	ctx := context.Background()
	a, tg := access.Account{ID: f.alice}, access.RoleTarget("org-admin", "")
	if err := f.c.Add(ctx, a, tg); err != nil {
		t.Fatal(err)
	}
	if has, _ := f.c.Has(ctx, a, tg); has {
		t.Fatal("visible before the consistency delay")
	}
	now = now.Add(31 * time.Second)
	if has, err := f.c.Has(ctx, a, tg); err != nil || !has {
		t.Fatalf("Has after delay = %v, %v", has, err)
	}
	if err := f.c.Remove(ctx, a, tg); err != nil {
		t.Fatal(err)
	}
	if f.srv.HasRole(f.alice, "atlassian/org-admin", "") {
		t.Fatal("org-admin not revoked")
	}
}

func TestClient_Role_errors(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a := access.Account{ID: f.alice}
	err := f.c.Add(ctx, a, access.RoleTarget("site-admin", "other.atlassian.net"))
	wantCode(t, err, access.ENOTFOUND, "other.atlassian.net", "JITBOT policy")
	f.srv.SetLicenceFull(true)
	err = f.c.Add(ctx, a, access.RoleTarget("admin", "example.atlassian.net"))
	wantCode(t, err, access.ECONFLICT, "user limit")
	if f.srv.HasRole(f.alice, "atlassian/admin", f.srv.ProductID("jira")) {
		t.Error("role assigned despite the licence limit")
	}
}

func TestClient_wrongAPIKey(t *testing.T) {
	f := setup(t)
	c := newClient(t, f.srv, "wrong-key", &sleeps{})
	ctx := context.Background()
	errs := []error{
		c.Add(ctx, access.Account{ID: f.bob}, access.GroupTarget("jira-users")),
		c.Add(ctx, access.Account{ID: f.bob}, access.RoleTarget("site-admin", f.srv.SiteID())),
		c.Suspend(ctx, f.bob),
	}
	_, err := c.UserByEmail(ctx, "alice@example.com")
	errs = append(errs, err)
	for _, err := range errs {
		wantCode(t, err, access.EFORBIDDEN, "JITBOT_ATLASSIAN_API_KEY", "JITBOT_ATLASSIAN_ORG_ID")
		if strings.Contains(err.Error(), "wrong-key") {
			t.Error("key leaked in error")
		}
	}
	if len(f.srv.Members("jira-users")) != 1 || f.srv.HasRole(f.bob, "atlassian/site-admin", f.srv.SiteID()) {
		t.Error("state changed")
	}
	if u, _ := f.srv.User(f.bob); u.Suspended {
		t.Error("bob suspended")
	}
}

func TestClient_retries(t *testing.T) {
	t.Run("429_retry_after", func(t *testing.T) {
		f := setup(t)
		f.srv.Fail429(atlassiantest.RouteUsersSearch, 1, 2*time.Second)
		if _, err := f.c.UserByEmail(context.Background(), "alice@example.com"); err != nil {
			t.Fatal(err)
		}
		s := f.sleeps.all()
		if len(s) != 1 || s[0] < 2*time.Second || s[0] > 3*time.Second {
			t.Fatalf("sleeps = %v, want one of at least 2s (plus small jitter)", s)
		}
	})
	t.Run("429_reset_header_only", func(t *testing.T) {
		f := setup(t)
		f.srv.Fail429(atlassiantest.RouteGroupsSearch, 1, 0)
		if _, err := f.c.Groups(context.Background(), []string{"jira-users"}); err != nil {
			t.Fatal(err)
		}
		if s := f.sleeps.all(); len(s) != 1 || s[0] <= 0 {
			t.Fatalf("sleeps = %v", s)
		}
	})
	t.Run("5xx_then_success", func(t *testing.T) {
		f := setup(t)
		f.srv.Fail(atlassiantest.RouteMembershipAdd, 2, http.StatusInternalServerError)
		if err := f.c.Add(context.Background(), access.Account{ID: f.bob}, access.GroupTarget("jira-users")); err != nil {
			t.Fatal(err)
		}
		if s := f.sleeps.all(); len(s) != 2 || s[1] <= s[0]/2 {
			t.Fatalf("sleeps = %v, want two growing backoffs", s)
		}
		if len(f.srv.Members("jira-users")) != 2 {
			t.Error("bob not added")
		}
	})
	t.Run("outage", func(t *testing.T) {
		f := setup(t)
		f.srv.SetOutage(true)
		before := f.srv.Calls()
		_, err := f.c.User(context.Background(), f.alice)
		wantCode(t, err, access.EUNAVAILABLE)
		if calls := f.srv.Calls() - before; calls != 4 { // 1 + MaxRetries 3
			t.Fatalf("calls = %d, want 4", calls)
		}
	})
	t.Run("outage_window", func(t *testing.T) {
		now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
		f := setup(t, atlassiantest.WithClock(func() time.Time { return now }))
		f.srv.OutageBetween(now.Add(-time.Minute), now.Add(time.Minute))
		_, err := f.c.User(context.Background(), f.alice)
		wantCode(t, err, access.EUNAVAILABLE)
	})
	t.Run("ctx_cancel", func(t *testing.T) {
		f := setup(t)
		f.srv.SetLatency(2 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f.c.User(ctx, f.alice)
		if !errors.Is(err, context.DeadlineExceeded) || access.ErrorCode(err) != access.EUNAVAILABLE {
			t.Fatalf("err = %v", err)
		}
		if time.Since(start) > time.Second {
			t.Fatal("context not honoured")
		}
	})
}
