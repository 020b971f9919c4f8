package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

const jiraGroup = "jira-software-users-example"

// cmdDemo plays the story of `jitbot demo` (README, "Try it"), or lets a person drive the sandbox.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	interactive := fs.Bool("interactive", false, "type slash commands as a chosen user and press buttons by number")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := newSandbox(ctx, stdout, stderr)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	defer s.close()
	if *interactive {
		return s.interact(ctx, os.Stdin)
	}
	if problems := s.story(ctx); len(problems) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("the demo story did not run as expected:\n  %s", strings.Join(problems, "\n  "))}
	}
	s.say("\nThe story ran as expected.")
	return nil
}

// story plays request, self-approval refused, approval, grant, expiry warning, expiry, sync,
// external sweep after grace and digest. It returns what did not happen as expected.
func (s *sandbox) story(ctx context.Context) []string {
	var problems []string
	expect := func(ok bool, what string) {
		if !ok {
			problems = append(problems, what)
			s.say("  !! expected: %s", what)
		}
	}
	alice := s.accountOf("alice@example.com")
	step := func(format string, args ...any) { s.say("\n== "+format, args...) }

	step("alice asks for Jira Software for two hours")
	s.say("alice types: /access request jira-software 2h working on PROJ-123")
	_, err := s.slack.SlashCommand(ctx, "U0ALICE", "/access", "request jira-software 2h working on PROJ-123")
	expect(err == nil, "the slash command is acknowledged")
	approval, err := s.next(ctx, bottest.And(s.slack.InChannel("U0LEAD"), bottest.WithButton("approve_request")))
	expect(err == nil, "lee, the approver, gets a DM with Approve and Deny")
	s.settle(ctx)

	step("alice tries to approve her own request")
	s.say("alice presses [Approve] on the approval message")
	_, err = s.slack.ClickButton(ctx, "U0ALICE", approval, "approve_request")
	expect(err == nil, "the click is acknowledged")
	_, err = s.next(ctx, bottest.EphemeralTo("U0ALICE"))
	expect(err == nil, "alice is told she cannot approve her own request")
	expect(!s.member(jiraGroup, alice), "nothing changes in Atlassian after a self-approval")
	s.settle(ctx)

	step("lee approves")
	s.say("lee presses [Approve]")
	_, err = s.slack.ClickButton(ctx, "U0LEAD", approval, "approve_request")
	expect(err == nil, "lee's click is acknowledged")
	_, err = s.next(ctx, bottest.And(s.slack.InChannel("U0ALICE"), bottest.WithButton("revoke_grant")))
	expect(err == nil, "alice is told the access is granted, with Revoke now and Extend")
	expect(s.member(jiraGroup, alice), "alice is in "+jiraGroup)
	s.settle(ctx)

	step("1 hour 50 minutes later")
	s.waitQuiet(ctx)
	s.settle(ctx)
	s.clock.Advance(110 * time.Minute)
	s.sweep(ctx)
	_, err = s.next(ctx, bottest.And(s.slack.InChannel("U0ALICE"), bottest.WithButton("extend_grant")))
	expect(err == nil, "alice is warned that the grant ends soon")
	s.settle(ctx)

	step("2 hours after the grant: it expires")
	s.waitQuiet(ctx)
	s.clock.Advance(10 * time.Minute)
	s.sweep(ctx)
	expect(!s.member(jiraGroup, alice), "alice is no longer in "+jiraGroup)
	s.waitQuiet(ctx)
	s.settle(ctx)

	step("ivan (IT operator) runs the engineering-jira sync rule now")
	s.say("ivan types: /access sync engineering-jira")
	_, err = s.slack.SlashCommand(ctx, "U0IT1", "/access", "sync engineering-jira")
	expect(err == nil, "the sync command is acknowledged")
	bob := s.accountOf("bob@example.com")
	expect(s.waitFor(ctx, func() bool { return s.member(jiraGroup, bob) }), "the sync rule adds engineers (scim-engineering) to "+jiraGroup)
	expect(!s.member(jiraGroup, alice), "the sync rule leaves out alice, who is not an engineer")
	s.waitQuiet(ctx)
	s.settle(ctx)

	step("the external-users sweep finds eve, a contractor with an unverified domain")
	eve := s.accountOf("eve@contractor.example")
	s.say("ivan types: /access sweep external-users")
	_, err = s.slack.SlashCommand(ctx, "U0IT1", "/access", "sweep external-users")
	expect(err == nil, "the sweep command is acknowledged")
	s.waitQuiet(ctx)
	u, _ := s.org.User(eve)
	expect(!u.Suspended, "eve is not suspended before the 72h grace")
	s.say("eve matches, but the sweep's 72h grace holds it back: nothing changes yet.")
	s.settle(ctx)

	step("the end of the day: the daily digest")
	_, err = s.app.svc.Digest(ctx)
	expect(err == nil, "the digest is posted")
	s.settle(ctx)

	step("three days later the sweep runs again")
	s.waitQuiet(ctx)
	s.clock.Advance(73 * time.Hour)
	_, err = s.slack.SlashCommand(ctx, "U0IT1", "/access", "sweep external-users")
	expect(err == nil, "the sweep command is acknowledged")
	expect(s.waitFor(ctx, func() bool { u, _ := s.org.User(eve); return u.Suspended }), "eve is suspended after the grace")
	s.waitQuiet(ctx)
	s.settle(ctx)

	brk, n, err := s.app.db.VerifyAudit(ctx)
	expect(err == nil && brk == nil && n > 0, "the audit chain is intact")
	s.say("\n== audit chain: %d events, intact=%v", n, err == nil && brk == nil)
	return problems
}

