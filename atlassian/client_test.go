package atlassian_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/atlassian/atlassiantest"
)

// sleeps records the waits the client asks for; nothing really waits.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

type fixture struct {
	srv    *atlassiantest.Server
	c      *atlassian.Client
	sleeps *sleeps
	alice  string // managed, in jira-users
	bob    string // unmanaged
}

func setup(t *testing.T, opts ...atlassiantest.Option) *fixture {
	t.Helper()
	srv := atlassiantest.NewServer(t, append([]atlassiantest.Option{atlassiantest.WithSpecValidation(t)}, opts...)...)
	f := &fixture{srv: srv, sleeps: &sleeps{}}
	f.alice = srv.AddUser(atlassiantest.User{Email: "alice@example.com", Name: "Alice", LastActive: time.Date(2026, 8, 1, 9, 0, 0, 0, time.UTC)})
	f.bob = srv.AddUser(atlassiantest.User{Email: "bob@contractor.example", Name: "Bob"})
	srv.AddGroup(atlassiantest.Group{Name: "jira-users"})
	srv.AddGroup(atlassiantest.Group{Name: "scim-engineering", ExternalSynced: true})
	srv.AddGroup(atlassiantest.Group{Name: "confluence-users", LicenceFull: true})
	srv.AddMember("jira-users", f.alice)
	f.c = newClient(t, srv, srv.APIKey(), f.sleeps)
	return f
}

