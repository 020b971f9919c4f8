package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/bot/bottest"
)

// endGrantAt moves grant id's end, as if it had been given for that long.
func (h *harness) endGrantAt(id string, at time.Time) {
	h.t.Helper()
	err := h.store.Update(h.ctx, func(tx access.Tx) error {
		g, err := tx.Grant(id)
		if err != nil {
			return err
		}
		g.EndsAt, g.Warned = at, true
		return tx.PutGrant(g)
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// With chat.postMessage and chat.update answering 429 (Retry-After: 4) for 12 s, a request
// filed meanwhile reaches its approver once the throttling ends, grants ending meanwhile are
// revoked within the sweep interval + 1 s, and their holders are told afterwards.
func TestBot_SlackThrottled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := h.granted()
	h.next("grant DM", bottest.And(h.fake.InChannel(alice), bottest.WithButton(actionRevoke)))
	g2 := h.grantFor(erin)
	h.next("erin's grant DM", bottest.And(h.fake.InChannel(erin), bottest.WithButton(actionRevoke)))

	const sweepEvery = time.Second
	sctx, stop := context.WithCancel(h.ctx)
	defer stop()
	go func() { _ = h.svc.RunSweeper(sctx, sweepEvery) }()

	until := time.Now().Add(12 * time.Second)
	h.fake.Throttle("chat.postMessage", until, 4*time.Second)
	h.fake.Throttle("chat.update", until, 4*time.Second)
	h.endGrantAt(g.ID, time.Now().Add(5*time.Second))
	h.endGrantAt(g2.ID, time.Now().Add(7*time.Second)) // due while the first one's holder cannot be told

	_, answer := h.slash(dave, "request jira-admin 1h during the throttling")
	if !strings.Contains(answer.PlainText(), "was sent to") {
		t.Fatalf("dave was told %q", answer.PlainText())
	}

	for _, id := range []string{g.ID, g2.ID} {
		h.eventually("grant revoked", func() bool { return h.grant(id).Status == access.GrantRevoked })
		if time.Now().After(until) {
			t.Fatalf("grant %s was revoked after the throttling ended: the test proves nothing; lengthen it", id)
		}
		done := h.grant(id)
		lag := done.EndedAt.Sub(done.EndsAt)
		t.Logf("grant %s revoked %s after its end with Slack throttled", id, lag)
		if lag > sweepEvery+time.Second {
			t.Errorf("grant %s revoked %s after its end with Slack throttled; want at most %s", id, lag, sweepEvery+time.Second)
		}
	}
	if h.org.Member("jira-admins", "acc-alice") {
		t.Error("alice still in jira-admins")
	}

	ctx, cancel := context.WithTimeout(h.ctx, 60*time.Second)
	defer cancel()
	dm, err := h.fake.NextMessage(ctx, bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove), bottest.Containing("during the throttling")))
	if err != nil {
		t.Fatalf("bob never got the approval DM: %v", err)
	}
	if time.Now().Before(until) {
		t.Errorf("approval DM delivered while Slack was throttling: %q", dm.PlainText())
	}
	if _, err := h.fake.NextMessage(ctx, bottest.And(h.fake.InChannel(alice), bottest.Containing("Access ended"))); err != nil {
		t.Fatalf("alice never told the grant ended: %v", err)
	}
	if h.obs.failures("ratelimited") == 0 {
		t.Error("no rate-limited attempt counted")
	}
}

