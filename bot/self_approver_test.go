package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// aliceAlt is a second Slack user of alice's: the same person, the same Atlassian account.
const aliceAlt = "U0ALICE2"

// A requester's other Slack identity is never asked to approve their request: no DM with
// Approve/Deny, nothing in App Home, and its click (crafted from the role channel's message)
// is refused and changes nothing. Known as theirs through a stored binding to their account, or,
// never matched, through a Slack e-mail that is the account's.
func TestBot_RequesterOtherIdentity(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(h *harness)
	}{
		{"same_email_never_matched", func(h *harness) {
			h.fake.AddUser(aliceAlt, "alice.alt", "alice@example.com")
		}},
		{"plus_addressed_email_never_matched", func(h *harness) {
			// Signed up to Slack with a plus address of alice's (mail to it reaches her
			// inbox): no Atlassian account has it, but it is alice's mailbox.
			h.fake.AddUser(aliceAlt, "alice.alt", "Alice+jit@example.com")
		}},
		{"plus_addressed_second_atlassian_account", func(h *harness) {
			// A second Atlassian account on a plus address of alice's (self-signed-up on the
			// verified domain): another account ID, but alice's mailbox.
			h.fake.AddUser(aliceAlt, "alice.alt", "alice+admin@example.com")
			h.org.AddUser(access.User{AccountID: "acc-alice-admin", Email: "alice+admin@example.com", Name: "alice (admin)", Managed: true})
		}},
		{"bound_then_email_changed", func(h *harness) {
			// Matched (and stored) while its Slack e-mail was alice's, changed since: the
			// stored binding still says whose it is.
			h.fake.AddUser(aliceAlt, "alice.alt", "alice@example.com")
			if _, err := h.svc.Account(h.ctx, aliceAlt); err != nil {
				h.t.Fatal(err)
			}
			h.fake.AddUser(aliceAlt, "alice.alt", "alice.alt@example.net")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			tt.setup(h)
			h.fake.DMChannel(aliceAlt)
			h.fake.AddUserGroup("S0SEC", bob, carol, aliceAlt)

			_, answer := h.slash(alice, "request jira-admin 1h fixing SSO")
			if txt := answer.PlainText(); !strings.Contains(txt, "was sent to") || strings.Contains(txt, aliceAlt) {
				t.Errorf("alice was told %q; want it sent to the approvers but her other identity", txt)
			}
			for _, who := range []string{bob, carol} {
				h.next(who+"'s approval DM", bottest.And(h.fake.InChannel(who), bottest.WithButton(actionApprove)))
			}
			inChannel := h.next("the role channel's message", bottest.And(h.fake.InChannel(roleChannel), bottest.WithButton(actionApprove)))
			id := requestID(t, inChannel)
			h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })
			for _, m := range h.fake.MessagesTo(aliceAlt) {
				t.Errorf("alice's other identity was sent %q (buttons %v)", m.PlainText(), m.Buttons())
			}

			ctx, cancel := h.wait()
			defer cancel()
			if _, err := h.fake.OpenHome(ctx, aliceAlt); err != nil {
				t.Fatal(err)
			}
			home, err := h.fake.WaitView(ctx, func(v bottest.View) bool { return v.Type == "home" && v.User == aliceAlt })
			if err != nil {
				t.Fatal(err)
			}
			if hasButton(home.Buttons(), actionApprove) || strings.Contains(home.PlainText(), id) {
				t.Errorf("alice's other identity's App Home offers her request: %s", home.PlainText())
			}

			reqs, audit := h.counts()
			h.rawClick(aliceAlt, inChannel.Channel, inChannel.TS, actionApprove, id)
			if m := h.next("refusal", bottest.EphemeralTo(aliceAlt)); !strings.Contains(m.PlainText(), "cannot approve your own request") {
				t.Errorf("the second identity was told %q", m.PlainText())
			}
			h.assertUnchanged("a self-approval by a second identity", reqs, audit)
			if r := h.request(id); r.Status != access.RequestPending || len(r.Approvals) != 0 {
				t.Errorf("request is %s with %d approvals after the second identity's click", r.Status, len(r.Approvals))
			}
			if h.org.Member("jira-admins", "acc-alice") {
				t.Error("alice was given jira-admins by her own other identity")
			}
		})
	}
}