func (s *sandbox) member(group, accountID string) bool {
	for _, id := range s.org.Members(group) {
		if id == accountID {
			return true
		}
	}
	return false
}

func (s *sandbox) next(ctx context.Context, f bottest.Filter) (bottest.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return s.slack.NextMessage(ctx, f)
}

func (s *sandbox) sweep(ctx context.Context) {
	if _, err := s.app.svc.Sweep(ctx); err != nil {
		s.say("  !! sweep: %v", err)
	}
}

// waitFor polls cond for up to ten seconds.
func (s *sandbox) waitFor(ctx context.Context, cond func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// settle waits for the effects of the last action, then prints them.
func (s *sandbox) settle(ctx context.Context) {
	s.waitQuiet(ctx)
	s.show()
}

// waitQuiet waits until Slack and Atlassian have seen no new traffic for a moment and jitbot's
// outbox is empty, so the effects of the last action are printed together.
func (s *sandbox) waitQuiet(ctx context.Context) {
	last, same := -1, 0
	for i := 0; i < 1000 && ctx.Err() == nil && (same < 10 || s.outboxWaiting(ctx)); i++ {
		n := len(s.slack.Messages()) + len(s.org.Requests())
		for _, m := range s.slack.Messages() {
			n += len(m.History)
		}
		if n == last {
			same++
		} else {
			last, same = n, 0
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// outboxWaiting reports whether Slack messages wait in jitbot's outbox (paced by Slack's
// limits, they may take a few seconds).
func (s *sandbox) outboxWaiting(ctx context.Context) bool {
	waiting := false
	_ = s.app.db.View(ctx, func(tx access.Tx) error {
		items, err := tx.Outbox(1)
		waiting = len(items) > 0
		return err
	})
	return waiting
}

// interact reads commands: `as NAME`, `/access …`, `click N`, `wait DURATION`, `quit`.
func (s *sandbox) interact(ctx context.Context, in io.Reader) error {
	user := "U0ALICE"
	var buttons []demoButton
	s.say("jitbot sandbox. People: alice (requester), lee (approves jira-software), sam (security, auditor), ivan (IT operator), bob, eve (external).")
	s.say("Commands: as NAME | /access TEXT | click N | wait DURATION (moves time and sweeps) | quit")
	sc := bufio.NewScanner(in)
	for {
		fmt.Fprintf(s.out, "%s> ", s.names[user])
		if !sc.Scan() {
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "quit" || line == "exit":
			return nil
		case strings.HasPrefix(line, "as "):
			name := strings.TrimSpace(strings.TrimPrefix(line, "as "))
			found := false
			for _, p := range sandboxPeople {
				if p.name == name {
					user, found = p.slackID, true
				}
			}
			if !found {
				s.say("no such person %q", name)
				continue
			}
			buttons = s.listButtons(user)
			continue
		case strings.HasPrefix(line, "/access"):
			if _, err := s.slack.SlashCommand(ctx, user, "/access", strings.TrimSpace(strings.TrimPrefix(line, "/access"))); err != nil {
				s.say("slash command: %v", err)
			}
		case strings.HasPrefix(line, "click "):
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "click ")))
			if err != nil || n < 1 || n > len(buttons) {
				s.say("no button %q", line)
				continue
			}
			b := buttons[n-1]
			if _, err := s.slack.ClickButton(ctx, user, b.msg, b.act); err != nil {
				s.say("click: %v", err)
			}
		case strings.HasPrefix(line, "wait "):
			d, err := access.ParseDuration(strings.TrimPrefix(line, "wait "))
			if err != nil {
				s.say("%v", access.ErrorMessage(err))
				continue
			}
			s.clock.Advance(d)
			s.sweep(ctx)
		case line == "":
			continue
		default:
			s.say("unknown command; try /access help")
			continue
		}
		s.waitQuiet(ctx)
		s.show()
		buttons = s.listButtons(user)
	}
}

// demoButton is a button a person can press in the interactive demo.
type demoButton struct {
	msg bottest.Message
	act string
}

// listButtons numbers and prints the buttons user can press now: in their DM and in what only
// they see.
func (s *sandbox) listButtons(user string) []demoButton {
	var out []demoButton
	for _, m := range s.slack.Messages() {
		if m.Channel != s.slack.DMChannel(user) && !(m.Ephemeral && m.User == user) {
			continue
		}
		for _, b := range m.Buttons() {
			out = append(out, demoButton{m, b.ActionID})
			s.say("  button %d: [%s] on %q", len(out), b.Label, firstLine(m.PlainText()))
		}
	}
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
