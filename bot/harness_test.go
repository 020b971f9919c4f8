package bot

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/bot/bottest"
)

// People of the test workspace.
const (
	alice = "U0ALICE" // requester
	bob   = "U0BOB"   // approver (in S0SEC)
	carol = "U0CAROL" // approver (in S0SEC)
	dave  = "U0DAVE"  // nobody special
	erin  = "U0ERIN"  // auditor
	frank = "U0FRANK" // operator, by e-mail

	auditChannel = "C0AUDIT"
	roleChannel  = "C0SECREQ"
)

// recorder is an Observer that keeps what it saw.
type recorder struct {
	mu        sync.Mutex
	envelopes map[string]int
	acks      []time.Duration
	waiting   int
	oldest    time.Duration
	delivered map[string]int
	failed    map[string]int
}

func (r *recorder) Outbox(waiting int, oldest time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waiting, r.oldest = waiting, oldest
}

func (r *recorder) Delivered(method string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.delivered == nil {
		r.delivered = map[string]int{}
	}
	r.delivered[method]++
}

func (r *recorder) DeliveryFailed(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed == nil {
		r.failed = map[string]int{}
	}
	r.failed[reason]++
}

func (r *recorder) failures(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed[reason]
}

func (r *recorder) Envelope(kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.envelopes == nil {
		r.envelopes = map[string]int{}
	}
	r.envelopes[kind]++
}

func (r *recorder) Acked(_ string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acks = append(r.acks, d)
}

func (r *recorder) ackCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.acks)
}

// harness is a bot running against the fake Slack with an in-memory domain.
type harness struct {
	t     testing.TB
	ctx   context.Context
	fake  *bottest.Server
	store *accesstest.MemStore
	org   *accesstest.Org
	svc   *access.Service
	bot   *Bot
	pol   *access.Policy // the policy at start; setPolicy replaces it
	polp  *atomic.Pointer[access.Policy]
	obs   *recorder
	done  chan error
	cfg   Config
	stop  context.CancelFunc // stops the running bot only
}

// restart stops the running bot as a stopped process would (work in flight is cut off) and
// starts a new one on the same store, policy and fake Slack.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Fatalf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Fatal("Run did not return")
	}
	b, err := New(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.svc.Notifier, h.svc.Identity, h.svc.Principals = b, b, b
	h.bot = b
	rctx, stop := context.WithCancel(h.ctx)
	h.stop = stop
	go func() { h.done <- b.Run(rctx) }()
	ctx, cancel := h.wait()
	defer cancel()
	if err := h.fake.WaitConnected(ctx); err != nil {
		h.t.Fatalf("bot never reconnected: %v", err)
	}
}

func testPolicy() *access.Policy {
	return &access.Policy{
		Version:      1,
		Organization: access.Organization{Domains: []string{"example.com"}},
		Channels:     access.Channels{Audit: auditChannel},
		Permissions: access.Permissions{
			Auditors:  []string{erin},
			Operators: []string{"frank@example.com"},
		},
		Roles: []access.Role{
			{
				Name: "jira-admin", Description: "Jira administrators",
				Grants:      []access.Target{access.GroupTarget("jira-admins")},
				MaxDuration: 4 * time.Hour, DefaultDuration: time.Hour,
				Approvers: []string{"S0SEC"}, Approvals: 1, ReasonRequired: true,
				PendingTimeout: 24 * time.Hour, Channel: roleChannel,
			},
			{
				Name:       "breakglass",
				Requesters: []string{alice, dave}, RequesterNames: []string{alice, dave},
				Grants:      []access.Target{access.GroupTarget("site-admins")},
				MaxDuration: 30 * time.Minute, DefaultDuration: 30 * time.Minute,
				BreakGlass: true, ReasonRequired: true, PendingTimeout: 24 * time.Hour,
			},
		},
		Sync: []access.SyncRule{{Name: "engineering-jira"}},
	}
}

type harnessOption func(*Config)

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	log := zerolog.Nop()
	if os.Getenv("JITBOT_TEST_LOG") != "" {
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
	}
	ctx, cancel := context.WithCancel(log.WithContext(context.Background()))

	fakeOpts := []bottest.Option{bottest.WithShouldEscape(manifestShouldEscape(t))}
	if os.Getenv("JITBOT_TEST_LOG") != "" {
		fakeOpts = append(fakeOpts, bottest.WithLogf(t.Logf))
	}
	fake := bottest.NewServer(t, fakeOpts...)
	for _, u := range []struct{ id, name string }{{alice, "alice"}, {bob, "bob"}, {carol, "carol"}, {dave, "dave"}, {erin, "erin"}, {frank, "frank"}} {
		fake.AddUser(u.id, u.name, u.name+"@example.com")
		fake.DMChannel(u.id) // open now, so InChannel(user) filters match DMs posted later
	}
	fake.AddUserGroup("S0SEC", bob, carol)
	fake.AddChannel(auditChannel)
	fake.AddChannel(roleChannel)

	org := accesstest.NewOrg()
	for _, n := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
		org.AddUser(access.User{AccountID: "acc-" + n, Email: n + "@example.com", Name: n, Managed: true})
	}
	org.AddGroup("jira-admins")
	org.AddGroup("site-admins")

	pol := testPolicy()
	polp := &atomic.Pointer[access.Policy]{}
	polp.Store(pol)
	store := accesstest.NewMemStore(nil)
	svc := &access.Service{
		Store: store, Directory: org, Provisioner: org,
		Policy: polp.Load,
	}
	obs := &recorder{}
	cfg := Config{
		BotToken: fake.BotToken(), AppToken: fake.AppToken(), APIURL: fake.APIURL(),
		Service: svc, Policy: polp.Load,
		Workers: 4, EventTimeout: 20 * time.Second, Observer: obs,
	}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc.Notifier, svc.Identity, svc.Principals = b, b, b
	if cfg.Now != nil {
		svc.Now = cfg.Now
	}

	h := &harness{t: t, ctx: ctx, fake: fake, store: store, org: org, svc: svc, bot: b, pol: pol, polp: polp, obs: obs, done: make(chan error, 1), cfg: cfg}
	rctx, stop := context.WithCancel(ctx)
	h.stop = stop
	go func() { h.done <- b.Run(rctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run returned %v after cancel", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := fake.WaitConnected(wctx); err != nil {
		t.Fatalf("bot never connected: %v", err)
	}
	return h
}

