package access_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
)

// people maps Slack users to e-mails and principals (teams of the policy) to Slack users.
type people struct{ emails map[string]string }

func (p people) Email(_ context.Context, slackID string) (string, error) {
	e, ok := p.emails[slackID]
	if !ok || e == "" {
		return "", access.Errorf(access.ENOTFOUND, "no e-mail")
	}
	return e, nil
}

func (people) Resolve(_ context.Context, principals []string) ([]string, error) {
	return principals, nil
}

// countingProv counts provisioner calls by operation and can make reads lag behind writes.
type countingProv struct {
	access.Provisioner
	adds, removes atomic.Int64
	staleReads    atomic.Int64 // Has answers true this many more times after a removal
}

func (c *countingProv) Add(ctx context.Context, a access.Account, t access.Target) error {
	c.adds.Add(1)
	return c.Provisioner.Add(ctx, a, t)
}

func (c *countingProv) Remove(ctx context.Context, a access.Account, t access.Target) error {
	c.removes.Add(1)
	return c.Provisioner.Remove(ctx, a, t)
}

func (c *countingProv) Has(ctx context.Context, a access.Account, t access.Target) (bool, error) {
	if c.staleReads.Load() > 0 {
		c.staleReads.Add(-1)
		return true, nil
	}
	return c.Provisioner.Has(ctx, a, t)
}

type harness struct {
	t      *testing.T
	clock  *accesstest.Clock
	store  *accesstest.MemStore
	org    *accesstest.Org
	prov   *countingProv
	notes  *accesstest.Notices
	policy *access.Policy
	svc    *access.Service
}

const jiraGroup = "jira-software-users-example"

func testPolicy() *access.Policy {
	return &access.Policy{
		Version:      1,
		Organization: access.Organization{Domains: []string{"example.com"}, Timezone: time.UTC},
		Channels:     access.Channels{Audit: "C0AUDIT"},
		Permissions:  access.Permissions{Auditors: []string{"U0SEC1"}, Operators: []string{"U0IT1"}},
		Roles: []access.Role{
			*siteAdmin(),
			{Name: "jira-software", Grants: []access.Target{access.GroupTarget(jiraGroup)}, MaxDuration: 7 * 24 * time.Hour,
				DefaultDuration: 24 * time.Hour, Approvers: []string{"U0LEAD"}, Approvals: 1, PendingTimeout: 24 * time.Hour},
			{Name: "breakglass", Grants: []access.Target{access.RoleTarget("site-admin", "example.atlassian.net")}, MaxDuration: 30 * time.Minute,
				DefaultDuration: 30 * time.Minute, Approvals: 1, ReasonRequired: true, BreakGlass: true, PendingTimeout: time.Hour},
		},
		Guard: access.Guard{MaxChanges: 50},
	}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, clock: accesstest.NewClock(t0), store: accesstest.NewMemStore([]byte("audit-key")), org: accesstest.NewOrg(), notes: &accesstest.Notices{}, policy: testPolicy()}
	h.org.AddGroup(jiraGroup)
	for _, u := range []struct{ id, email string }{{"acc-alice", "alice@example.com"}, {"acc-bob", "bob@example.com"}, {"acc-lead", "lead@example.com"}, {"acc-sec1", "sec1@example.com"}} {
		h.org.AddUser(access.User{AccountID: u.id, Email: u.email, Managed: true})
	}
	h.prov = &countingProv{Provisioner: h.org}
	h.svc = h.newService(h.store)
	return h
}

// newService builds a Service on st, as a (re)started process would.
func (h *harness) newService(st access.Store) *access.Service {
	pp := people{emails: map[string]string{"U0ALICE": "alice@example.com", "U0BOB": "bob@example.com", "U0LEAD": "lead@example.com", "U0SEC1": "sec1@example.com", "U0NOMAIL": ""}}
	return &access.Service{
		Store: accesstest.Twice(st), Directory: h.org, Identity: pp, Principals: pp, Provisioner: h.prov, Notifier: h.notes,
		Policy: func() *access.Policy { return h.policy }, Now: h.clock.Now,
		Jitter: func(d time.Duration) time.Duration { return d }, MaxAttempts: 3,
	}
}

func (h *harness) ctx() context.Context { return context.Background() }

