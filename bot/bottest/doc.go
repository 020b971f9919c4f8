// Package bottest is a fake Slack: a Web API and a Socket Mode websocket served
// on 127.0.0.1, spoken to by the real slack-go client and socketmode client.
//
// It is imported by tests and by jitbot demo only.
//
// # What it fakes
//
// The Web API methods jitbot calls (auth.test, apps.connections.open,
// chat.postMessage, chat.update, chat.postEphemeral, conversations.open,
// users.info, users.list, users.lookupByEmail, usergroups.users.list,
// views.open, views.update, views.push, views.publish) are served under APIURL,
// as strict as Slack: token checks; Block Kit limits (repeated block_id, more
// than 50 blocks or 100 in views, section text over 3,000 characters, more than
// MaxBlocksText characters of text in a message: msg_blocks_too_long); trigger
// IDs expire after 3 s; ephemerals only to members of the channel; private
// channels the bot was not invited to are channel_not_found; per-method tiers
// and about one post per second per channel, answered with 429 and Retry-After
// (ratelimit.go; WithoutRateLimits to turn off). Slash command text arrives as
// Slack sends it for the manifest's should_escape (WithShouldEscape). Users of
// another workspace (Slack Connect) carry their own team ID. Faults, Throttle
// and Outage make Slack fail on purpose. Response URLs handed out in payloads
// point back at the fake. The Socket Mode link sends hello, WebSocket pings and
// envelopes built as Slack builds them, and records every ack with its latency.
//
// # Using it
//
//	fake := bottest.NewServer(t)
//	fake.AddUser("U1", "alice", "alice@example.com")
//	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()),
//		slack.OptionAppLevelToken(fake.AppToken()))
//	sm := socketmode.New(api)
//	go sm.RunContext(ctx)
//	ack, err := fake.SlashCommand(ctx, "U1", "/access", "list")
//
// Nothing in the package sleeps: every wait is bounded by a context.
//
// # Rules
//
// bottest imports gorilla/websocket, google/uuid and the standard library only;
// its tests drive it with slack-go. It never imports other jitbot packages.
package bottest
