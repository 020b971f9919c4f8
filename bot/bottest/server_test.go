package bottest_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/jitbot/jitbot/bot/bottest"
)

// bot is a minimal Socket Mode app driven by the real slack-go clients.
type bot struct {
	api *slack.Client
	sm  *socketmode.Client

	done chan error
}

// startBot connects a real socketmode client to fake and calls handle for
// every Slack-originated event, in one goroutine, until the test ends.
func startBot(t *testing.T, fake *bottest.Server, handle func(b *bot, evt socketmode.Event), opts ...slack.Option) *bot {
	t.Helper()
	opts = append([]slack.Option{slack.OptionAPIURL(fake.APIURL()), slack.OptionAppLevelToken(fake.AppToken())}, opts...)
	api := slack.New(fake.BotToken(), opts...)
	b := &bot{api: api, sm: socketmode.New(api, socketmode.OptionPingInterval(2*time.Second)), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { b.done <- b.sm.RunContext(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-b.sm.Events:
				if evt.Request != nil && handle != nil {
					handle(b, evt)
				}
			}
		}
	})
	return b
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newFake(t *testing.T, opts ...bottest.Option) *bottest.Server {
	t.Helper()
	fake := bottest.NewServer(t, opts...)
	fake.AddUser("U1", "alice", "alice@example.com")
	fake.AddUser("U2", "bob", "bob@example.com")
	fake.AddUser("U3", "nomail", "")
	fake.AddUserGroup("S1", "U1", "U2")
	fake.AddChannel("C1")
	return fake
}

func TestServer_Connect(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	hello := make(chan socketmode.Request, 1)
	startBot(t, fake, func(b *bot, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeHello {
			hello <- *evt.Request
		}
	})
	if err := fake.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-hello:
		if req.NumConnections != 1 || req.ConnectionInfo.AppID != bottest.AppID {
			t.Errorf("hello = %+v", req)
		}
	case <-ctx.Done():
		t.Fatal("no hello")
	}
	if got := fake.Calls("apps.connections.open"); got != 1 {
		t.Errorf("apps.connections.open calls = %d, want 1", got)
	}
	if got := fake.Connections(); got != 1 {
		t.Errorf("connections = %d, want 1", got)
	}
}

func TestServer_SlashCommand(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	got := make(chan slack.SlashCommand, 1)
	startBot(t, fake, func(b *bot, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeSlashCommand {
			return
		}
		cmd := evt.Data.(slack.SlashCommand)
		if err := b.sm.Ack(*evt.Request, map[string]any{"text": "got " + cmd.Text}); err != nil {
			t.Errorf("ack: %v", err)
		}
		got <- cmd
	})
	ack, err := fake.SlashCommand(ctx, "U1", "/access", "list")
	if err != nil {
		t.Fatal(err)
	}
	cmd := <-got
	if cmd.UserID != "U1" || cmd.Command != "/access" || cmd.Text != "list" || cmd.UserName != "alice" {
		t.Errorf("command = %+v", cmd)
	}
	if cmd.TriggerID == "" || !strings.HasPrefix(cmd.ResponseURL, fake.URL()) || cmd.IsEnterpriseInstall {
		t.Errorf("trigger %q response_url %q enterprise %v", cmd.TriggerID, cmd.ResponseURL, cmd.IsEnterpriseInstall)
	}
	if cmd.ChannelID != fake.DMChannel("U1") {
		t.Errorf("channel = %s, want the DM %s", cmd.ChannelID, fake.DMChannel("U1"))
	}
	if ack.Text() != "got list" || ack.Latency <= 0 || ack.Late() || ack.Type != "slash_commands" {
		t.Errorf("ack = %+v", ack)
	}
	if acks := fake.Acks(); len(acks) != 1 || acks[0].EnvelopeID != ack.EnvelopeID {
		t.Errorf("acks = %+v", acks)
	}
	if eph := fake.Ephemerals("U1"); len(eph) != 1 || eph[0].Text != "got list" || eph[0].Via != "ack" {
		t.Errorf("ephemerals = %+v", eph)
	}

	// The response URL takes JSON posts from slack-go.
	if _, _, err := b0(t, fake).PostMessageContext(ctx, "", slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeInChannel), slack.MsgOptionText("for all", false)); err != nil {
		t.Fatalf("response_url: %v", err)
	}
	m, err := fake.NextMessage(ctx, bottest.Containing("for all"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Ephemeral || m.Via != "response_url" || m.Channel != cmd.ChannelID {
		t.Errorf("response_url message = %+v", m)
	}
}

// b0 is a Web API client for the fake without a socket.
func b0(t *testing.T, fake *bottest.Server) *slack.Client {
	t.Helper()
	return slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()))
}