func (h *harness) submit(by access.Actor, role string, d time.Duration) *access.Request {
	h.t.Helper()
	r, err := h.svc.Submit(h.ctx(), by, role, d, "fixing SSO")
	if err != nil {
		h.t.Fatalf("submit: %v", err)
	}
	return r
}

func (h *harness) grant(id string) *access.Grant {
	h.t.Helper()
	g, err := h.svc.Grant(h.ctx(), id)
	if err != nil {
		h.t.Fatalf("grant %s: %v", id, err)
	}
	return g
}

func (h *harness) sweep() access.SweepStats {
	h.t.Helper()
	st, err := h.svc.Sweep(h.ctx())
	if err != nil {
		h.t.Fatalf("sweep: %v", err)
	}
	return st
}

func (h *harness) member(account string) bool { return h.org.Member(jiraGroup, account) }

func (h *harness) checkChain() {
	h.t.Helper()
	var evs []access.AuditEvent
	_ = h.store.View(h.ctx(), func(tx access.Tx) error {
		var err error
		evs, err = tx.AuditEvents(access.AuditFilter{})
		return err
	})
	if b := access.VerifyChain(evs, []byte("audit-key")); b != nil {
		h.t.Fatalf("audit chain broken: %+v", b)
	}
}

func TestService_lifecycle(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, "jira-software", 2*time.Hour)
	if r.Status != access.RequestPending || h.member("acc-alice") {
		t.Fatalf("request %+v", r)
	}
	if _, err := h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID); err != nil {
		t.Fatal(err)
	}
	g := h.grant(r.ID)
	if g.Status != access.GrantActive || !h.member("acc-alice") || !g.EndsAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("grant %+v member=%v", g, h.member("acc-alice"))
	}
	h.clock.Advance(110 * time.Minute)
	if st := h.sweep(); st.Warned != 1 || h.notes.Count(access.NoticeExpiring) != 1 {
		t.Fatalf("warning: %+v", st)
	}
	h.sweep()
	if h.notes.Count(access.NoticeExpiring) != 1 {
		t.Fatal("warned twice")
	}
	h.clock.Advance(10 * time.Minute)
	h.sweep()
	g = h.grant(r.ID)
	if g.Status != access.GrantRevoked || h.member("acc-alice") || !g.Items[0].Verified {
		t.Fatalf("after expiry: %+v member=%v", g, h.member("acc-alice"))
	}
	if h.notes.Count(access.NoticeEnded) != 1 {
		t.Fatal("holder not told")
	}
	h.checkChain()
}

func TestService_Approve_refusals(t *testing.T) {
	tests := []struct {
		name     string
		by       access.Actor
		twice    bool
		wantCode access.Code
	}{
		{"requester", alice, false, access.EFORBIDDEN},
		{"non_approver", bob, false, access.EFORBIDDEN},
		{"second_click", access.UserActor("U0LEAD"), true, access.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.submit(alice, "jira-software", time.Hour)
			if tt.twice {
				if _, err := h.svc.Approve(h.ctx(), tt.by, r.ID); err != nil {
					t.Fatal(err)
				}
			}
			before := h.store.AuditLen()
			adds := h.prov.adds.Load()
			_, err := h.svc.Approve(h.ctx(), tt.by, r.ID)
			if got := access.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code %q want %q: %v", got, tt.wantCode, err)
			}
			if h.store.AuditLen() != before || h.prov.adds.Load() != adds {
				t.Fatal("a refused click changed something")
			}
		})
	}
}

func TestService_Submit_badInput(t *testing.T) {
	tests := []struct {
		name     string
		by       access.Actor
		role     string
		d        time.Duration
		reason   string
		wantCode access.Code
		wantText string
	}{
		{"unknown_role", alice, "root", time.Hour, "x", access.ENOTFOUND, "jira-software"},
		{"over_max", alice, "site-admin", 5 * time.Hour, "x", access.EINVALID, "4h"},
		{"no_duration", alice, "site-admin", 0, "x", access.EINVALID, "how long"},
		{"no_reason", alice, "site-admin", time.Hour, "", access.EINVALID, "reason"},
		{"no_email", access.UserActor("U0NOMAIL"), "jira-software", time.Hour, "x", access.ENOTFOUND, "e-mail"},
		{"no_account", access.UserActor("U0GHOST"), "jira-software", time.Hour, "x", access.ENOTFOUND, "e-mail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.svc.Submit(h.ctx(), tt.by, tt.role, tt.d, tt.reason)
			if got := access.ErrorCode(err); got != tt.wantCode || !strings.Contains(access.ErrorMessage(err), tt.wantText) {
				t.Fatalf("got %q %q", access.ErrorCode(err), access.ErrorMessage(err))
			}
			if n := h.store.AuditLen(); n != 0 {
				t.Fatalf("%d audit events stored for refused input", n)
			}
		})
	}
}

