// Package access is jitbot's domain: access requests, the grants they lead to, the roles and
// rules of a policy, the audit events every change leaves, and the Service that drives them.
//
// # Model
//
// A Request moves pending → approved → (granted) | denied | cancelled | expired. An approved
// request becomes a Grant with the same ID, which moves provisioning → active → revoking →
// revoked; failed is a persisted state that the sweeper keeps retrying. Transitions are pure
// methods that take the time and the acting Actor and return the AuditEvent to store with the
// change, or an *Error with a code and a sentence safe to show a user.
//
// # Late steps and outages
//
// A grant step (giving access, taking it back) still failing JITBOT_ALERT_AFTER after it was
// due is alerted once with its cause and next attempt; when it succeeds its audit post says how
// late and why, and the alert is resolved (lateness.go). While Atlassian is unavailable one
// grant probes it every OutageProbe and the others are held; the first answer releases them
// all at once (outage.go). Before adding again after a failure, a grant reads back and records
// what it found (readback.go).
//
// # Who may do what
//
// A role may be asked for by its requesters (every internal user by default; an external user
// only when named) and when its request_if holds; a person has at most limits.pending_per_user
// undecided requests and one live break-glass grant, and limits.break_glass_per_day of them a
// day. Every decision is judged on the state when it is made: the approvers and max_duration in
// force then, the request's pending timeout, and self-approval by Atlassian account, whichever
// Slack identity clicks. A refused request stores nothing.
//
// # Ports
//
// Storage (Store/Tx), the Atlassian directory and provisioner, Slack principal resolution and
// notification are small interfaces declared here and implemented by adapters.
//
// # Rules
//
// access imports the standard library, github.com/google/uuid and zerolog (for context
// loggers) only. It never imports slack-go, bbolt, cron, CEL or net/http: conditions arrive
// compiled, as values implementing Condition.
package access
