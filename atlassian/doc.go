// Package atlassian is jitbot's client for the Atlassian Organizations REST API. It implements
// the access ports Directory, Provisioner and Org over exactly the endpoints listed in
// docs/design.md ("Atlassian endpoints"): v2 user and group search, user and group reads, user
// role assignments, group memberships, suspend and restore, v1 platform roles, workspaces and
// domains.
//
// # Behaviour
//
// Every call goes through a client-side rate limiter first, so jitbot slows down before
// Atlassian has to tell it to. A 429 waits for Retry-After (seconds) or X-RateLimit-Reset
// (ISO-8601), never less, plus a small positive jitter; 5xx answers and network errors are
// retried a bounded number of times with exponential backoff and jitter. Retrying is safe
// because every call jitbot makes is idempotent by design: searches and reads change nothing,
// adding a member who is there or removing one who is gone counts as done, and role assign and
// revoke, suspend and restore set a state rather than toggle it. Every attempt has its own
// timeout and honours the caller's context.
//
// # Resources
//
// A policy resource written as a host or URL is resolved through the Workspaces API to what the
// Role API accepts (Resource): site-admin on the site ARI ari:cloud:platform::site/<cloudId>,
// a product role on the product's ARI (ari:cloud:jira::site/<cloudId>, never the
// ari:cloud:jira-admin workspace ID, Atlassian bug ID-8887); an ARI is used as is. Role
// read-backs compare cloud ID and resource type, not strings.
//
// Failures are *access.Error values wrapped with the operation: ENOTFOUND, EFORBIDDEN (a bad
// API key or org ID setting, named by its variable, never the key), EUNAVAILABLE (rate limits,
// outages, network), EINVALID and ECONFLICT. They also say what Atlassian did (Cause: "Atlassian
// answered 503 (ADMIN-500)") and whether it answered at all (Answered: a refused write was not
// applied), for lateness alerts and read-backs. A context marked access.WithoutRetries gets one
// attempt per call.
//
// # Rules
//
// atlassian imports access, golang.org/x/time/rate and the standard library only.
package atlassian