func TestService_Approve_concurrentClicks(t *testing.T) {
	h := newHarness(t)
	two := h.policy.Role("jira-software")
	two.Approvers = nil
	for i := range 20 {
		two.Approvers = append(two.Approvers, fmt.Sprintf("U0APP%02d", i))
	}
	r := h.submit(alice, "jira-software", time.Hour)
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.svc.Approve(h.ctx(), access.UserActor(fmt.Sprintf("U0APP%02d", i)), r.ID); err == nil {
				ok.Add(1)
			} else if access.ErrorCode(err) != access.ECONFLICT {
				t.Errorf("click %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || h.prov.adds.Load() != 1 {
		t.Fatalf("%d approvals succeeded, %d adds; want 1 and 1", ok.Load(), h.prov.adds.Load())
	}
	var gs []*access.Grant
	_ = h.store.View(h.ctx(), func(tx access.Tx) error { gs, _ = tx.Grants(access.GrantFilter{}); return nil })
	if len(gs) != 1 {
		t.Fatalf("%d grants", len(gs))
	}
}

func TestService_overlap(t *testing.T) {
	h := newHarness(t)
	lead := access.UserActor("U0LEAD")
	r1 := h.submit(alice, "jira-software", time.Hour)
	h.svc.Approve(h.ctx(), lead, r1.ID)
	h.clock.Advance(30 * time.Minute)
	r2 := h.submit(alice, "jira-software", 2*time.Hour)
	h.svc.Approve(h.ctx(), lead, r2.ID)
	h.clock.Advance(31 * time.Minute) // first grant over
	h.sweep()
	if g := h.grant(r1.ID); g.Status != access.GrantRevoked || !strings.Contains(g.Items[0].Kept, r2.ID) {
		t.Fatalf("first grant: %+v", g)
	}
	if !h.member("acc-alice") {
		t.Fatal("first grant's end cut the second short")
	}
	h.clock.Advance(2 * time.Hour)
	h.sweep()
	if h.member("acc-alice") || h.grant(r2.ID).Status != access.GrantRevoked {
		t.Fatal("membership outlived the last grant")
	}
}

func TestService_preExistingKept(t *testing.T) {
	h := newHarness(t)
	h.org.SetMember(jiraGroup, "acc-alice", true)
	r := h.submit(alice, "jira-software", time.Hour)
	h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID)
	if h.prov.adds.Load() != 0 {
		t.Fatal("added what was already there")
	}
	h.clock.Advance(time.Hour)
	h.sweep()
	if !h.member("acc-alice") || h.prov.removes.Load() != 0 {
		t.Fatal("revocation removed a membership the grant did not give")
	}
	if g := h.grant(r.ID); g.Status != access.GrantRevoked || g.Items[0].Kept == "" {
		t.Fatalf("grant %+v", g)
	}
}

func TestService_wantedBySyncRuleKept(t *testing.T) {
	h := newHarness(t)
	h.policy.Sync = []access.SyncRule{{Name: "engineering-jira", Match: always{}, AddTo: []string{jiraGroup}}}
	h.svc.Engine = &access.Engine{Store: h.store, Org: h.org, Provisioner: h.org, Policy: func() *access.Policy { return h.policy }, Now: h.clock.Now}
	r := h.submit(alice, "jira-software", time.Hour)
	h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID)
	h.clock.Advance(time.Hour)
	h.sweep()
	if !h.member("acc-alice") {
		t.Fatal("grant's end removed a membership a sync rule wants")
	}
	if g := h.grant(r.ID); !strings.Contains(g.Items[0].Kept, "engineering-jira") {
		t.Fatalf("kept reason %q", g.Items[0].Kept)
	}
}

