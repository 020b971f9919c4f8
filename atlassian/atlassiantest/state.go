package atlassiantest

import (
	"fmt"
	"strings"
	"time"
)

// User is a seeded user.
type User struct {
	AccountID  string
	Email      string
	Name       string
	Suspended  bool
	Status     string    // account status: active (default), inactive, closed
	AddedToOrg time.Time // default the fake clock at seeding
	LastActive time.Time // zero: never active; else one product access entry
}

// Group is a seeded group.
type Group struct {
	ID             string
	Name           string
	Description    string
	ExternalSynced bool // synced from an identity provider: membership writes get 403
	ReadOnly       bool // managementAccess.modifiable=false: membership writes get 403
	LicenceFull    bool // adding a member gets 409 "user limit exceeded"
}

type user struct {
	User
	groups map[string]struct{} // group IDs
	roles  map[roleKey]*roleState
}

type group struct {
	Group
	members map[string]struct{}
}

// roleKey is a role on a resource, the resource normalized to its type (without an "-admin"
// flavour) and cloud ID, so every written form of one site's ARI is the same assignment.
type roleKey struct{ role, resource string }

// roleState is a platform role with its eventual consistency: reads see prev until at+delay.
// shown is the resource ID role-assignment reads report: the form it was assigned with.
type roleState struct {
	held, prev bool
	at         time.Time
	shown      string
}

type domain struct {
	id, name string
	verified bool
}

// AddUser adds a user and returns its account ID (generated when empty).
func (s *Server) AddUser(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUser(u)
}

func (s *Server) addUser(u User) string {
	if u.AccountID == "" {
		s.seq++
		u.AccountID = fmt.Sprintf("5b10ac8d82e05b22cc%06x", s.seq)
	}
	if u.Name == "" {
		u.Name, _, _ = strings.Cut(u.Email, "@")
	}
	if u.Status == "" {
		u.Status = "active"
	}
	if u.AddedToOrg.IsZero() {
		u.AddedToOrg = s.now().UTC().Truncate(time.Second)
	}
	if _, ok := s.users[u.AccountID]; !ok {
		s.order = append(s.order, u.AccountID)
	}
	s.users[u.AccountID] = &user{User: u, groups: map[string]struct{}{}, roles: map[roleKey]*roleState{}}
	return u.AccountID
}

// AddGroup adds a group and returns its ID (generated when empty).
func (s *Server) AddGroup(g Group) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addGroup(g)
}

func (s *Server) addGroup(g Group) string {
	if g.ID == "" {
		s.seq++
		g.ID = fmt.Sprintf("0d2f1b3c-0000-4000-8000-%012x", s.seq)
	}
	if _, ok := s.groups[g.ID]; !ok {
		s.gorder = append(s.gorder, g.ID)
	}
	s.groups[g.ID] = &group{Group: g, members: map[string]struct{}{}}
	return g.ID
}

// AddMember makes the account a member of the named group; it panics on unknown names, as a
// seeding mistake.
func (s *Server) AddMember(groupName, accountID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupByName(groupName)
	u := s.users[accountID]
	if g == nil || u == nil {
		panic(fmt.Sprintf("atlassiantest: AddMember(%q, %q): unknown group or user", groupName, accountID))
	}
	g.members[accountID] = struct{}{}
	u.groups[g.ID] = struct{}{}
}

// SetRole gives (held) or takes the platform role (e.g. "atlassian/site-admin") on resource
// (a resource ID; ignored for org-admin) at once, with no consistency delay.
func (s *Server) SetRole(accountID, role, resource string, held bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[accountID]
	if u == nil {
		panic(fmt.Sprintf("atlassiantest: SetRole: unknown user %q", accountID))
	}
	k := s.roleKey(role, resource)
	u.roles[k] = &roleState{held: held, prev: held, at: s.now(), shown: resource}
}

// Workspace is one product instance as the Workspaces API lists it.
type Workspace struct {
	ID      string // an ARI such as ari:cloud:confluence::site/<cloudId>
	Name    string
	Type    string // attributes.type, e.g. jira-software, confluence
	HostURL string // e.g. https://example.atlassian.net/wiki
}