func approvalBlocks(id string) []slack.Block {
	return []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*alice* asks for site-admin", false, false), nil, nil),
		slack.NewActionBlock("decide-"+id,
			slack.NewButtonBlockElement("approve_request", id, slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)).WithStyle(slack.StylePrimary),
			slack.NewButtonBlockElement("deny_request", id, slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false)).WithStyle(slack.StyleDanger),
		),
	}
}

func TestServer_ClickButton(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	clicks := make(chan slack.InteractionCallback, 2)
	startBot(t, fake, func(b *bot, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeInteractive {
			return
		}
		b.sm.Ack(*evt.Request)
		cb := evt.Data.(slack.InteractionCallback)
		done := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Approved by <@"+cb.User.ID+">", false, false), nil, nil)
		if _, _, _, err := b.api.UpdateMessageContext(ctx, cb.Container.ChannelID, cb.Container.MessageTs,
			slack.MsgOptionText("approved", false), slack.MsgOptionBlocks(done)); err != nil {
			t.Errorf("update: %v", err)
		}
		clicks <- cb
	})
	api := b0(t, fake)
	toBob := fake.InChannel("U2") // made before the DM exists
	ch, ts, err := api.PostMessageContext(ctx, "U2", slack.MsgOptionText("approve?", false), slack.MsgOptionBlocks(approvalBlocks("R1")...))
	if err != nil {
		t.Fatal(err)
	}
	if ch != fake.DMChannel("U2") {
		t.Errorf("posted to %s, want DM %s", ch, fake.DMChannel("U2"))
	}
	msg, err := fake.NextMessage(ctx, bottest.And(toBob, bottest.WithButton("approve_request")))
	if err != nil {
		t.Fatal(err)
	}
	if msg.TS != ts || len(msg.Buttons()) != 2 || msg.Buttons()[0].Label != "Approve" || msg.Buttons()[0].Value != "R1" {
		t.Errorf("message = %+v buttons %+v", msg, msg.Buttons())
	}
	if !strings.Contains(msg.PlainText(), "[Approve] [Deny]") {
		t.Errorf("PlainText = %q", msg.PlainText())
	}
	if _, err := fake.ClickButton(ctx, "U2", msg, "approve_request"); err != nil {
		t.Fatal(err)
	}
	cb := <-clicks
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U2" || cb.TriggerID == "" || cb.ResponseURL == "" {
		t.Errorf("callback = %+v", cb)
	}
	if a := cb.ActionCallback.BlockActions; len(a) != 1 || a[0].ActionID != "approve_request" || a[0].BlockID != "decide-R1" || a[0].Value != "R1" {
		t.Errorf("actions = %+v", a)
	}
	if cb.Container.ChannelID != ch || cb.Container.MessageTs != ts || cb.Channel.ID != ch || cb.Message.Timestamp != ts {
		t.Errorf("container = %+v channel %+v message ts %s", cb.Container, cb.Channel, cb.Message.Timestamp)
	}
	upd, err := fake.NextMessage(ctx, fake.InChannel("U2"))
	if err != nil {
		t.Fatal(err)
	}
	if !upd.Updated || upd.Text != "approved" || len(upd.Buttons()) != 0 || len(upd.History) != 1 {
		t.Errorf("update = %+v", upd)
	}
	if _, err := fake.ClickButton(ctx, "U2", msg, "approve_request"); err == nil {
		t.Error("clicked a button that chat.update removed")
	}
	if got := fake.MessagesTo("U2"); len(got) != 1 || got[0].Text != "approved" {
		t.Errorf("MessagesTo = %+v", got)
	}
}

