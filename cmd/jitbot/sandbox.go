package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/bot/bottest"
	"github.com/jitbot/jitbot/policies"
)

// A person of the sandbox workspace.
type person struct{ slackID, name, email string }

var sandboxPeople = []person{
	{"U0ALICE", "alice", "alice@example.com"},  // engineer who asks for access
	{"U0LEAD", "lee", "lee@example.com"},       // engineering lead: approves jira-software
	{"U0SEC1", "sam", "sam@example.com"},       // security: approves site-admin, auditor
	{"U0SEC2", "sasha", "sasha@example.com"},   // security
	{"U0IT1", "ivan", "ivan@example.com"},      // IT operator
	{"U0BOB", "bob", "bob@example.com"},        // engineer, in the IdP engineering group
	{"U0EVE", "eve", "eve@contractor.example"}, // external contractor
	{"U0BREAK", "breakglass", "breakglass@example.com"},
}

// sandbox is jitbot running for real against an embedded fake Slack and fake Atlassian org,
// with a bbolt file in a temp dir and the example policy.
type sandbox struct {
	out   io.Writer
	clock *accesstest.Clock
	slack *bottest.Server
	org   *atlassiantest.Server
	app   *App
	dir   string
	ids   map[string]string // account ID -> e-mail
	names map[string]string // Slack user or DM channel ID -> name

	printed  map[string]int // message key -> versions printed
	reqsSeen int
	cancel   context.CancelFunc
	done     chan error
}

