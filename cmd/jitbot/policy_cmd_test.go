package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/bot/bottest"
)

const onlinePolicy = `version: 1
organization: {domains: [example.com]}
teams:
  security: [U0SEC1, sec@example.com]
roles:
  - name: site-admin
    grants:
      - role: site-admin
        resource: example.atlassian.net
    max_duration: 1h
    approvers: [security]
  - name: wiki-admin
    grants:
      - role: admin
        resource: example.atlassian.net/wiki
    max_duration: 1h
    approvers: [U0NOBODY]
  - name: shared
    grants:
      - role: site-admin
        resource: shared.atlassian.net
    max_duration: 1h
    approvers: [security]
  - name: engineering
    grants:
      - group: scim-engineering
    max_duration: 1h
    approvers: [S0LEADS]
sync:
  - name: s
    schedule: "@every 1h"
    match: 'true'
    add_to: [jira-users, no-such-group]
guard:
  protected_groups: [site-admins, org-admins, scim-staff]
`

// onlineEnv starts a fake org and Slack workspace fit for onlinePolicy except for the problems
// the test expects, and returns the environment that points jitbot at them.
func onlineEnv(t *testing.T) (env []string, org *atlassiantest.Server) {
	t.Helper()
	org = atlassiantest.NewServer(t, atlassiantest.WithSpecValidation(t))
	org.AddGroup(atlassiantest.Group{Name: "jira-users"})
	org.AddGroup(atlassiantest.Group{Name: "scim-engineering", ExternalSynced: true})
	org.AddGroup(atlassiantest.Group{Name: "scim-staff", ExternalSynced: true})
	org.AddWorkspace(atlassiantest.Workspace{ID: "ari:cloud:jira-software::site/1111", Type: "jira-software", HostURL: "https://shared.atlassian.net"})
	org.AddWorkspace(atlassiantest.Workspace{ID: "ari:cloud:confluence::site/2222", Type: "confluence", HostURL: "https://shared.atlassian.net/wiki"})
	slack := bottest.NewServer(t)
	slack.AddUser("U0SEC1", "sam", "sam@example.com")
	slack.AddUser("U0SEC2", "sec", "sec@example.com")
	slack.AddUserGroup("S0LEADS", "U0SEC1")
	return []string{
		"JITBOT_ATLASSIAN_API_URL=" + org.URL(), "JITBOT_ATLASSIAN_ORG_ID=" + org.OrgID(), "JITBOT_ATLASSIAN_API_KEY=" + org.APIKey(),
		"JITBOT_SLACK_BOT_TOKEN=" + slack.BotToken(), "JITBOT_SLACK_API_URL=" + slack.APIURL(),
	}, org
}

func TestPolicyCheck_online(t *testing.T) {
	env, org := onlineEnv(t)
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte(onlinePolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	// Offline the file is valid.
	if code, out, errOut := runMain([]string{"policy", "check", file}); code != 0 {
		t.Fatalf("offline check: exit %d %s %s", code, out, errOut)
	}
	code, out, errOut := runMain([]string{"policy", "check", "--online", file}, env...)
	if code != 1 {
		t.Fatalf("online check: exit %d, want 1\n%s%s", code, out, errOut)
	}
	want := []string{
		file + ":17: roles[1].approvers[0]: no Slack user U0NOBODY exists in this workspace",
		file + ":21: roles[2].grants[0].resource: The host of shared.atlassian.net belongs to workspaces of different sites: jira-software https://shared.atlassian.net (ari:cloud:jira-software::site/1111), confluence https://shared.atlassian.net/wiki (ari:cloud:confluence::site/2222). Write the resource ARI of the one meant in the JITBOT policy file",
		file + ":26: roles[3].grants[0].group: Group scim-engineering is synced from your identity provider; jitbot cannot change it. Change it in the identity provider, or grant a group jitbot manages",
		file + ":33: sync[0].add_to[1]: no Atlassian group named no-such-group exists in this organization",
		file + ":35: guard.protected_groups[2]: Group scim-staff is synced from your identity provider; jitbot cannot change it. Change it in the identity provider, or grant a group jitbot manages",
	}
	got := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(got) < len(want) || strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", errOut, strings.Join(want, "\n"))
	}
	if len(got) != len(want)+1 || !strings.Contains(got[len(want)], "5 problem(s)") {
		t.Errorf("unexpected extra output:\n%s", errOut)
	}
	for _, r := range org.Requests() {
		if r.Route == atlassiantest.RouteMembershipAdd || r.Route == atlassiantest.RouteRoleAssign {
			t.Errorf("policy check wrote to Atlassian: %+v", r)
		}
	}

	// Fixed, the same file passes.
	fixed := strings.NewReplacer("U0NOBODY", "U0SEC2", "shared.atlassian.net", "example.atlassian.net", "group: scim-engineering", "group: jira-users", ", no-such-group", "", ", scim-staff]", "]").Replace(onlinePolicy)
	if err := os.WriteFile(file, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runMain([]string{"policy", "check", "--online", file}, env...); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("fixed policy: exit %d %s %s", code, out, errOut)
	}
}

func TestPolicyCheck_onlineWrongKey(t *testing.T) {
	env, _ := onlineEnv(t)
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte(onlinePolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "JITBOT_ATLASSIAN_API_KEY=wrong-key")
	code, _, errOut := runMain([]string{"policy", "check", "--online", file}, env...)
	if code != 1 || !strings.Contains(errOut, "JITBOT_ATLASSIAN_API_KEY") || strings.Contains(errOut, "wrong-key") {
		t.Fatalf("wrong key: exit %d %s", code, errOut)
	}
	if code, _, errOut := runMain([]string{"policy", "check", "--online", file}); code != 1 || !strings.Contains(errOut, "JITBOT_ATLASSIAN_ORG_ID") {
		t.Fatalf("no environment: exit %d %s", code, errOut)
	}
}

func TestPolicyCheck_example(t *testing.T) {
	code, out, errOut := runMain([]string{"policy", "check", "../../policies/example.yaml"})
	if code != 0 || !strings.Contains(out, "ok") || errOut != "" {
		t.Fatalf("policy check example.yaml: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestPolicyCheck_warningsAndRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	trusting := write("trusting.yaml", `version: 1
roles:
  - name: jira
    grants: [{group: jira-users}]
    max_duration: 4h
    approvers: [U0LEAD]
    auto_approve: 'request.reason.contains("urgent")'
`)
	code, _, errOut := runMain([]string{"policy", "check", trusting})
	if code != 0 || !strings.Contains(errOut, trusting+":7: roles[0].auto_approve: warning: reads request.reason") {
		t.Errorf("trusting auto_approve: exit %d, stderr %q; want 0 and a warning naming the line", code, errOut)
	}
	open := write("open.yaml", `version: 1
roles:
  - name: emergency
    grants: [{group: site-admins}]
    max_duration: 30m
    break_glass: true
`)
	code, _, errOut = runMain([]string{"policy", "check", open})
	if code != 1 || !strings.Contains(errOut, open+":6: roles[0].requesters: is required for a break_glass role") {
		t.Errorf("break_glass without requesters: exit %d, stderr %q; want 1 naming the line", code, errOut)
	}
}
