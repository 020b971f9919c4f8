// Package bot is jitbot's Slack adapter: it speaks Socket Mode, answers the slash command,
// buttons, modals and the App Home, and implements the access ports that need Slack
// (Notifier, Identity, Principals).
//
// # Flow
//
// One event loop drains every Socket Mode event (socket.go). Each envelope is acknowledged at
// once, with an immediate answer when one needs no I/O (usage, bad input, the role list, modal
// validation), and the rest of the work runs on a bounded worker pool with a per-event
// deadline, a child logger and panic recovery. Repeated envelopes (same envelope_id or Events
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
