package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/bot/bottest"
)

// condFunc is a Go access.Condition, standing in for a compiled CEL expression.
type condFunc struct {
	src string
	f   func(in access.Input) bool
}

func (c condFunc) Eval(in access.Input) (bool, error) { return c.f(in), nil }
func (c condFunc) String() string                     { return c.src }

func withClock(clock *accesstest.Clock) harnessOption {
	return func(c *Config) { c.Service.Now = clock.Now }
}

// assertUnchanged fails when the store holds other than requests requests and audit events.
func (h *harness) assertUnchanged(what string, requests, audit int) {
	h.t.Helper()
	if r, a := h.counts(); r != requests || a != audit {
		h.t.Errorf("%s changed the store: requests %d→%d, audit %d→%d", what, requests, r, audit, a)
	}
}

func TestBot_WhoMayAsk(t *testing.T) {
	h := newHarness(t)
	h.fake.AddUser("U0EXT", "pat", "pat@partner.example")
	h.fake.DMChannel("U0EXT")
	h.org.AddUser(access.User{AccountID: "acc-pat", Email: "pat@partner.example", Name: "pat", Managed: false})

	// erin is not among breakglass's requesters: refused, naming who may ask; nothing stored,
	// nothing posted.
	_, m := h.slash(erin, "request breakglass 30m locked out")
	if txt := m.PlainText(); !strings.Contains(txt, "may not request role breakglass") || !strings.Contains(txt, "Only "+alice+", "+dave+" may ask") {
		t.Errorf("erin was told %q; want a refusal naming who may ask", txt)
	}
	h.assertUnchanged("a refused break-glass request", 0, 0)
	if ms := h.fake.MessagesTo(auditChannel); len(ms) != 0 {
		t.Errorf("a refused request posted to the alerts channel: %q", ms[0].PlainText())
	}

	// An external user may ask for nothing that does not name them.
	_, m = h.slash("U0EXT", "request jira-admin 1h need it")
	if txt := m.PlainText(); !strings.Contains(txt, "outside the organization") {
		t.Errorf("external user was told %q", txt)
	}
	h.assertUnchanged("an external user's request", 0, 0)

	// roles lists only what each may request.
	_, m = h.slash(erin, "roles")
	if txt := m.PlainText(); !strings.Contains(txt, "jira-admin") || strings.Contains(txt, "breakglass") {
		t.Errorf("erin's roles = %q; want jira-admin only", txt)
	}
	_, m = h.slash(alice, "roles")
	if txt := m.PlainText(); !strings.Contains(txt, "jira-admin") || !strings.Contains(txt, "breakglass") {
		t.Errorf("alice's roles = %q; want both", txt)
	}
	_, m = h.slash("U0EXT", "roles")
	if txt := m.PlainText(); !strings.Contains(txt, "no role you may request") {
		t.Errorf("external user's roles = %q", txt)
	}

	// request_if on top of requesters.
	h.setPolicy(func(p *access.Policy) {
		roleIn(p, "jira-admin").RequestIf = condFunc{`request.duration <= duration("2h")`, func(in access.Input) bool { return in.Request.Duration <= 2*time.Hour }}
	})
	_, m = h.slash(alice, "request jira-admin 3h long job")
	if txt := m.PlainText(); !strings.Contains(txt, "does not hold") || !strings.Contains(txt, `request.duration &lt;= duration("2h")`) {
		t.Errorf("request_if refusal = %q", txt)
	}
	h.assertUnchanged("a request refused by request_if", 0, 0)
	_, m = h.slash(alice, "request jira-admin 1h short job")
	if !strings.Contains(m.PlainText(), "was sent to") {
		t.Errorf("allowed request answered %q", m.PlainText())
	}

	// A role that names the external user (by e-mail, any case) lets them ask; then only the
	// people it names may.
	h.setPolicy(func(p *access.Policy) {
		r := roleIn(p, "jira-admin")
		r.Requesters, r.RequesterNames = []string{alice, "Pat@partner.example"}, []string{"partners"}
	})
	_, m = h.slash("U0EXT", "request jira-admin 1h partner work")
	if !strings.Contains(m.PlainText(), "was sent to") {
		t.Errorf("named external user answered %q", m.PlainText())
	}
	_, m = h.slash(erin, "request jira-admin 1h not listed")
	if txt := m.PlainText(); !strings.Contains(txt, "not one of its requesters") || !strings.Contains(txt, "Only partners may ask") {
		t.Errorf("unlisted internal user answered %q", txt)
	}
}

