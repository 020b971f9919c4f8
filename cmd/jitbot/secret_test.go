package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/bot/bottest"
	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

// Distinctive secret values: any trace of one in what jitbot writes or serves is a leak.
const (
	leakBotToken = "xoxb-leak-bot-4f1e9c7a"
	leakAppToken = "xapp-leak-app-8b2d71e0"
	leakAPIKey   = "leak-atlassian-key-5c0a3e91"
	leakAuditKey = "leak-audit-key-9d4b27c3"
	leakEtcdPass = "leak-etcd-password-1e8f60d4"
)

var leakSecrets = []string{leakBotToken, leakAppToken, leakAPIKey, leakAuditKey, leakEtcdPass}

// echoGateway stands for a gateway in front of Atlassian that answers every call with status
// and an error body echoing the request's Authorization header.
func echoGateway(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"message": "refused " + auth, "errors": []map[string]string{{"code": auth, "detail": "bad credentials: " + auth}}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// enableEtcdAuth turns on authentication in the etcd cluster at endpoints, with a root user
// and a user jitbot whose password is not leakEtcdPass.
func enableEtcdAuth(t *testing.T, endpoints []string) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := t.Context()
	for _, step := range []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", "root-password"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.UserAdd(ctx, "jitbot", "the-right-password"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("enable etcd auth: %v", err)
		}
	}
}

