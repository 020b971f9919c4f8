package atlassian_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jitbot/jitbot/access"
)

// A client held until verified sends nothing but the key check: every other call fails at
// once with EUNAVAILABLE, a cause for alerts, and a refusal that was not applied; a check
// that passes lets calls through again, and one that fails (an outage) does not.
func TestClient_HoldUntilVerified(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.c.HoldUntilVerified()
	f.srv.SetOutage(true)
	if err := f.c.Verify(ctx); access.ErrorCode(err) != access.EUNAVAILABLE {
		t.Fatalf("Verify during an outage: %v", err)
	}
	f.srv.SetOutage(false)
	sent := f.srv.Calls()
	acct := access.Account{ID: f.alice}
	target := access.GroupTarget("jira-users")
	err := f.c.Remove(ctx, acct, target)
	wantCode(t, err, access.EUNAVAILABLE, "not verified", "was not sent")
	var c interface{ Cause() string }
	var a interface{ Answered() bool }
	if !errors.As(err, &c) || c.Cause() == "" || !errors.As(err, &a) || !a.Answered() {
		t.Errorf("a held call's error has no cause for alerts, or does not say it was not applied: %#v", err)
	}
	if _, err := f.c.Has(ctx, acct, target); access.ErrorCode(err) != access.EUNAVAILABLE {
		t.Errorf("a read while held: %v", err)
	}
	if n := f.srv.Calls() - sent; n != 0 {
		t.Fatalf("%d calls reached Atlassian while held", n)
	}

	if err := f.c.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Remove(ctx, acct, target); err != nil {
		t.Fatalf("Remove once verified: %v", err)
	}
	for _, id := range f.srv.Members("jira-users") {
		if id == f.alice {
			t.Error("alice is still in jira-users once the client was verified")
		}
	}
}
