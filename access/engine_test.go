package access_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
)

// condFunc is a Condition written in Go, with the CEL source it stands for.
type condFunc struct {
	src string
	fn  func(u *access.User) (bool, error)
}

func (c condFunc) Eval(in access.Input) (bool, error) { return c.fn(in.User) }
func (c condFunc) String() string                     { return c.src }

// inGroupNot matches members of g who are not in not.
func inGroupNot(g, not string) condFunc {
	return condFunc{
		src: fmt.Sprintf("%q in user.groups && !(%q in user.groups)", g, not),
		fn:  func(u *access.User) (bool, error) { return u.InGroup(g) && !u.InGroup(not), nil },
	}
}

func externalUser(domains []string) condFunc {
	return condFunc{src: "user.external", fn: func(u *access.User) (bool, error) { return u.External(domains), nil }}
}

var engineT0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

type fixture struct {
	org   *accesstest.Org
	store *accesstest.MemStore
	notes *accesstest.Notices
	pol   *access.Policy
	now   time.Time
	eng   *access.Engine
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{org: accesstest.NewOrg(), store: accesstest.NewMemStore(nil), notes: &accesstest.Notices{}, now: engineT0}
	f.pol = &access.Policy{
		Version:      1,
		Organization: access.Organization{Domains: []string{"example.com"}},
		Channels:     access.Channels{Audit: "C0AUDIT", Alerts: "C0ALERTS"},
		Sync: []access.SyncRule{{
			Name: "engineering-jira", Match: inGroupNot("scim-engineering", "contractors"),
			AddTo: []string{"jira-users"}, RemoveUnmatched: true,
		}},
		Sweeps: []access.Sweep{{
			Name: "external-users", Match: externalUser([]string{"example.com"}),
			Exclude: []string{"partner@agency.example"}, Action: access.SweepSuspend, Grace: 72 * time.Hour,
		}},
		Guard: access.Guard{
			ProtectedGroups: []string{"site-admins"},
			StandingMembers: map[string][]string{"site-admins": {"breakglass@example.com"}},
			OnDrift:         access.DriftReport,
		},
	}
	f.eng = &access.Engine{
		Store: accesstest.Twice(f.store), Org: f.org, Provisioner: f.org, Notifier: f.notes,
		Policy: func() *access.Policy { return f.pol },
		Now:    func() time.Time { return f.now },
	}
	f.org.AddGroup("jira-users")
	f.org.AddGroup("contractors")
	f.org.AddGroup("scim-engineering")
	f.org.AddGroup("site-admins")
	return f
}

func (f *fixture) user(id string, managed bool, groups ...string) {
	domain := "example.com"
	if !managed {
		domain = "agency.example"
	}
	email := id + "@" + domain
	f.org.AddUser(access.User{AccountID: id, Email: email, Name: id, Managed: managed, Groups: groups})
}

// grant stores a live grant of group to account id.
func (f *fixture) grant(t *testing.T, id, group string) {
	t.Helper()
	g := &access.Grant{ID: "grant-" + id, Role: "jira", Account: access.Account{ID: id}, Status: access.GrantActive,
		Items:     []access.GrantItem{{Target: access.GroupTarget(group), Checked: true, Added: true}},
		GrantedAt: engineT0, EndsAt: engineT0.Add(time.Hour), CreatedAt: engineT0}
	if err := f.store.Update(context.Background(), func(tx access.Tx) error { return tx.PutGrant(g) }); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) run(t *testing.T, kind access.RunKind, name string, dry bool) *access.Run {
	t.Helper()
	r, err := f.eng.Run(context.Background(), kind, name, dry)
	if err != nil {
		t.Fatalf("Run(%s %s): %v", kind, name, err)
	}
	return r
}

