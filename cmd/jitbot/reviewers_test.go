package main

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
	"github.com/jitbot/jitbot/policies"
)

// TestApp_reloadSendsOpenReviews: a reviewer added to the policy file while a review runs gets
// its open items, the one only its member could review among them, in a DM with Keep and
// Remove once jitbot reloads the policy; the reviewer who had the others gets nothing again.
// One added while jitbot was not running gets them when it starts leading.
func TestApp_reloadSendsOpenReviews(t *testing.T) {
	s := newTestSandbox(t)
	ctx := context.Background()
	account := map[string]string{} // e-mail → account ID
	for id, e := range s.ids {
		account[e] = id
	}
	s.org.AddMember("jira-admins-example", account["sam@example.com"]) // sam is U0SEC1
	s.org.AddMember("jira-admins-example", account["bob@example.com"])
	write := func(policy []byte) {
		t.Helper()
		if err := os.WriteFile(s.app.cfg.PolicyFile, policy, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.app.reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	next := func(what string, f bottest.Filter) bottest.Message { t.Helper(); return nextSlack(t, s, what, f) }
	only := bytes.Replace(policies.Example, []byte("reviewers: [security]"), []byte("reviewers: [U0SEC1]"), 1)
	if bytes.Equal(only, policies.Example) {
		t.Fatal("the example policy has no review by security to narrow")
	}
	write(only)
	items, err := s.app.svc.StartReview(ctx, "quarterly-admins")
	if err != nil || len(items) != 2 {
		t.Fatalf("StartReview = %d items, %v", len(items), err)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	slices.Sort(ids)
	next("sam's review DM", bottest.And(s.slack.InChannel("U0SEC1"), bottest.WithButton("review_keep")))
	next("alert", bottest.And(s.slack.InChannel("C0ALERTS"), bottest.Containing("Add another reviewer")))

	write(policies.Example) // reviewers: [security], sam and sasha
	dm := next("sasha's review DM", bottest.And(s.slack.InChannel("U0SEC2"), bottest.WithButton("review_keep")))
	var got []string
	for _, b := range dm.Buttons() {
		if b.ActionID == "review_keep" || b.ActionID == "review_remove" {
			got = append(got, b.Value)
		}
	}
	got = slices.Compact(got)
	slices.Sort(got)
	if !slices.Equal(got, ids) || len(dm.Buttons()) != 4 {
		t.Errorf("sasha's DM has buttons %+v; want Keep and Remove for %q", dm.Buttons(), ids)
	}
	next("audit line", bottest.And(s.slack.InChannel("C0AUDIT"), bottest.Containing("2 open membership(s) sent to U0SEC2")))
	if n := len(s.slack.MessagesTo("U0SEC1")); n != 1 {
		t.Errorf("sam has %d messages, want his one review DM", n)
	}
	var sent []access.AuditEvent
	if err := s.app.db.View(ctx, func(tx access.Tx) error {
		es, err := tx.AuditEvents(access.AuditFilter{})
		for _, e := range es {
			if e.Action == access.ActionReviewSent {
				sent = append(sent, e)
			}
		}
		return err
	}); err != nil || len(sent) != 2 || !strings.Contains(sent[0].Detail, "U0SEC2") {
		t.Errorf("review.sent events = %+v, %v; want 2 naming U0SEC2", sent, err)
	}

	// ivan (U0IT1) is added while jitbot does not run: the policy it starts with names him.
	withIT := bytes.Replace(policies.Example, []byte("reviewers: [security]"), []byte("reviewers: [security, it]"), 1)
	if err := os.WriteFile(s.app.cfg.PolicyFile, withIT, 0o600); err != nil {
		t.Fatal(err)
	}
	p, _, _, err := policies.LoadRefs(s.app.cfg.PolicyFile)
	if err != nil {
		t.Fatal(err)
	}
	s.app.policy.Store(p)
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.app.lead(lctx) }()
	it := next("ivan's review DM", bottest.And(s.slack.InChannel("U0IT1"), bottest.WithButton("review_keep")))
	stop()
	if err := <-done; err != nil {
		t.Fatalf("lead: %v", err)
	}
	if n := len(it.Buttons()); n != 4 {
		t.Errorf("ivan's DM has %d buttons, want Keep and Remove for 2 members", n)
	}
}

// nextSlack waits up to 10 s for the next Slack message of s that f matches (what, for the
// failure).
func nextSlack(t *testing.T, s *sandbox, what string, f bottest.Filter) bottest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := s.slack.NextMessage(ctx, f)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return m
}

// TestScheduler_sendOpenReviewsJob: a review's reviewers are a Slack user group; a person
// added to the group while the review runs (no policy change, no Slack event jitbot follows)
// gets its open items from the hourly "send open reviews" job, looked up past the principal
// cache; a second run sends nothing.
func TestScheduler_sendOpenReviewsJob(t *testing.T) {
	s := newTestSandbox(t)
	ctx := context.Background()
	for id, e := range s.ids {
		if e == "sam@example.com" || e == "bob@example.com" {
			s.org.AddMember("jira-admins-example", id)
		}
	}
	s.slack.AddUserGroup("S0REVIEW", "U0SEC1")
	policy := bytes.Replace(policies.Example, []byte("reviewers: [security]"), []byte("reviewers: [S0REVIEW]"), 1)
	if err := os.WriteFile(s.app.cfg.PolicyFile, policy, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.app.reload(ctx); err != nil {
		t.Fatal(err)
	}
	next := func(what string, f bottest.Filter) bottest.Message { t.Helper(); return nextSlack(t, s, what, f) }
	if items, err := s.app.svc.StartReview(ctx, "quarterly-admins"); err != nil || len(items) != 2 {
		t.Fatalf("StartReview = %d items, %v", len(items), err)
	}
	next("sam's review DM", bottest.And(s.slack.InChannel("U0SEC1"), bottest.WithButton("review_keep")))

	s.slack.AddUserGroup("S0REVIEW", "U0SEC1", "U0SEC2") // sasha joins the group
	job := schedulerJob(t, s.app, "send open reviews")
	job()
	dm := next("sasha's review DM", bottest.And(s.slack.InChannel("U0SEC2"), bottest.WithButton("review_keep")))
	if n := len(dm.Buttons()); n != 4 {
		t.Errorf("sasha's DM has %d buttons, want Keep and Remove for 2 members", n)
	}
	job()
	time.Sleep(200 * time.Millisecond)
	if nb, ns := len(s.slack.MessagesTo("U0SEC1")), len(s.slack.MessagesTo("U0SEC2")); nb != 1 || ns != 1 {
		t.Errorf("after a second run sam has %d messages, sasha %d; want 1 each", nb, ns)
	}
}
