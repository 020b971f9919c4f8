package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/bot/bottest"
	"github.com/jitbot/jitbot/policies"
)

// TestMain lets a test run this test binary as the jitbot process (JITBOT_TEST_CHILD=1), so
// that it can be killed with SIGKILL; with JITBOT_TEST_CLOCK that jitbot runs on an
// accelerated clock (testclock_test.go).
func TestMain(m *testing.M) {
	if os.Getenv("JITBOT_TEST_CHILD") == "1" {
		if spec := os.Getenv(testClockEnv); spec != "" {
			os.Exit(runChildOnClock(spec))
		}
		main()
		return
	}
	os.Exit(m.Run())
}

// proc is `jitbot run` in a child process.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startProc(t *testing.T, fake *bottest.Server, env []string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fake.WaitDisconnected(ctx); err != nil {
		t.Fatalf("the previous jitbot's link is still open: %v", err)
	}
	cmd := exec.Command(os.Args[0], "run")
	cmd.Env = append(append(os.Environ(), "JITBOT_TEST_CHILD=1"), env...)
	p := &proc{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	if err := fake.WaitConnected(ctx); err != nil {
		t.Fatalf("jitbot never connected: %v\n%s", err, p.out)
	}
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// A kill 1 ms after the ack of a slash command, an approval and a Revoke now loses none of
// them, and a kill while a message is being delivered loses no message: each is done once
// jitbot is started again.
func TestRun_killedAfterAck(t *testing.T) {
	if testing.Short() {
		t.Skip("starts jitbot processes")
	}
	fake := bottest.NewServer(t)
	org := atlassiantest.NewServer(t)
	people := map[string]string{"U0ALICE": "alice", "U0LEAD": "lee", "U0SEC1": "sam", "U0SEC2": "sasha", "U0IT1": "ivan"}
	accounts := map[string]string{}
	for id, name := range people {
		fake.AddUser(id, name, name+"@example.com")
		accounts[name] = org.AddUser(atlassiantest.User{Email: name + "@example.com", Name: name})
	}
	for _, ch := range []string{"C0AUDIT", "C0ALERTS", "C0SECREQ"} {
		fake.AddChannel(ch)
	}
	for _, g := range []string{"jira-software-users-example", "confluence-users-example", "jira-admins-example", "confluence-admins-example", "scim-engineering", "scim-staff", "contractors", "oncall"} {
		org.AddGroup(atlassiantest.Group{Name: g, ExternalSynced: strings.HasPrefix(g, "scim-")})
	}
	org.AddMember("scim-staff", accounts["alice"])
	org.SetLatency(20 * time.Millisecond) // the work after an ack takes longer than 1 ms
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, policies.Example, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"JITBOT_SLACK_BOT_TOKEN=" + fake.BotToken(), "JITBOT_SLACK_APP_TOKEN=" + fake.AppToken(),
		"JITBOT_SLACK_API_URL=" + fake.APIURL(), "JITBOT_ATLASSIAN_API_URL=" + org.URL(),
		"JITBOT_ATLASSIAN_ORG_ID=" + org.OrgID(), "JITBOT_ATLASSIAN_API_KEY=" + org.APIKey(),
		"JITBOT_POLICY_FILE=" + policyFile, "JITBOT_DB_PATH=" + filepath.Join(dir, "jitbot.db"),
		"JITBOT_HTTP_ADDR=", "JITBOT_SWEEP_INTERVAL=1s", "JITBOT_LOG_LEVEL=warn",
	}
	member := func() bool {
		for _, id := range org.Members("jira-software-users-example") {
			if id == accounts["alice"] {
				return true
			}
		}
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	killAfterAck := func(p *proc, push func() error) {
		t.Helper()
		if err := push(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
		p.kill()
	}

	// 1. The slash command.
	p := startProc(t, fake, env)
	fake.Delay("users.info", 1, 200*time.Millisecond)
	killAfterAck(p, func() error {
		_, err := fake.SlashCommand(ctx, "U0ALICE", "/access", "request jira-software 2h killed after the ack")
		return err
	})
	// 2. Started again, it files the request; killed again while the approval DM is being
	// posted, it still delivers it.
	fake.Delay("chat.postMessage", 1, 2*time.Second)
	calls := fake.Calls("chat.postMessage")
	p = startProc(t, fake, env)
	if err := fake.WaitCalls(ctx, "chat.postMessage", calls+1); err != nil {
		t.Fatal(err)
	}
	p.kill()
	p = startProc(t, fake, env)
	approval, err := fake.NextMessage(ctx, bottest.And(fake.InChannel("U0LEAD"), bottest.WithButton("approve_request"), bottest.Containing("killed after the ack")))
	if err != nil {
		t.Fatalf("lee never got the approval DM: %v\n%s", err, p.out)
	}

	// 3. The approval.
	killAfterAck(p, func() error { _, err := fake.ClickButton(ctx, "U0LEAD", approval, "approve_request"); return err })
	p = startProc(t, fake, env)
	granted, err := fake.NextMessage(ctx, bottest.And(fake.InChannel("U0ALICE"), bottest.WithButton("revoke_grant")))
	if err != nil {
		t.Fatalf("alice never got the grant DM: %v\n%s", err, p.out)
	}
	if !member() {
		t.Fatal("alice is not in jira-software-users-example after the approval")
	}

	// 4. Revoke now.
	killAfterAck(p, func() error { _, err := fake.ClickButton(ctx, "U0ALICE", granted, "revoke_grant"); return err })
	p = startProc(t, fake, env)
	if _, err := fake.NextMessage(ctx, bottest.And(fake.InChannel("U0ALICE"), bottest.Containing("Access ended"))); err != nil {
		t.Fatalf("alice never told the grant ended: %v\n%s", err, p.out)
	}
	if member() {
		t.Error("alice is still in jira-software-users-example after Revoke now")
	}

	// Each was done once: one request (a kill during delivery may post its approval message
	// again: at least once).
	ids := map[string]bool{}
	for _, m := range fake.MessagesTo("U0LEAD") {
		if b, ok := m.Button("approve_request"); ok && strings.Contains(m.PlainText(), "killed after the ack") {
			ids[b.Value] = true
		}
		if i := strings.Index(m.PlainText(), "Access request `"); i >= 0 && strings.Contains(m.PlainText(), "killed after the ack") {
			ids[strings.SplitN(m.PlainText()[i+len("Access request `"):], "`", 2)[0]] = true
		}
	}
	if len(ids) != 1 {
		t.Errorf("lee was sent requests %v; want one request", ids)
	}
}
