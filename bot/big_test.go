package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// seen is everything user was shown: ephemeral answers and their DM.
func (h *harness) seen(user string) string {
	var b strings.Builder
	for _, m := range h.fake.Ephemerals(user) {
		b.WriteString(m.PlainText() + "\n")
	}
	for _, m := range h.fake.MessagesTo(user) {
		b.WriteString(m.PlainText() + "\n")
	}
	return b.String()
}

// seesAll waits until user has been shown every one of want (bounded).
func (h *harness) seesAll(user string, want []string) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		all := h.seen(user)
		missing := 0
		for _, w := range want {
			if !strings.Contains(all, w) {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s was never shown %d of %d items", user, missing, len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noRefusals fails when Slack refused any message jitbot sent.
func (h *harness) noRefusals() {
	h.t.Helper()
	for _, code := range []string{"invalid_blocks", "msg_too_long", "msg_blocks_too_long", "expired_url"} {
		if n := h.obs.failures(code); n > 0 {
			h.t.Errorf("Slack refused %d messages with %s", n, code)
		}
	}
}

// Big answers are delivered whole, split over messages Slack accepts: `active` with 300 grants.
func TestBot_Active_300Grants(t *testing.T) {
	h := newHarness(t)
	now := time.Now()
	var ids []string
	if err := h.store.Update(h.ctx, func(tx access.Tx) error {
		for i := range 300 {
			id := fmt.Sprintf("G%07d", i)
			ids = append(ids, "`"+id+"`")
			g := &access.Grant{ID: id, Role: "jira-admin", Holder: access.UserActor(alice), Status: access.GrantActive,
				Account:    access.Account{ID: "acc-alice", Email: fmt.Sprintf("person-%03d-with-a-long-address@example.com", i)},
				ApprovedBy: []access.Actor{access.UserActor(bob)}, CreatedAt: now, GrantedAt: now, EndsAt: now.Add(time.Hour + time.Duration(i)*time.Second)}
			if err := tx.PutGrant(g); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.SlashCommand(ctx, erin, "/access", "active"); err != nil {
		t.Fatal(err)
	}
	h.seesAll(erin, ids)
	h.noRefusals()
}

// `history` with 200 events shows all 200.
func TestBot_History_200Events(t *testing.T) {
	h := newHarness(t)
	var want []string
	if err := h.store.Update(h.ctx, func(tx access.Tx) error {
		for i := range 200 {
			subject := fmt.Sprintf("EV%06d", i)
			want = append(want, subject)
			e := &access.AuditEvent{Time: time.Now(), Action: access.ActionRequestSubmitted, Actor: access.UserActor(alice), Subject: subject,
				Role: "jira-admin", Member: "alice@example.com", Detail: strings.Repeat("a reason that is long enough to fill a line ", 3)}
			if err := tx.AppendAudit(e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.SlashCommand(ctx, erin, "/access", "history"); err != nil {
		t.Fatal(err)
	}
	h.seesAll(erin, want)
	h.noRefusals()
}

// A sync run with 500 changes is answered whole, and reaches the audit channel.
func TestBot_Sync_500Changes(t *testing.T) {
	h := newHarness(t)
	for i := range 494 { // with the harness's 6 people: 500 to add
		h.org.AddUser(access.User{AccountID: fmt.Sprintf("acc-m%04d", i), Email: fmt.Sprintf("member-%04d@example.com", i), Name: "m", Managed: true})
	}
	h.org.AddGroup("jira-software-users-example")
	h.pol.Sync = []access.SyncRule{{Name: "engineering-jira", Match: everyone{}, AddTo: []string{"jira-software-users-example"}}}
	h.svc.Engine = &access.Engine{Store: h.store, Org: h.org, Provisioner: h.org, Notifier: h.bot, Policy: h.svc.Policy}
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.SlashCommand(ctx, frank, "/access", "sync engineering-jira dry-run"); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 494 {
		want = append(want, fmt.Sprintf("member-%04d@example.com", i))
	}
	h.seesAll(frank, want)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var all strings.Builder
		for _, m := range h.fake.MessagesTo(auditChannel) {
			all.WriteString(m.PlainText())
		}
		// The audit channel gets the run summarised with a count (the whole list is the
		// operator's answer and the stored run), or whole.
		if strings.Contains(all.String(), want[0]) && (strings.Contains(all.String(), want[len(want)-1]) || strings.Contains(all.String(), " more")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run report never reached the audit channel whole")
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.noRefusals()
}

// The digest of a busy day goes to digest.channel, whole, over several messages.
func TestBot_Digest_busyDay(t *testing.T) {
	h := newHarness(t)
	h.fake.AddChannel("C0DIGEST")
	h.pol.Digest.Channel = "C0DIGEST"
	now := time.Now()
	if err := h.store.Update(h.ctx, func(tx access.Tx) error {
		for i := range 300 {
			g := &access.Grant{ID: fmt.Sprintf("G%07d", i), Role: "jira-admin", Holder: access.UserActor(alice), Status: access.GrantActive,
				Account:   access.Account{ID: "acc-alice", Email: fmt.Sprintf("person-%03d@example.com", i)},
				CreatedAt: now, GrantedAt: now, EndsAt: now.Add(time.Hour)}
			if err := tx.PutGrant(g); err != nil {
				return err
			}
		}
		for i := range 150 {
			e := &access.AuditEvent{Time: now, Action: access.ActionRun, Actor: access.PolicyActor, Subject: "engineering-jira",
				Detail: fmt.Sprintf("run %03d: sync engineering-jira: ok, 12 planned, 12 done, 0 skipped by guards", i)}
			if err := tx.AppendAudit(e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	text, err := h.svc.Digest(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var all strings.Builder
		ms := h.fake.MessagesTo("C0DIGEST")
		for _, m := range ms {
			all.WriteString(m.PlainText() + "\n")
		}
		missing := 0
		for _, line := range strings.Split(text, "\n") {
			if line != "" && !strings.Contains(all.String(), line) {
				missing++
			}
		}
		if missing == 0 && len(ms) > 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("digest in C0DIGEST: %d messages, %d of its lines missing", len(ms), missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(h.fake.MessagesTo(auditChannel)) != 0 {
		t.Error("the digest went to the audit channel too")
	}
	h.noRefusals()
}

// Slack's users.info failing for a while does not stop someone whose match is stored.
func TestBot_Identity_fallsBackToBinding(t *testing.T) {
	h := newHarness(t)
	h.granted() // alice's match is stored
	h.svc.BindingTTL = time.Nanosecond
	h.fake.Inject("users.info", bottest.Fault{Times: 5, Status: 500})
	_, m := h.slash(alice, "request jira-admin 1h while users.info fails")
	if !strings.Contains(m.PlainText(), "was sent to") {
		t.Errorf("alice was told %q", m.PlainText())
	}
}

// Someone whose Slack e-mail is hidden is told so, differently from someone without an
// Atlassian account; someone from another workspace (Slack Connect) is refused.
func TestBot_Identity_answers(t *testing.T) {
	h := newHarness(t)
	h.fake.AddUser("U0HIDDEN", "hidden", "")
	h.fake.AddUser("U0NOACC", "noacc", "noacc@example.com")
	h.fake.PutUser(bottest.User{ID: "U0GUEST", Name: "guest", Email: "guest@partner.example", TeamID: "T0PARTNER"})
	for _, tt := range []struct{ user, want string }{
		{"U0HIDDEN", "no e-mail address for you (it is hidden, or not set)"},
		{"U0NOACC", "No Atlassian account has the e-mail noacc@example.com"},
		{"U0GUEST", "members of this Slack workspace only"},
	} {
		reqs, audit := h.counts()
		_, m := h.slash(tt.user, "request jira-admin 1h need it")
		if !strings.Contains(m.PlainText(), tt.want) {
			t.Errorf("%s was told %q; want %q", tt.user, m.PlainText(), tt.want)
		}
		if r, a := h.counts(); r != reqs || a != audit {
			t.Errorf("%s: store changed", tt.user)
		}
	}
}

// DMs go to the user ID directly, with no conversations.open per message; a post to a private
// channel jitbot is not in is dropped with one alert.
func TestBot_Delivery_dmsAndUndeliverable(t *testing.T) {
	h := newHarness(t)
	h.fake.AddPrivateChannel("G0PRIVATE", false, bob)
	h.pol.Roles[0].Channel = "G0PRIVATE"
	h.slash(alice, "request jira-admin 1h first")
	h.slash(alice, "request jira-admin 1h second")
	h.next("bob's DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove)))
	alert := h.next("alert", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("could not be delivered")))
	if !strings.Contains(alert.PlainText(), "G0PRIVATE") || !strings.Contains(alert.PlainText(), "channel_not_found") {
		t.Errorf("alert = %q", alert.PlainText())
	}
	h.eventually("outbox empty", func() bool { return h.outboxLen() == 0 })
	n := 0
	for _, m := range h.fake.MessagesTo(auditChannel) {
		if strings.Contains(m.PlainText(), "could not be delivered") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d alerts about the private channel; want 1", n)
	}
	if c := h.fake.Calls("conversations.open"); c != 0 {
		t.Errorf("conversations.open called %d times; DMs go to the user ID", c)
	}
}
