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
