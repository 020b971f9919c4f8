package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/bot/bottest"
	"github.com/jitbot/jitbot/policies"
)

func newTestSandbox(t *testing.T) *sandbox {
	t.Helper()
	s, err := newSandbox(context.Background(), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	return s
}

func TestApp_httpEndpoints(t *testing.T) {
	s := newTestSandbox(t)
	base := "http://" + s.app.httpLn.Addr().String()
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
		"/metrics": "jitbot_active_grants",
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, body)
		}
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "\njitbot_ready 1\n") {
		t.Errorf("/metrics of a ready bot lacks jitbot_ready 1")
	}
	for _, m := range []string{"jitbot_pending_requests", "jitbot_overdue_revocations", "jitbot_revocation_lag_seconds", "jitbot_slack_ack_latency_seconds",
		"jitbot_slack_notifications_waiting", "jitbot_slack_notifications_oldest_waiting_seconds"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

func TestApp_reloadRefusesInvalidPolicy(t *testing.T) {
	s := newTestSandbox(t)
	ctx := context.Background()
	before := s.app.policy.Load()
	if err := os.WriteFile(s.app.cfg.PolicyFile, []byte("version: 1\nroles:\n  - name: x\n    max_duration: forever\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.app.reload(ctx); err == nil {
		t.Fatal("invalid policy accepted")
	}
	if s.app.policy.Load() != before {
		t.Fatal("the old policy was replaced by an invalid one")
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := s.slack.NextMessage(wctx, bottest.And(s.slack.InChannel("C0ALERTS"), bottest.Containing("refused")))
	if err != nil {
		t.Fatalf("no alert: %v", err)
	}
	if !strings.Contains(m.PlainText(), "max_duration") {
		t.Errorf("alert does not say why: %s", m.PlainText())
	}
	// A valid file is taken.
	if err := os.WriteFile(s.app.cfg.PolicyFile, policies.Example, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.app.reload(ctx); err != nil || s.app.policy.Load() == before {
		t.Fatalf("valid reload: %v", err)
	}
}

func TestScheduler_jobsFromPolicy(t *testing.T) {
	s := newTestSandbox(t)
	sch := newScheduler(s.app)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sch.run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sch.mu.Lock()
		c := sch.cron
		sch.mu.Unlock()
		if c != nil {
			p := s.app.policy.Load()
			// every sync rule, sweep and review, the guard, the digest, run and history pruning,
			// and sending open review items to reviewers who joined a user group
			want := len(p.Sync) + len(p.Sweeps) + len(p.Reviews) + 1 + 1 + 1 + 1 + 1
			if got := len(c.Entries()); got != want {
				t.Errorf("%d cron entries, want %d", got, want)
			}
			if c.Location().String() != "Europe/London" {
				t.Errorf("cron runs in %s, want the policy's time zone", c.Location())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("scheduler did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestRun_badStartup(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, policies.Example, 0o600); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(corrupt, bytes.Repeat([]byte{0xde, 0xad}, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	badPolicy := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badPolicy, []byte("version: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(goodEnv(), "JITBOT_HTTP_ADDR=")
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"corrupt_db", slices.Concat(env, []string{"JITBOT_POLICY_FILE=" + policy, "JITBOT_DB_PATH=" + corrupt}), "JITBOT_DB_PATH"},
		{"invalid_policy", slices.Concat(env, []string{"JITBOT_POLICY_FILE=" + badPolicy, "JITBOT_DB_PATH=" + filepath.Join(dir, "x.db")}), "bad.yaml:1"},
		{"missing_config", nil, "JITBOT_SLACK_BOT_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runMain([]string{"run"}, tt.env...)
			if code != 1 || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "panic") {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if strings.Contains(errOut, "secret") {
				t.Fatalf("a secret leaked: %s", errOut)
			}
		})
	}
}

// TestRun_fatalSlackAuth: a bot token Slack refuses stops `jitbot run` with exit 1 and a
// message naming the setting, never the token.
func TestRun_fatalSlackAuth(t *testing.T) {
	fake := bottest.NewServer(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, policies.Example, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"JITBOT_SLACK_BOT_TOKEN=xoxb-revoked-secret", "JITBOT_SLACK_APP_TOKEN=" + fake.AppToken(),
		"JITBOT_SLACK_API_URL=" + fake.APIURL(), "JITBOT_ATLASSIAN_ORG_ID=org", "JITBOT_ATLASSIAN_API_KEY=k",
		"JITBOT_ATLASSIAN_API_URL=http://127.0.0.1:1", "JITBOT_POLICY_FILE=" + policy,
		"JITBOT_DB_PATH=" + filepath.Join(dir, "jitbot.db"), "JITBOT_HTTP_ADDR=",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := Main(ctx, []string{"run"}, env, &out, &errOut)
	if ctx.Err() != nil {
		t.Fatal("jitbot run kept running with a refused token")
	}
	if code != 1 || !strings.Contains(errOut.String(), "JITBOT_SLACK_BOT_TOKEN") || strings.Contains(errOut.String(), "revoked-secret") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

// TestScheduler_reschedule: a reload while the scheduler runs replaces its jobs with the new
// policy's, and a reload while it does not run starts nothing.
func TestScheduler_reschedule(t *testing.T) {
	s := newTestSandbox(t)
	sch := newScheduler(s.app)
	entries := func() int {
		sch.mu.Lock()
		defer sch.mu.Unlock()
		if sch.cron == nil {
			return -1
		}
		return len(sch.cron.Entries())
	}
	sch.reschedule()
	if n := entries(); n != -1 {
		t.Fatalf("a reschedule before run started %d jobs", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sch.run(ctx) }()
	waitFor := func(what string, ok func(n int) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok(entries()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d cron entries", what, entries())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	first := 0
	waitFor("start", func(n int) bool { first = n; return n > 0 })
	p := *s.app.policy.Load()
	if len(p.Sync) == 0 {
		t.Fatal("the sandbox policy has no sync rule to drop")
	}
	dropped := len(p.Sync)
	p.Sync = nil
	s.app.policy.Store(&p)
	sch.reschedule()
	waitFor("reschedule", func(n int) bool { return n == first-dropped })
	cancel()
	<-done
	if n := entries(); n != -1 {
		t.Fatalf("%d jobs left after run returned", n)
	}
}
