package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// requestsOf returns the requests of user.
func (h *harness) requestsOf(user string) []*access.Request {
	h.t.Helper()
	var rs []*access.Request
	err := h.store.View(h.ctx, func(tx access.Tx) error {
		var err error
		rs, err = tx.Requests(access.RequestFilter{Requester: user})
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return rs
}

func (h *harness) inbox() []*access.InboxItem {
	h.t.Helper()
	var items []*access.InboxItem
	if err := h.store.View(h.ctx, func(tx access.Tx) error {
		var err error
		items, err = tx.Inbox()
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	return items
}

// An acknowledged slash command whose work was cut off by a stop is done after the restart,
// once, and answered.
func TestBot_Inbox_replayAfterStop(t *testing.T) {
	h := newHarness(t)
	// Slack is slow to say who dave is: the work is still running when jitbot stops.
	h.fake.Delay("users.info", 1, 3*time.Second)
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.SlashCommand(ctx, dave, "/access", "request jira-admin 1h cut off by a stop"); err != nil {
		t.Fatal(err)
	}
	if err := h.fake.WaitCalls(ctx, "users.info", 1); err != nil {
		t.Fatal(err)
	}
	if n := len(h.inbox()); n != 1 {
		t.Fatalf("inbox holds %d envelopes after the ack; want 1", n)
	}
	h.restart()
	m := h.next("the answer after the restart", bottest.EphemeralTo(dave))
	if !strings.Contains(m.PlainText(), "was sent to") {
		t.Errorf("dave was told %q", m.PlainText())
	}
	h.next("bob's approval DM", bottest.And(h.fake.InChannel(bob), bottest.Containing("cut off by a stop")))
	if rs := h.requestsOf(dave); len(rs) != 1 {
		t.Fatalf("dave has %d requests; want 1", len(rs))
	}
	h.eventually("inbox empty", func() bool { return len(h.inbox()) == 0 })
}

// An envelope whose work was done but not yet forgotten when jitbot stopped is replayed without
// doing it twice: the request it filed has the ID derived from the envelope.
func TestBot_Inbox_replayIsExactlyOnce(t *testing.T) {
	h := newHarness(t)
	_, answer := h.slash(dave, "request jira-admin 1h only once")
	if !strings.Contains(answer.PlainText(), "was sent to") {
		t.Fatalf("dave was told %q", answer.PlainText())
	}
	rs := h.requestsOf(dave)
	envs := h.fake.Envelopes()
	env := envs[len(envs)-1]
	if len(rs) != 1 || rs[0].ID != access.IDFor(env.ID) {
		t.Fatalf("requests %v; want one with ID %s derived from envelope %s", rs, access.IDFor(env.ID), env.ID)
	}
	h.eventually("inbox empty", func() bool { return len(h.inbox()) == 0 })
	// As if jitbot had died after filing the request and before forgetting the envelope.
	if err := h.store.Update(h.ctx, func(tx access.Tx) error {
		return tx.PutInbox(&access.InboxItem{ID: env.ID, Type: env.Type, Payload: env.Payload, At: time.Now(), Attempts: 1})
	}); err != nil {
		t.Fatal(err)
	}
	h.restart()
	h.eventually("inbox empty after replay", func() bool { return len(h.inbox()) == 0 })
	if rs := h.requestsOf(dave); len(rs) != 1 {
		t.Fatalf("dave has %d requests after the replay; want 1", len(rs))
	}
}
