package bot

import (
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

func requestID(t testing.TB, m bottest.Message) string {
	t.Helper()
	b, ok := m.Button(actionApprove)
	if !ok {
		t.Fatalf("message has no %s button: %s", actionApprove, m.PlainText())
	}
	return b.Value
}

func TestBot_ApprovalFlow(t *testing.T) {
	h := newHarness(t)

	ack, answer := h.slash(alice, "request jira-admin 1h fixing SSO")
	if len(ack.Payload) != 0 {
		t.Errorf("request acked with a payload %s; want an empty ack and an answer later", ack.Payload)
	}
	if !strings.Contains(answer.PlainText(), "was sent to") {
		t.Errorf("requester answer = %q", answer.PlainText())
	}

	bobDM := h.next("bob's approval DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove)))
	carolDM := h.next("carol's approval DM", bottest.And(h.fake.InChannel(carol), bottest.WithButton(actionApprove)))
	chanCopy := h.next("role channel copy", bottest.And(h.fake.InChannel(roleChannel), bottest.WithButton(actionApprove)))
	id := requestID(t, bobDM)
	for _, m := range []bottest.Message{bobDM, carolDM, chanCopy} {
		a, _ := m.Button(actionApprove)
		d, _ := m.Button(actionDeny)
		if a.Label != labelApprove || d.Label != labelDeny || a.Value != id || d.Value != id {
			t.Errorf("buttons = %+v / %+v; want Approve/Deny with value %s", a, d, id)
		}
	}
	h.eventually("3 message refs on the request", func() bool { return len(h.request(id).Messages) == 3 })

	reqs, audit := h.counts()
	// A non-approver and the requester click: each gets an answer, nothing changes.
	h.click(dave, chanCopy, actionApprove)
	if m := h.next("dave's refusal", bottest.EphemeralTo(dave)); !strings.Contains(m.PlainText(), "not an approver") {
		t.Errorf("dave was told %q", m.PlainText())
	}
	h.click(alice, chanCopy, actionApprove)
	if m := h.next("alice's refusal", bottest.EphemeralTo(alice)); !strings.Contains(m.PlainText(), "cannot approve your own") {
		t.Errorf("alice was told %q", m.PlainText())
	}
	if r, a := h.counts(); r != reqs || a != audit || h.request(id).Status != access.RequestPending {
		t.Fatalf("refused clicks changed the store: requests %d→%d, audit %d→%d, status %s", reqs, r, audit, a, h.request(id).Status)
	}

	// Bob approves: access is given, every copy is updated, alice gets the grant DM.
	h.click(bob, bobDM, actionApprove)
	granted := h.next("grant DM", bottest.And(h.fake.InChannel(alice), bottest.WithButton(actionRevoke)))
	if b, _ := granted.Button(actionRevoke); b.Label != labelRevoke || b.Value != id {
		t.Errorf("revoke button = %+v", b)
	}
	if b, ok := granted.Button(actionExtend); !ok || b.Label != labelExtend || b.Value != id {
		t.Errorf("extend button = %+v", b)
	}
	if !h.org.Member("jira-admins", "acc-alice") {
		t.Error("alice is not in jira-admins after approval")
	}
	for _, m := range []bottest.Message{bobDM, carolDM, chanCopy} {
		h.eventually("copy updated", func() bool { cur, _ := h.fake.Message(m.Channel, m.TS); return len(cur.Buttons()) == 0 })
		cur, _ := h.fake.Message(m.Channel, m.TS)
		if len(cur.Buttons()) != 0 || !strings.Contains(cur.PlainText(), "Approved by") || !strings.Contains(cur.PlainText(), bob) {
			t.Errorf("copy in %s after approval: buttons %v, text %q", m.Channel, cur.Buttons(), cur.PlainText())
		}
	}
	h.next("audit post", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("Approved by")))

	// A late click on a stale copy: an answer naming the decider, nothing changes.
	reqs, audit = h.counts()
	h.rawClick(carol, carolDM.Channel, carolDM.TS, actionApprove, id)
	if m := h.next("carol's late answer", bottest.EphemeralTo(carol)); !strings.Contains(m.PlainText(), "already approved by <@"+bob+">") {
		t.Errorf("carol was told %q", m.PlainText())
	}
	if r, a := h.counts(); r != reqs || a != audit {
		t.Errorf("late click changed the store: requests %d→%d, audit %d→%d", reqs, r, audit, a)
	}

	if h.obs.ackCount() == 0 {
		t.Error("no ack latency recorded")
	}
	for _, a := range h.fake.Acks() {
		if a.Late() {
			t.Errorf("late ack: %+v", a)
		}
	}
}