// manifestShouldEscape reads should_escape of the slash command in manifest.yaml, so the fake
// sends command text as Slack would for the app as shipped.
func manifestShouldEscape(t testing.TB) bool {
	t.Helper()
	raw, err := os.ReadFile("../manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*should_escape:\s*(true|false)`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("manifest.yaml: no should_escape")
	}
	return string(m[1]) == "true"
}

// eventually polls cond (bounded) until it holds: for what the outbox records after Slack
// answered.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wait returns a context bounded for one step of a test.
func (h *harness) wait() (context.Context, context.CancelFunc) {
	return context.WithTimeout(h.ctx, 10*time.Second)
}

// slash runs a slash command and returns the first ephemeral answer to user.
func (h *harness) slash(user, text string) (bottest.Ack, bottest.Message) {
	h.t.Helper()
	ctx, cancel := h.wait()
	defer cancel()
	ack, err := h.fake.SlashCommand(ctx, user, "/access", text)
	if err != nil {
		h.t.Fatalf("/access %s: %v", text, err)
	}
	m, err := h.fake.NextMessage(ctx, bottest.EphemeralTo(user))
	if err != nil {
		h.t.Fatalf("/access %s: no answer: %v", text, err)
	}
	return ack, m
}

// next waits for the next message f matches.
func (h *harness) next(what string, f bottest.Filter) bottest.Message {
	h.t.Helper()
	ctx, cancel := h.wait()
	defer cancel()
	m, err := h.fake.NextMessage(ctx, f)
	if err != nil {
		h.t.Fatalf("waiting for %s: %v", what, err)
	}
	return m
}

// click clicks a button and waits for its ack.
func (h *harness) click(user string, m bottest.Message, actionID string) {
	h.t.Helper()
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.ClickButton(ctx, user, m, actionID); err != nil {
		h.t.Fatal(err)
	}
}

// rawClick delivers a block_actions payload for a button that may no longer be shown: a late
// click from a client that had not refreshed yet.
func (h *harness) rawClick(user, channel, ts, actionID, value string) {
	h.t.Helper()
	payload, _ := json.Marshal(map[string]any{
		"type":         "block_actions",
		"api_app_id":   bottest.AppID,
		"team":         map[string]any{"id": bottest.TeamID, "domain": bottest.TeamDomain},
		"user":         map[string]any{"id": user, "username": user, "name": user, "team_id": bottest.TeamID},
		"trigger_id":   "1.2.late",
		"response_url": h.fake.ResponseURL(user, channel),
		"container":    map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"channel":      map[string]any{"id": channel, "name": channel},
		"actions": []map[string]any{{
			"type": "button", "action_id": actionID, "block_id": "decide_" + value, "value": value,
			"text": map[string]any{"type": "plain_text", "text": actionID}, "action_ts": "1.000001",
		}},
	})
	ctx, cancel := h.wait()
	defer cancel()
	if _, err := h.fake.Push(ctx, bottest.Envelope{Type: "interactive", Payload: payload}); err != nil {
		h.t.Fatal(err)
	}
}

// counts is what the store holds: requests and audit events.
func (h *harness) counts() (requests, audit int) {
	h.t.Helper()
	err := h.store.View(h.ctx, func(tx access.Tx) error {
		rs, err := tx.Requests(access.RequestFilter{})
		requests = len(rs)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return requests, h.store.AuditLen()
}

func (h *harness) request(id string) *access.Request {
	h.t.Helper()
	r, err := h.svc.Request(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// granted files and approves a request of alice's through the Service, returning the grant.
func (h *harness) granted() *access.Grant {
	h.t.Helper()
	return h.grantFor(alice)
}

// grantFor files and approves a request of user's through the Service, returning the grant.
func (h *harness) grantFor(user string) *access.Grant {
	h.t.Helper()
	r, err := h.svc.Submit(h.ctx, access.UserActor(user), "jira-admin", time.Hour, "incident 42")
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.svc.Approve(h.ctx, access.UserActor(bob), r.ID); err != nil {
		h.t.Fatal(err)
	}
	g, err := h.svc.Grant(h.ctx, r.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	if g.Status != access.GrantActive {
		h.t.Fatalf("grant %s is %s", g.ID, g.Status)
	}
	return g
}

// setPolicy puts in force a copy of the current policy changed by edit, as a reload would.
func (h *harness) setPolicy(edit func(p *access.Policy)) {
	cur := h.polp.Load()
	p := *cur
	p.Roles = append([]access.Role(nil), cur.Roles...)
	edit(&p)
	h.polp.Store(&p)
}

// role returns the named role of p, for setPolicy edits.
func roleIn(p *access.Policy, name string) *access.Role {
	r := p.Role(name)
	if r == nil {
		panic("no role " + name)
	}
	return r
}