func TestBot_RequestFormsOfferRequestableRoles(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.SlashCommand(ctx, erin, "/access", ""); err != nil {
		t.Fatal(err)
	}
	v := h.view(callbackRequest, erin)
	raw := string(v.Blocks)
	if !strings.Contains(raw, `"jira-admin"`) || strings.Contains(raw, `"breakglass"`) {
		t.Errorf("erin's modal offers %s; want jira-admin only", raw)
	}
	if _, err := h.fake.SlashCommand(ctx, alice, "/access", ""); err != nil {
		t.Fatal(err)
	}
	if raw := string(h.view(callbackRequest, alice).Blocks); !strings.Contains(raw, `"breakglass"`) {
		t.Errorf("alice's modal offers %s; want breakglass too", raw)
	}

	// App Home names the roles each may request.
	for _, u := range []string{erin, alice} {
		if _, err := h.fake.OpenHome(ctx, u); err != nil {
			t.Fatal(err)
		}
		v, err := h.fake.WaitView(ctx, func(v bottest.View) bool { return v.Type == "home" && v.User == u })
		if err != nil {
			t.Fatalf("no home for %s: %v", u, err)
		}
		txt := v.PlainText()
		if !strings.Contains(txt, "Roles you may request: *jira-admin*") || strings.Contains(txt, "breakglass") != (u == alice) {
			t.Errorf("%s's home: %s", u, txt)
		}
	}
}

func TestBot_BreakGlass(t *testing.T) {
	h := newHarness(t)
	h.setPolicy(func(p *access.Policy) { roleIn(p, "breakglass").Approvers = []string{carol} })

	// A reason trying to ping the channel and forge a line.
	_, m := h.slash(alice, "request breakglass 30m <!channel> SSO is down\n*Pre-approved by <@U0BOB>*")
	if !strings.Contains(m.PlainText(), "Break-glass request") {
		t.Fatalf("break-glass answered %q", m.PlainText())
	}
	alert := h.next("break-glass alert", bottest.And(h.fake.InChannel(auditChannel), bottest.WithButton(actionRevoke)))
	raw := alert.Text + alert.PlainText()
	if strings.Contains(raw, "<!channel>") || strings.Contains(raw, "<@U0BOB>") || !strings.Contains(raw, "&lt;!channel&gt;") {
		t.Errorf("alert carries live mentions: %s", raw)
	}
	b, _ := alert.Button(actionRevoke)
	id := b.Value
	if b.Label != labelRevoke {
		t.Errorf("alert button = %+v", b)
	}
	carolCopy := h.next("carol's copy", bottest.And(h.fake.InChannel(carol), bottest.WithButton(actionRevoke)))

	// A second one while the first is live: refused, nothing stored.
	reqs, audit := h.counts()
	_, m = h.slash(alice, "request breakglass 30m still down")
	if !strings.Contains(m.PlainText(), "already hold break-glass grant "+id) {
		t.Errorf("second break-glass answered %q", m.PlainText())
	}
	h.assertUnchanged("a second break-glass request", reqs, audit)

	// dave may not end it; carol (the role's approver) may.
	h.click(dave, alert, actionRevoke)
	if m := h.next("dave's refusal", bottest.EphemeralTo(dave)); !strings.Contains(m.PlainText(), "not yours") {
		t.Errorf("dave was told %q", m.PlainText())
	}
	if g, _ := h.svc.Grant(h.ctx, id); g.Status != access.GrantActive {
		t.Fatalf("grant is %s after dave's click", g.Status)
	}
	h.click(carol, carolCopy, actionRevoke)
	h.next("alice told it ended", bottest.And(h.fake.InChannel(alice), bottest.Containing("Access ended")))
	if h.org.Member("site-admins", "acc-alice") {
		t.Error("alice still in site-admins after carol's Revoke now")
	}

	// The same day, over limits.break_glass_per_day: refused, nothing stored.
	h.setPolicy(func(p *access.Policy) { p.Limits.BreakGlassPerDay = 1 })
	reqs, audit = h.counts()
	_, m = h.slash(alice, "request breakglass 30m down again")
	if !strings.Contains(m.PlainText(), "1 break-glass grants in the last 24 hours") {
		t.Errorf("break-glass over the daily limit answered %q", m.PlainText())
	}
	h.assertUnchanged("a break-glass request over the daily limit", reqs, audit)
}

