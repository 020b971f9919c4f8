package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestDemo runs `jitbot demo`: the real wiring of `jitbot run` (store, policy, Atlassian
// client, Slack bot, sweeper) against the fake Slack and the fake Atlassian org, playing
// request → approver DM → self-approval refused → Approve → membership added → expiry warning →
// expiry → membership removed, then a sync rule, an external-user sweep after grace and the
// digest. The story checks each step against Slack and Atlassian and fails the exit code when
// one did not happen.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"demo"}, nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{
		"You cannot approve your own request",
		"[Atlassian] added alice@example.com to group jira-software-users-example",
		"[Atlassian] removed alice@example.com from group jira-software-users-example",
		"[Atlassian] added bob@example.com to group jira-software-users-example",
		"[Atlassian] suspended eve@contractor.example",
		"The story ran as expected.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q\n%s", want, out.String())
		}
	}
	// Each step shows what it caused, once.
	story := out.String()
	section := func(title string) string {
		_, rest, ok := strings.Cut(story, "== "+title)
		if !ok {
			t.Fatalf("demo has no step %q\n%s", title, story)
		}
		body, _, _ := strings.Cut(rest, "\n== ")
		return body
	}
	if s := section("alice tries to approve her own request"); !strings.Contains(s, "You cannot approve your own request") || strings.Contains(s, "was sent to") {
		t.Errorf("the self-approval step shows:\n%s", s)
	}
	if n := strings.Count(story, "Access ended"); n != 1 {
		t.Errorf("\"Access ended\" shown %d times, want once", n)
	}
	if n := strings.Count(story, "Sync rule engineering-jira:"); n != 1 {
		t.Errorf("the sync run is posted to the audit channel %d times, want once", n)
	}
	if s := section("the end of the day: the daily digest"); !strings.Contains(s, "1 submitted, 1 approved") || !strings.Contains(s, "Grants: 1 given, 1 revoked") {
		t.Errorf("the digest step shows:\n%s", s)
	}
	if strings.Contains(out.String()+errOut.String(), "xoxb-") {
		t.Error("demo output shows a token")
	}
}

func TestMain_usage(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"version"}, 0},
		{[]string{"frobnicate"}, 2},
		{[]string{"policy"}, 2},
		{[]string{"policy", "check", "../../policies/example.yaml"}, 0},
		{[]string{"policy", "check", "../../policies/testdata/bad_duration.yaml"}, 1},
		{[]string{"run"}, 1}, // no configuration
		{[]string{"audit", "frob"}, 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Main(context.Background(), tt.args, nil, &out, &errOut); code != tt.code {
				t.Fatalf("exit %d want %d\n%s%s", code, tt.code, out.String(), errOut.String())
			}
		})
	}
}