// When the requester's other identity is the role's only other approver, nobody may approve
// the request: it is filed as any request is (it waits for its timeout, or for the policy to
// name another approver), the requester is told so plainly, and the alerts channel is told.
func TestBot_RequesterOtherIdentity_onlyApprover(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fake.AddUser(aliceAlt, "alice.alt", "alice@example.com")
	h.fake.DMChannel(aliceAlt)
	h.fake.AddUserGroup("S0SEC", alice, aliceAlt)

	_, answer := h.slash(alice, "request jira-admin 1h fixing SSO")
	if txt := answer.PlainText(); !strings.Contains(txt, "Nobody can approve it right now") || !strings.Contains(txt, "add an approver") {
		t.Errorf("alice was told %q; want to hear that nobody can approve it", txt)
	}
	alert := h.next("the alert", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("cannot be approved")))
	if txt := alert.PlainText(); !strings.Contains(txt, "jira-admin") || !strings.Contains(txt, alice) {
		t.Errorf("alert %q does not say which request and role", txt)
	}
	inChannel := h.next("the role channel's message", bottest.And(h.fake.InChannel(roleChannel), bottest.WithButton(actionApprove)))
	id := requestID(t, inChannel)
	h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })
	for _, m := range h.fake.MessagesTo(aliceAlt) {
		t.Errorf("alice's other identity was sent %q", m.PlainText())
	}
	if r := h.request(id); r.Status != access.RequestPending {
		t.Errorf("request is %s; want it filed and pending", r.Status)
	}
	reqs, audit := h.counts()
	h.rawClick(aliceAlt, inChannel.Channel, inChannel.TS, actionApprove, id)
	if m := h.next("refusal", bottest.EphemeralTo(aliceAlt)); !strings.Contains(m.PlainText(), "cannot approve your own request") {
		t.Errorf("the second identity was told %q", m.PlainText())
	}
	h.assertUnchanged("a self-approval by a second identity", reqs, audit)
}

// Whom a request is shown to is worked out on every request, with a Slack e-mail lookup for
// each approver jitbot has not matched yet: those lookups are cached, so a run of requests
// costs Slack one users.info per such approver, not one per request (users.info is Tier 4,
// and the requester's own matching needs it too).
func TestBot_RequestApprovers_emailLookupsCached(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fake.AddUserGroup("S0SEC", bob, carol)

	var after []int
	for i := range 3 {
		_, answer := h.slash(alice, "request jira-admin 1h fixing SSO")
		if txt := answer.PlainText(); !strings.Contains(txt, "was sent to") {
			t.Fatalf("request %d: alice was told %q", i+1, txt)
		}
		h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })
		after = append(after, h.fake.Calls("users.info"))
	}
	if after[2] != after[0] {
		t.Errorf("users.info calls after each of three requests: %v; want none after the first (the approvers' e-mails are cached)", after)
	}
}

// Break-glass limits count the person (the Atlassian account), not the Slack user: the
// requester's other identity, itself a break-glass requester, gets no second grant while the
// first is live, nor past limits.break_glass_per_day once it ended.
func TestBot_BreakGlassLimitsAcrossIdentities(t *testing.T) {
	h := newHarness(t)
	h.fake.AddUser(aliceAlt, "alice.alt", "alice+bg@example.com")
	// alice's other identity is bound to her account (matched while its e-mail was hers).
	if err := h.store.Update(h.ctx, func(tx access.Tx) error {
		return tx.PutBinding(&access.Binding{SlackID: aliceAlt, Email: "alice@example.com",
			Account: access.Account{ID: "acc-alice", Email: "alice@example.com", Name: "alice"}, At: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	h.setPolicy(func(p *access.Policy) {
		r := roleIn(p, "breakglass")
		r.Requesters, r.RequesterNames = []string{alice, dave, aliceAlt}, []string{alice, dave, aliceAlt}
		p.Limits.BreakGlassPerDay = 1
	})
	if _, m := h.slash(alice, "request breakglass 30m SSO is down"); !strings.Contains(m.PlainText(), "Break-glass request") {
		t.Fatalf("alice's break-glass answered %q", m.PlainText())
	}
	_, gs, err := h.svc.Mine(h.ctx, alice)
	if err != nil || len(gs) != 1 {
		t.Fatalf("alice's grants %v, %v", gs, err)
	}
	reqs, audit := h.counts()
	if _, m := h.slash(aliceAlt, "request breakglass 30m still down"); !strings.Contains(m.PlainText(), "already hold break-glass grant "+gs[0].ID) {
		t.Errorf("the other identity, while the first is live, was told %q", m.PlainText())
	}
	h.assertUnchanged("a second live break-glass grant from another identity", reqs, audit)

	if _, err := h.svc.Revoke(h.ctx, access.UserActor(alice), gs[0].ID); err != nil {
		t.Fatal(err)
	}
	reqs, audit = h.counts()
	if _, m := h.slash(aliceAlt, "request breakglass 30m down again"); !strings.Contains(m.PlainText(), "1 break-glass grants in the last 24 hours") {
		t.Errorf("the other identity, over the daily limit, was told %q", m.PlainText())
	}
	h.assertUnchanged("a break-glass grant over the daily limit from another identity", reqs, audit)
}
