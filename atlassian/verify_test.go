package atlassian_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
)

// A client held until verified sends nothing but key checks: each attempt of a call is
// preceded by one, and a check that fails stands for the attempt (retried, then an error
// with a cause for alerts that says nothing was applied; a refused key is EFORBIDDEN at
// once). Once a check passes, calls go through.
func TestClient_HoldUntilVerified(t *testing.T) {
	ctx := context.Background()
	acct := access.Account{ID: ""}
	target := access.GroupTarget("jira-users")
	sentOnly := func(t *testing.T, srv *atlassiantest.Server, from int) {
		t.Helper()
		for _, r := range srv.Requests()[from:] {
			if r.Route != atlassiantest.RouteWorkspaces {
				t.Errorf("%s %s reached Atlassian before the key was verified", r.Method, r.Path)
			}
		}
	}

	t.Run("outage", func(t *testing.T) {
		f := setup(t)
		acct.ID = f.alice
		f.c.HoldUntilVerified()
		f.srv.SetOutage(true)
		err := f.c.Remove(ctx, acct, target)
		wantCode(t, err, access.EUNAVAILABLE)
		var c interface{ Cause() string }
		var a interface{ Answered() bool }
		if !errors.As(err, &c) || !strings.HasPrefix(c.Cause(), "Atlassian answered 500") || !errors.As(err, &a) || !a.Answered() {
			t.Errorf("a held call's error gives no cause for alerts, or does not say it was not applied: %v", err)
		}
		if n := f.srv.Calls(); n != 4 { // the first attempt and 3 retries, each a key check
			t.Errorf("%d key checks for one held call, want 4", n)
		}
		sentOnly(t, f.srv, 0)

		f.srv.SetOutage(false)
		if err := f.c.Remove(ctx, acct, target); err != nil {
			t.Fatalf("Remove once Atlassian answers: %v", err)
		}
		if slices.Contains(f.srv.Members("jira-users"), f.alice) {
			t.Error("alice is still in jira-users")
		}
		checks := f.srv.Calls()
		if _, err := f.c.Has(ctx, acct, target); err != nil {
			t.Fatal(err)
		}
		for _, r := range f.srv.Requests()[checks:] {
			if r.Route == atlassiantest.RouteWorkspaces {
				t.Error("a key check after the key was verified")
			}
		}
	})

	t.Run("refused_key", func(t *testing.T) {
		f := setup(t)
		acct.ID = f.alice
		c := newClient(t, f.srv, "wrong-key", f.sleeps)
		c.HoldUntilVerified()
		wantCode(t, c.Remove(ctx, acct, target), access.EFORBIDDEN, "JITBOT_ATLASSIAN_API_KEY")
		if n := f.srv.Calls(); n != 1 {
			t.Errorf("%d calls for a refused key, want one key check", n)
		}
		sentOnly(t, f.srv, 0)
		if !slices.Contains(f.srv.Members("jira-users"), f.alice) {
			t.Error("alice was removed with a refused key")
		}
	})
}
