package bottest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/bot/bottest"
)

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

func sections(n int) []slack.Block {
	out := make([]slack.Block, n)
	for i := range out {
		out[i] = section("line")
	}
	return out
}

func TestServer_PostMessage_limits(t *testing.T) {
	button := func(value string) slack.Block {
		return slack.NewActionBlock("a", slack.NewButtonBlockElement("approve_request", value,
			slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)))
	}
	tests := []struct {
		name    string
		channel string
		opts    []slack.MsgOption
		wantErr string
	}{
		{name: "ok", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionText("hi", false), slack.MsgOptionBlocks(sections(50)...)}},
		{name: "too_many_blocks", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionBlocks(sections(51)...)}, wantErr: "invalid_blocks"},
		{name: "section_text_3000", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionBlocks(section(strings.Repeat("x", 3000)))}},
		{name: "section_text_3001", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionBlocks(section(strings.Repeat("x", 3001)))}, wantErr: "invalid_blocks"},
		{name: "button_value_2000", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionBlocks(button(strings.Repeat("v", 2000)))}},
		{name: "button_value_2001", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionBlocks(button(strings.Repeat("v", 2001)))}, wantErr: "invalid_blocks"},
		{name: "text_40001", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionText(strings.Repeat("t", 40001), false)}, wantErr: "msg_too_long"},
		{name: "no_text", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionText("", false)}, wantErr: "no_text"},
		{name: "unknown_channel", channel: "C404", opts: []slack.MsgOption{slack.MsgOptionText("hi", false)}, wantErr: "channel_not_found"},
		{name: "user_id_opens_dm", channel: "U1", opts: []slack.MsgOption{slack.MsgOptionText("hi", false)}},
		{name: "duplicate_block_id", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionBlocks(
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "a", false, false), nil, nil, slack.SectionBlockOptionBlockID("x")),
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "b", false, false), nil, nil, slack.SectionBlockOptionBlockID("x")))}, wantErr: "invalid_blocks"},
		{name: "blocks_text_12000", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionBlocks(section(strings.Repeat("x", 3000)), section(strings.Repeat("x", 3000)), section(strings.Repeat("x", 3000)), section(strings.Repeat("x", 3000)))}},
		{name: "blocks_text_12001", channel: "C1", opts: []slack.MsgOption{slack.MsgOptionBlocks(section(strings.Repeat("x", 3000)), section(strings.Repeat("x", 3000)), section(strings.Repeat("x", 3000)), section(strings.Repeat("x", 3000)), section("y"))}, wantErr: "msg_blocks_too_long"},
		{name: "private_not_invited", channel: "G1", opts: []slack.MsgOption{slack.MsgOptionText("hi", false)}, wantErr: "channel_not_found"},
		{name: "private_invited", channel: "G2", opts: []slack.MsgOption{slack.MsgOptionText("hi", false)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			fake := newFake(t)
			fake.AddPrivateChannel("G1", false, "U1")
			fake.AddPrivateChannel("G2", true, "U1")
			_, _, err := b0(t, fake).PostMessageContext(ctx, tt.channel, tt.opts...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("post: %v", err)
				}
				return
			}
			var se slack.SlackErrorResponse
			if !errors.As(err, &se) || se.Err != tt.wantErr {
				t.Fatalf("post = %v, want %s", err, tt.wantErr)
			}
			if len(fake.Messages()) != 0 {
				t.Errorf("a rejected message was recorded")
			}
		})
	}
}

func TestServer_Views_limits(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	api := b0(t, fake)
	home := func(n int) slack.PublishViewContextRequest {
		return slack.PublishViewContextRequest{UserID: "U1", View: slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: sections(n)}}}
	}
	if _, err := api.PublishViewContext(ctx, home(100)); err != nil {
		t.Fatalf("100 blocks: %v", err)
	}
	if _, err := api.PublishViewContext(ctx, home(101)); err == nil || err.Error() != "invalid_blocks" {
		t.Errorf("101 blocks: %v, want invalid_blocks", err)
	}
	modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "Hi", false, false), Blocks: slack.Blocks{BlockSet: sections(1)}}
	if _, err := api.OpenViewContext(ctx, "1.2.unknown", modal); err == nil || err.Error() != "invalid_trigger_id" {
		t.Errorf("unknown trigger: %v, want invalid_trigger_id", err)
	}
}