func TestServer_SubmitView(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	subs := make(chan slack.InteractionCallback, 2)
	startBot(t, fake, func(b *bot, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			b.sm.Ack(*evt.Request)
			cmd := evt.Data.(slack.SlashCommand)
			reason := slack.NewInputBlock("reason", slack.NewTextBlockObject(slack.PlainTextType, "Reason", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "reason_input"))
			view := slack.ModalViewRequest{
				Type: slack.VTModal, CallbackID: "request", PrivateMetadata: "meta",
				Title:  slack.NewTextBlockObject(slack.PlainTextType, "Request access", false, false),
				Submit: slack.NewTextBlockObject(slack.PlainTextType, "Send", false, false),
				Blocks: slack.Blocks{BlockSet: []slack.Block{reason}},
			}
			if _, err := b.api.OpenViewContext(ctx, cmd.TriggerID, view); err != nil {
				t.Errorf("views.open: %v", err)
			}
			if _, err := b.api.OpenViewContext(ctx, cmd.TriggerID, view); err == nil || err.Error() != "expired_trigger_id" {
				t.Errorf("second views.open with the same trigger: %v, want expired_trigger_id", err)
			}
		case socketmode.EventTypeInteractive:
			cb := evt.Data.(slack.InteractionCallback)
			if v := cb.View.State.Values["reason"]["reason_input"].Value; v == "" {
				b.sm.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"reason": "A reason is required."}))
			} else {
				b.sm.Ack(*evt.Request)
			}
			subs <- cb
		}
	})
	if _, err := fake.SlashCommand(ctx, "U1", "/access", ""); err != nil {
		t.Fatal(err)
	}
	view, err := fake.WaitView(ctx, func(v bottest.View) bool { return v.CallbackID == "request" })
	if err != nil {
		t.Fatal(err)
	}
	if view.User != "U1" || view.Title != "Request access" || view.PrivateMetadata != "meta" {
		t.Errorf("view = %+v", view)
	}
	ack, err := fake.SubmitView(ctx, "U1", view, map[string]map[string]string{"reason": {"reason_input": ""}})
	if err != nil {
		t.Fatal(err)
	}
	cb := <-subs
	if cb.Type != slack.InteractionTypeViewSubmission || cb.View.CallbackID != "request" || cb.View.PrivateMetadata != "meta" || cb.View.ID != view.ID {
		t.Errorf("callback = %+v", cb.View)
	}
	var resp slack.ViewSubmissionResponse
	if err := ack.Decode(&resp); err != nil || resp.ResponseAction != slack.RAErrors {
		t.Errorf("ack = %s (%v)", ack.Payload, err)
	}
	if v, _ := fake.View(view.ID); v.Closed || v.Errors["reason"] != "A reason is required." {
		t.Errorf("after errors: %+v", v)
	}
	if _, err := fake.SubmitView(ctx, "U1", view, map[string]map[string]string{"reason": {"reason_input": "deploy"}}); err != nil {
		t.Fatal(err)
	}
	if cb := <-subs; cb.View.State.Values["reason"]["reason_input"].Value != "deploy" {
		t.Errorf("state = %+v", cb.View.State.Values)
	}
	if v, _ := fake.View(view.ID); !v.Closed {
		t.Errorf("view still open after a plain ack")
	}
	if _, err := fake.SubmitView(ctx, "U1", view, nil); err == nil {
		t.Error("submitted a closed view")
	}
	if len(fake.Views()) != 1 {
		t.Errorf("views = %d, want 1", len(fake.Views()))
	}
}

func TestServer_OpenHome(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	events := make(chan *slackevents.AppHomeOpenedEvent, 2)
	reqs := make(chan socketmode.Request, 2)
	startBot(t, fake, func(b *bot, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeEventsAPI {
			return
		}
		b.sm.Ack(*evt.Request)
		e := evt.Data.(slackevents.EventsAPIEvent)
		home, ok := e.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
		if !ok {
			t.Errorf("inner event %T", e.InnerEvent.Data)
			return
		}
		view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "No pending requests", false, false), nil, nil),
		}}}
		if _, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: home.User, View: view}); err != nil {
			t.Errorf("views.publish: %v", err)
		}
		reqs <- *evt.Request
		events <- home
	})
	ack, err := fake.OpenHome(ctx, "U1")
	if err != nil {
		t.Fatal(err)
	}
	home, req := <-events, <-reqs
	if home.User != "U1" || home.Tab != "home" || home.Channel != fake.DMChannel("U1") {
		t.Errorf("event = %+v", home)
	}
	if ack.Type != "events_api" || ack.RetryAttempt != 0 || req.RetryAttempt != 0 {
		t.Errorf("ack = %+v request = %+v", ack, req)
	}
	v, err := fake.WaitView(ctx, func(v bottest.View) bool { return v.Type == "home" && v.User == "U1" })
	if err != nil {
		t.Fatal(err)
	}
	if hv, ok := fake.HomeView("U1"); !ok || hv.ID != v.ID || !strings.Contains(hv.PlainText(), "No pending requests") {
		t.Errorf("home = %+v", hv)
	}

	// Redelivery: same envelope and event IDs, retry_attempt + 1.
	again, err := fake.Redeliver(ctx, ack.EnvelopeID, "")
	if err != nil {
		t.Fatal(err)
	}
	req2 := <-reqs
	<-events
	if again.EnvelopeID != ack.EnvelopeID || again.RetryAttempt != 1 || req2.RetryAttempt != 1 || req2.RetryReason != "timeout" || req2.EnvelopeID != req.EnvelopeID {
		t.Errorf("redelivery ack = %+v request = %+v", again, req2)
	}
	var p1, p2 struct {
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(req.Payload, &p1)
	_ = json.Unmarshal(req2.Payload, &p2)
	if p1.EventID == "" || p1.EventID != p2.EventID {
		t.Errorf("event_id %q then %q", p1.EventID, p2.EventID)
	}
	if n := len(fake.Acks()); n != 2 {
		t.Errorf("acks = %d, want 2", n)
	}
}