// AddSite adds a site the way a real one with both products looks: Jira at the host's root
// (its workspace ID ari:cloud:jira-admin::site/<cloudId>, as Atlassian's bug ID-8887 shows the
// Workspaces API reporting it) and Confluence under /wiki (ari:cloud:confluence::site/<cloudId>),
// listed in that order and sharing one cloud ID. It returns the site's platform ARI
// ari:cloud:platform::site/<cloudId>, where site-level roles are assigned.
func (s *Server) AddSite(host string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	cloud := fmt.Sprintf("8a6e2b4c-1d3f-4e5a-9b7c-%012x", s.seq)
	name := strings.Split(host, ".")[0]
	s.workspaces = append(s.workspaces,
		Workspace{ID: "ari:cloud:jira-admin::site/" + cloud, Name: name, Type: "jira-software", HostURL: "https://" + host},
		Workspace{ID: "ari:cloud:confluence::site/" + cloud, Name: name, Type: "confluence", HostURL: "https://" + host + "/wiki"},
	)
	return "ari:cloud:platform::site/" + cloud
}

// AddWorkspace adds one workspace as given (for odd orgs: a host shared by two sites, a
// workspace whose ID is not an ARI).
func (s *Server) AddWorkspace(w Workspace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workspaces = append(s.workspaces, w)
}

// AddDomain adds a domain; users of verified domains are managed accounts.
func (s *Server) AddDomain(name string, verified bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.domains = append(s.domains, domain{id: fmt.Sprintf("d%06x", s.seq), name: strings.ToLower(name), verified: verified})
}

// Seed adds users and groups quickly, for big orgs: users u0000001@example.com … (every tenth
// at an unverified domain), groups group-00001 …, each user a member of three groups.
func (s *Server) Seed(users, groups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gids := make([]string, groups)
	for i := range groups {
		gids[i] = s.addGroup(Group{Name: fmt.Sprintf("group-%05d", i+1)})
	}
	at := s.now().UTC().Truncate(time.Second)
	for i := range users {
		dom := "example.com"
		if i%10 == 9 {
			dom = "contractor.example"
		}
		id := s.addUser(User{Email: fmt.Sprintf("u%07d@%s", i+1, dom), AddedToOrg: at, LastActive: at})
		if groups == 0 {
			continue
		}
		u := s.users[id]
		for j := range 3 {
			g := s.groups[gids[(i*7+j*13)%groups]]
			g.members[id] = struct{}{}
			u.groups[g.ID] = struct{}{}
		}
	}
}

func (s *Server) groupByName(name string) *group {
	for _, id := range s.gorder {
		if g := s.groups[id]; strings.EqualFold(g.Name, name) {
			return g
		}
	}
	return nil
}

func (s *Server) roleKey(role, resource string) roleKey {
	if role == orgAdmin {
		return roleKey{role: role, resource: s.orgARI()}
	}
	typ, cloud, ok := parseARI(resource)
	if !ok {
		return roleKey{role: role, resource: resource}
	}
	typ = strings.TrimSuffix(typ, "-admin")
	if role == siteAdmin {
		typ = "platform"
	}
	return roleKey{role: role, resource: "ari:cloud:" + typ + "::site/" + cloud}
}

// parseARI splits ari:cloud:<type>::site/<cloudId>.
func parseARI(s string) (typ, cloud string, ok bool) {
	rest, ok := strings.CutPrefix(s, "ari:cloud:")
	if !ok {
		return "", "", false
	}
	typ, cloud, ok = strings.Cut(rest, "::site/")
	if !ok || typ == "" || cloud == "" || strings.ContainsAny(typ, ":/") || strings.ContainsAny(cloud, ":/") {
		return "", "", false
	}
	return typ, cloud, true
}

func (s *Server) orgARI() string { return "ari:cloud:platform::org/" + s.orgID }

// managed reports whether the e-mail's domain is verified.
func (s *Server) managed(email string) bool {
	_, d, _ := strings.Cut(strings.ToLower(email), "@")
	for _, x := range s.domains {
		if x.verified && x.name == d {
			return true
		}
	}
	return false
}

// visible reports whether a role state reads as held now.
func (s *Server) visible(r *roleState) bool {
	if s.now().Sub(r.at) >= s.roleDelay {
		return r.held
	}
	return r.prev
}

// Members returns the account IDs in the named group (nil when no such group).
func (s *Server) Members(groupName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupByName(groupName)
	if g == nil {
		return nil
	}
	var out []string
	for _, id := range s.order {
		if _, ok := g.members[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

// HasRole reports the actual (not yet eventually visible) state of a platform role.
func (s *Server) HasRole(accountID, role, resource string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[accountID]
	if u == nil {
		return false
	}
	r := u.roles[s.roleKey(role, resource)]
	return r != nil && r.held
}

// User returns a copy of the seeded user, and whether it exists.
func (s *Server) User(accountID string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[accountID]
	if u == nil {
		return User{}, false
	}
	return u.User, true
}
