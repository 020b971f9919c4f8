package main

// Integration fault tests of the grant lifecycle with the real parts: a bbolt file, the real
// Atlassian client over HTTP against the fake org (requests and answers checked against the
// OpenAPI spec) and access.Service on an injected clock. The domain tests in access cover the
// same promises with in-memory fakes; these cover what only the real parts can break: HTTP
// retries and Retry-After, a database file closed mid-way and reopened, the client's cache.

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
	"github.com/jitbot/jitbot/store"
)

var lcT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var lcAuditKey = []byte("lifecycle-audit-key")

const lcLead = "U0LEAD"

// lcPeople maps Slack users to e-mails; principals are Slack user IDs already.
type lcPeople map[string]string

func (p lcPeople) Email(_ context.Context, slackID string) (string, error) {
	e, ok := p[slackID]
	if !ok {
		return "", access.Errorf(access.ENOTFOUND, "no e-mail")
	}
	return e, nil
}

func (lcPeople) Resolve(_ context.Context, principals []string) ([]string, error) {
	return principals, nil
}

// lcNotes records what people were told. onEnded, when set, is called for each NoticeEnded
// instead of recording it.
type lcNotes struct {
	accesstest.Notices
	onEnded func(g *access.Grant)
}

func (n *lcNotes) Notify(ctx context.Context, tx access.Tx, x access.Notice) error {
	if x.Kind == access.NoticeEnded && n.onEnded != nil {
		n.onEnded(x.Grant)
		return nil
	}
	return n.Notices.Notify(ctx, tx, x)
}

// count returns how many notices of kind were sent, about grant id when id is not "".
func (n *lcNotes) count(kind access.NoticeKind, id string) int {
	c := 0
	for _, x := range n.Of(kind) {
		if id == "" || (x.Grant != nil && x.Grant.ID == id) {
			c++
		}
	}
	return c
}

// clientEvent is one HTTP attempt (op, status) or one wait (sleep) of the Atlassian client, at
// the fake time it happened.
type clientEvent struct {
	op     string
	status int
	sleep  time.Duration
	at     time.Time
}

// clientLog records the client's attempts and waits. With advance set, a wait moves the fake
// clock by its length, as time would pass; otherwise nothing waits at all.
type clientLog struct {
	mu      sync.Mutex
	clock   *accesstest.Clock
	advance bool
	events  []clientEvent
}

func (l *clientLog) sleep(ctx context.Context, d time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, clientEvent{sleep: d, at: l.clock.Now()})
	if l.advance && d > 0 {
		l.clock.Advance(d)
	}
	return ctx.Err()
}

func (l *clientLog) observe(op string, status int, _ time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, clientEvent{op: op, status: status, at: l.clock.Now()})
}

func (l *clientLog) snapshot() []clientEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// lcEnv is one jitbot process (Service, client, open database) and the world around it (fake
// org, clock, people), which outlives the process across a simulated restart.
type lcEnv struct {
	t      testing.TB
	ctx    context.Context
	clock  *accesstest.Clock
	org    *atlassiantest.Server
	people lcPeople
	acct   map[string]string // Slack user ID -> Atlassian account ID
	policy *access.Policy
	path   string
	notes  *lcNotes
	log    *clientLog

	db  *store.DB
	atl *atlassian.Client
	svc *access.Service
}

// lcUsers are the Slack users of the tests; each has an Atlassian account.
var lcUsers = []string{"U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN", "U0FRANK"}

func lcPolicy() *access.Policy {
	return &access.Policy{
		Version:      1,
		Organization: access.Organization{Domains: []string{"example.com"}, Timezone: time.UTC},
		Channels:     access.Channels{Audit: "C0AUDIT", Alerts: "C0ALERTS"},
		Permissions:  access.Permissions{Operators: []string{"U0IT1"}},
		Roles: []access.Role{{
			Name: "jira-software", Grants: []access.Target{access.GroupTarget(jiraGroup)},
			MaxDuration: 7 * 24 * time.Hour, DefaultDuration: time.Hour,
			Approvers: []string{lcLead}, Approvals: 1, PendingTimeout: 12 * time.Hour,
		}},
	}
}