func TestBot_DecisionsUseStateAtDecision(t *testing.T) {
	t.Run("removed_approver_no_longer_counts", func(t *testing.T) {
		h := newHarness(t) // the default principal cache: decisions look past it
		h.setPolicy(func(p *access.Policy) { roleIn(p, "jira-admin").Approvals = 2 })
		h.slash(alice, "request jira-admin 1h fixing SSO")
		bobDM := h.next("bob's DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove)))
		carolDM := h.next("carol's DM", bottest.And(h.fake.InChannel(carol), bottest.WithButton(actionApprove)))
		id := requestID(t, bobDM)
		h.click(bob, bobDM, actionApprove)
		h.next("bob's approval noted", bottest.EphemeralTo(bob))

		h.fake.AddUserGroup("S0SEC", carol) // bob leaves the team
		h.click(carol, carolDM, actionApprove)
		if m := h.next("carol's answer", bottest.EphemeralTo(carol)); !strings.Contains(m.PlainText(), "still needs another approver") {
			t.Errorf("carol was told %q", m.PlainText())
		}
		r := h.request(id)
		if r.Status != access.RequestPending || len(r.Approvals) != 1 || r.Approvals[0].By.SlackID != carol {
			t.Errorf("request is %s with approvals %+v; want pending with carol's only", r.Status, r.Approvals)
		}
		if h.org.Member("jira-admins", "acc-alice") {
			t.Error("alice was given jira-admins on a removed approver's approval")
		}
	})

	t.Run("max_duration_lowered", func(t *testing.T) {
		h := newHarness(t)
		h.setPolicy(func(p *access.Policy) { roleIn(p, "jira-admin").MaxDuration = 7 * 24 * time.Hour })
		h.slash(alice, "request jira-admin 7d migration")
		bobDM := h.next("bob's DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove)))
		id := requestID(t, bobDM)
		h.setPolicy(func(p *access.Policy) { roleIn(p, "jira-admin").MaxDuration = time.Hour })
		reqs, audit := h.counts()
		h.click(bob, bobDM, actionApprove)
		if m := h.next("bob's refusal", bottest.EphemeralTo(bob)); !strings.Contains(m.PlainText(), "now allows at most 1h") {
			t.Errorf("bob was told %q", m.PlainText())
		}
		h.assertUnchanged("an approval over the new max_duration", reqs, audit)
		if _, err := h.svc.Grant(h.ctx, id); access.ErrorCode(err) != access.ENOTFOUND {
			t.Errorf("a grant exists: %v", err)
		}
	})

	t.Run("past_pending_timeout", func(t *testing.T) {
		clock := accesstest.NewClock(time.Now())
		h := newHarness(t, withClock(clock))
		h.slash(alice, "request jira-admin 1h fixing SSO")
		bobDM := h.next("bob's DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove)))
		id := requestID(t, bobDM)
		clock.Advance(24*time.Hour + time.Second) // the sweeper has not marked it yet
		reqs, audit := h.counts()
		h.click(bob, bobDM, actionApprove)
		if m := h.next("bob's refusal", bottest.EphemeralTo(bob)); !strings.Contains(m.PlainText(), "timed out undecided") {
			t.Errorf("bob was told %q", m.PlainText())
		}
		h.assertUnchanged("an approval past the pending timeout", reqs, audit)
		if h.request(id).Status != access.RequestPending || h.org.Member("jira-admins", "acc-alice") {
			t.Error("the timed-out request was approved")
		}
	})
	// A second Slack identity of the requester: TestBot_RequesterOtherIdentity.
}

func TestBot_ChainedAutoApproveStopsAtTotal(t *testing.T) {
	h := newHarness(t)
	h.setPolicy(func(p *access.Policy) {
		roleIn(p, "jira-admin").AutoApprove = condFunc{`request.total <= duration("30m")`, func(in access.Input) bool { return in.Request.Total <= 30*time.Minute }}
	})
	_, m := h.slash(alice, "request jira-admin 10m quick fix")
	if !strings.Contains(m.PlainText(), "approved automatically") {
		t.Fatalf("10m request answered %q", m.PlainText())
	}
	h.next("grant DM", bottest.And(h.fake.InChannel(alice), bottest.WithButton(actionRevoke)))
	rs, _, err := h.svc.Mine(h.ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	_, gs, _ := h.svc.Mine(h.ctx, alice)
	if len(rs) != 0 || len(gs) != 1 {
		t.Fatalf("alice has %d pending, %d grants", len(rs), len(gs))
	}
	id := gs[0].ID
	for i, want := range []string{"approved automatically", "approved automatically", "was sent to"} {
		_, m := h.slash(alice, fmt.Sprintf("extend %s 10m still fixing", id))
		if !strings.Contains(m.PlainText(), want) {
			t.Errorf("extension %d (total %dm) answered %q; want %q", i+1, 20+10*i, m.PlainText(), want)
		}
	}
	g, _ := h.svc.Grant(h.ctx, id)
	if total := g.EndsAt.Sub(g.GrantedAt); total != 30*time.Minute {
		t.Errorf("grant lasts %s after the chain; want 30m", total)
	}
}

func TestBot_PendingLimit(t *testing.T) {
	h := newHarness(t)
	for i := range access.DefaultPendingPerUser {
		_, m := h.slash(alice, fmt.Sprintf("request jira-admin 1h task %d", i))
		if !strings.Contains(m.PlainText(), "was sent to") {
			t.Fatalf("request %d answered %q", i+1, m.PlainText())
		}
	}
	reqs, audit := h.counts()
	_, m := h.slash(alice, "request jira-admin 1h one more")
	if !strings.Contains(m.PlainText(), "already have 5 undecided requests") {
		t.Errorf("sixth request answered %q", m.PlainText())
	}
	h.assertUnchanged("the sixth pending request", reqs, audit)

	// Another Slack identity of the same person shares the limit.
	h.fake.AddUser("U0ALICE2", "alice.alt", "alice@example.com")
	h.fake.DMChannel("U0ALICE2")
	_, m = h.slash("U0ALICE2", "request jira-admin 1h from my other account")
	if !strings.Contains(m.PlainText(), "already have 5 undecided requests") {
		t.Errorf("a second identity's request answered %q", m.PlainText())
	}
	h.assertUnchanged("a second identity's sixth request", reqs, audit)
}

func TestBot_ConflictShownOnlyToDeciders(t *testing.T) {
	h := newHarness(t)
	g := h.granted()
	var ref access.MessageRef
	h.eventually("the role channel's copy is delivered", func() bool { // the outbox posts it
		for _, m := range h.request(g.ID).Messages {
			if m.Channel == roleChannel {
				ref = m
			}
		}
		return ref.TS != ""
	})
	if ref.TS == "" {
		t.Fatal("no copy of the request in the role channel")
	}
	h.rawClick(dave, ref.Channel, ref.TS, actionApprove, g.ID)
	m := h.next("dave's answer", bottest.EphemeralTo(dave))
	if txt := m.PlainText(); strings.Contains(txt, "already") || strings.Contains(txt, bob) || !strings.Contains(txt, "not an approver") {
		t.Errorf("dave (no approver) was told %q; want a plain refusal that does not say who decided", txt)
	}
}

func TestBot_ReasonCannotForgeLines(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.SlashCommand(ctx, alice, "/access", ""); err != nil {
		t.Fatal(err)
	}
	v := h.view(callbackRequest, alice)
	h.submit(alice, v, map[string]map[string]string{
		blockRole:     {inputRole: "jira-admin"},
		blockDuration: {inputDuration: "1h"},
		blockReason:   {inputReason: "routine\n*Pre-approved by <@U0CAROL>* <!here> <https://evil.example|docs>"},
	})
	dm := h.next("bob's DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove)))
	txt := dm.PlainText()
	for _, bad := range []string{"<@U0CAROL>", "<!here>", "<https://evil.example|docs>"} {
		if strings.Contains(txt, bad) || strings.Contains(dm.Text, bad) {
			t.Errorf("approver DM carries live %s: %s", bad, txt)
		}
	}
	for _, l := range strings.Split(txt, "\n") {
		if strings.Contains(l, "Pre-approved") && !strings.HasPrefix(strings.TrimSpace(l), ">") {
			t.Errorf("the reason's second line stands as a line of its own: %q", l)
		}
	}
}

func TestBot_FullQueueAnswersBusy(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Workers, c.QueueSize = 1, 1 })
	ctx, cancel := h.wait()
	defer cancel()
	// The one worker is held answering the first command; the second waits in the queue.
	h.fake.Delay("response_url", 1, 2*time.Second)
	if _, err := h.fake.SlashCommand(ctx, alice, "/access", "list"); err != nil {
		t.Fatal(err)
	}
	if err := h.fake.WaitCalls(ctx, "response_url", 1); err != nil {
		t.Fatal(err)
	}
	if ack, err := h.fake.SlashCommand(ctx, bob, "/access", "list"); err != nil || len(ack.Payload) != 0 {
		t.Fatalf("second command: ack %s, %v; want queued", ack.Payload, err)
	}
	// The third finds the queue full: it is answered at once, and the read loop goes on.
	ack, err := h.fake.SlashCommand(ctx, carol, "/access", "list")
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Text string }
	if err := ack.Decode(&e); err != nil || !strings.Contains(e.Text, "busy") {
		t.Errorf("third command's ack = %s (%v); want a busy answer", ack.Payload, err)
	}
	if ack.Late() {
		t.Errorf("busy ack was late: %+v", ack)
	}
	// The queued ones still get their answers.
	h.next("alice's list", bottest.EphemeralTo(alice))
	h.next("bob's list", bottest.EphemeralTo(bob))
}

func TestBot_ReviewDeadlineOverMaxChanges(t *testing.T) {
	clock := accesstest.NewClock(time.Now())
	h := newHarness(t, withClock(clock))
	h.setPolicy(func(p *access.Policy) {
		p.Reviews = []access.Review{{Name: "quarterly-admins", Groups: []string{"site-admins"}, Reviewers: []string{"S0SEC"},
			Deadline: 7 * 24 * time.Hour, OnNoResponse: access.ReviewOnNoResponseRemove}}
		p.Guard.MaxChanges = 1
	})
	h.svc.Engine = &access.Engine{Store: h.store, Org: h.org, Provisioner: h.org, Policy: h.polp.Load}
	for _, n := range []string{"alice", "bob", "dave"} {
		h.org.SetMember("site-admins", "acc-"+n, true)
	}
	if items, err := h.svc.StartReview(h.ctx, "quarterly-admins"); err != nil || len(items) != 3 {
		t.Fatalf("StartReview = %d items, %v", len(items), err)
	}
	clock.Advance(7*24*time.Hour + time.Second)
	if n, err := h.svc.ExpireReviews(h.ctx); n != 3 || err != nil {
		t.Fatalf("ExpireReviews = %d, %v", n, err)
	}
	alert := h.next("guard alert", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("stopped by the guard")))
	if !strings.Contains(alert.PlainText(), "max_changes (1)") {
		t.Errorf("alert = %q", alert.PlainText())
	}
	for _, n := range []string{"alice", "bob", "dave"} {
		if !h.org.Member("site-admins", "acc-"+n) {
			t.Errorf("%s was removed although the deadline's run was over max_changes", n)
		}
	}
}

// An approver written as an e-mail that starts with U or W is an e-mail, not a Slack ID.
func TestBot_EmailApproverStartingWithU(t *testing.T) {
	h := newHarness(t)
	const una = "U0UNA"
	h.fake.AddUser(una, "una", "una@example.com")
	h.fake.DMChannel(una)
	h.org.AddUser(access.User{AccountID: "acc-una", Email: "una@example.com", Name: "una", Managed: true})
	h.setPolicy(func(p *access.Policy) { roleIn(p, "jira-admin").Approvers = []string{"Una@example.com"} })
	h.slash(alice, "request jira-admin 1h fixing SSO")
	dm := h.next("una's DM", bottest.And(h.fake.InChannel(una), bottest.WithButton(actionApprove)))
	h.click(una, dm, actionApprove)
	h.next("grant DM", bottest.And(h.fake.InChannel(alice), bottest.WithButton(actionRevoke)))
	if !h.org.Member("jira-admins", "acc-alice") {
		t.Error("una's approval did not count")
	}
}

// TestRender_UserTextIsInert: text people typed (reasons, names, group names, run and history
// details) reaches Slack escaped wherever it is shown.
func TestRender_UserTextIsInert(t *testing.T) {
	const evil = "<!channel> <@U0BOSS> <https://evil.example|docs> <!subteam^S0ALL>\n*Pre-approved by security*"
	live := []string{"<!channel>", "<@U0BOSS>", "<https://evil.example|docs>", "<!subteam^S0ALL>"}
	r := &access.Request{ID: "R1", Kind: access.KindAccess, Role: "jira-admin", Requester: access.UserActor(alice),
		Account: access.Account{ID: "acc", Email: evil}, Duration: time.Hour, Reason: evil, Status: access.RequestDenied,
		BreakGlass: true, Decision: &access.Decision{By: access.UserActor(bob), At: time.Now(), Reason: evil}}
	g := &access.Grant{ID: "R1", Role: "jira-admin", Holder: access.UserActor(alice), Account: access.Account{Email: evil},
		Items:  []access.GrantItem{{Target: access.GroupTarget(evil), Kept: evil}},
		Status: access.GrantFailed, FailedOp: access.OpRevoke, LastError: evil, BreakGlass: true}
	run := &access.Run{Kind: access.RunSync, Name: "rule", Outcome: "stopped", Error: evil,
		Changes: []access.Change{{Op: access.OpRemove, Account: access.Account{Email: evil}, Group: evil, Reason: evil, Skipped: evil}}}
	ev := access.AuditEvent{Time: time.Now(), Action: "request.submitted", Actor: access.UserActor(alice), Subject: "R1", Role: "jira-admin", Member: evil, Detail: evil}
	msgs := map[string]message{
		"request":  requestMessage(r, nil, true),
		"outcome":  outcomeMessage(r),
		"audit":    auditMessage(access.Notice{Kind: access.NoticeDenied, Request: r}),
		"alert":    alertMessage(access.Notice{Kind: access.NoticeAlert, Request: r, Grant: g, Text: evil}),
		"alert_tx": alertMessage(access.Notice{Kind: access.NoticeAlert, Text: evil}),
		"ended":    grantMessage(g, access.NoticeEnded),
		"granted":  grantMessage(g, access.NoticeGranted),
		"list":     listMessage(nil, []*access.Grant{g}),
		"active":   activeMessage([]*access.Grant{g}, ""),
		"history":  historyMessage([]access.AuditEvent{ev}, "recently"),
		"run":      runMessage(run, dave),
		"error":    errorMessage(evil),
	}
	for name, m := range msgs {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m.Blocks); err != nil {
			t.Fatal(err)
		}
		all := m.Text + b.String()
		for _, l := range live {
			if strings.Contains(all, l) {
				t.Errorf("%s carries live %s: %s", name, l, all)
			}
		}
		if name == "alert_tx" || name == "error" {
			continue // jitbot's own plain text, whose lines are its own
		}
		for _, l := range strings.Split(all, `\n`) {
			if strings.HasPrefix(l, "*Pre-approved") {
				t.Errorf("%s: user text starts a line of its own: %q", name, l)
			}
		}
	}
}
