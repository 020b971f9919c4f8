package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/policies"
)

// TestPlan prints what the example policy would change in a fake org, and changes nothing.
func TestPlan(t *testing.T) {
	org := atlassiantest.NewServer(t)
	for _, g := range []string{"jira-software-users-example", "confluence-users-example", "jira-admins-example", "confluence-admins-example", "scim-engineering", "scim-staff", "contractors"} {
		org.AddGroup(atlassiantest.Group{Name: g})
	}
	bob := org.AddUser(atlassiantest.User{Email: "bob@example.com"})
	org.AddMember("scim-engineering", bob)
	org.AddUser(atlassiantest.User{Email: "eve@contractor.example"})
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, policies.Example, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"JITBOT_ATLASSIAN_API_URL=" + org.URL(), "JITBOT_ATLASSIAN_ORG_ID=" + org.OrgID(), "JITBOT_ATLASSIAN_API_KEY=" + org.APIKey(),
		"JITBOT_POLICY_FILE=" + policy, "JITBOT_DB_PATH=" + filepath.Join(dir, "jitbot.db"),
	}
	code, out, errOut := runMain([]string{"plan"}, env...)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{"sync engineering-jira", "add", "bob@example.com to jira-software-users-example", "sweep external-users", "1 more matched, within the sweep's grace (the first is acted on from ", "protected-group guard"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	for _, r := range org.Requests() {
		if r.Method != http.MethodGet && !strings.HasSuffix(r.Path, "/search") && !strings.HasSuffix(r.Path, "/workspaces") {
			t.Errorf("plan wrote to Atlassian: %s %s", r.Method, r.Path)
		}
	}
	code, out, _ = runMain([]string{"plan", "--rule", "engineering-jira"}, env...)
	if code != 0 || strings.Contains(out, "sweep external-users") || !strings.Contains(out, "engineering-jira") {
		t.Fatalf("--rule: exit %d\n%s", code, out)
	}
	if code, _, errOut := runMain([]string{"plan", "--rule", "nope"}, env...); code != 1 || !strings.Contains(errOut, `"nope"`) {
		t.Fatalf("unknown rule: exit %d %s", code, errOut)
	}
}
