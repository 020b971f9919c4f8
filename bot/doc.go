// Package bot is jitbot's Slack adapter: it speaks Socket Mode, answers the slash command,
// buttons, modals and the App Home, and implements the access ports that need Slack
// (Notifier, Identity, Principals).
//
// # Flow
//
// One event loop drains every Socket Mode event (socket.go). Each envelope is acknowledged at
// once, with an immediate answer when one needs no I/O (usage, bad input, modal validation),
// and the rest of the work runs on a bounded worker pool with a per-event deadline, a child
// logger and panic recovery. When the pool's queue is full the envelope is answered "busy"
// instead, so the read loop never waits. The role list, the request modal and App Home offer
// only the roles the person may request (access.Service.Requestable).
//
// # User text
//
// Everything people typed (reasons, names, group names, run and history details) is escaped
// before it reaches Slack: inline where it stays on one line, quoted line by line where it has
// several (render.go), so it can neither mention, link nor pass for a line jitbot wrote. Repeated envelopes (same envelope_id or Events
// API event_id) are dropped by a bounded TTL cache (dedupe.go). Who may act is always decided by
// access.Service from the stored state, never from a button's value.
//
// # Files
//
// command.go parses the slash command; handler_*.go, action.go, modal.go and home.go act on
// it; render.go and view.go are pure functions from domain values to Block Kit, golden-tested
// under testdata/; notifier.go, identity.go and principals.go implement the ports; errors.go
// is the one place that reads Slack's error codes.
//
// # Rules
//
// bot imports access, slack-go, zerolog and the standard library. It never imports store,
// atlassian or policies; tests use access/accesstest and bot/bottest.
package bot