func (f *fixture) audit(t *testing.T, action access.Action) []access.AuditEvent {
	t.Helper()
	var out []access.AuditEvent
	err := f.store.View(context.Background(), func(tx access.Tx) error {
		es, err := tx.AuditEvents(access.AuditFilter{})
		for _, e := range es {
			if e.Action == action {
				out = append(out, e)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) runs(t *testing.T, name string) []*access.Run {
	t.Helper()
	var out []*access.Run
	err := f.store.View(context.Background(), func(tx access.Tx) (err error) {
		out, err = tx.Runs(name, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func members(f *fixture, g string) string { return strings.Join(f.org.Members(g), ",") }

func ops(r *access.Run) string {
	var s []string
	for _, c := range r.Changes {
		x := string(c.Op) + ":" + c.Account.ID
		if c.Group != "" {
			x += "@" + c.Group
		}
		switch {
		case c.Skipped != "":
			x += "(skipped)"
		case c.Done:
			x += "(done)"
		}
		s = append(s, x)
	}
	return strings.Join(s, " ")
}

func wantAlert(t *testing.T, f *fixture, parts ...string) {
	t.Helper()
	alerts := f.notes.Texts(access.NoticeAlert)
	if len(alerts) != 1 {
		t.Fatalf("alerts = %q, want one", alerts)
	}
	for _, p := range parts {
		if !strings.Contains(alerts[0], p) {
			t.Errorf("alert %q does not say %q", alerts[0], p)
		}
	}
}

func TestEngine_Run(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture)
		check func(t *testing.T, f *fixture)
	}{
		{
			name: "sync_adds_matching_and_removes_unmatched",
			setup: func(t *testing.T, f *fixture) {
				f.user("alice", true, "scim-engineering")
				f.user("bob", true, "scim-engineering", "contractors")
				f.user("carol", true, "jira-users")
				f.user("dave", true, "jira-users", "scim-engineering")
				f.user("erin", true, "jira-users")
				f.grant(t, "erin", "jira-users")
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunSync, "engineering-jira", false)
				if r.Outcome != access.OutcomeOK {
					t.Fatalf("outcome %s: %s", r.Outcome, r.Error)
				}
				if got, want := ops(r), "add:alice@jira-users(done) remove:carol@jira-users(done) remove:erin@jira-users(skipped)"; got != want {
					t.Errorf("changes = %s, want %s", got, want)
				}
				if got := members(f, "jira-users"); got != "alice,dave,erin" {
					t.Errorf("jira-users = %s", got)
				}
				if n := len(f.audit(t, access.ActionChange)); n != 2 {
					t.Errorf("%d change events, want 2", n)
				}
				if n := len(f.audit(t, access.ActionRun)); n != 1 {
					t.Errorf("%d run events, want 1", n)
				}
				if rs := f.runs(t, "engineering-jira"); len(rs) != 1 || rs[0].Outcome != access.OutcomeOK || len(rs[0].Changes) != 3 {
					t.Errorf("stored runs = %+v", rs)
				}
				if a := f.notes.Texts(access.NoticeAudit); len(a) != 1 || !strings.Contains(a[0], "carol@example.com") {
					t.Errorf("audit notices = %q", a)
				}
				if a := f.notes.Texts(access.NoticeAlert); len(a) != 0 {
					t.Errorf("alerts = %q", a)
				}
			},
		},
		{
			name: "second_run_with_nothing_changed_makes_zero_writes",
			setup: func(t *testing.T, f *fixture) {
				f.user("alice", true, "scim-engineering")
				f.user("carol", true, "jira-users")
			},
			check: func(t *testing.T, f *fixture) {
				f.run(t, access.RunSync, "engineering-jira", false)
				f.org.ResetCalls()
				r := f.run(t, access.RunSync, "engineering-jira", false)
				if len(r.Changes) != 0 || f.org.Writes() != 0 || r.Outcome != access.OutcomeOK {
					t.Errorf("second run: outcome %s, changes %s, %d writes", r.Outcome, ops(r), f.org.Writes())
				}
				if n := len(f.notes.Texts(access.NoticeAudit)); n != 1 {
					t.Errorf("%d audit notices, want 1 (an empty run posts nothing)", n)
				}
			},
		},
		{
			name: "max_changes_stops_before_any_change",
			setup: func(t *testing.T, f *fixture) {
				f.pol.Guard.MaxChanges = 2
				f.user("alice", true, "scim-engineering")
				f.user("bob", true, "scim-engineering")
				f.user("carol", true, "jira-users")
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunSync, "engineering-jira", false)
				if r.Outcome != access.OutcomeStopped || f.org.Writes() != 0 {
					t.Fatalf("outcome %s, %d writes", r.Outcome, f.org.Writes())
				}
				if got := members(f, "jira-users"); got != "carol" {
					t.Errorf("jira-users = %s, want unchanged", got)
				}
				wantAlert(t, f, "Sync rule engineering-jira", "max_changes (2)", "3 changes")
				if n := len(f.audit(t, access.ActionChange)); n != 0 {
					t.Errorf("%d change events", n)
				}
			},
		},
		{
			name: "dry_run_changes_nothing",
			setup: func(t *testing.T, f *fixture) {
				f.user("alice", true, "scim-engineering")
				f.user("carol", true, "jira-users")
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunSync, "engineering-jira", true)
				if r.Outcome != access.OutcomeDryRun || !r.DryRun || f.org.Writes() != 0 {
					t.Fatalf("outcome %s, %d writes", r.Outcome, f.org.Writes())
				}
				if got, want := ops(r), "add:alice@jira-users remove:carol@jira-users"; got != want {
					t.Errorf("plan = %s, want %s", got, want)
				}
				if got := members(f, "jira-users"); got != "carol" {
					t.Errorf("jira-users = %s", got)
				}
				if rs := f.runs(t, ""); len(rs) != 1 || !rs[0].DryRun {
					t.Errorf("stored runs = %+v", rs)
				}
				if a := f.notes.Texts(access.NoticeAudit); len(a) != 1 || !strings.Contains(a[0], "dry run") {
					t.Errorf("audit notices = %q", a)
				}
				p, err := f.eng.Plan(context.Background(), access.RunSync, "engineering-jira")
				if err != nil || ops(p) != ops(r) {
					t.Errorf("Plan = %s, %v", ops(p), err)
				}
				if rs := f.runs(t, ""); len(rs) != 1 {
					t.Errorf("Plan stored a run: %d runs", len(rs))
				}
			},
		},
		{
			name: "missing_group_stops_the_run",
			setup: func(t *testing.T, f *fixture) {
				f.pol.Sync[0].AddTo = []string{"jira-users", "confluence-users"}
				f.user("alice", true, "scim-engineering")
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunSync, "engineering-jira", false)
				if r.Outcome != access.OutcomeStopped || f.org.Writes() != 0 {
					t.Fatalf("outcome %s, %d writes", r.Outcome, f.org.Writes())
				}
				wantAlert(t, f, "Sync rule engineering-jira", "confluence-users", "does not exist")
				f.org.AddGroup("confluence-users")
				if r := f.run(t, access.RunSync, "engineering-jira", false); r.Outcome != access.OutcomeOK || ops(r) != "add:alice@jira-users(done) add:alice@confluence-users(done)" {
					t.Errorf("next run: %s %s", r.Outcome, ops(r))
				}
			},
		},
		{
			name: "cel_runtime_error_stops_the_run",
			setup: func(t *testing.T, f *fixture) {
				f.pol.Sync[0].Match = condFunc{src: "user.department == \"eng\"", fn: func(u *access.User) (bool, error) {
					if u.AccountID == "bob" {
						return false, errors.New("no such key: department")
					}
					return true, nil
				}}
				f.user("alice", true)
				f.user("bob", true)
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunSync, "engineering-jira", false)
				if r.Outcome != access.OutcomeStopped || f.org.Writes() != 0 || len(r.Changes) != 0 {
					t.Fatalf("outcome %s, changes %s, %d writes", r.Outcome, ops(r), f.org.Writes())
				}
				wantAlert(t, f, "Sync rule engineering-jira", "bob@example.com", "no such key: department")
			},
		},
		{
			name: "failed_part_way_resumes_next_run",
			setup: func(t *testing.T, f *fixture) {
				f.user("alice", true, "scim-engineering")
				f.user("bob", true, "scim-engineering")
				f.user("carol", true, "jira-users")
				f.org.Fail = func(op, id, target string) error {
					if op == "add" && id == "bob" {
						return access.Errorf(access.EUNAVAILABLE, "Atlassian is not answering.")
					}
					return nil
				}
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunSync, "engineering-jira", false)
				if r.Outcome != access.OutcomeFailed || ops(r) != "add:alice@jira-users(done) add:bob@jira-users remove:carol@jira-users" {
					t.Fatalf("outcome %s, %s", r.Outcome, ops(r))
				}
				wantAlert(t, f, "failed after 1 of 3 changes", "Atlassian is not answering")
				f.org.Fail = nil
				r = f.run(t, access.RunSync, "engineering-jira", false)
				if r.Outcome != access.OutcomeOK || ops(r) != "add:bob@jira-users(done) remove:carol@jira-users(done)" {
					t.Errorf("resumed: %s %s", r.Outcome, ops(r))
				}
				f.org.ResetCalls()
				if r := f.run(t, access.RunSync, "engineering-jira", false); len(r.Changes) != 0 || f.org.Writes() != 0 {
					t.Errorf("third run: %s, %d writes", ops(r), f.org.Writes())
				}
			},
		},
		{
			name: "external_user_suspended_only_after_grace_excluded_never",
			setup: func(t *testing.T, f *fixture) {
				f.user("alice", true)
				f.user("ext", false)
				f.org.AddUser(access.User{AccountID: "partner", Email: "partner@agency.example", Managed: false})
				f.org.AddUser(access.User{AccountID: "gone", Email: "gone@other.example", Status: "suspended"})
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunSweep, "external-users", false)
				if len(r.Changes) != 0 || f.org.Status("ext") != "active" {
					t.Fatalf("first run acted within grace: %s", ops(r))
				}
				if r.InGrace != 1 || !r.GraceEnd.Equal(engineT0.Add(72*time.Hour)) {
					t.Errorf("in grace %d until %s, want ext until %s", r.InGrace, r.GraceEnd, engineT0.Add(72*time.Hour))
				}
				wantNote := "1 more matched, within the sweep's grace (the first is acted on from " + engineT0.Add(72*time.Hour).UTC().Format(time.RFC3339) + ")"
				f.run(t, access.RunSweep, "external-users", true)
				if got := f.notes.Texts(access.NoticeAudit); len(got) == 0 || !strings.Contains(got[len(got)-1], wantNote) {
					t.Errorf("audit notices %q, want the last to say %q", got, wantNote)
				}
				f.now = engineT0.Add(71 * time.Hour)
				if r := f.run(t, access.RunSweep, "external-users", false); len(r.Changes) != 0 {
					t.Fatalf("acted within grace at 71h: %s", ops(r))
				}
				f.now = engineT0.Add(72 * time.Hour)
				r = f.run(t, access.RunSweep, "external-users", false)
				if ops(r) != "suspend:ext(done)" || f.org.Status("ext") != "suspended" {
					t.Errorf("after grace: %s, ext %s", ops(r), f.org.Status("ext"))
				}
				if f.org.Status("partner") != "active" {
					t.Errorf("excluded partner is %s", f.org.Status("partner"))
				}
				f.org.ResetCalls()
				if r := f.run(t, access.RunSweep, "external-users", false); len(r.Changes) != 0 || f.org.Writes() != 0 {
					t.Errorf("suspended users are not suspended again: %s", ops(r))
				}
			},
		},
		{
			name: "sweep_forgets_users_who_stop_matching",
			setup: func(t *testing.T, f *fixture) {
				f.user("ext", false)
			},
			check: func(t *testing.T, f *fixture) {
				f.run(t, access.RunSweep, "external-users", false)
				f.org.AddUser(access.User{AccountID: "ext", Email: "ext@example.com", Managed: true})
				f.now = engineT0.Add(24 * time.Hour)
				f.run(t, access.RunSweep, "external-users", false)
				f.org.AddUser(access.User{AccountID: "ext", Email: "ext@agency.example"})
				f.now = engineT0.Add(80 * time.Hour)
				if r := f.run(t, access.RunSweep, "external-users", false); len(r.Changes) != 0 {
					t.Errorf("grace counted from before the user stopped matching: %s", ops(r))
				}
			},
		},
		{
			name: "drift_reported",
			setup: func(t *testing.T, f *fixture) {
				f.org.AddUser(access.User{AccountID: "bg", Email: "breakglass@example.com", Managed: true, Groups: []string{"site-admins"}})
				f.user("granted", true, "site-admins")
				f.grant(t, "granted", "site-admins")
				f.user("mallory", true, "site-admins")
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunGuard, "guard", false)
				if r.Outcome != access.OutcomeOK || ops(r) != "report:mallory@site-admins(done)" || f.org.Writes() != 0 {
					t.Fatalf("outcome %s, %s, %d writes", r.Outcome, ops(r), f.org.Writes())
				}
				if a := f.notes.Texts(access.NoticeAudit); len(a) != 1 || !strings.Contains(a[0], "mallory@example.com") {
					t.Errorf("audit notices = %q", a)
				}
			},
		},
		{
			name: "drift_reverted_never_below_min_members",
			setup: func(t *testing.T, f *fixture) {
				f.pol.Guard.OnDrift = access.DriftRevert
				f.pol.Guard.MinMembers = map[string]int{"site-admins": 1}
				f.user("mallory", true, "site-admins")
				f.user("trudy", true, "site-admins")
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunGuard, "guard", false)
				if r.Outcome != access.OutcomeOK || ops(r) != "remove:mallory@site-admins(done) remove:trudy@site-admins(skipped)" {
					t.Fatalf("outcome %s %s: %s", r.Outcome, r.Error, ops(r))
				}
				if got := members(f, "site-admins"); got != "trudy" {
					t.Errorf("site-admins = %s", got)
				}
			},
		},
		{
			name: "revert_that_would_empty_a_protected_group_stops",
			setup: func(t *testing.T, f *fixture) {
				f.pol.Guard.OnDrift = access.DriftRevert
				f.user("mallory", true, "site-admins")
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunGuard, "guard", false)
				if r.Outcome != access.OutcomeStopped || f.org.Writes() != 0 {
					t.Fatalf("outcome %s, %d writes", r.Outcome, f.org.Writes())
				}
				wantAlert(t, f, "guard", "empty protected group site-admins")
			},
		},
		{
			name: "sync_rule_keeps_a_standing_member",
			setup: func(t *testing.T, f *fixture) {
				f.pol.Guard.StandingMembers["jira-users"] = []string{"carol@example.com"}
				f.user("carol", true, "jira-users")
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunSync, "engineering-jira", false)
				if ops(r) != "remove:carol@jira-users(skipped)" || f.org.Writes() != 0 {
					t.Errorf("%s, %d writes", ops(r), f.org.Writes())
				}
			},
		},
		{
			name: "sweep_removal_keeps_what_a_sync_rule_wants",
			setup: func(t *testing.T, f *fixture) {
				f.pol.Sweeps[0].Action = access.SweepRemoveFromGroups
				f.pol.Sweeps[0].Groups = []string{"jira-users"}
				f.pol.Sweeps[0].Grace = 0
				f.user("ext1", false, "jira-users")
				f.user("ext2", false, "jira-users", "scim-engineering")
			},
			check: func(t *testing.T, f *fixture) {
				r := f.run(t, access.RunSweep, "external-users", false)
				if ops(r) != "remove:ext1@jira-users(done) remove:ext2@jira-users(skipped)" {
					t.Errorf("%s: %s", r.Outcome, ops(r))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(t, f)
			f.org.ResetCalls()
			tt.check(t, f)
		})
	}
}

