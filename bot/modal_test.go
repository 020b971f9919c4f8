package bot

import (
	"time"

	"context"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

func (h *harness) view(callbackID, user string) bottest.View {
	h.t.Helper()
	ctx, cancel := h.wait()
	defer cancel()
	v, err := h.fake.WaitView(ctx, func(v bottest.View) bool { return v.CallbackID == callbackID && v.User == user && !v.Closed })
	if err != nil {
		h.t.Fatalf("no open %s for %s: %v", callbackID, user, err)
	}
	return v
}

func (h *harness) submit(user string, v bottest.View, values map[string]map[string]string) bottest.View {
	h.t.Helper()
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.SubmitView(ctx, user, v, values); err != nil {
		h.t.Fatal(err)
	}
	cur, _ := h.fake.View(v.ID)
	return cur
}

func TestBot_RequestModal(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.SlashCommand(ctx, alice, "/access", ""); err != nil {
		t.Fatal(err)
	}
	v := h.view(callbackRequest, alice)
	reqs, audit := h.counts()

	tests := []struct {
		name   string
		values map[string]map[string]string
		want   map[string]string // block ID -> part of the error
	}{
		{"over_max", map[string]map[string]string{blockRole: {inputRole: "jira-admin"}, blockDuration: {inputDuration: "9h"}, blockReason: {inputReason: "x"}},
			map[string]string{blockDuration: "the maximum is 4h"}},
		{"malformed_duration_and_no_reason", map[string]map[string]string{blockRole: {inputRole: "jira-admin"}, blockDuration: {inputDuration: "soon"}},
			map[string]string{blockDuration: "not a duration", blockReason: "needs a reason"}},
		{"no_role", map[string]map[string]string{blockDuration: {inputDuration: "1h"}, blockReason: {inputReason: "x"}},
			map[string]string{blockRole: "Choose one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := h.submit(alice, v, tt.values)
			if cur.Closed {
				t.Fatal("modal closed on invalid input")
			}
			if len(cur.Errors) != len(tt.want) {
				t.Errorf("errors = %v; want keys of %v", cur.Errors, tt.want)
			}
			for block, w := range tt.want {
				if !strings.Contains(cur.Errors[block], w) {
					t.Errorf("error on %s = %q; want %q", block, cur.Errors[block], w)
				}
			}
			if r, a := h.counts(); r != reqs || a != audit {
				t.Errorf("store changed: requests %d→%d, audit %d→%d", reqs, r, audit, a)
			}
		})
	}

	// Valid, with the duration left empty: the role's default.
	cur := h.submit(alice, v, map[string]map[string]string{blockRole: {inputRole: "jira-admin"}, blockReason: {inputReason: "quarterly config"}})
	if !cur.Closed {
		t.Fatalf("modal still open: %v", cur.Errors)
	}
	dm := h.next("bob's DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove)))
	r := h.request(requestID(t, dm))
	if r.Duration != time.Hour || r.Reason != "quarterly config" || r.Requester.SlackID != alice {
		t.Errorf("request = %+v", r)
	}
	h.next("alice's sent DM", bottest.And(h.fake.InChannel(alice), bottest.Containing("was sent to")))
}

func TestBot_DenyWithReason(t *testing.T) {
	h := newHarness(t)
	h.slash(alice, "request jira-admin 2h upgrade plugin")
	dm := h.next("bob's DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionDeny)))
	id := requestID(t, dm)
	chanCopy := h.next("role channel copy", bottest.And(h.fake.InChannel(roleChannel), bottest.WithButton(actionDeny)))

	// dave may not deny: the modal opens at once (no slow call before it), and submitting it
	// is refused; nothing changes.
	reqs, audit := h.counts()
	h.click(dave, chanCopy, actionDeny)
	dv := h.view(callbackDeny, dave)
	h.submit(dave, dv, map[string]map[string]string{blockReason: {inputReason: "because"}})
	toDave, inDaveDM := bottest.EphemeralTo(dave), h.fake.InChannel(dave)
	if m := h.next("dave's refusal", func(m bottest.Message) bool { return toDave(m) || inDaveDM(m) }); !strings.Contains(m.PlainText(), "not an approver") {
		t.Errorf("dave was told %q", m.PlainText())
	}
	if r, a := h.counts(); r != reqs || a != audit || h.request(id).Status != access.RequestPending {
		t.Fatalf("a refused denial changed the store")
	}

	h.click(bob, dm, actionDeny)
	v := h.view(callbackDeny, bob)
	h.submit(bob, v, map[string]map[string]string{blockReason: {inputReason: "not during the freeze"}})
	m := h.next("alice's outcome DM", bottest.And(h.fake.InChannel(alice), bottest.Containing("denied")))
	if !strings.Contains(m.PlainText(), "not during the freeze") {
		t.Errorf("denial DM = %q", m.PlainText())
	}
	r := h.request(id)
	if r.Status != access.RequestDenied || r.Decision.Reason != "not during the freeze" || r.Decision.By.SlackID != bob {
		t.Errorf("request = %s %+v", r.Status, r.Decision)
	}
	h.eventually("bob's copy updated", func() bool { cur, _ := h.fake.Message(dm.Channel, dm.TS); return cur.Updated })
	cur, _ := h.fake.Message(dm.Channel, dm.TS)
	if len(cur.Buttons()) != 0 || !strings.Contains(cur.PlainText(), "Denied by") {
		t.Errorf("bob's copy after denial: %q %v", cur.PlainText(), cur.Buttons())
	}
}

func TestBot_ExtendModal(t *testing.T) {
	h := newHarness(t)
	h.granted()
	dm := h.next("grant DM", bottest.And(h.fake.InChannel(alice), bottest.WithButton(actionExtend)))
	h.click(alice, dm, actionExtend)
	v := h.view(callbackExtend, alice)
	if !strings.Contains(string(v.Blocks), `"initial_value":"1h"`) {
		t.Errorf("extend modal does not preselect the role default: %s", v.Blocks)
	}
	if cur := h.submit(alice, v, map[string]map[string]string{blockDuration: {inputDuration: "9h"}, blockReason: {inputReason: "x"}}); cur.Closed || cur.Errors[blockDuration] == "" {
		t.Errorf("over-long extension accepted: %+v", cur.Errors)
	}
	h.submit(alice, v, map[string]map[string]string{blockDuration: {inputDuration: "1h"}, blockReason: {inputReason: "still debugging"}})
	ext := h.next("extension DM to bob", bottest.And(h.fake.InChannel(bob), bottest.Containing("Extension request")))
	if _, ok := ext.Button(actionApprove); !ok {
		t.Errorf("extension DM has no Approve: %s", ext.PlainText())
	}
}

func TestBot_AppHome(t *testing.T) {
	h := newHarness(t)
	h.granted()
	if _, err := h.svc.Submit(h.ctx, access.UserActor(alice), "jira-admin", time.Hour, "another"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := h.wait()
	defer cancel()
	for _, u := range []string{alice, bob} {
		if _, err := h.fake.OpenHome(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	home := func(u string) bottest.View {
		v, err := h.fake.WaitView(ctx, func(v bottest.View) bool { return v.Type == "home" && v.User == u })
		if err != nil {
			t.Fatalf("no home for %s: %v", u, err)
		}
		return v
	}
	a := home(alice)
	for _, id := range []string{actionOpenRequest, actionRevoke, actionExtend} {
		if !hasButton(a.Buttons(), id) {
			t.Errorf("alice's home lacks %s: %s", id, a.PlainText())
		}
	}
	if !strings.Contains(a.PlainText(), "Your pending requests* (1)") {
		t.Errorf("alice's home: %s", a.PlainText())
	}
	b := home(bob)
	if !hasButton(b.Buttons(), actionApprove) || !hasButton(b.Buttons(), actionDeny) {
		t.Errorf("bob's home lacks approval buttons: %s", b.PlainText())
	}

	// Request access opens the modal.
	if _, err := h.fake.ClickViewButton(ctx, alice, a, actionOpenRequest); err != nil {
		t.Fatal(err)
	}
	h.view(callbackRequest, alice)
}

func hasButton(bs []bottest.Button, actionID string) bool {
	for _, b := range bs {
		if b.ActionID == actionID {
			return true
		}
	}
	return false
}

// A redelivered envelope is acked again but acts once.
func TestBot_Redelivery(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Workers = 1 }) // one worker: jobs run in order
	ctx, cancel := h.wait()
	defer cancel()

	ack, err := h.fake.SlashCommand(ctx, alice, "/access", "request jira-admin 1h redelivered")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.Redeliver(ctx, ack.EnvelopeID, "timeout"); err != nil {
		t.Fatal(err)
	}
	home, err := h.fake.OpenHome(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.Redeliver(ctx, home.EnvelopeID, "timeout"); err != nil {
		t.Fatal(err)
	}
	// A later envelope, handled after both, marks the end.
	if _, err := h.fake.OpenHome(ctx, carol); err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.WaitView(ctx, func(v bottest.View) bool { return v.Type == "home" && v.User == carol }); err != nil {
		t.Fatal(err)
	}
	if reqs, _ := h.counts(); reqs != 1 {
		t.Errorf("%d requests stored; want 1", reqs)
	}
	if n := h.fake.Calls("views.publish"); n != 2 {
		t.Errorf("views.publish called %d times; want 2 (bob once, carol once)", n)
	}
	acked := map[string]int{}
	for _, a := range h.fake.Acks() {
		acked[a.EnvelopeID]++
	}
	if acked[ack.EnvelopeID] != 2 || acked[home.EnvelopeID] != 2 {
		t.Errorf("acks per envelope = %v; every delivery must be acked", acked)
	}
}

func TestBot_FatalAuth(t *testing.T) {
	fake := bottest.NewServer(t)
	tests := []struct {
		name      string
		bot, app  string
		want      string
		forbidden string
	}{
		{"bot_token", "xoxb-wrong-secret", fake.AppToken(), "JITBOT_SLACK_BOT_TOKEN", "xoxb-wrong-secret"},
		{"app_token", fake.BotToken(), "xapp-wrong-secret", "JITBOT_SLACK_APP_TOKEN", "xapp-wrong-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := testPolicy()
			b, err := New(Config{BotToken: tt.bot, AppToken: tt.app, APIURL: fake.APIURL(),
				Service: &access.Service{}, Policy: func() *access.Policy { return pol }})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = b.Run(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), tt.forbidden) {
				t.Errorf("Run = %v; want an error naming %s without the token", err, tt.want)
			}
			if b.Connected() {
				t.Error("Connected after a fatal error")
			}
		})
	}
}
