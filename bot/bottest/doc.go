// Package bottest is a fake Slack: a Web API and a Socket Mode websocket served
// on 127.0.0.1, spoken to by the real slack-go client and socketmode client.
//
// It is imported by tests and by jitbot demo only.
//
// # What it fakes
//
// The Web API methods jitbot calls (auth.test, apps.connections.open,
// chat.postMessage, chat.update, chat.postEphemeral, conversations.open,
// users.info, users.lookupByEmail, usergroups.users.list, views.open,
// views.update, views.push, views.publish) are served under APIURL, with
// Slack's token checks, Block Kit limits and error codes. Response URLs handed
// out in payloads point back at the fake. The Socket Mode link sends hello,
// WebSocket pings and envelopes built as Slack builds them, and records every
// ack with its latency.
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