func TestService_verifiedRevocation(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, "jira-software", time.Hour)
	h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID)
	h.clock.Advance(time.Hour)
	h.prov.staleReads.Store(1) // Atlassian still shows the member right after the removal
	h.sweep()
	if g := h.grant(r.ID); g.Status == access.GrantRevoked {
		t.Fatal("revoked before the removal was verified")
	}
	h.clock.Advance(15 * time.Second)
	h.sweep()
	g := h.grant(r.ID)
	if g.Status != access.GrantRevoked || !g.Items[0].Verified || h.prov.removes.Load() != 2 {
		t.Fatalf("grant %+v removes=%d", g, h.prov.removes.Load())
	}
}

func TestService_outageAcrossExpiry(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, "jira-software", time.Hour)
	h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID)
	down := true
	h.org.Fail = func(op, _, _ string) error {
		if down && op != "user" {
			return access.Errorf(access.EUNAVAILABLE, "Atlassian answered 503.")
		}
		return nil
	}
	h.clock.Advance(50 * time.Minute)
	for range 4 * 60 { // an hour of 15 s sweeps
		h.clock.Advance(15 * time.Second)
		h.sweep()
	}
	g := h.grant(r.ID)
	if g.Status != access.GrantFailed || g.FailedOp != access.OpRevoke || !h.member("acc-alice") {
		t.Fatalf("during outage: %+v", g)
	}
	if a := h.notes.Alerts(); !strings.Contains(a, "keeps failing") || !strings.Contains(a, "overdue") {
		t.Fatalf("alerts: %q", a)
	}
	down = false
	h.clock.Advance(20 * time.Minute) // the slower retry cadence of failed grants
	h.sweep()
	if g := h.grant(r.ID); g.Status != access.GrantRevoked || h.member("acc-alice") {
		t.Fatalf("after recovery: %+v", g)
	}
	h.checkChain()
}

func TestService_clockJump(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for i := range 5 {
		r := h.submit(alice, "jira-software", time.Duration(i+1)*time.Hour)
		h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID)
		ids = append(ids, r.ID)
	}
	pending := h.submit(bob, "jira-software", time.Hour)
	h.clock.Advance(24 * time.Hour)
	st := h.sweep()
	if st.Expired != 1 || h.notes.Count(access.NoticeExpiring) != 0 {
		t.Fatalf("stats %+v expiring=%d", st, h.notes.Count(access.NoticeExpiring))
	}
	for _, id := range ids {
		if h.grant(id).Status != access.GrantRevoked {
			t.Fatalf("grant %s not revoked", id)
		}
	}
	if r, _ := h.svc.Request(h.ctx(), pending.ID); r.Status != access.RequestExpired {
		t.Fatalf("pending request %s", r.Status)
	}
	if n := h.prov.removes.Load(); n != 1 { // one membership, shared: removed once, when the last grant ended
		t.Fatalf("%d removes", n)
	}
	h.sweep()
	if h.prov.removes.Load() != 1 || h.notes.Count(access.NoticeEnded) != 5 {
		t.Fatal("a due action ran twice")
	}
}

// crashStore stops accepting writes once killed, as a process that died would.
type crashStore struct {
	access.Store
	dead atomic.Bool
}

var errDead = errors.New("process died")

func (c *crashStore) Update(ctx context.Context, fn func(access.Tx) error) error {
	if c.dead.Load() {
		return errDead
	}
	return c.Store.Update(ctx, fn)
}

// killProv kills the store right after the nth call of op succeeds in Atlassian.
type killProv struct {
	access.Provisioner
	st *crashStore
	op string
}

func (k *killProv) Add(ctx context.Context, a access.Account, t access.Target) error {
	err := k.Provisioner.Add(ctx, a, t)
	if k.op == "add" {
		k.st.dead.Store(true)
	}
	return err
}

func (k *killProv) Remove(ctx context.Context, a access.Account, t access.Target) error {
	err := k.Provisioner.Remove(ctx, a, t)
	if k.op == "remove" {
		k.st.dead.Store(true)
	}
	return err
}