func TestEngine_Wanted(t *testing.T) {
	f := newFixture(t)
	f.pol.Guard.StandingMembers["jira-users"] = []string{"sam@example.com"}
	f.user("alice", true, "scim-engineering", "jira-users")
	f.user("carol", true, "jira-users")
	f.user("sam", true, "jira-users")
	f.grant(t, "alice", "jira-users")
	f.grant(t, "carol", "jira-users")
	tests := []struct {
		id, group, want string
	}{
		{"alice", "jira-users", "sync rule engineering-jira"}, // held by a rule and a grant: kept when the grant ends
		{"carol", "jira-users", ""},                           // held by the grant only
		{"sam", "jira-users", "standing member of jira-users"},
		{"alice", "site-admins", ""},
	}
	for _, tt := range tests {
		t.Run(tt.id+"_"+tt.group, func(t *testing.T) {
			u, err := f.org.User(context.Background(), tt.id)
			if err != nil {
				t.Fatal(err)
			}
			why, ok, err := f.eng.Wanted(context.Background(), u, tt.group)
			if err != nil || why != tt.want || ok != (tt.want != "") {
				t.Errorf("Wanted = %q, %v, %v; want %q", why, ok, err, tt.want)
			}
		})
	}
}

func TestEngine_Run_unknown_rule(t *testing.T) {
	f := newFixture(t)
	if _, err := f.eng.Run(context.Background(), access.RunSync, "nope", false); access.ErrorCode(err) != access.ENOTFOUND {
		t.Errorf("err = %v, want ENOTFOUND", err)
	}
}

