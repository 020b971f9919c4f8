package atlassiantest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of a new Server.
const (
	DefaultOrgID  = "9a1d2c3b-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
	DefaultAPIKey = "fake-atlassian-api-key"
	DefaultSite   = "example.atlassian.net"
)

const (
	orgAdmin  = "atlassian/org-admin"
	siteAdmin = "atlassian/site-admin"
)

// Request is one request the fake received.
type Request struct {
	Method, Path, Query, Body string
	Route                     string // the route name, e.g. RouteUsersSearch; "" when none matched
	Status                    int
}

// Route names, for fault injection per route and for reading the request log.
const (
	RouteUsersSearch      = "users.search"
	RouteGroupsSearch     = "groups.search"
	RouteUserGet          = "users.get"
	RouteGroupGet         = "groups.get"
	RouteUserRoles        = "users.role-assignments"
	RouteMembershipAdd    = "memberships.add"
	RouteMembershipRemove = "memberships.remove"
	RouteSuspend          = "users.suspend"
	RouteRestore          = "users.restore"
	RouteRoleAssign       = "roles.assign"
	RouteRoleRevoke       = "roles.revoke"
	RouteOrgRoleAssign    = "org-roles.assign"
	RouteOrgRoleRevoke    = "org-roles.revoke"
	RouteWorkspaces       = "workspaces"
	RouteDomains          = "domains"
)

// Server is a fake Atlassian organization. All methods are safe for concurrent use.
type Server struct {
	mu    sync.Mutex
	orgID string
	key   string
	seq   int

	users      map[string]*user
	order      []string // account IDs in insertion order: the paging order
	groups     map[string]*group
	gorder     []string
	workspaces []Workspace
	site       string // platform ARI of the default site
	domains    []domain

	now       func() time.Time
	roleDelay time.Duration
	removeNon int // status for removing a non-member: 404 (default) or 204

	faults      []*fault
	latency     time.Duration
	outage      bool
	outFrom     time.Time
	outTo       time.Time
	outStatus   int
	limiter     *rate.Limiter
	throttled   int
	licenceFull bool

	calls    int
	requests []Request
	logBody  bool

	routeNames map[string]string
	http       *httptest.Server
	handler    http.Handler
	spec       *specValidator
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the fake's clock (role consistency delay, outage window, rate limit).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithOrgID sets the organization ID.
func WithOrgID(id string) Option { return func(s *Server) { s.orgID = id } }

// WithAPIKey sets the API key the fake accepts.
func WithAPIKey(key string) Option { return func(s *Server) { s.key = key } }

// WithoutRequestBodies keeps request bodies out of the log (for big benchmarks).
func WithoutRequestBodies() Option { return func(s *Server) { s.logBody = false } }

// New starts a fake org seeded with the demo basics: the verified domain example.com, the
// unverified contractor.example, the site example.atlassian.net (Jira at its root, Confluence
// under /wiki, see AddSite) and the protected groups
// org-admins (not modifiable) and site-admins. Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		orgID: DefaultOrgID, key: DefaultAPIKey,
		users: map[string]*user{}, groups: map[string]*group{},
		now: time.Now, removeNon: http.StatusNotFound, outStatus: http.StatusInternalServerError,
		logBody: true, routeNames: map[string]string{},
	}
	for _, o := range opts {
		o(s)
	}
	s.AddDomain("example.com", true)
	s.AddDomain("contractor.example", false)
	s.site = s.AddSite(DefaultSite)
	s.AddGroup(Group{Name: "org-admins", ReadOnly: true})
	s.AddGroup(Group{Name: "site-admins"})
	s.handler = s.routes()
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	if s.spec != nil {
		s.spec.start(s.http.URL)
	}
	return s
}

// NewServer starts a fake org for a test and closes it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	t.Cleanup(s.Close)
	return s
}

// URL is the base URL to give the client (its BaseURL); paths are under URL()+"/admin".
func (s *Server) URL() string { return s.http.URL }

// Close stops the server.
func (s *Server) Close() { s.http.Close() }

// OrgID returns the organization ID.
func (s *Server) OrgID() string { return s.orgID }

// APIKey returns the accepted API key.
func (s *Server) APIKey() string { return s.key }

// SiteID returns the platform ARI of the default site, ari:cloud:platform::site/<cloudId>.
func (s *Server) SiteID() string { return s.site }

// ProductID returns the ARI of a product (jira, confluence) of the default site, the form
// the Role API accepts for product roles.
func (s *Server) ProductID(product string) string {
	return strings.Replace(s.site, ":platform:", ":"+product+":", 1)
}

// Calls returns the number of requests received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Throttled returns how many requests got an injected or rate-limit 429.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// SetRoleDelay makes platform role changes visible to reads only after d on the fake clock.
func (s *Server) SetRoleDelay(d time.Duration) { s.mu.Lock(); s.roleDelay = d; s.mu.Unlock() }