func TestService_killPoints(t *testing.T) {
	tests := []struct {
		name string
		op   string // "grant" or "revoke"
		kill string // intent | call | outcome
	}{
		{"grant_after_intent", "grant", "intent"},
		{"grant_after_call", "grant", "call"},
		{"grant_after_outcome", "grant", "outcome"},
		{"revoke_after_intent", "revoke", "intent"},
		{"revoke_after_call", "revoke", "call"},
		{"revoke_after_outcome", "revoke", "outcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			cs := &crashStore{Store: h.store}
			kp := &killProv{Provisioner: h.prov, st: cs}
			first := h.newService(cs)
			first.Provisioner = kp
			r, err := first.Submit(h.ctx(), alice, "jira-software", time.Hour, "x")
			if err != nil {
				t.Fatal(err)
			}
			if tt.op == "revoke" {
				if _, err := first.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID); err != nil {
					t.Fatal(err)
				}
				h.clock.Advance(time.Hour)
			}
			switch tt.kill {
			case "intent": // the intent is written, then the process dies before calling Atlassian
				kp.op = ""
				first.Provisioner = failingProv{}
			case "call":
				kp.op = map[string]string{"grant": "add", "revoke": "remove"}[tt.op]
			}
			if tt.op == "grant" {
				first.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID)
			} else {
				first.Sweep(h.ctx())
			}
			cs.dead.Store(true)

			// Restart: a new process on the same database.
			second := h.newService(h.store)
			h.clock.Advance(5 * time.Minute)
			if _, err := second.Recover(h.ctx()); err != nil {
				t.Fatal(err)
			}
			if _, err := second.Sweep(h.ctx()); err != nil {
				t.Fatal(err)
			}
			g := h.grant(r.ID)
			want := access.GrantActive
			if tt.op == "revoke" {
				want = access.GrantRevoked
			}
			if g.Status != want || h.member("acc-alice") != (want == access.GrantActive) {
				t.Fatalf("after restart: status %s member %v", g.Status, h.member("acc-alice"))
			}
			if n := h.prov.adds.Load(); n > 1 {
				t.Fatalf("%d adds: double add", n)
			}
			if tt.op == "revoke" {
				h.clock.Advance(time.Hour)
				second.Sweep(h.ctx())
				if h.member("acc-alice") {
					t.Fatal("lost revoke")
				}
			}
			h.checkChain()
		})
	}
}

// failingProv stands for a process that dies before its Atlassian call.
type failingProv struct{}

func (failingProv) Has(context.Context, access.Account, access.Target) (bool, error) {
	return false, errDead
}
func (failingProv) Add(context.Context, access.Account, access.Target) error    { return errDead }
func (failingProv) Remove(context.Context, access.Account, access.Target) error { return errDead }

func TestService_breakGlass(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, "breakglass", 30*time.Minute)
	if r.Status != access.RequestApproved || !h.org.HasRole("acc-alice", access.RoleTarget("site-admin", "example.atlassian.net")) {
		t.Fatalf("break-glass not granted at once: %+v", r)
	}
	if !strings.Contains(h.notes.Alerts(), "Break-glass") {
		t.Fatal("break-glass not announced in the alerts channel")
	}
	g := h.grant(r.ID)
	if _, err := h.svc.Extend(h.ctx(), alice, g.ID, 10*time.Minute, "more"); access.ErrorCode(err) != access.EINVALID {
		t.Fatalf("break-glass extended: %v", err)
	}
	var tagged bool
	evs, _ := h.svc.History(h.ctx(), access.UserActor("U0SEC1"), access.AuditFilter{Subject: r.ID})
	for _, e := range evs {
		for _, tg := range e.Tags {
			tagged = tagged || tg == access.TagBreakGlass
		}
	}
	if !tagged {
		t.Fatal("break-glass not tagged in the audit log")
	}
}

type svcCond func(access.Input) (bool, error)

func (f svcCond) Eval(in access.Input) (bool, error) { return f(in) }
func (svcCond) String() string                       { return "test condition" }

func TestService_autoApprove(t *testing.T) {
	h := newHarness(t)
	h.policy.Role("jira-software").AutoApprove = svcCond(func(in access.Input) (bool, error) {
		return in.Request.Duration <= time.Hour && in.Requester.Email == "alice@example.com", nil
	})
	r := h.submit(alice, "jira-software", time.Hour)
	if r.Status != access.RequestApproved || !r.AutoApproved || !h.member("acc-alice") {
		t.Fatalf("not auto-approved: %+v", r)
	}
	r2 := h.submit(alice, "jira-software", 2*time.Hour)
	if r2.Status != access.RequestPending {
		t.Fatalf("auto-approved beyond its condition: %+v", r2)
	}
}