func TestServer_ChatUpdate(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	api := b0(t, fake)
	ch, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("v1", false), slack.MsgOptionBlocks(approvalBlocks("R9")...))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("v2", false), slack.MsgOptionBlocks()); err != nil {
		t.Fatal(err)
	}
	m, ok := fake.Message(ch, ts)
	if !ok || m.Text != "v2" || len(m.Buttons()) != 0 || len(m.History) != 1 || m.History[0].Text != "v1" || len(m.History[0].Buttons()) != 2 {
		t.Errorf("updated = %+v", m)
	}
	first, _ := fake.NextMessage(ctx, nil)
	second, _ := fake.NextMessage(ctx, nil)
	if first.Text != "v1" || second.Text != "v2" || !second.Updated {
		t.Errorf("NextMessage gave %q then %q", first.Text, second.Text)
	}
	for _, tc := range []struct{ channel, ts, want string }{
		{"C1", "1.000001", "message_not_found"},
		{"C404", ts, "channel_not_found"},
	} {
		if _, _, _, err := api.UpdateMessageContext(ctx, tc.channel, tc.ts, slack.MsgOptionText("x", false)); err == nil || err.Error() != tc.want {
			t.Errorf("update %s/%s = %v, want %s", tc.channel, tc.ts, err, tc.want)
		}
	}
}

func TestServer_Users(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	api := b0(t, fake)
	u, err := api.GetUserInfoContext(ctx, "U1")
	if err != nil || u.Profile.Email != "alice@example.com" || u.Name != "alice" {
		t.Errorf("users.info U1 = %+v, %v", u, err)
	}
	if u, err := api.GetUserInfoContext(ctx, "U3"); err != nil || u.Profile.Email != "" {
		t.Errorf("users.info U3 = %+v, %v", u, err)
	}
	if _, err := api.GetUserInfoContext(ctx, "U404"); err == nil || err.Error() != "user_not_found" {
		t.Errorf("users.info U404 = %v", err)
	}
	if u, err := api.GetUserByEmailContext(ctx, "BOB@example.com"); err != nil || u.ID != "U2" {
		t.Errorf("lookupByEmail = %+v, %v", u, err)
	}
	if _, err := api.GetUserByEmailContext(ctx, "nobody@example.com"); err == nil || err.Error() != "users_not_found" {
		t.Errorf("lookupByEmail unknown = %v", err)
	}
	if m, err := api.GetUserGroupMembersContext(ctx, "S1"); err != nil || strings.Join(m, ",") != "U1,U2" {
		t.Errorf("usergroups.users.list = %v, %v", m, err)
	}
	if _, err := api.GetUserGroupMembersContext(ctx, "S404"); err == nil || err.Error() != "no_such_subteam" {
		t.Errorf("usergroups.users.list unknown = %v", err)
	}
	ch, _, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}, ReturnIM: true})
	if err != nil || ch.ID != fake.DMChannel("U1") || !strings.HasPrefix(ch.ID, "D") || already {
		t.Errorf("conversations.open = %+v already=%v, %v", ch, already, err)
	}
	if r, err := api.AuthTestContext(ctx); err != nil || r.UserID != bottest.BotUserID || r.BotID != bottest.BotID {
		t.Errorf("auth.test = %+v, %v", r, err)
	}
	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(fake.APIURL()))
	if _, err := bad.AuthTestContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("wrong bot token = %v, want invalid_auth", err)
	}
}

func TestServer_Faults(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	api := b0(t, fake)
	fake.RateLimit("chat.postMessage", 1, 2*time.Second)
	_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Errorf("rate limited = %v", err)
	}
	fake.Fail("chat.postMessage", 2, "internal_error")
	for range 2 {
		if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); err == nil || err.Error() != "internal_error" {
			t.Errorf("injected = %v", err)
		}
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); err != nil {
		t.Errorf("after faults: %v", err)
	}
	if got := fake.Calls("chat.postMessage"); got != 4 {
		t.Errorf("calls = %d, want 4", got)
	}
}