// SetRemoveNonMember sets the status for removing a non-member: 404 (default) or 204.
func (s *Server) SetRemoveNonMember(status int) { s.mu.Lock(); s.removeNon = status; s.mu.Unlock() }

// serve wraps the routes with logging, auth and fault injection.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.front(w, r, body)
	})
	if s.spec != nil {
		h = s.spec.wrap(h, body)
	}
	h.ServeHTTP(w, r)
}

// front logs, authenticates and applies faults before routing.
func (s *Server) front(w http.ResponseWriter, r *http.Request, body []byte) {
	_, route := s.handler.(*http.ServeMux).Handler(r)
	name := s.routeNames[route]
	rec := &statusWriter{ResponseWriter: w}
	s.mu.Lock()
	s.calls++
	idx := len(s.requests)
	logged := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Route: name}
	if s.logBody {
		logged.Body = string(body)
	}
	s.requests = append(s.requests, logged)
	latency := s.latency
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.requests[idx].Status = rec.status
		s.mu.Unlock()
	}()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	v1 := strings.HasPrefix(r.URL.Path, "/admin/v1/") || name == RouteWorkspaces
	if r.Header.Get("Authorization") != "Bearer "+s.key {
		if v1 {
			writeJSON(rec, http.StatusUnauthorized, map[string]any{"code": 401, "message": "Unauthorized: the API key is missing or invalid"})
		} else {
			writeErrors(rec, http.StatusUnauthorized, "", "Unauthorized", "The API key is missing or invalid.")
		}
		return
	}
	if s.applyFaults(rec, name, v1) {
		return
	}
	s.handler.ServeHTTP(rec, r)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// routes registers every endpoint jitbot may call; anything else (the removed v1 /directory
// paths included) is a 404.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	v2 := "/admin/v2/orgs/{orgId}/directories/{dir}"
	add := func(name, pattern string, h func(http.ResponseWriter, *http.Request)) {
		s.routeNames[pattern] = name
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("orgId") != s.orgID {
				if strings.Contains(pattern, "/v2/orgs/") && name != RouteWorkspaces {
					writeErrors(w, http.StatusForbidden, "ADMIN-403-3", "Forbidden", "The API key does not grant access to this organization.")
				} else {
					writeAppErrors(w, http.StatusForbidden, "ADMIN-403-3", "The API key does not grant access to this organization.")
				}
				return
			}
			h(w, r)
		})
	}
	add(RouteUsersSearch, "POST "+v2+"/users/search", s.usersSearch)
	add(RouteGroupsSearch, "POST "+v2+"/groups/search", s.groupsSearch)
	add(RouteUserGet, "GET "+v2+"/users/{accountId}", s.userGet)
	add(RouteGroupGet, "GET "+v2+"/groups/{groupId}", s.groupGet)
	add(RouteUserRoles, "GET "+v2+"/users/{accountId}/role-assignments", s.userRoles)
	add(RouteMembershipAdd, "POST "+v2+"/groups/{groupId}/memberships", s.membershipAdd)
	add(RouteMembershipRemove, "DELETE "+v2+"/groups/{groupId}/memberships/{accountId}", s.membershipRemove)
	add(RouteSuspend, "POST "+v2+"/users/{accountId}/suspend", s.lifecycle(true))
	add(RouteRestore, "POST "+v2+"/users/{accountId}/restore", s.lifecycle(false))
	add(RouteRoleAssign, "POST /admin/v1/orgs/{orgId}/users/{accountId}/roles/assign", s.role(true, false))
	add(RouteRoleRevoke, "POST /admin/v1/orgs/{orgId}/users/{accountId}/roles/revoke", s.role(false, false))
	add(RouteOrgRoleAssign, "POST /admin/v1/orgs/{orgId}/users/{accountId}/role-assignments/assign", s.role(true, true))
	add(RouteOrgRoleRevoke, "POST /admin/v1/orgs/{orgId}/users/{accountId}/role-assignments/revoke", s.role(false, true))
	add(RouteWorkspaces, "POST /admin/v2/orgs/{orgId}/workspaces", s.workspacesSearch)
	add(RouteDomains, "GET /admin/v1/orgs/{orgId}/domains", s.domainsList)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeErrors writes a v2 Errors body.
func writeErrors(w http.ResponseWriter, status int, code, title, detail string) {
	e := map[string]string{"id": fmt.Sprintf("err-%d", time.Now().UnixNano()), "status": strconv.Itoa(status), "title": title, "detail": detail}
	if code != "" {
		e["code"] = code
	}
	writeJSON(w, status, map[string]any{"errors": []map[string]string{e}})
}

// writeAppErrors writes a v1 ApplicationErrors body.
func writeAppErrors(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{
		"id": fmt.Sprintf("err-%d", time.Now().UnixNano()), "status": strconv.Itoa(status), "code": code, "title": http.StatusText(status), "detail": detail,
	}}})
}
