package access_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// blockingOrg holds every Users call until release is closed, counting the calls.
type blockingOrg struct {
	access.Org
	entered chan struct{}
	release chan struct{}
	calls   atomic.Int64
}

func (o *blockingOrg) Users(ctx context.Context, q access.UserQuery, fn func(*access.User) error) error {
	if o.calls.Add(1) == 1 {
		close(o.entered)
		<-o.release
	}
	return o.Org.Users(ctx, q, fn)
}

func newRunService(f *fixture) (*access.Service, *blockingOrg) {
	org := &blockingOrg{Org: f.org, entered: make(chan struct{}), release: make(chan struct{})}
	f.eng.Org = org
	f.pol.Permissions.Operators = []string{"U0OPS"}
	svc := &access.Service{
		Store: f.store, Engine: f.eng, Principals: people{}, Notifier: f.notes,
		Policy: func() *access.Policy { return f.pol }, Now: func() time.Time { return f.now },
	}
	return svc, org
}

// TestService_RunNow_OneAtATime: a second start of a sync rule that is running is refused,
// saying since when, and runs nothing; a dry run may look alongside; once the first ends the
// rule can start again.
func TestService_RunNow_OneAtATime(t *testing.T) {
	f := newFixture(t)
	f.user("alice@example.com", true, "scim-engineering")
	svc, org := newRunService(f)
	ops := access.UserActor("U0OPS")
	first := make(chan error, 1)
	go func() {
		_, err := svc.RunNow(t.Context(), ops, access.RunSync, "engineering-jira", false)
		first <- err
	}()
	<-org.entered

	_, err := svc.RunNow(t.Context(), ops, access.RunSync, "engineering-jira", false)
	if !access.IsRunning(err) || access.ErrorCode(err) != access.ECONFLICT {
		t.Fatalf("second start: %v, want a RunningError (conflict)", err)
	}
	if msg := access.ErrorMessage(err); !strings.Contains(msg, "already running since 2025-03-03 09:00:00 UTC") {
		t.Errorf("refusal %q does not say since when", msg)
	}
	// The guard, a sweep or a dry run of the same rule are other runs.
	if _, err := f.eng.Run(t.Context(), access.RunGuard, "", false); err != nil {
		t.Errorf("guard while the sync rule runs: %v", err)
	}
	if r, err := svc.RunNow(t.Context(), ops, access.RunSync, "engineering-jira", true); err != nil || r.Outcome != access.OutcomeDryRun {
		t.Errorf("dry run while the rule runs: %v, %v", r, err)
	}
	// A scheduled start (the engine itself, as cron calls it) is refused too.
	if _, err := f.eng.Run(t.Context(), access.RunSync, "engineering-jira", false); !access.IsRunning(err) {
		t.Errorf("scheduled start while running: %v", err)
	}

	close(org.release)
	if err := <-first; err != nil {
		t.Fatalf("first run: %v", err)
	}
	if r, err := svc.RunNow(t.Context(), ops, access.RunSync, "engineering-jira", false); err != nil || r.Outcome != access.OutcomeOK {
		t.Errorf("start after the first ended: %v, %v", r, err)
	}
}

// TestService_RunNow_OperatorsOnly: only operators run rules now; anyone else is refused in
// access, before the policy's rule names are told and before anything runs.
func TestService_RunNow_OperatorsOnly(t *testing.T) {
	f := newFixture(t)
	svc, org := newRunService(f)
	close(org.release)
	tests := []struct {
		name, by, rule string
		kind           access.RunKind
		code           access.Code
		text           string
	}{
		{"non_operator", "U0DAVE", "engineering-jira", access.RunSync, access.EFORBIDDEN, "Only operators"},
		{"non_operator_unknown_rule", "U0DAVE", "nope", access.RunSync, access.EFORBIDDEN, "Only operators"},
		{"operator_unknown_rule", "U0OPS", "nope", access.RunSync, access.ENOTFOUND, "defined: engineering-jira"},
		{"operator_unknown_sweep", "U0OPS", "nope", access.RunSweep, access.ENOTFOUND, "defined: external-users"},
		{"guard_is_not_run_now", "U0OPS", "guard", access.RunGuard, access.EINVALID, "Only sync rules and sweeps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.RunNow(t.Context(), access.UserActor(tt.by), tt.kind, tt.rule, false)
			if access.ErrorCode(err) != tt.code || !strings.Contains(access.ErrorMessage(err), tt.text) {
				t.Errorf("RunNow: %v (%s), want %s saying %q", err, access.ErrorCode(err), tt.code, tt.text)
			}
		})
	}
	if n := org.calls.Load(); n != 0 {
		t.Errorf("refused starts read the org %d times", n)
	}
}

// TestService_StartReview_OneAtATime: a review being started refuses a second start (a cron
// tick after a reload, say) instead of sending every reviewer the same members twice.
func TestService_StartReview_OneAtATime(t *testing.T) {
	f := newReviewFixture(t, access.ReviewOnNoResponseKeep)
	org := &blockingOrg{Org: f.org, entered: make(chan struct{}), release: make(chan struct{})}
	f.eng.Org = org
	first := make(chan error, 1)
	go func() {
		_, err := f.svc.StartReview(t.Context(), "quarterly")
		first <- err
	}()
	<-org.entered
	if _, err := f.svc.StartReview(t.Context(), "quarterly"); !access.IsRunning(err) || !strings.Contains(access.ErrorMessage(err), "Review quarterly is already running since") {
		t.Errorf("second start: %v, want 'Review quarterly is already running since …'", err)
	}
	close(org.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