// TestEngine_Run_syncToProtected: a sync rule adds to a protected group only when it says
// allow_protected (policy check refuses the file otherwise; the engine refuses too).
func TestEngine_Run_syncToProtected(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(map[bool]string{false: "refused", true: "allowed"}[allow], func(t *testing.T) {
			f := newFixture(t)
			f.user("alice", true, "scim-engineering")
			rule := f.pol.SyncRule("engineering-jira")
			rule.AddTo, rule.AllowProtected = []string{"site-admins"}, allow
			r, err := f.eng.Run(context.Background(), access.RunSync, "engineering-jira", false)
			if in := f.org.Member("site-admins", "alice"); in != allow {
				t.Errorf("alice in site-admins = %v (run %+v, %v)", in, r, err)
			}
			if !allow && (r == nil || r.Outcome == access.OutcomeOK) && err == nil {
				t.Errorf("run %+v, %v; want it stopped", r, err)
			}
		})
	}
}

// fullStore is a store that can be read and not written, as on a full disk.
type fullStore struct{ access.Store }

func (fullStore) Update(context.Context, func(access.Tx) error) error {
	return errors.New("write jitbot.db: no space left on device")
}

// A run whose store cannot be written changes nothing in Atlassian: each change would be made
// and then found impossible to audit (found by the crash suite's full store: the guard removed
// a drifted admin and failed to record it).
func TestEngine_Run_storeNotWritable(t *testing.T) {
	f := newFixture(t)
	f.pol.Guard.OnDrift = access.DriftRevert
	f.user("mallory", true, "site-admins")
	f.user("alice", true, "scim-engineering")
	f.eng.Store = fullStore{f.store}
	for _, run := range []struct {
		kind access.RunKind
		name string
	}{{access.RunGuard, "guard"}, {access.RunSync, "engineering-jira"}} {
		r, err := f.eng.Run(context.Background(), run.kind, run.name, false)
		if err == nil && (r == nil || r.Outcome == access.OutcomeOK) {
			t.Errorf("%s run with a store that cannot be written: %+v; want it failed", run.name, r)
		}
	}
	if got := members(f, "site-admins"); got != "mallory" {
		t.Errorf("site-admins = %q; the guard changed Atlassian with nowhere to record it", got)
	}
	if got := members(f, "jira-users"); got != "" {
		t.Errorf("jira-users = %q; the sync rule changed Atlassian with nowhere to record it", got)
	}
}

