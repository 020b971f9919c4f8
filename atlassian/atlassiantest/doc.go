// Package atlassiantest is a fake Atlassian organization served over HTTP, for tests and for
// `jitbot demo`. It answers exactly the Organizations REST API endpoints jitbot calls (README,
// "Atlassian API") with the shapes and status codes of testdata/atlassian-org-admin.openapi.json:
// Bearer auth, opaque cursor paging, managed and unmanaged users, synced and protected groups,
// memberships, platform roles, a workspace and domains. It can inject 429s, 5xx, latency,
// outages and eventually consistent role changes, and records every request.
//
// # Rules
//
// atlassiantest imports the standard library, golang.org/x/time/rate and kin-openapi (for
// WithSpecValidation). It does not import the atlassian client, so it tests it from outside.
// It is imported by tests and by `jitbot demo` only.
package atlassiantest