func TestServer_Triggers(t *testing.T) {
	modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "Hi", false, false), Blocks: slack.Blocks{BlockSet: sections(1)}}
	tests := []struct {
		name    string
		ttl     time.Duration
		trigger func(*bottest.Server) string
		uses    int
		wantErr string
	}{
		{name: "fresh", ttl: time.Minute, trigger: func(s *bottest.Server) string { return s.IssueTrigger("U1") }, uses: 1},
		{name: "reused", ttl: time.Minute, trigger: func(s *bottest.Server) string { return s.IssueTrigger("U1") }, uses: 2, wantErr: "expired_trigger_id"},
		{name: "expired", ttl: -1, trigger: func(s *bottest.Server) string { return s.IssueTrigger("U1") }, uses: 1, wantErr: "expired_trigger_id"},
		{name: "unknown", ttl: time.Minute, trigger: func(*bottest.Server) string { return "1.2.3" }, uses: 1, wantErr: "invalid_trigger_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			fake := newFake(t, bottest.WithTriggerTTL(tt.ttl))
			api := b0(t, fake)
			trig := tt.trigger(fake)
			var err error
			for range tt.uses {
				_, err = api.OpenViewContext(ctx, trig, modal)
			}
			if got := errString(err); got != tt.wantErr {
				t.Errorf("views.open = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Slack's rate limits: about one message per second per channel after a short burst, and a
// per-minute allowance per method; over them, 429 with Retry-After.
func TestServer_RateLimits(t *testing.T) {
	ctx := testContext(t)
	now := time.Unix(1700000000, 0)
	fake := newFake(t, bottest.WithClock(func() time.Time { return now }))
	api := b0(t, fake)
	post := func(ch string) error {
		_, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("hi", false))
		return err
	}
	for i := range bottest.ChannelBurst {
		if err := post("C1"); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	var rl *slack.RateLimitedError
	if err := post("C1"); !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Fatalf("post over the burst = %v; want 429 Retry-After 1s", err)
	}
	if err := post("U1"); err != nil {
		t.Errorf("another channel is limited too: %v", err)
	}
	now = now.Add(time.Second)
	if err := post("C1"); err != nil {
		t.Errorf("post a second later: %v", err)
	}
	for i := range bottest.Tier3 {
		if _, err := api.GetUserByEmailContext(ctx, "alice@example.com"); err != nil {
			t.Fatalf("users.lookupByEmail %d: %v", i, err)
		}
	}
	if _, err := api.GetUserByEmailContext(ctx, "alice@example.com"); !errors.As(err, &rl) || rl.RetryAfter != time.Minute {
		t.Fatalf("users.lookupByEmail over tier 3 = %v; want 429 Retry-After 60s", err)
	}
}

func TestServer_Outage(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	end := fake.Outage(500)
	_, _, err := b0(t, fake).PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != 500 {
		t.Fatalf("post during outage = %v; want HTTP 500", err)
	}
	end()
	if _, _, err := b0(t, fake).PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatalf("post after outage: %v", err)
	}
}

// Command text arrives as Slack sends it for should_escape.
func TestServer_SlashCommand_escape(t *testing.T) {
	for _, tt := range []struct {
		escape bool
		want   string
	}{
		{true, "history <@U1|alice> &lt;x&gt; &amp; <#C1|c1> @nobody"},
		{false, "history @alice &lt;x&gt; &amp; #c1 @nobody"},
	} {
		fake := newFake(t, bottest.WithShouldEscape(tt.escape))
		fake.PutUser(bottest.User{ID: "U9", Name: "ann.lee", RealName: "Ann Lee"})
		got := fake.EscapedText("history @alice <x> & #c1 @nobody")
		if got != tt.want {
			t.Errorf("escape %v: %q; want %q", tt.escape, got, tt.want)
		}
		if tt.escape {
			if got := fake.EscapedText("history @Ann Lee 3"); got != "history <@U9|ann.lee> 3" {
				t.Errorf("real name with a space: %q", got)
			}
		}
	}
}

func TestServer_UsersList(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	fake.PutUser(bottest.User{ID: "U7", Name: "guest", TeamID: "T0OTHER"})
	users, err := b0(t, fake).GetUsersContext(ctx, slack.GetUsersOptionLimit(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 4 {
		t.Fatalf("users.list gave %d users over pages; want 4", len(users))
	}
	for _, u := range users {
		if u.ID == "U7" && u.TeamID != "T0OTHER" {
			t.Errorf("Slack Connect user team = %q", u.TeamID)
		}
	}
}

// An ephemeral goes only to a member of the channel, as in Slack.
func TestServer_PostEphemeral_members(t *testing.T) {
	ctx := testContext(t)
	fake := newFake(t)
	fake.AddChannel("C2", "U1")
	api := b0(t, fake)
	for _, tt := range []struct {
		channel, user, wantErr string
	}{
		{"C2", "U1", ""},
		{"C2", "U2", "user_not_in_channel"},
		{"C1", "U1", "user_not_in_channel"}, // a channel with no people in it
		{fake.DMChannel("U2"), "U2", ""},
		{fake.DMChannel("U2"), "U1", "user_not_in_channel"},
	} {
		_, err := api.PostEphemeralContext(ctx, tt.channel, tt.user, slack.MsgOptionText("psst", false))
		var se slack.SlackErrorResponse
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ephemeral to %s in %s: %v", tt.user, tt.channel, err)
		case tt.wantErr != "" && (!errors.As(err, &se) || se.Err != tt.wantErr):
			t.Errorf("ephemeral to %s in %s = %v; want %s", tt.user, tt.channel, err, tt.wantErr)
		}
	}
}