func TestService_extendAndRevoke(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, "jira-software", time.Hour)
	h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID)
	x, err := h.svc.Extend(h.ctx(), alice, r.ID, 2*time.Hour, "more")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), x.ID); err != nil {
		t.Fatal(err)
	}
	if g := h.grant(r.ID); !g.EndsAt.Equal(t0.Add(3 * time.Hour)) {
		t.Fatalf("ends %v", g.EndsAt)
	}
	if _, err := h.svc.Revoke(h.ctx(), bob, r.ID); access.ErrorCode(err) != access.EFORBIDDEN {
		t.Fatalf("stranger revoked: %v", err)
	}
	if _, err := h.svc.Revoke(h.ctx(), access.UserActor("U0IT1"), r.ID); err != nil {
		t.Fatalf("operator revoke: %v", err)
	}
	if h.member("acc-alice") || h.grant(r.ID).Status != access.GrantRevoked {
		t.Fatal("revoke now did not end the grant")
	}
}

// TestService_Recover_shared: with several processes on one store, a new leader's Recover
// leaves an intent another process holds (its lease still runs) to that process, and drives
// one whose lease ran out; a single process re-drives every intent it finds at start.
func TestService_Recover_shared(t *testing.T) {
	h := newHarness(t)
	put := func(id string, lease time.Time) {
		r, _, err := access.NewRequest(id, h.policy.Role("jira-software"), alice, access.Account{ID: "acc-alice", Email: "alice@example.com"}, time.Hour, "r", t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.ApproveByPolicy(t0, "test"); err != nil {
			t.Fatal(err)
		}
		g, _, err := access.NewGrant(r, h.policy.Role("jira-software"), t0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		g.NextAttempt = lease
		if err := h.store.Update(h.ctx(), func(tx access.Tx) error { return tx.PutGrant(g) }); err != nil {
			t.Fatal(err)
		}
	}
	put("HELD", t0.Add(time.Minute))  // another replica is driving it
	put("LEFT", t0.Add(-time.Second)) // its holder died
	h.svc.Shared = true
	if n, err := h.svc.Recover(h.ctx()); err != nil || n != 1 {
		t.Fatalf("shared Recover drove %d intents (%v), want only the one whose lease ran out", n, err)
	}
	if h.grant("HELD").Status != access.GrantProvisioning || h.grant("LEFT").Status != access.GrantActive {
		t.Fatalf("HELD %s, LEFT %s: want HELD left to its holder, LEFT driven", h.grant("HELD").Status, h.grant("LEFT").Status)
	}
	h.svc.Shared = false
	if n, err := h.svc.Recover(h.ctx()); err != nil || n != 1 || h.grant("HELD").Status != access.GrantActive {
		t.Fatalf("single-process Recover: %d (%v), HELD %s", n, err, h.grant("HELD").Status)
	}
}

// racingProv is another replica finishing the same add: when this process's Add reaches
// Atlassian, the other driver has already recorded the item as given.
type racingProv struct {
	access.Provisioner
	store access.Store
}

func (p racingProv) Add(ctx context.Context, a access.Account, t access.Target) error {
	if err := p.Provisioner.Add(ctx, a, t); err != nil {
		return err
	}
	return p.store.Update(ctx, func(tx access.Tx) error {
		gs, err := tx.LiveGrants(access.GrantFilter{AccountID: a.ID, Status: []access.GrantStatus{access.GrantProvisioning}})
		if err != nil {
			return err
		}
		for _, g := range gs {
			for i := range g.Items {
				if g.Items[i].Target == t && !g.Items[i].Added {
					ev := g.ItemAdded(i, t0)
					if err := tx.PutGrant(g); err != nil {
						return err
					}
					if err := tx.AppendAudit(&ev); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// TestService_twoDriversRecordOnce: when another driver of the same intent records the item
// as given first, this one writes nothing more for it: the audit log says "given" once.
func TestService_twoDriversRecordOnce(t *testing.T) {
	h := newHarness(t)
	h.svc.Provisioner = racingProv{Provisioner: h.org, store: h.store}
	r := h.submit(alice, "breakglass", 30*time.Minute)
	if g := h.grant(r.ID); g.Status != access.GrantActive {
		t.Fatalf("grant %s", g.Status)
	}
	evs, err := h.svc.History(h.ctx(), access.UserActor("U0SEC1"), access.AuditFilter{Subject: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	added := 0
	for _, e := range evs {
		if e.Action == access.ActionGrantItemAdded {
			added++
		}
	}
	if added != 1 {
		t.Fatalf("%d item_added events, want 1", added)
	}
	h.checkChain()
}