// TestEngine_Run_exclusive: with Exclusive set (several replicas), a run that changes
// Atlassian holds its rule for its length; a rule held elsewhere is not run and changes
// nothing; a dry run needs no hold.
func TestEngine_Run_exclusive(t *testing.T) {
	f := newFixture(t)
	f.user("alice", true, "scim-engineering")
	var held []string
	released := 0
	elsewhere := false
	f.eng.Exclusive = func(_ context.Context, key string) (func(), error) {
		if elsewhere {
			return nil, errors.New("held by another replica")
		}
		held = append(held, key)
		return func() { released++ }, nil
	}
	elsewhere = true
	_, err := f.eng.Run(context.Background(), access.RunSync, "engineering-jira", false)
	if !access.IsRunning(err) || access.ErrorCode(err) != access.ECONFLICT || !strings.Contains(access.ErrorMessage(err), "another jitbot replica") {
		t.Fatalf("run held elsewhere: %v", err)
	}
	if m := members(f, "jira-users"); m != "" || len(f.runs(t, "engineering-jira")) != 0 {
		t.Fatalf("a run held elsewhere changed %q or was recorded", m)
	}
	f.run(t, access.RunSync, "engineering-jira", true) // dry run: no hold asked
	if len(held) != 0 {
		t.Fatalf("a dry run took the hold: %v", held)
	}
	elsewhere = false
	f.run(t, access.RunSync, "engineering-jira", false)
	if !slices.Equal(held, []string{"sync/engineering-jira"}) || released != 1 || members(f, "jira-users") != "alice" {
		t.Fatalf("held %v, released %d, members %q", held, released, members(f, "jira-users"))
	}
}