// TestSecrets_neverInOutput runs jitbot with distinctive secrets, every one of them set, down
// paths that fail or report (a refused or echoed API key, an Atlassian outage while /readyz and
// /metrics are read, refused Slack tokens, etcd refusing the login, policy check --online,
// audit verify under another key, a policy alert posted to Slack), at trace level, and checks
// that no secret appears in stdout, stderr, an HTTP body or a Slack message.
func TestSecrets_neverInOutput(t *testing.T) {
	type world struct {
		slack *bottest.Server
		dir   string
		env   []string
	}
	newWorld := func(t *testing.T, atlURL string, slackOpts ...bottest.Option) *world {
		t.Helper()
		w := &world{slack: bottest.NewServer(t, append([]bottest.Option{bottest.WithBotToken(leakBotToken), bottest.WithAppToken(leakAppToken)}, slackOpts...)...), dir: t.TempDir()}
		w.slack.AddUser("U0SEC1", "sam", "sam@example.com")
		w.slack.AddChannel("C0AUDIT")
		w.slack.AddChannel("C0ALERTS")
		policy := filepath.Join(w.dir, "policy.yaml")
		if err := os.WriteFile(policy, []byte(strings.Replace(startupPolicy, "group: jira-users", "group: gone-group", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		keyFile := filepath.Join(w.dir, "audit.key")
		if err := os.WriteFile(keyFile, []byte(leakAuditKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		w.env = []string{
			"JITBOT_SLACK_BOT_TOKEN=" + leakBotToken, "JITBOT_SLACK_APP_TOKEN=" + leakAppToken,
			"JITBOT_SLACK_API_URL=" + w.slack.APIURL(), "JITBOT_ATLASSIAN_API_URL=" + atlURL,
			"JITBOT_ATLASSIAN_ORG_ID=" + atlassiantest.DefaultOrgID, "JITBOT_ATLASSIAN_API_KEY=" + leakAPIKey,
			"JITBOT_AUDIT_KEY_FILE=" + keyFile, "JITBOT_POLICY_FILE=" + policy,
			"JITBOT_DB_PATH=" + filepath.Join(w.dir, "jitbot.db"), "JITBOT_HTTP_ADDR=",
			"JITBOT_LOG_LEVEL=trace",
		}
		return w
	}
	// run runs jitbot until it exits or, when serve is set, calls serve while it runs and
	// stops it after; it returns the exit code and everything jitbot wrote or served.
	run := func(t *testing.T, w *world, args []string, serve func(ctx context.Context, addr string) []string) (int, []string) {
		t.Helper()
		env := w.env
		addr := ""
		if serve != nil {
			addr = freeAddr(t)
			env = append(env, "JITBOT_HTTP_ADDR="+addr)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		runCtx, stop := context.WithCancel(ctx)
		var out, errOut syncBuffer
		done := make(chan int, 1)
		go func() { done <- Main(runCtx, args, env, &out, &errOut) }()
		var served []string
		if serve != nil {
			served = serve(ctx, addr)
			stop()
		}
		var code int
		select {
		case code = <-done:
		case <-ctx.Done():
			stop()
			t.Fatalf("jitbot %v did not end: %s", args, errOut.String())
		}
		stop()
		seen := append([]string{out.String(), errOut.String()}, served...)
		for _, m := range w.slack.Messages() {
			seen = append(seen, m.Text, string(m.Blocks))
		}
		return code, seen
	}
	get := func(ctx context.Context, url string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// readyzSays polls /readyz until its body contains want; it returns every body it read
	// and those of /metrics and /healthz.
	readyzSays := func(t *testing.T, want string) func(ctx context.Context, addr string) []string {
		return func(ctx context.Context, addr string) []string {
			var bodies []string
			for {
				_, body := get(ctx, "http://"+addr+"/readyz")
				bodies = append(bodies, body)
				if strings.Contains(body, want) {
					break
				}
				if ctx.Err() != nil {
					t.Errorf("/readyz never said %q: %q", want, bodies[len(bodies)-1])
					return bodies
				}
				time.Sleep(20 * time.Millisecond)
			}
			for _, p := range []string{"/metrics", "/healthz", "/backup"} {
				_, body := get(ctx, "http://"+addr+p)
				if p == "/backup" {
					body = fmt.Sprint(len(body)) // a copy of the store holds no secret: checked below
				}
				bodies = append(bodies, body)
			}
			return bodies
		}
	}

	tests := []struct {
		name     string
		world    func(t *testing.T) *world
		args     []string
		serve    func(t *testing.T, w *world) func(ctx context.Context, addr string) []string
		wantCode int
	}{
		{name: "run_ready_with_policy_alert", world: func(t *testing.T) *world {
			org := atlassiantest.NewServer(t, atlassiantest.WithAPIKey(leakAPIKey))
			org.AddGroup(atlassiantest.Group{Name: "jira-users"})
			return newWorld(t, org.URL())
		}, args: []string{"run"}, serve: func(t *testing.T, w *world) func(ctx context.Context, addr string) []string {
			return func(ctx context.Context, addr string) []string {
				bodies := readyzSays(t, "ready\n")(ctx, addr)
				if _, err := w.slack.NextMessage(ctx, bottest.And(w.slack.InChannel("C0ALERTS"), bottest.Containing("gone-group"))); err != nil {
					t.Errorf("no policy alert in Slack: %v", err)
				}
				return bodies
			}
		}},
		{name: "run_atlassian_outage_echoing_key", world: func(t *testing.T) *world {
			return newWorld(t, echoGateway(t, http.StatusServiceUnavailable))
		}, args: []string{"run"}, serve: func(t *testing.T, _ *world) func(ctx context.Context, addr string) []string {
			return readyzSays(t, "not verified yet (")
		}},
		{name: "run_atlassian_refuses_key_echoing_it", world: func(t *testing.T) *world {
			return newWorld(t, echoGateway(t, http.StatusUnauthorized))
		}, args: []string{"run"}, wantCode: 1},
		{name: "run_slack_refuses_app_token", world: func(t *testing.T) *world {
			return newWorld(t, "http://127.0.0.1:1", bottest.WithAppToken("xapp-another"))
		}, args: []string{"run"}, wantCode: 1},
		{name: "run_slack_refuses_bot_token", world: func(t *testing.T) *world {
			return newWorld(t, "http://127.0.0.1:1", bottest.WithBotToken("xoxb-another"))
		}, args: []string{"run"}, wantCode: 1},
		{name: "run_etcd_refuses_login", world: func(t *testing.T) *world {
			w := newWorld(t, "http://127.0.0.1:1")
			srv := etcdtest.Start(t)
			enableEtcdAuth(t, srv.Endpoints())
			w.env = append(w.env, "JITBOT_STORE=etcd", "JITBOT_ETCD_ENDPOINTS="+strings.Join(srv.Endpoints(), ","),
				"JITBOT_ETCD_USERNAME=jitbot", "JITBOT_ETCD_PASSWORD="+leakEtcdPass)
			return w
		}, args: []string{"run"}, wantCode: 1},
		{name: "policy_check_online_key_refused", world: func(t *testing.T) *world {
			return newWorld(t, echoGateway(t, http.StatusUnauthorized))
		}, args: []string{"policy", "check", "--online"}, wantCode: 1},
		{name: "audit_verify_under_another_key", world: func(t *testing.T) *world {
			w := newWorld(t, "http://127.0.0.1:1")
			path := writeAuditDB(t, "another-key")
			w.env = append(w.env, "JITBOT_DB_PATH="+path)
			return w
		}, args: []string{"audit", "verify"}, wantCode: 1},
		{name: "config_error_every_secret_set", world: func(t *testing.T) *world {
			w := newWorld(t, "http://127.0.0.1:1")
			w.env = append(w.env, "JITBOT_AUDIT_KEY="+leakAuditKey, "JITBOT_SWEEP_INTERVAL=soon", "JITBOT_STORE=etcd",
				"JITBOT_ETCD_ENDPOINTS=nowhere", "JITBOT_ETCD_PASSWORD="+leakEtcdPass)
			return w
		}, args: []string{"run"}, wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.world(t)
			args := tt.args
			if args[0] == "policy" {
				args = append(args, filepath.Join(w.dir, "policy.yaml"))
			}
			var serve func(ctx context.Context, addr string) []string
			if tt.serve != nil {
				serve = tt.serve(t, w)
			}
			code, seen := run(t, w, args, serve)
			if code != tt.wantCode {
				t.Errorf("jitbot %v exited %d, want %d:\n%s", args, code, tt.wantCode, strings.Join(seen, "\n"))
			}
			for _, s := range seen {
				for _, secret := range leakSecrets {
					if strings.Contains(s, secret) {
						t.Errorf("secret %s leaked:\n%s", secret, s)
					}
				}
			}
		})
	}
}
