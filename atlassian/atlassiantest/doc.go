// Package atlassiantest is a fake Atlassian organization served over HTTP, for tests and for
// `jitbot demo`. It answers exactly the Organizations REST API endpoints jitbot calls (README,
// "Atlassian API") with the shapes and status codes of testdata/atlassian-org-admin.openapi.json:
// Bearer auth, opaque cursor paging, managed and unmanaged users, synced and protected groups,
// memberships, platform roles, workspaces and domains. It can inject 429s, 5xx, latency,
// outages and eventually consistent role changes, and records every request.
//
// # Sites and the Role API
//
// A site looks as a real one with both products does (AddSite): Jira at the host's root and
// Confluence under /wiki, two workspaces sharing one cloud ID, the Jira one with the
// ari:cloud:jira-admin::site/<cloudId> ID Atlassian's bug ID-8887 shows the Workspaces API
// returning. The Role API is as particular as ID-8887 says the live one is: it takes only
// site ARIs of this org's cloud IDs, refuses "-admin" workspace IDs with 400 ADMIN-UAM-400-5,
// takes site-admin only on the platform site ARI and product roles only on a product's ARI.
// Role assignments are read back in the form they were given, so clients must compare cloud
// ID and type, not strings.
//
// # Rules
//
// atlassiantest imports the standard library, golang.org/x/time/rate and kin-openapi (for
// WithSpecValidation). It does not import the atlassian client, so it tests it from outside.
// It is imported by tests and by `jitbot demo` only.
package atlassiantest
