package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
