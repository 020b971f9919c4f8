package access_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
)

// TestEngine_RunBy: a run a person asks for is audited under their name and posted to the
// audit channel once, even when it changes nothing; a scheduled run that changes nothing is
// recorded under the policy and posts nothing.
func TestEngine_RunBy(t *testing.T) {
	tests := []struct {
		name      string
		ctx       func(context.Context) context.Context
		wantActor access.Actor
		wantPosts int
	}{
		{"operator", func(ctx context.Context) context.Context { return access.WithRunBy(ctx, access.UserActor("U0IT1")) }, access.UserActor("U0IT1"), 1},
		{"schedule", func(ctx context.Context) context.Context { return ctx }, access.PolicyActor, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			run, err := f.eng.Run(tt.ctx(t.Context()), access.RunSweep, "external-users", false)
			if err != nil || run.Outcome != access.OutcomeOK || len(run.Changes) != 0 {
				t.Fatalf("run %+v, err %v: want an ok run with no changes", run, err)
			}
			posts := f.notes.Of(access.NoticeAudit)
			if len(posts) != tt.wantPosts {
				t.Fatalf("%d audit posts, want %d: %q", len(posts), tt.wantPosts, f.notes.Texts(access.NoticeAudit))
			}
			if len(posts) == 1 {
				if posts[0].Actor != tt.wantActor || !strings.HasPrefix(posts[0].Text, "Sweep external-users: ok,") {
					t.Errorf("audit post by %+v: %q", posts[0].Actor, posts[0].Text)
				}
			}
			var evs []access.AuditEvent
			if err := f.store.View(t.Context(), func(tx access.Tx) error {
				evs, err = tx.AuditEvents(access.AuditFilter{})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Action != access.ActionRun || evs[0].Actor != tt.wantActor {
				t.Fatalf("audit events %+v: want one run event by %+v", evs, tt.wantActor)
			}
		})
	}
}
