package bot

import (
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// TestBot_RunPostedOnce: an operator's "sync NAME" is answered to them, and the audit channel
// gets the run once, from the engine, naming the operator; the audit log names them too.
func TestBot_RunPostedOnce(t *testing.T) {
	h := newHarness(t)
	h.pol.Sync = []access.SyncRule{{Name: "engineering-jira", Match: everyone{}, AddTo: []string{"jira-admins"}}}
	h.svc.Engine = &access.Engine{Store: h.store, Org: h.org, Provisioner: h.org, Notifier: h.bot, Policy: func() *access.Policy { return h.pol }}

	_, answer := h.slash(frank, "sync engineering-jira")
	if !strings.Contains(answer.PlainText(), "sync engineering-jira") || !strings.Contains(answer.PlainText(), "run by") {
		t.Fatalf("frank was told %q", answer.PlainText())
	}
	h.next("the run in the audit channel", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("engineering-jira")))
	h.eventually("outbox empty", func() bool { return h.outboxLen() == 0 })
	var posts []string
	for _, m := range h.fake.Messages() {
		if m.Channel == auditChannel && strings.Contains(m.PlainText(), "engineering-jira") {
			posts = append(posts, m.PlainText())
		}
	}
	if len(posts) != 1 || !strings.Contains(posts[0], frank) {
		t.Fatalf("audit channel posts about the run: %q; want one naming frank", posts)
	}
	var evs []access.AuditEvent
	_ = h.store.View(h.ctx, func(tx access.Tx) error {
		var err error
		evs, err = tx.AuditEvents(access.AuditFilter{})
		return err
	})
	var runs int
	for _, e := range evs {
		if e.Action == access.ActionRun {
			runs++
			if !e.Actor.Is(access.UserActor(frank)) {
				t.Errorf("run audited as by %+v, want frank", e.Actor)
			}
		}
	}
	if runs != 1 {
		t.Fatalf("%d run events in the audit log, want 1", runs)
	}
}

// TestBot_GrantEndedOnce: when a grant ends, its holder gets one "Access ended" DM; the earlier
// grant DM is closed in place (no buttons, the period it covered), not turned into a second
// copy of the notice.
func TestBot_GrantEndedOnce(t *testing.T) {
	h := newHarness(t)
	g := h.granted()
	granted := h.next("grant DM", bottest.And(h.fake.InChannel(alice), bottest.WithButton(actionRevoke)))
	if _, err := h.svc.Revoke(h.ctx, access.UserActor(alice), g.ID); err != nil {
		t.Fatal(err)
	}
	h.next("ended DM", bottest.And(h.fake.InChannel(alice), bottest.Containing("Access ended")))
	h.eventually("outbox empty", func() bool { return h.outboxLen() == 0 })
	ended := 0
	for _, m := range h.fake.MessagesTo(alice) {
		if strings.Contains(m.PlainText(), "Access ended") {
			ended++
		}
	}
	if ended != 1 {
		t.Errorf("alice's DM shows %d messages saying Access ended, want 1", ended)
	}
	cur, _ := h.fake.Message(granted.Channel, granted.TS)
	if len(cur.Buttons()) != 0 || !strings.Contains(cur.PlainText(), g.ID) || !strings.Contains(cur.PlainText(), " to ") {
		t.Errorf("grant DM after the end: buttons %v, text %q", cur.Buttons(), cur.PlainText())
	}
}
