package atlassiantest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

type groupSearch struct {
	GroupNames []string `json:"groupNames,omitempty"`
	GroupIDs   []string `json:"groupIds,omitempty"`
	AccountIDs []string `json:"accountIds,omitempty"`
	SearchTerm string   `json:"searchTerm,omitempty"`
	Expand     []string `json:"expand,omitempty"`
	Cursor     string   `json:"cursor,omitempty"`
	Limit      *int     `json:"limit,omitempty"`
}

func (s *Server) groupsSearch(w http.ResponseWriter, r *http.Request) {
	var q groupSearch
	if b, _ := io.ReadAll(r.Body); len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &q); err != nil {
			writeErrors(w, http.StatusBadRequest, "ADMIN-400-24", "Bad Request", "The request body is not valid JSON.")
			return
		}
	}
	n, msg := limit(q.Limit, 20)
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
	switch {
	case len(q.GroupNames) > 0 && (q.SearchTerm != "" || len(q.GroupIDs) > 0):
		msg = "groupNames cannot be combined with searchTerm or groupIds."
	case len(q.GroupNames) > 100:
		msg = "groupNames takes at most 100 items."
	case len(q.GroupIDs) > 10 || len(q.AccountIDs) > 10:
		msg = "groupIds and accountIds take at most 10 items."
	}
	if msg != "" {
		writeErrors(w, http.StatusBadRequest, "", "Bad Request", msg)
		return
	}
	self := q.Cursor
	q.Cursor, q.Limit = "", nil
	qb, _ := json.Marshal(q)

	s.mu.Lock()
	defer s.mu.Unlock()
	data := make([]map[string]any, 0, n)
	next := -1
	for i := pos; i < len(s.gorder); i++ {
		g := s.groups[s.gorder[i]]
		if !matchGroup(g, &q) {
			continue
		}
		if len(data) == n {
			next = i
			break
		}
		data = append(data, s.groupJSON(g, containsFold(q.Expand, "counts.users")))
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

func matchGroup(g *group, q *groupSearch) bool {
	if len(q.GroupNames) > 0 && !containsFold(q.GroupNames, g.Name) {
		return false
	}
	if len(q.GroupIDs) > 0 && !containsFold(q.GroupIDs, g.ID) {
		return false
	}
	if len(q.AccountIDs) > 0 {
		in := false
		for _, a := range q.AccountIDs {
			if _, ok := g.members[a]; ok {
				in = true
			}
		}
		if !in {
			return false
		}
	}
	if t := strings.ToLower(q.SearchTerm); t != "" && !strings.Contains(strings.ToLower(g.Name), t) {
		return false
	}
	return true
}

func (s *Server) groupJSON(g *group, counts bool) map[string]any {
	managedBy := "admins"
	if g.ExternalSynced {
		managedBy = "external"
	}
	m := map[string]any{
		"id": g.ID, "name": g.Name, "directoryId": "8d2c1f4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
		"externalSynced": g.ExternalSynced, "managedBy": managedBy,
		"managementAccess": map[string]bool{"modifiable": !g.ReadOnly && !g.ExternalSynced, "deletable": !g.ReadOnly, "readable": true},
		"links":            map[string]string{"self": encodeCursor(cursor{Q: json.RawMessage(`{"groupIds":["` + g.ID + `"]}`)})},
	}
	if counts {
		m["counts"] = map[string]int{"users": len(g.members), "resources": 0}
	}
	return m
}

func (s *Server) groupGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[r.PathValue("groupId")]
	if g == nil {
		writeErrors(w, http.StatusNotFound, "ADMIN-404-10", "Not Found", "Group not found.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.groupJSON(g, true)})
}

// writable answers 403 for groups the API may not change and reports whether it did not.
func writable(w http.ResponseWriter, g *group) bool {
	switch {
	case g.ExternalSynced:
		writeErrors(w, http.StatusForbidden, "ADMIN-403-5", "Forbidden", "You can't change a group synced from an identity provider. Manage this group in your identity provider instead.")
	case g.ReadOnly:
		writeErrors(w, http.StatusForbidden, "ADMIN-403-5", "Forbidden", "You're not allowed to manage this group.")
	default:
		return true
	}
	return false
}

func (s *Server) membershipAdd(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AccountID string `json:"accountId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.AccountID == "" {
		writeErrors(w, http.StatusBadRequest, "ADMIN-400-24", "Bad Request", "accountId is required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, u := s.groups[r.PathValue("groupId")], s.users[body.AccountID]
	switch {
	case g == nil || u == nil:
		writeErrors(w, http.StatusNotFound, "ADMIN-404-8", "Not Found", "The org, directory, group, or user was not found.")
		return
	case !writable(w, g):
		return
	}
	if _, ok := g.members[u.AccountID]; ok {
		writeErrors(w, http.StatusConflict, "ADMIN-409-28", "Conflict", "The user is already a member of the group.")
		return
	}
	if g.LicenceFull {
		writeErrors(w, http.StatusConflict, "ADMIN-409-3", "Conflict", "You've exceeded your user limit for an app that the group grants access to.")
		return
	}
	g.members[u.AccountID] = struct{}{}
	u.groups[g.ID] = struct{}{}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) membershipRemove(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, u := s.groups[r.PathValue("groupId")], s.users[r.PathValue("accountId")]
	switch {
	case g == nil || u == nil:
		writeErrors(w, http.StatusNotFound, "ADMIN-404-8", "Not Found", "The org, directory, group, or user was not found.")
		return
	case !writable(w, g):
		return
	}
	if _, ok := g.members[u.AccountID]; !ok {
		if s.removeNon == http.StatusNoContent {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeErrors(w, http.StatusNotFound, "ADMIN-404-11", "Not Found", "The user is not a member of the group.")
		return
	}
	delete(g.members, u.AccountID)
	delete(u.groups, g.ID)
	w.WriteHeader(http.StatusNoContent)
}