func newClient(t *testing.T, srv *atlassiantest.Server, key string, s *sleeps) *atlassian.Client {
	t.Helper()
	c, err := atlassian.New(atlassian.Config{
		BaseURL: srv.URL(), OrgID: srv.OrgID(), APIKey: atlassian.Secret(key),
		Limiter: rate.NewLimiter(rate.Inf, 1), MaxRetries: 3,
		Sleep: s.sleep, Rand: func() float64 { return 0.5 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, err error, code access.Code, contains ...string) {
	t.Helper()
	if got := access.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
	for _, s := range contains {
		if !strings.Contains(access.ErrorMessage(err), s) {
			t.Errorf("message %q does not mention %q", access.ErrorMessage(err), s)
		}
	}
}

func TestNew_requiresSettings(t *testing.T) {
	_, err := atlassian.New(atlassian.Config{})
	if err == nil || !strings.Contains(err.Error(), "JITBOT_ATLASSIAN_ORG_ID") || !strings.Contains(err.Error(), "JITBOT_ATLASSIAN_API_KEY") {
		t.Fatalf("err = %v, want both settings named", err)
	}
}

func TestSecret_redacts(t *testing.T) {
	s := atlassian.Secret("hunter2")
	cfg := atlassian.Config{APIKey: s}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v", s, s, cfg)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if b, _ := s.MarshalJSON(); string(b) != `"[redacted]"` {
		t.Errorf("MarshalJSON = %s", b)
	}
}

func TestClient_UserByEmail(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	u, err := f.c.UserByEmail(ctx, "ALICE@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.AccountID != f.alice || !u.Managed || u.Status != "active" || !u.InGroup("jira-users") || u.LastActive.IsZero() || u.AddedToOrg.IsZero() {
		t.Errorf("user = %+v", u)
	}
	b, err := f.c.UserByEmail(ctx, "bob@contractor.example")
	if err != nil || b.Managed {
		t.Fatalf("bob = %+v, %v; want unmanaged", b, err)
	}
	_, err = f.c.UserByEmail(ctx, "nobody@example.com")
	wantCode(t, err, access.ENOTFOUND, "nobody@example.com")
}

func TestClient_User(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	u, err := f.c.User(ctx, f.alice)
	if err != nil || u.Email != "alice@example.com" || len(u.GroupIDs) != 1 {
		t.Fatalf("User = %+v, %v", u, err)
	}
	d, err := f.c.UserDetails(ctx, f.alice)
	if err != nil || d.Email != "alice@example.com" {
		t.Fatalf("UserDetails = %+v, %v", d, err)
	}
	_, err = f.c.User(ctx, "missing")
	wantCode(t, err, access.ENOTFOUND, "missing")
	_, err = f.c.UserDetails(ctx, "missing")
	wantCode(t, err, access.ENOTFOUND, "missing")
}

func TestClient_Groups(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	gs, err := f.c.Groups(ctx, []string{"JIRA-users", "scim-engineering"})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 || gs[0].Name != "jira-users" || gs[0].Users != 1 || !gs[0].Writable() || gs[1].Writable() {
		t.Errorf("groups = %+v", gs)
	}
	g, err := f.c.GroupByID(ctx, gs[0].ID)
	if err != nil || g.Name != "jira-users" {
		t.Errorf("GroupByID = %+v, %v", g, err)
	}
	_, err = f.c.Groups(ctx, []string{"jira-users", "no-such-group"})
	wantCode(t, err, access.ENOTFOUND, "no-such-group")
}

func TestClient_Groups_manyNames(t *testing.T) {
	f := setup(t)
	f.srv.Seed(0, 250)
	names := make([]string, 250)
	for i := range names {
		names[i] = fmt.Sprintf("group-%05d", i+1)
	}
	before := f.srv.Calls()
	gs, err := f.c.Groups(context.Background(), names)
	if err != nil || len(gs) != 250 {
		t.Fatalf("got %d groups, %v", len(gs), err)
	}
	if calls := f.srv.Calls() - before; calls != 3 {
		t.Errorf("calls = %d, want 3 (100 names per call)", calls)
	}
}

func TestClient_Users_paging(t *testing.T) {
	f := setup(t)
	f.srv.Seed(450, 20)
	ctx := context.Background()
	tests := []struct {
		name      string
		q         access.UserQuery
		want      int
		wantCalls int
	}{
		{"whole_org", access.UserQuery{}, 452, 5},
		{"unmanaged", access.UserQuery{Unmanaged: true}, 46, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.srv.Calls()
			n, seen := 0, map[string]bool{}
			err := f.c.Users(ctx, tt.q, func(u *access.User) error {
				n++
				if seen[u.AccountID] {
					t.Errorf("user %s twice", u.AccountID)
				}
				seen[u.AccountID] = true
				if tt.q.Unmanaged && u.Managed {
					t.Errorf("managed user %s in unmanaged query", u.Email)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want || f.srv.Calls()-before != tt.wantCalls {
				t.Errorf("users = %d calls = %d, want %d and %d", n, f.srv.Calls()-before, tt.want, tt.wantCalls)
			}
		})
	}
	t.Run("by_groups", func(t *testing.T) {
		gs, err := f.c.Groups(ctx, []string{"group-00001", "group-00002"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = f.c.Users(ctx, access.UserQuery{GroupIDs: []string{gs[0].ID, gs[1].ID}}, func(u *access.User) error {
			if !u.InGroup("group-00001") && !u.InGroup("group-00002") {
				t.Errorf("user %s not in the groups: %v", u.Email, u.Groups)
			}
			n++
			return nil
		})
		if err != nil || n == 0 {
			t.Fatalf("n = %d, err = %v", n, err)
		}
	})
	t.Run("stops_on_callback_error", func(t *testing.T) {
		stop := errors.New("stop")
		before := f.srv.Calls()
		err := f.c.Users(ctx, access.UserQuery{}, func(*access.User) error { return stop })
		if !errors.Is(err, stop) || f.srv.Calls()-before != 1 {
			t.Fatalf("err = %v, calls = %d", err, f.srv.Calls()-before)
		}
	})
}

func TestClient_SuspendRestore(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ { // idempotent
		if err := f.c.Suspend(ctx, f.bob); err != nil {
			t.Fatal(err)
		}
	}
	if u, _ := f.srv.User(f.bob); !u.Suspended {
		t.Fatal("bob not suspended")
	}
	if d, _ := f.c.UserDetails(ctx, f.bob); d.Status != "suspended" {
		t.Errorf("read back status = %q", d.Status)
	}
	if err := f.c.Restore(ctx, f.bob); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.srv.User(f.bob); u.Suspended {
		t.Fatal("bob still suspended")
	}
	wantCode(t, f.c.Suspend(ctx, "missing"), access.ENOTFOUND, "missing")
}

func TestClient_Domains(t *testing.T) {
	f := setup(t)
	ds, err := f.c.VerifiedDomains(context.Background())
	if err != nil || len(ds) != 1 || ds[0] != "example.com" {
		t.Fatalf("verified = %v, %v", ds, err)
	}
}
