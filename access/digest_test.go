package access_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

func TestDigestText(t *testing.T) {
	g := activeGrant(t)
	g.BreakGlass = true
	events := []access.AuditEvent{
		{Action: access.ActionRequestSubmitted}, {Action: access.ActionRequestSubmitted},
		{Action: access.ActionRequestApproved, Subject: "R9", Role: "site-admin-breakglass", Member: "bob@example.com", Detail: "break-glass", Tags: []string{access.TagBreakGlass}},
		{Action: access.ActionRequestDenied},
		{Action: access.ActionGrantFailed, Subject: "R7", Detail: "revoke failed 6 times"},
		{Action: access.ActionRun, Subject: "engineering-jira", Detail: "sync engineering-jira: ok, 2 done"},
		{Action: access.ActionRun, Subject: "external-users", Detail: "dry", Tags: []string{access.TagDryRun}},
	}
	text := access.DigestText([]*access.Grant{g}, events, t0.Add(time.Hour))
	for _, want := range []string{
		"Live grants: 1", "R1 site-admin for alice@example.com (active)", "[break-glass]",
		"2 submitted, 1 approved, 1 denied", "Break-glass use (1):", "R9 site-admin-breakglass by bob@example.com",
		"Failures needing a look (1):", "R7 grant.failed", "runs (1):", "sync engineering-jira: ok, 2 done",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "dry") {
		t.Errorf("digest lists a dry run:\n%s", text)
	}
}