func newSandbox(ctx context.Context, out, logOut io.Writer) (*sandbox, error) {
	s := &sandbox{out: out, clock: accesstest.NewClock(time.Now().UTC().Truncate(time.Second)), ids: map[string]string{}, names: map[string]string{}, printed: map[string]int{}}
	s.slack = bottest.New()
	s.org = atlassiantest.New(atlassiantest.WithClock(s.clock.Now))
	for _, p := range sandboxPeople {
		s.slack.AddUser(p.slackID, p.name, p.email)
		s.names[p.slackID] = p.name
		s.names[s.slack.DMChannel(p.slackID)] = p.name
	}
	for _, ch := range []string{"C0AUDIT", "C0ALERTS", "C0SECREQ"} {
		s.slack.AddChannel(ch)
		s.names[ch] = "#" + map[string]string{"C0AUDIT": "jitbot-audit", "C0ALERTS": "jitbot-alerts", "C0SECREQ": "security-requests"}[ch]
	}
	for _, g := range []string{"jira-software-users-example", "confluence-users-example", "jira-admins-example", "confluence-admins-example", "scim-engineering", "scim-staff", "contractors", "oncall"} {
		s.org.AddGroup(atlassiantest.Group{Name: g, ExternalSynced: strings.HasPrefix(g, "scim-")})
	}
	for _, p := range sandboxPeople {
		u := atlassiantest.User{Email: p.email, Name: p.name, LastActive: s.clock.Now().Add(-24 * time.Hour)}
		id := s.org.AddUser(u)
		s.ids[id] = p.email
		switch p.name {
		case "alice":
			s.org.AddMember("scim-staff", id)
		case "bob":
			s.org.AddMember("scim-engineering", id)
			s.org.AddMember("scim-staff", id)
		case "breakglass":
			s.org.AddMember("site-admins", id)
		}
	}

	dir, err := os.MkdirTemp("", "jitbot-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo temp dir: %w", err)
	}
	s.dir = dir
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, policies.Example, 0o600); err != nil {
		return nil, fmt.Errorf("demo policy: %w", err)
	}
	cfg, err := LoadConfig([]string{
		"JITBOT_SLACK_BOT_TOKEN=" + s.slack.BotToken(), "JITBOT_SLACK_APP_TOKEN=" + s.slack.AppToken(),
		"JITBOT_SLACK_API_URL=" + s.slack.APIURL(), "JITBOT_ATLASSIAN_API_URL=" + s.org.URL(),
		"JITBOT_ATLASSIAN_ORG_ID=" + s.org.OrgID(), "JITBOT_ATLASSIAN_API_KEY=" + s.org.APIKey(),
		"JITBOT_POLICY_FILE=" + policyFile, "JITBOT_DB_PATH=" + filepath.Join(dir, "jitbot.db"),
		"JITBOT_HTTP_ADDR=127.0.0.1:0", "JITBOT_SWEEP_INTERVAL=1h", "JITBOT_LOG_LEVEL=warn", "JITBOT_LOG_FORMAT=console",
	})
	if err != nil {
		return nil, err
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: logOut, NoColor: true}).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	s.app, err = NewApp(ctx, cfg, log, appOptions{Now: s.clock.Now, NoSchedule: true})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, err
	}
	s.app.httpLn = ln
	rctx, cancel := context.WithCancel(ctx)
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- s.app.Run(rctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	for s.app.Ready() != nil {
		select {
		case <-wctx.Done():
			return nil, fmt.Errorf("demo: jitbot did not get ready: %v", s.app.Ready())
		case err := <-s.done:
			return nil, fmt.Errorf("demo: jitbot stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.mark()
	return s, nil
}

// mark forgets everything seen so far, so the story starts clean.
func (s *sandbox) mark() {
	for _, m := range s.slack.Messages() {
		s.printed[m.Channel+"/"+m.TS] = len(m.History) + 1
	}
	s.reqsSeen = len(s.org.Requests())
}

func (s *sandbox) close() error {
	s.cancel()
	err := <-s.done
	s.app.Close()
	s.slack.Close()
	s.org.Close()
	os.RemoveAll(s.dir)
	return err
}

func (s *sandbox) say(format string, args ...any) {
	fmt.Fprintf(s.out, format+"\n", args...)
}

// show prints what people saw in Slack and what changed in Atlassian since the last call.
func (s *sandbox) show() {
	dmText := map[string]string{} // what each person's DM last showed, in this batch
	lastShown := ""               // the message printed last, to say "the same" for a repeat
	for _, m := range s.slack.Messages() {
		key := m.Channel + "/" + m.TS
		versions := len(m.History) + 1
		if s.printed[key] >= versions {
			continue
		}
		s.printed[key] = versions
		where := s.names[m.Channel]
		if where == "" {
			where = m.Channel
		}
		if !strings.HasPrefix(where, "#") {
			where = "DM to " + where
		}
		if m.Ephemeral {
			where = "only " + s.names[m.User] + " sees"
		}
		verb := ""
		if versions > 1 {
			verb = " (updated)"
		}
		text := strings.TrimSpace(s.readable(m.PlainText()))
		if m.Ephemeral && text == dmText[s.names[m.User]] {
			fmt.Fprintf(s.out, "  [Slack] %s: the same, as the answer to the command\n", where)
			continue
		}
		if strings.HasPrefix(where, "DM to ") {
			dmText[strings.TrimPrefix(where, "DM to ")] = text
		}
		if where+verb+"\n"+text == lastShown {
			fmt.Fprintf(s.out, "  [Slack] %s%s: the same\n", where, verb)
			continue
		}
		lastShown = where + verb + "\n" + text
		fmt.Fprintf(s.out, "  [Slack] %s%s:\n", where, verb)
		for _, line := range strings.Split(text, "\n") {
			fmt.Fprintf(s.out, "      %s\n", line)
		}
	}
	reqs := s.org.Requests()
	for _, r := range reqs[s.reqsSeen:] {
		if r.Method == "GET" || strings.HasSuffix(r.Path, "/search") || strings.HasSuffix(r.Path, "/workspaces") || r.Status >= 300 {
			continue
		}
		fmt.Fprintf(s.out, "  [Atlassian] %s\n", s.describe(r))
	}
	s.reqsSeen = len(reqs)
}

var (
	slackDate    = regexp.MustCompile(`<!date\^[0-9]+\^[^|>]*\|([^>]*)>`)
	slackMention = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|[^>]*)?>`)
)

// readable renders Slack markup the way the Slack client shows it: dates in words and
// mentions as @name.
func (s *sandbox) readable(text string) string {
	text = slackDate.ReplaceAllString(text, "$1")
	return slackMention.ReplaceAllStringFunc(text, func(m string) string {
		id := slackMention.FindStringSubmatch(m)[1]
		if n, ok := s.names[id]; ok {
			return "@" + n
		}
		return m
	})
}

// describe turns a write request into a sentence.
func (s *sandbox) describe(r atlassiantest.Request) string {
	who := func(id string) string {
		if e, ok := s.ids[id]; ok {
			return e
		}
		return id
	}
	parts := strings.Split(strings.Trim(r.Path, "/"), "/")
	last := parts[len(parts)-1]
	switch {
	case strings.HasSuffix(r.Path, "/memberships") && r.Method == "POST":
		return fmt.Sprintf("added %s to group %s", who(jsonField(r.Body, "accountId")), s.groupName(parts[len(parts)-2]))
	case strings.Contains(r.Path, "/memberships/") && r.Method == "DELETE":
		return fmt.Sprintf("removed %s from group %s", who(last), s.groupName(parts[len(parts)-3]))
	case last == "suspend" || last == "restore":
		return fmt.Sprintf("%sed %s", map[string]string{"suspend": "suspend", "restore": "restor"}[last], who(parts[len(parts)-2]))
	case last == "assign" || last == "revoke":
		return fmt.Sprintf("%s role %s for %s", map[string]string{"assign": "assigned", "revoke": "revoked"}[last], jsonField(r.Body, "role"), who(parts[len(parts)-3]))
	}
	return r.Method + " " + r.Path
}

func (s *sandbox) groupName(id string) string {
	if n := s.org.GroupName(id); n != "" {
		return n
	}
	return id
}

func jsonField(body, field string) string {
	_, after, ok := strings.Cut(body, `"`+field+`":"`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, `"`)
	return v
}

// accountOf returns the Atlassian account ID of an e-mail.
func (s *sandbox) accountOf(email string) string {
	for id, e := range s.ids {
		if e == email {
			return id
		}
	}
	return ""
}