// Slack answering 500 for ten minutes loses nothing: a request filed meanwhile reaches its
// approvers after recovery, a grant ending meanwhile is revoked on time, and its holder is told
// once Slack is back.
func TestBot_SlackDown(t *testing.T) {
	t.Parallel()
	clock := accesstest.NewClock(time.Now().UTC().Truncate(time.Second))
	h := newHarness(t, func(c *Config) { c.Now, c.After = clock.Now, clock.After })
	g := h.granted()
	h.next("grant DM", bottest.And(h.fake.InChannel(alice), bottest.WithButton(actionRevoke)))
	if _, err := h.svc.Account(h.ctx, dave); err != nil { // dave asked before: his match is stored
		t.Fatal(err)
	}
	h.endGrantAt(g.ID, clock.Now().Add(2*time.Minute))

	up := h.fake.Outage(500)
	_, answer := h.slash(dave, "request jira-admin 1h while Slack is down")
	if !strings.Contains(answer.PlainText(), "was sent to") {
		t.Fatalf("dave was told %q", answer.PlainText())
	}
	for range 20 { // ten minutes in steps of 30 s, sweeping at each
		clock.Advance(30 * time.Second)
		if _, err := h.svc.Sweep(h.ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // let the deliverer try (and fail) at this time
	}
	done := h.grant(g.ID)
	if done.Status != access.GrantRevoked || done.EndedAt.Sub(done.EndsAt) > 30*time.Second {
		t.Fatalf("grant %s is %s, ended %s after its end; want revoked on time", done.ID, done.Status, done.EndedAt.Sub(done.EndsAt))
	}
	if h.obs.failures("http_500") == 0 {
		t.Error("no failed attempt counted during the outage")
	}
	h.obs.mu.Lock()
	waiting, oldest := h.obs.waiting, h.obs.oldest
	h.obs.mu.Unlock()
	if waiting == 0 || oldest <= 0 {
		t.Errorf("during the outage the outbox reported %d waiting, the oldest %s old; want some, with an age", waiting, oldest)
	}
	up()
	clock.Advance(7 * time.Minute) // past the longest backoff
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	go func() { // time goes on: an attempt that failed as Slack came back is retried soon after
		for ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			clock.Advance(5 * time.Second)
		}
	}()
	for _, who := range []string{bob, carol} {
		if _, err := h.fake.NextMessage(ctx, bottest.And(h.fake.InChannel(who), bottest.WithButton(actionApprove), bottest.Containing("while Slack is down"))); err != nil {
			t.Fatalf("%s never got the approval DM: %v", who, err)
		}
	}
	if _, err := h.fake.NextMessage(ctx, bottest.And(h.fake.InChannel(alice), bottest.Containing("Access ended"))); err != nil {
		t.Fatalf("alice never told the grant ended: %v", err)
	}
	// Everything else drains too, at Slack's pace (about one message a second per channel).
	for deadline := time.Now().Add(45 * time.Second); h.outboxLen() > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = h.store.View(h.ctx, func(tx access.Tx) error {
				items, _ := tx.Outbox(0)
				for _, it := range items {
					t.Logf("left: %d %s attempts %d next %s (now %s) %s %s", it.ID, it.Channel, it.Attempts, it.NextAttempt, clock.Now(), it.LastError, it.Body)
				}
				return nil
			})
			t.Fatal("the outbox never drained after Slack came back")
		}
	}
}

func (h *harness) grant(id string) *access.Grant {
	h.t.Helper()
	g, err := h.svc.Grant(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return g
}

func (h *harness) outboxLen() int {
	var n int
	_ = h.store.View(h.ctx, func(tx access.Tx) error {
		items, err := tx.Outbox(0)
		n = len(items)
		return err
	})
	return n
}

// Several updates of one message waiting together coalesce into the latest: it is updated once,
// never to an older version.
func TestBot_Outbox_updatesCoalesce(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := h.wait()
	defer cancel()
	if err := h.bot.enqueue(ctx, staticDelivery(auditChannel, textMessage("v0"))); err != nil {
		t.Fatal(err)
	}
	m := h.next("the message", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("v0")))
	h.fake.Throttle("chat.update", time.Now().Add(2*time.Second), time.Second)
	for i := 1; i <= 5; i++ {
		d := staticDelivery(m.Channel, textMessage(fmt.Sprintf("v%d", i)))
		d.Op, d.TS = opUpdate, m.TS
		if err := h.bot.enqueue(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	h.eventually("outbox empty", func() bool { return h.outboxLen() == 0 })
	cur, _ := h.fake.Message(m.Channel, m.TS)
	if !strings.Contains(cur.PlainText(), "v5") {
		t.Fatalf("message is %q; want v5", cur.PlainText())
	}
	if len(cur.History) > 2 { // v0, and at most one version between (sent before the others queued)
		var vs []string
		for _, v := range cur.History {
			vs = append(vs, v.PlainText())
		}
		t.Errorf("message went through %v before v5; want the updates coalesced", vs)
	}
}
