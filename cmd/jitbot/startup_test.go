package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/bot/bottest"
)

const startupPolicy = `version: 1
channels:
  audit: C0AUDIT
  alerts: C0ALERTS
roles:
  - name: site-admin
    grants:
      - role: site-admin
        resource: example.atlassian.net
    max_duration: 1h
    approvers: [U0SEC1]
  - name: jira
    grants:
      - group: jira-users
    max_duration: 1h
    approvers: [U0SEC1]
`

// startupWorld is a fake org and Slack workspace and the environment pointing jitbot at them.
type startupWorld struct {
	org   *atlassiantest.Server
	slack *bottest.Server
	dir   string
	env   []string
}

func newStartupWorld(t *testing.T, policy string) *startupWorld {
	t.Helper()
	w := &startupWorld{org: atlassiantest.NewServer(t, atlassiantest.WithSpecValidation(t)), slack: bottest.NewServer(t), dir: t.TempDir()}
	w.org.AddGroup(atlassiantest.Group{Name: "jira-users"})
	w.slack.AddUser("U0SEC1", "sam", "sam@example.com")
	w.slack.AddChannel("C0AUDIT")
	w.slack.AddChannel("C0ALERTS")
	file := filepath.Join(w.dir, "policy.yaml")
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = []string{
		"JITBOT_SLACK_BOT_TOKEN=" + w.slack.BotToken(), "JITBOT_SLACK_APP_TOKEN=" + w.slack.AppToken(),
		"JITBOT_SLACK_API_URL=" + w.slack.APIURL(), "JITBOT_ATLASSIAN_API_URL=" + w.org.URL(),
		"JITBOT_ATLASSIAN_ORG_ID=" + w.org.OrgID(), "JITBOT_ATLASSIAN_API_KEY=" + w.org.APIKey(),
		"JITBOT_POLICY_FILE=" + file, "JITBOT_DB_PATH=" + filepath.Join(w.dir, "jitbot.db"),
		"JITBOT_HTTP_ADDR=", "JITBOT_LOG_LEVEL=error",
	}
	return w
}

// start runs jitbot in the background; stop ends it and returns Run's error.
func (w *startupWorld) start(t *testing.T) (app *App, stop func() error) {
	t.Helper()
	cfg, err := LoadConfig(w.env)
	if err != nil {
		t.Fatal(err)
	}
	app, err = NewApp(context.Background(), cfg, zerolog.New(io.Discard), appOptions{NoSchedule: true, VerifyBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		err := <-done
		app.Close()
		return err
	}
	t.Cleanup(func() { stop() })
	return app, stop
}

// waitReady polls until cond holds on Ready's answer, or fails after 10 s.
func waitReady(t *testing.T, app *App, what string, cond func(error) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(app.Ready()) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: Ready() = %v", what, app.Ready())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRun_wrongAtlassianSettingsStopStartup(t *testing.T) {
	tests := []struct {
		name, set, want string
	}{
		{"api_key", "JITBOT_ATLASSIAN_API_KEY=wrong-secret-key", "JITBOT_ATLASSIAN_API_KEY"},
		{"org_id", "JITBOT_ATLASSIAN_ORG_ID=00000000-no-such-org", "JITBOT_ATLASSIAN_ORG_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newStartupWorld(t, startupPolicy)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out, errOut bytes.Buffer
			code := Main(ctx, []string{"run"}, append(w.env, tt.set), &out, &errOut)
			if ctx.Err() != nil {
				t.Fatal("jitbot run kept running with refused Atlassian settings")
			}
			if code != 1 || !strings.Contains(errOut.String(), tt.want) || strings.Contains(errOut.String(), "wrong-secret-key") {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			for _, r := range w.org.Requests() {
				if r.Route != atlassiantest.RouteWorkspaces {
					t.Errorf("called %s before the key was verified", r.Route)
				}
			}
		})
	}
}

func TestRun_atlassianOutageAtStartup(t *testing.T) {
	w := newStartupWorld(t, startupPolicy)
	w.org.SetOutage(true) // 500, the one 5xx the spec documents for this endpoint
	app, stop := w.start(t)
	waitReady(t, app, "not ready during the outage", func(err error) bool {
		return err != nil && strings.Contains(err.Error(), "Atlassian key not verified yet (") && strings.Contains(err.Error(), "HTTP 500")
	})
	w.org.SetOutage(false)
	waitReady(t, app, "ready once Atlassian answers", func(err error) bool { return err == nil })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestRun_vanishedTargetsAreAlerts(t *testing.T) {
	w := newStartupWorld(t, strings.Replace(startupPolicy, "group: jira-users", "group: gone-group", 1))
	app, _ := w.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := w.slack.NextMessage(ctx, bottest.And(w.slack.InChannel("C0ALERTS"), bottest.Containing("gone-group")))
	if err != nil {
		t.Fatalf("no alert for a group that does not exist: %v", err)
	}
	if !strings.Contains(m.PlainText(), "policy.yaml:14: roles[1].grants[0].group") || !strings.Contains(m.PlainText(), "at start-up") {
		t.Errorf("alert does not say where: %s", m.PlainText())
	}
	waitReady(t, app, "ready despite the alert", func(err error) bool { return err == nil })

	// On SIGHUP a policy naming a host the org does not have is taken, with an alert.
	file := filepath.Join(w.dir, "policy.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(startupPolicy, "resource: example.atlassian.net", "resource: gone.atlassian.net", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := app.reload(ctx); err != nil {
		t.Fatalf("reload refused: %v", err)
	}
	m, err = w.slack.NextMessage(ctx, bottest.And(w.slack.InChannel("C0ALERTS"), bottest.Containing("gone.atlassian.net")))
	if err != nil {
		t.Fatalf("no alert after reload: %v", err)
	}
	if !strings.Contains(m.PlainText(), "https://example.atlassian.net") || !strings.Contains(m.PlainText(), "after the policy reload") {
		t.Errorf("alert does not list the candidates: %s", m.PlainText())
	}
	if app.Ready() != nil {
		t.Errorf("not ready after reload: %v", app.Ready())
	}
}