func TestServer_Disconnect(t *testing.T) {
	for _, reason := range []string{"refresh_requested", "warning", "link_disabled"} {
		t.Run(reason, func(t *testing.T) {
			ctx := testContext(t)
			fake := newFake(t)
			startBot(t, fake, func(b *bot, evt socketmode.Event) { b.sm.Ack(*evt.Request) })
			if err := fake.WaitConnected(ctx); err != nil {
				t.Fatal(err)
			}
			if n := fake.Disconnect(reason); n != 1 {
				t.Fatalf("told %d links", n)
			}
			if err := fake.WaitConnected(ctx); err != nil {
				t.Fatal(err)
			}
			if got := fake.Calls("apps.connections.open"); got != 2 {
				t.Errorf("apps.connections.open calls = %d, want 2", got)
			}
			// Envelopes go to the new link.
			if _, err := fake.SlashCommand(ctx, "U1", "/access", "help"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestServer_Drop(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	startBot(t, fake, nil)
	if err := fake.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	fake.Drop()
	if err := fake.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls("apps.connections.open"); got != 2 {
		t.Errorf("apps.connections.open calls = %d, want 2", got)
	}
}

func TestServer_InvalidAppToken(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		fault   string
		wantErr string
	}{
		{name: "wrong_token", token: "xapp-wrong", wantErr: "invalid_auth"},
		{name: "revoked", token: bottest.DefaultAppToken, fault: "token_revoked", wantErr: "token_revoked"},
		{name: "inactive", token: bottest.DefaultAppToken, fault: "account_inactive", wantErr: "account_inactive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			fake := newFake(t)
			if tt.fault != "" {
				fake.Fail("apps.connections.open", 1, tt.fault)
			}
			b := startBot(t, fake, nil, slack.OptionAppLevelToken(tt.token))
			select {
			case err := <-b.done:
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("RunContext = %v, want %s", err, tt.wantErr)
				}
			case <-ctx.Done():
				t.Fatal("RunContext did not return on a fatal auth error")
			}
		})
	}
}

func TestServer_Ping(t *testing.T) {
	tests := []struct {
		name          string
		pingInterval  time.Duration
		wantReconnect bool
	}{
		{name: "pings_keep_the_link", pingInterval: 20 * time.Millisecond},
		{name: "no_pings_reconnect", pingInterval: 0, wantReconnect: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, bottest.WithPingInterval(tt.pingInterval))
			api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()), slack.OptionAppLevelToken(fake.AppToken()))
			sm := socketmode.New(api, socketmode.OptionPingInterval(150*time.Millisecond))
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			t.Cleanup(func() { cancel(); wg.Wait() })
			wg.Go(func() { _ = sm.RunContext(ctx) })
			wg.Go(func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-sm.Events:
					}
				}
			})
			wctx, wcancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
			defer wcancel()
			err := fake.WaitCalls(wctx, "apps.connections.open", 2)
			if reconnected := err == nil; reconnected != tt.wantReconnect {
				t.Errorf("reconnected = %v, want %v", reconnected, tt.wantReconnect)
			}
		})
	}
}

func TestServer_ResponseURL_replaceOriginal(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	startBot(t, fake, func(b *bot, evt socketmode.Event) {
		if evt.Type != socketmode.EventTypeInteractive {
			return
		}
		b.sm.Ack(*evt.Request)
		cb := evt.Data.(slack.InteractionCallback)
		if _, _, err := b.api.PostMessageContext(ctx, "", slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("denied", false)); err != nil {
			t.Errorf("replace_original: %v", err)
		}
	})
	ch, ts, err := b0(t, fake).PostMessageContext(ctx, "C1", slack.MsgOptionText("approve?", false), slack.MsgOptionBlocks(approvalBlocks("R2")...))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := fake.Message(ch, ts)
	if _, err := fake.ClickButton(ctx, "U1", msg, "deny_request"); err != nil {
		t.Fatal(err)
	}
	upd, err := fake.NextMessage(ctx, func(m bottest.Message) bool { return m.Updated })
	if err != nil {
		t.Fatal(err)
	}
	if upd.TS != ts || upd.Text != "denied" || upd.Via != "response_url" || len(upd.Buttons()) != 0 {
		t.Errorf("replaced = %+v", upd)
	}
}