// newLCEnv starts the fake org (spec-validated), opens a bbolt file in a temp dir and builds
// a Service on them.
func newLCEnv(t *testing.T) *lcEnv {
	t.Helper()
	clock := accesstest.NewClock(lcT0)
	e := &lcEnv{
		t: t, ctx: context.Background(), clock: clock,
		org:    atlassiantest.NewServer(t, atlassiantest.WithClock(clock.Now), atlassiantest.WithSpecValidation(t)),
		people: lcPeople{lcLead: "lead@example.com"}, acct: map[string]string{}, policy: lcPolicy(),
		path: filepath.Join(t.TempDir(), "jitbot.db"),
	}
	e.org.AddGroup(atlassiantest.Group{Name: jiraGroup})
	for _, id := range append([]string{lcLead}, lcUsers...) {
		email := strings.ToLower(strings.TrimPrefix(id, "U0")) + "@example.com"
		e.people[id] = email
		e.acct[id] = e.org.AddUser(atlassiantest.User{Email: email})
	}
	e.start()
	t.Cleanup(func() {
		if e.db != nil {
			_ = e.db.Close()
		}
	})
	return e
}

// start opens the database and builds a new client and Service, as a starting process does.
func (e *lcEnv) start() {
	e.t.Helper()
	db, err := store.Open(e.path, store.Options{AuditKey: lcAuditKey, NoSync: true})
	if err != nil {
		e.t.Fatalf("open store: %v", err)
	}
	e.db = db
	e.notes = &lcNotes{}
	e.log = &clientLog{clock: e.clock}
	e.atl, err = atlassian.New(atlassian.Config{
		BaseURL: e.org.URL(), OrgID: e.org.OrgID(), APIKey: atlassian.Secret(e.org.APIKey()),
		Now: e.clock.Now, Sleep: e.log.sleep, Observe: e.log.observe, Rand: func() float64 { return 0.5 },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = &access.Service{
		Store: db, Directory: e.atl, Provisioner: e.atl, Identity: e.people, Principals: e.people,
		Notifier: e.notes, Policy: func() *access.Policy { return e.policy }, Now: e.clock.Now,
		Jitter: func(d time.Duration) time.Duration { return d },
	}
}

// crash stops the process: its database file is closed, so nothing more is written.
func (e *lcEnv) crash() {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatalf("close store: %v", err)
	}
	e.db = nil
}

// grant submits a request for slackID and has the lead approve it; it returns the grant ID.
func (e *lcEnv) grant(slackID string, d time.Duration) string {
	e.t.Helper()
	id := e.submit(slackID, d)
	if _, err := e.svc.Approve(e.ctx, access.UserActor(lcLead), id); err != nil {
		e.t.Fatalf("approve %s: %v", id, err)
	}
	return id
}

func (e *lcEnv) submit(slackID string, d time.Duration) string {
	e.t.Helper()
	r, err := e.svc.Submit(e.ctx, access.UserActor(slackID), "jira-software", d, "incident")
	if err != nil {
		e.t.Fatalf("submit for %s: %v", slackID, err)
	}
	return r.ID
}

func (e *lcEnv) get(id string) *access.Grant {
	e.t.Helper()
	g, err := e.svc.Grant(e.ctx, id)
	if err != nil {
		e.t.Fatalf("grant %s: %v", id, err)
	}
	return g
}

func (e *lcEnv) sweep() access.SweepStats {
	e.t.Helper()
	st, err := e.svc.Sweep(e.ctx)
	if err != nil {
		e.t.Fatalf("sweep: %v", err)
	}
	// A probe that saw Atlassian answer again releases the held grants in the background; a
	// test's next step reads their outcome, so wait for it as a later pass would find it.
	e.svc.WaitReleased()
	return st
}

func (e *lcEnv) member(slackID string) bool {
	return slices.Contains(e.org.Members(jiraGroup), e.acct[slackID])
}

// calls counts the requests the fake org received on route for slackID's account ("" for any).
func (e *lcEnv) calls(route, slackID string) int {
	n := 0
	for _, r := range e.org.Requests() {
		if r.Route != route {
			continue
		}
		if slackID == "" || strings.Contains(r.Path, e.acct[slackID]) || strings.Contains(r.Body, e.acct[slackID]) {
			n++
		}
	}
	return n
}

// actions returns the audit actions recorded about grant id, in order.
func (e *lcEnv) actions(id string) []access.Action {
	e.t.Helper()
	var out []access.Action
	err := e.db.View(e.ctx, func(tx access.Tx) error {
		evs, err := tx.AuditEvents(access.AuditFilter{Subject: id})
		for _, ev := range evs {
			out = append(out, ev.Action)
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// checkConsistent fails unless every account's membership is exactly what its grants say: a
// member while some grant of it is active or when it held the group before jitbot, not one once
// all are revoked. It also checks the audit chain.
func (e *lcEnv) checkConsistent() {
	e.t.Helper()
	var gs []*access.Grant
	var evs []access.AuditEvent
	err := e.db.View(e.ctx, func(tx access.Tx) error {
		var err error
		if gs, err = tx.Grants(access.GrantFilter{}); err != nil {
			return err
		}
		evs, err = tx.AuditEvents(access.AuditFilter{})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	want := map[string]bool{}
	for _, g := range gs {
		if g.Items[0].Had { // held before jitbot: left in place whatever the grant does
			want[g.Account.ID] = true
			continue
		}
		switch g.Status {
		case access.GrantActive:
			want[g.Account.ID] = true
		case access.GrantRevoked:
			if _, ok := want[g.Account.ID]; !ok {
				want[g.Account.ID] = false
			}
		default:
			e.t.Errorf("grant %s is still %s (%s)", g.ID, g.Status, g.LastError)
		}
	}
	members := e.org.Members(jiraGroup)
	for acct, w := range want {
		if got := slices.Contains(members, acct); got != w {
			e.t.Errorf("account %s: member %v, grants say %v", acct, got, w)
		}
	}
	if b := access.VerifyChain(evs, lcAuditKey); b != nil {
		e.t.Errorf("audit chain broken: %+v", b)
	}
}

// TestLifecycle_outageAcrossExpiry: Atlassian answers 500 to everything for an hour of fake time
// across an expiry. The revoke fails, is alerted and becomes failed, keeps being retried and
// happens after recovery; an unrelated grant keeps its access and one approved during the outage
// is given after it.
func TestLifecycle_outageAcrossExpiry(t *testing.T) {
	e := newLCEnv(t)
	alice := e.grant("U0ALICE", time.Hour)    // ends during the outage
	bob := e.grant("U0BOB", 4*time.Hour)      // ends long after it
	carol := e.submit("U0CAROL", 2*time.Hour) // approved during it
	from, to := lcT0.Add(50*time.Minute), lcT0.Add(110*time.Minute)
	e.org.OutageBetween(from, to)

	e.clock.Advance(50 * time.Minute)
	if _, err := e.svc.Approve(e.ctx, access.UserActor(lcLead), carol); err != nil {
		t.Fatalf("approve during outage: %v", err)
	}
	if g := e.get(carol); g.Status != access.GrantProvisioning || e.member("U0CAROL") {
		t.Fatalf("carol's grant during the outage: %s member=%v", g.Status, e.member("U0CAROL"))
	}
	var sawFailed bool
	for e.clock.Now().Add(time.Minute).Before(to) { // a sweep a minute through the outage
		e.clock.Advance(time.Minute)
		e.sweep()
		sawFailed = sawFailed || e.get(alice).Status == access.GrantFailed
	}
	g := e.get(alice)
	if !sawFailed || g.FailedOp != access.OpRevoke || !e.member("U0ALICE") {
		t.Fatalf("alice's grant at the end of the outage: %s/%s member=%v (failed seen: %v)", g.Status, g.FailedOp, e.member("U0ALICE"), sawFailed)
	}
	if a := e.notes.Alerts(); !strings.Contains(a, "keeps failing") || !strings.Contains(a, "overdue") || !strings.Contains(a, alice) {
		t.Fatalf("alerts during the outage: %q", a)
	}
	if n := e.calls(atlassiantest.RouteMembershipRemove, "U0ALICE"); n == 0 {
		t.Fatal("no removal was attempted during the outage")
	}

	for range 30 { // half an hour after recovery (the outage's probe retries at once)
		e.clock.Advance(time.Minute)
		e.sweep()
	}
	g = e.get(alice)
	if g.Status != access.GrantRevoked || !g.Items[0].Verified || e.member("U0ALICE") {
		t.Fatalf("alice after recovery: %s verified=%v member=%v", g.Status, g.Items[0].Verified, e.member("U0ALICE"))
	}
	acts := e.actions(alice)
	if i, j := slices.Index(acts, access.ActionGrantFailed), slices.Index(acts, access.ActionGrantRevoked); i < 0 || j < i || !slices.Contains(acts, access.ActionGrantOverdue) {
		t.Fatalf("alice's audit trail %v: want failed, overdue, then revoked", acts)
	}
	if g := e.get(bob); g.Status != access.GrantActive || !e.member("U0BOB") {
		t.Fatalf("bob's grant was touched: %s member=%v", g.Status, e.member("U0BOB"))
	}
	if g := e.get(carol); g.Status != access.GrantActive || !e.member("U0CAROL") || g.GrantedAt.Before(to) || !g.EndsAt.Equal(g.GrantedAt.Add(2*time.Hour)) {
		t.Fatalf("carol's grant after the outage: %s member=%v granted %v ends %v", g.Status, e.member("U0CAROL"), g.GrantedAt, g.EndsAt)
	}
	if e.notes.count(access.NoticeEnded, alice) != 1 || e.notes.count(access.NoticeGranted, carol) != 1 {
		t.Fatal("holders not told exactly once")
	}
	e.checkConsistent()
}

// TestLifecycle_429Storm: the membership-delete route answers 429 with Retry-After: 30 more
// times than the client retries in one call. Every DELETE that follows a 429 comes at least
// 30 s (fake time; the client's waits advance it) after it, within one call or across the
// sweeper's retries, and the revocation completes.
func TestLifecycle_429Storm(t *testing.T) {
	const retryAfter = 30 * time.Second
	e := newLCEnv(t)
	e.log.advance = true
	alice := e.grant("U0ALICE", time.Hour)
	e.clock.Advance(time.Hour)
	storm := atlassian.DefaultMaxRetries + 4 // outlasts one call's retries
	e.org.Fail429(atlassiantest.RouteMembershipRemove, storm, retryAfter)

	for i := 0; e.get(alice).Status != access.GrantRevoked; i++ {
		if i > 100 {
			t.Fatalf("not revoked after %d sweeps: %+v", i, e.get(alice))
		}
		e.clock.Advance(5 * time.Second)
		e.sweep()
	}
	if e.member("U0ALICE") {
		t.Fatal("revoked but still a member")
	}
	if got := e.org.Throttled(); got != storm {
		t.Fatalf("%d throttled answers, want %d", got, storm)
	}
	var last *clientEvent
	var deletes int
	evs := e.log.snapshot()
	for i := range evs {
		ev := &evs[i]
		if ev.op != "groups.memberships.remove" {
			continue
		}
		deletes++
		if last != nil && last.status == http.StatusTooManyRequests {
			if gap := ev.at.Sub(last.at); gap < retryAfter {
				t.Errorf("DELETE %d sent %s after a 429 asking for %s", deletes, gap, retryAfter)
			}
		}
		last = ev
	}
	if deletes != storm+1 {
		t.Fatalf("%d DELETE attempts, want %d", deletes, storm+1)
	}
	e.checkConsistent()
}

// lcKill wraps the Provisioner and "kills the process" (closes its database file) at one step:
// before or right after the first call of op.
type lcKill struct {
	access.Provisioner
	e     *lcEnv
	op    string // has, add, remove
	after bool   // the call reaches Atlassian before the process dies
	done  bool
}

var errKilled = errors.New("process killed")

func (k *lcKill) step(op string, call func() error) error {
	if k.done || op != k.op {
		return call()
	}
	k.done = true
	var err error
	if k.after {
		err = call()
	}
	k.e.crash()
	if err != nil {
		return err
	}
	return errKilled
}

func (k *lcKill) Has(ctx context.Context, a access.Account, t access.Target) (bool, error) {
	var had bool
	err := k.step("has", func() error {
		var err error
		had, err = k.Provisioner.Has(ctx, a, t)
		return err
	})
	return had, err
}

func (k *lcKill) Add(ctx context.Context, a access.Account, t access.Target) error {
	return k.step("add", func() error { return k.Provisioner.Add(ctx, a, t) })
}

func (k *lcKill) Remove(ctx context.Context, a access.Account, t access.Target) error {
	return k.step("remove", func() error { return k.Provisioner.Remove(ctx, a, t) })
}

// TestLifecycle_restart: the process dies at each step of a grant and of a revoke (its bbolt file
// closed mid-way), then a new process opens the same file, recovers and sweeps. Memberships end
// exactly as the grants say, nothing is added twice and no revoke is lost. Other grants in the
// same file (bob's active one, overlapping alice's membership) are carried through.
func TestLifecycle_restart(t *testing.T) {
	tests := []struct {
		name   string
		revoke bool // the crash interrupts the revoke (else the grant)
		op     string
		after  bool
	}{
		{"grant/intent_written", false, "has", false},
		{"grant/prior_checked", false, "add", false},
		{"grant/add_sent", false, "add", true},
		{"revoke/intent_written", true, "remove", false},
		{"revoke/remove_sent", true, "remove", true},
		{"revoke/readback_done", true, "has", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLCEnv(t)
			bob := e.grant("U0BOB", 3*time.Hour)
			alice := e.submit("U0ALICE", time.Hour)
			kill := &lcKill{Provisioner: e.atl, e: e, op: tt.op, after: tt.after}
			if tt.revoke {
				if _, err := e.svc.Approve(e.ctx, access.UserActor(lcLead), alice); err != nil {
					t.Fatal(err)
				}
				e.clock.Advance(time.Hour)
			}
			e.svc.Provisioner = kill
			if tt.revoke {
				_, _ = e.svc.Sweep(e.ctx) // fails once the store is closed
			} else {
				_, _ = e.svc.Approve(e.ctx, access.UserActor(lcLead), alice)
			}
			if !kill.done || e.db != nil {
				t.Fatal("the process was not killed")
			}

			e.clock.Advance(time.Minute) // restart, well within the intent's lease
			e.start()
			n, err := e.svc.Recover(e.ctx)
			if err != nil || n != 1 {
				t.Fatalf("recover: %d intents, %v", n, err)
			}
			e.sweep()
			want := access.GrantActive
			if tt.revoke {
				want = access.GrantRevoked
			}
			if g := e.get(alice); g.Status != want || e.member("U0ALICE") != (want == access.GrantActive) {
				t.Fatalf("after restart: %s member=%v", g.Status, e.member("U0ALICE"))
			}
			if n := e.calls(atlassiantest.RouteMembershipAdd, "U0ALICE"); n != 1 {
				t.Fatalf("%d POST memberships for alice, want exactly 1", n)
			}
			e.checkConsistent()

			e.clock.Advance(3 * time.Hour) // every grant over
			e.sweep()
			for _, id := range []string{alice, bob} {
				if g := e.get(id); g.Status != access.GrantRevoked {
					t.Fatalf("grant %s: %s", id, g.Status)
				}
			}
			if e.member("U0ALICE") || e.member("U0BOB") {
				t.Fatal("lost revoke: membership outlived its grant")
			}
			if n := e.calls(atlassiantest.RouteMembershipAdd, ""); n != 2 {
				t.Fatalf("%d POST memberships in all, want 2", n)
			}
			if e.notes.count(access.NoticeEnded, bob) != 1 {
				t.Fatal("bob not told his grant ended")
			}
			e.checkConsistent()
		})
	}
}

// TestLifecycle_clockJump: the clock jumps a day ahead with grants of every kind due: every due
// action runs once, through the real client, and a second pass does nothing at all.
func TestLifecycle_clockJump(t *testing.T) {
	e := newLCEnv(t)
	e.org.AddMember(jiraGroup, e.acct["U0FRANK"]) // held before jitbot: never removed
	var ids []string
	for i, u := range []string{"U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0FRANK"} {
		ids = append(ids, e.grant(u, time.Duration(i+1)*time.Hour))
	}
	ids = append(ids, e.grant("U0ALICE", 5*time.Hour)) // overlaps alice's first
	pending := e.submit("U0ERIN", time.Hour)           // never decided
	e.clock.Advance(2 * time.Hour)
	e.sweep() // alice's first grant and bob's end
	warned := e.notes.count(access.NoticeExpiring, "")

	e.clock.Advance(24 * time.Hour)
	st := e.sweep()
	if st.Expired != 1 {
		t.Fatalf("stats %+v", st)
	}
	if r, err := e.svc.Request(e.ctx, pending); err != nil || r.Status != access.RequestExpired {
		t.Fatalf("pending request: %v %v", r, err)
	}
	for _, id := range ids {
		if g := e.get(id); g.Status != access.GrantRevoked {
			t.Fatalf("grant %s: %s", id, g.Status)
		}
		if n := e.notes.count(access.NoticeEnded, id); n != 1 {
			t.Fatalf("grant %s: told %d times that it ended", id, n)
		}
	}
	for u, want := range map[string]int{"U0ALICE": 1, "U0BOB": 1, "U0CAROL": 1, "U0DAVE": 1, "U0FRANK": 0} {
		if n := e.calls(atlassiantest.RouteMembershipRemove, u); n != want {
			t.Errorf("%s: %d DELETE memberships, want %d", u, n, want)
		}
	}
	if !e.member("U0FRANK") || e.member("U0ALICE") {
		t.Fatal("memberships wrong after the jump")
	}
	if n := e.notes.count(access.NoticeExpiring, ""); n != warned {
		t.Fatalf("%d expiry warnings sent for grants already over", n-warned)
	}

	calls := e.org.Calls()
	if st := e.sweep(); st.Driven+st.Expired+st.Warned != 0 || e.org.Calls() != calls {
		t.Fatalf("second pass did something: %+v, %d calls", st, e.org.Calls()-calls)
	}
	e.checkConsistent()
}
