package atlassiantest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

type userSearch struct {
	AccountIDs       []string `json:"accountIds,omitempty"`
	Emails           []string `json:"emails,omitempty"`
	GroupIDs         []string `json:"groupIds,omitempty"`
	DirectoryIDs     []string `json:"directoryIds,omitempty"`
	ClaimStatus      string   `json:"claimStatus,omitempty"`
	EmailDomains     []string `json:"emailDomains,omitempty"`
	MembershipStatus []string `json:"membershipStatus,omitempty"`
	AccountStatus    []string `json:"accountStatus,omitempty"`
	Status           []string `json:"status,omitempty"`
	SearchTerm       string   `json:"searchTerm,omitempty"`
	RoleIDs          []string `json:"roleIds,omitempty"`
	Expand           []string `json:"expand,omitempty"`
	Cursor           string   `json:"cursor,omitempty"`
	Limit            *int     `json:"limit,omitempty"`
}

func (q *userSearch) check() string {
	switch {
	case q.SearchTerm != "" && len(q.Emails) > 0:
		return "searchTerm and emails cannot be used together."
	case len(q.AccountIDs) > 10, len(q.GroupIDs) > 10, len(q.DirectoryIDs) > 10:
		return "accountIds, groupIds and directoryIds take at most 10 items."
	case len(q.Emails) > 100:
		return "emails takes at most 100 items."
	case len(q.EmailDomains) > 10:
		return "emailDomains takes at most 10 items."
	case q.ClaimStatus != "" && q.ClaimStatus != "managed" && q.ClaimStatus != "unmanaged":
		return "claimStatus must be managed or unmanaged."
	}
	return ""
}

// limit returns the page size or an error message.
func limit(l *int, def int) (int, string) {
	if l == nil {
		return def, ""
	}
	if *l < 1 || *l > 100 {
		return 0, "limit must be between 1 and 100."
	}
	return *l, ""
}

func (s *Server) usersSearch(w http.ResponseWriter, r *http.Request) {
	var q userSearch
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		writeErrors(w, http.StatusBadRequest, "ADMIN-400-24", "Bad Request", "The request body is not valid JSON.")
		return
	}
	n, msg := limit(q.Limit, 50)
	if msg != "" {
		writeErrors(w, http.StatusBadRequest, "", "Bad Request", msg)
		return
	}
	raw := q.Cursor
	pos, ok := resume(&q, raw)
	if !ok {
		writeErrors(w, http.StatusBadRequest, "ADMIN-400-1", "Bad Request", "The cursor is invalid.")
		return
	}
	q.Cursor = raw
	if msg := q.check(); msg != "" {
		writeErrors(w, http.StatusBadRequest, "", "Bad Request", msg)
		return
	}
	self := q.Cursor
	q.Cursor, q.Limit = "", nil
	qb, _ := json.Marshal(q)
	expand := map[string]bool{}
	for _, e := range q.Expand {
		expand[e] = true
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	data := make([]map[string]any, 0, n)
	next := -1
	for i := pos; i < len(s.order); i++ {
		u := s.users[s.order[i]]
		if !s.matchUser(u, &q) {
			continue
		}
		if len(data) == n {
			next = i
			break
		}
		data = append(data, s.userJSON(u, expand, false))
	}
	links := map[string]string{}
	if self != "" {
		links["self"] = self
	}
	if next >= 0 {
		links["next"] = encodeCursor(cursor{Q: qb, Pos: next})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
}

func (s *Server) matchUser(u *user, q *userSearch) bool {
	if len(q.AccountIDs) > 0 && !containsFold(q.AccountIDs, u.AccountID) {
		return false
	}
	if len(q.Emails) > 0 && !containsFold(q.Emails, u.Email) {
		return false
	}
	if len(q.GroupIDs) > 0 {
		in := false
		for _, g := range q.GroupIDs {
			if _, ok := u.groups[g]; ok {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if q.ClaimStatus != "" && (q.ClaimStatus == "managed") != s.managed(u.Email) {
		return false
	}
	if len(q.EmailDomains) > 0 {
		_, d, _ := strings.Cut(u.Email, "@")
		if !containsFold(q.EmailDomains, d) {
			return false
		}
	}
	if len(q.MembershipStatus) > 0 && !containsFold(q.MembershipStatus, membership(u)) {
		return false
	}
	if len(q.AccountStatus) > 0 && !containsFold(q.AccountStatus, u.Status) {
		return false
	}
	if len(q.Status) > 0 && !containsFold(q.Status, status(u)) {
		return false
	}
	if t := strings.ToLower(q.SearchTerm); t != "" && !strings.Contains(strings.ToLower(u.Email+" "+u.Name), t) {
		return false
	}
	if len(q.RoleIDs) > 0 && !s.holdsAny(u, q.RoleIDs) {
		return false
	}
	return true
}

// holdsAny reports whether u holds, as reads see it, one of roles on any resource.
func (s *Server) holdsAny(u *user, roles []string) bool {
	for k, st := range u.roles {
		if s.visible(st) && containsFold(roles, k.role) {
			return true
		}
	}
	return false
}

func membership(u *user) string {
	if u.Suspended {
		return "suspended"
	}
	return "active"
}

func status(u *user) string {
	switch {
	case u.Status != "active":
		return "deactivated"
	case u.Suspended:
		return "suspended"
	}
	return "active"
}

// userJSON renders a MultiDirectoryUser (details: MultiDirectoryUserDetailsData).
func (s *Server) userJSON(u *user, expand map[string]bool, details bool) map[string]any {
	claim := "unmanaged"
	if s.managed(u.Email) {
		claim = "managed"
	}
	m := map[string]any{
		"accountId": u.AccountID, "accountType": "atlassian", "accountStatus": u.Status,
		"membershipStatus": membership(u), "status": status(u), "claimStatus": claim,
		"email": u.Email, "emailVerified": true, "name": u.Name, "nickname": u.Name,
		"addedToOrg": u.AddedToOrg.UTC().Format(time.RFC3339), "mfaEnabled": false,
		"managementSource": nil,
	}
	if !details {
		m["links"] = map[string]string{"self": encodeCursor(cursor{Pos: 0, Q: json.RawMessage(`{"accountIds":["` + u.AccountID + `"]}`)})}
	}
	if expand["groups"] {
		gs := make([]map[string]any, 0, len(u.groups))
		for id := range u.groups {
			g := s.groups[id]
			gs = append(gs, map[string]any{"id": g.ID, "name": g.Name})
		}
		m["groups"] = gs
	}
	if expand["productAccess"] {
		pa := []map[string]any{}
		if !u.LastActive.IsZero() {
			pa = append(pa, map[string]any{"id": "jira-software", "key": "jira-software", "lastActiveTimestamp": u.LastActive.UTC().Format(time.RFC3339)})
		}
		m["productAccess"] = pa
	}
	return m
}

func (s *Server) userGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[r.PathValue("accountId")]
	if u == nil {
		writeErrors(w, http.StatusNotFound, "ADMIN-404-8", "Not Found", "User not found.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.userJSON(u, nil, true)})
}

func (s *Server) lifecycle(suspend bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		u := s.users[r.PathValue("accountId")]
		if u == nil {
			writeErrors(w, http.StatusNotFound, "ADMIN-404-8", "Not Found", "The org, directory, group, or user was not found.")
			return
		}
		u.Suspended = suspend
		w.WriteHeader(http.StatusNoContent)
	}
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
