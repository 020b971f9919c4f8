package atlassian_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian"
)

// FuzzResponse answers every call of the client with the same fuzzed status and body and
// runs each read and change jitbot makes: no response may panic the client, loop it, or be
// taken for success when it is not one (a change answered with an error status fails).
// `go test` runs the seeds (and testdata/fuzz/FuzzResponse); fuzz with
// `go test -fuzz=FuzzResponse ./atlassian/`.
func FuzzResponse(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{200, `{"data":[{"accountId":"a1","email":"a@example.com","name":"A","status":"active","accountStatus":"active","groups":[],"lastActive":"2024-01-01T00:00:00Z"}],"links":{"next":"c1"}}`},
		{200, `{"data":[{"id":"g1","name":"jira-users","usage":{"users":3},"managementAccess":"FULL"}],"links":{"next":"https://x/p?cursor=c1"}}`},
		{200, `{"accountId":"a1","status":"active","groups":null,"lastActive":"not a time","addedToOrg":"2024-13-45T99:00:00Z"}`},
		{200, `{"data":[{"role":"atlassian/site-admin","resource":"ari:cloud:platform::site/1"}],"links":{}}`},
		{200, `{"data":[{"id":"w1","type":"workspace","attributes":{"name":"x","hostUrl":"https://example.atlassian.net","typeKey":"jira"}}]}`},
		{200, `{"data":[{"id":"d1","type":"domain","attributes":{"name":"example.com","claim":{"status":"VERIFIED"}}}]}`},
		{200, `null`},
		{200, `[]`},
		{200, ``},
		{200, `{"data":[null,{}],"links":{"next":"/admin/v1/x?cursor="}}`},
		{204, ``},
		{400, `{"errors":[{"code":"ADMIN-400-1","title":"bad","detail":"bad request"}]}`},
		{401, `{"code":401,"message":"Unauthorized"}`},
		{403, `{"errors":[{"code":"license-limit","detail":"exceeded the licence limit"}]}`},
		{404, `not json`},
		{409, `{"errors":[{"code":"ALREADY_MEMBER"}]}`},
		{429, `{}`},
	} {
		f.Add(s.status, []byte(s.body))
	}
	var status atomic.Int64
	var body atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write(*body.Load())
	}))
	f.Cleanup(srv.Close)
	// One transport for every input: a client of its own per input would leave its idle
	// connections (and their goroutines and descriptors) behind, until the fuzzing worker dies
	// of them after some tens of thousands of inputs.
	hc := srv.Client()
	f.Fuzz(func(t *testing.T, code int, payload []byte) {
		// 5xx and 429 are retried with backoff: keep the target fast by folding every status
		// into 200..499 without 429.
		if code < 200 || code > 499 || code == 429 {
			code = 200 + (code%300+300)%300
			if code == 429 {
				code = 400
			}
		}
		status.Store(int64(code))
		body.Store(&payload)
		c, err := atlassian.New(atlassian.Config{
			BaseURL: srv.URL, OrgID: "org", APIKey: "key", MaxRetries: -1, HTTPClient: hc,
			RatePerMinute: 1 << 30, Burst: 1 << 20, Timeout: 5 * time.Second,
			Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		acc := access.Account{ID: "a1", Email: "a@example.com"}
		group, role := access.GroupTarget("jira-users"), access.Target{Kind: access.TargetRole, Role: "site-admin", Resource: "ari:cloud:platform::site/1"}

		_, _ = c.UserByEmail(ctx, "a@example.com")
		_, _ = c.User(ctx, "a1")
		_, _ = c.UserDetails(ctx, "a1")
		n := 0
		_ = c.Users(ctx, access.UserQuery{}, func(*access.User) error { n++; return nil })
		_, _ = c.Groups(ctx, []string{"jira-users", "confluence-users"})
		_, _ = c.GroupByID(ctx, "g1")
		_, _ = c.Has(ctx, acc, group)
		_, _ = c.Has(ctx, acc, role)
		_, _ = c.Holding(ctx, group, []access.Account{acc, {ID: "a2"}})
		_, _ = c.Workspaces(ctx)
		_, _ = c.Resource(ctx, "site-admin", "example.atlassian.net")
		_, _ = c.Resource(ctx, "admin", "example.atlassian.net/wiki")
		_, _ = c.CheckResource(ctx, "admin", "ari:cloud:jira::site/1")
		_, _ = c.RoleHolders(ctx, access.GuardedRoles)
		_, _ = c.SameResource(ctx, "site-admin", "example.atlassian.net", "ari:cloud:platform::site/1")
		_ = c.Verify(ctx)
		_, _ = c.Domains(ctx)
		_, _ = c.VerifiedDomains(ctx)
		for _, change := range []func() error{
			func() error { return c.Add(ctx, acc, group) },
			func() error { return c.Remove(ctx, acc, group) },
			func() error { return c.Add(ctx, acc, role) },
			func() error { return c.Remove(ctx, acc, role) },
			func() error { return c.Suspend(ctx, "a1") },
			func() error { return c.Restore(ctx, "a1") },
		} {
			err := change()
			if err == nil && code >= 400 && code != 404 && code != 409 {
				t.Fatalf("a change answered %d %q was taken for success", code, payload)
			}
			if err != nil && strings.TrimSpace(err.Error()) == "" {
				t.Fatal("a failed change has an empty error")
			}
		}
		if ctx.Err() != nil {
			t.Fatal("the client was still busy after 10 s on one response")
		}
	})
}
