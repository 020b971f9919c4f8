package policies_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/policies"
)

func TestParseRefs(t *testing.T) {
	src := `version: 1
teams:
  sec: [U0SEC1, sec@example.com]
permissions:
  auditors: [sec, S0AUDIT]
roles:
  - name: admin
    grants:
      - role: site-admin
        resource: example.atlassian.net
      - group: jira-admins
    max_duration: 1h
    approvers: [sec]
sync:
  - name: s
    schedule: "@every 1h"
    match: 'true'
    add_to: [jira-users]
reviews:
  - name: r
    schedule: "@daily"
    groups: [site-admins]
    reviewers: [U0REV]
guard:
  protected_groups: [site-admins, org-admins]
  standing_members:
    site-admins: [breakglass@example.com]
    role:site-admin: [breakglass@example.com]
  min_members: {site-admins: 1}
`
	_, refs, _, err := policies.ParseRefs("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs {
		got = append(got, fmt.Sprintf("%s:%d %s %s %s role=%s writes=%v", r.File, r.Line, r.Field, r.Kind, r.Value, r.Role, r.Writes))
	}
	want := []string{
		"p.yaml:3 teams.sec[0] principal U0SEC1 role= writes=false",
		"p.yaml:3 teams.sec[1] principal sec@example.com role= writes=false",
		"p.yaml:5 permissions.auditors[1] principal S0AUDIT role= writes=false",
		"p.yaml:10 roles[0].grants[0].resource resource example.atlassian.net role=site-admin writes=false",
		"p.yaml:11 roles[0].grants[1].group group jira-admins role= writes=true",
		"p.yaml:18 sync[0].add_to[0] group jira-users role= writes=true",
		"p.yaml:22 reviews[0].groups[0] group site-admins role= writes=true",
		"p.yaml:23 reviews[0].reviewers[0] principal U0REV role= writes=false",
		"p.yaml:25 guard.protected_groups[0] group site-admins role= writes=false",
		"p.yaml:25 guard.protected_groups[1] group org-admins role= writes=false",
		"p.yaml:27 guard.standing_members.site-admins group site-admins role= writes=false",
		"p.yaml:29 guard.min_members.site-admins group site-admins role= writes=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("refs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseRefs_invalidFileHasNoRefs(t *testing.T) {
	_, refs, _, err := policies.ParseRefs("p.yaml", []byte("version: 2\n"))
	if err == nil || refs != nil {
		t.Fatalf("refs = %v, err = %v", refs, err)
	}
}

func TestParse_guardRoleKeys(t *testing.T) {
	src := "version: 1\nguard:\n  standing_members:\n    role:site-admin: [a@example.com]\n    role:org-admin: [b@example.com]\n    role:jira-admin: [c@example.com]\n"
	_, err := policies.Parse("p.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), `p.yaml:6: guard.standing_members.role:jira-admin: "role:jira-admin" is not a watched platform role`) {
		t.Fatalf("err = %v", err)
	}
	p, err := policies.Parse("p.yaml", []byte(strings.Replace(src, "    role:jira-admin: [c@example.com]\n", "", 1)))
	if err != nil || len(p.Guard.StandingMembers["role:site-admin"]) != 1 {
		t.Fatalf("valid role keys: %v", err)
	}
}
