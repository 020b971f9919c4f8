// Package bot is jitbot's Slack adapter: it speaks Socket Mode, answers the slash command,
// buttons, modals and the App Home, implements the access ports that need Slack (Notifier,
// Identity, Principals), and delivers the outbox.
//
// # Flow
//
// One event loop drains every Socket Mode event (socket.go). Each envelope that carries work is
// first recorded in the store's inbox (inbox.go), then acknowledged, with an immediate answer
// when one needs no I/O (usage, bad input, modal validation); the work runs on a bounded worker
// pool with a per-event deadline, a child logger and panic recovery, and the envelope is
// forgotten when it is done. At start-up what was recorded and not finished is replayed once:
// Slack never resends an acknowledged envelope. When the pool's queue is full the envelope is
// answered "busy" instead, so the read loop never waits. The role list, the request modal and
// App Home offer only the roles the person may request (access.Service.Requestable). Repeated
// envelopes (same envelope_id or Events API event_id) are dropped by a bounded TTL cache
// (dedupe.go). Who may act is always decided by access.Service from the stored state, never
// from a button's value.
//
// # Outbox
//
// Notify (the access.Notifier) only writes a notice into the store's outbox, in the
// transaction of the change it reports. A delivery loop (delivery.go) expands notices into Slack
// calls (outbox.go) and sends them one at a time per channel, in order, paced within Slack's
// limits (a burst of 3 then one a second per channel, chat.update's tier), honouring
// Retry-After without holding anything else, retrying with backoff across restarts, dropping
// what Slack plainly refuses (channel_not_found, not_in_channel, …) with one alert. Messages
// about a request, grant or review are rendered from its state when they are sent, and updates
// of one message coalesce into the latest. Nothing that changes Atlassian waits on Slack.
//
// # User text
//
// Everything people typed (reasons, names, group names, run and history details) is escaped
// before it reaches Slack: inline where it stays on one line, quoted line by line where it has
// several (render.go), so it can neither mention, link nor pass for a line jitbot wrote.
//
// # Files
//
// command.go parses the slash command; handler_*.go, action.go, modal.go and home.go act on
// it; render.go and view.go are pure functions from domain values to Block Kit, golden-tested
// under testdata/; outbox.go and delivery.go deliver notices; inbox.go records envelopes;
// notifier.go holds the Web API calls that post; identity.go, principals.go and users.go look
// people up; team.go refuses other workspaces; errors.go is the one place that reads Slack's
// error codes.
//
// # Rules
//
// bot imports access, slack-go, zerolog and the standard library. It never imports store,
// atlassian or policies; tests use access/accesstest and bot/bottest.
package bot
