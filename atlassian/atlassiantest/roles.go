package atlassiantest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

var platformRoles = []string{
	"atlassian/user", "atlassian/user-access-admin", "atlassian/admin", "atlassian/guest",
	"atlassian/contributor", "atlassian/customer", "atlassian/basic", "atlassian/stakeholder",
	"atlassian/site-admin", "atlassian/org-admin",
}

// SetLicenceFull makes role assignments answer 409 ADMIN-UAM-409-3 (licence limit) while on.
func (s *Server) SetLicenceFull(on bool) { s.mu.Lock(); s.licenceFull = on; s.mu.Unlock() }

// role handles roles/assign|revoke (orgLevel false) and role-assignments/assign|revoke.
func (s *Server) role(assign, orgLevel bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Role     string `json:"role"`
			Resource string `json:"resource"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeAppErrors(w, http.StatusBadRequest, "ADMIN-UAM-400-1", "The request body is invalid.")
			return
		}
		if !slices.Contains(platformRoles, body.Role) || (orgLevel && body.Role != orgAdmin) {
			writeAppErrors(w, http.StatusBadRequest, "ADMIN-UAM-400-3", "The role "+strconv.Quote(body.Role)+" is not valid for this endpoint.")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		u := s.users[r.PathValue("accountId")]
		if u == nil {
			writeAppErrors(w, http.StatusNotFound, "ADMIN-UAM-404-1", "User not found.")
			return
		}
		if body.Role != orgAdmin {
			if body.Resource == "" {
				writeAppErrors(w, http.StatusBadRequest, "ADMIN-UAM-400-1", "resource is required for role "+body.Role+".")
				return
			}
			if status, code, detail := s.checkResource(body.Role, body.Resource); status != 0 {
				writeAppErrors(w, status, code, detail)
				return
			}
		}
		if assign && s.licenceFull {
			writeAppErrors(w, http.StatusConflict, "ADMIN-UAM-409-3", "The user limit of the product licence is exceeded.")
			return
		}
		k := s.roleKey(body.Role, body.Resource)
		cur := u.roles[k]
		vis := cur != nil && s.visible(cur)
		if cur == nil || cur.held != assign {
			shown := body.Resource
			if cur != nil && !assign {
				shown = cur.shown
			}
			u.roles[k] = &roleState{held: assign, prev: vis, at: s.now(), shown: shown}
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// checkResource refuses what Atlassian's bug ID-8887 shows the Role API refusing: anything but
// a site ARI, and the "-admin" workspace IDs the Workspaces API hands out (400 ADMIN-UAM-400-5
// "Empty/Invalid Resource"); a cloud ID or product the org does not have is a 404. The platform
// site ARI takes site-admin and atlassian/user; a product ARI takes product roles, never
// site-admin (400 ADMIN-UAM-400-3). It returns status 0 when the resource is accepted.
func (s *Server) checkResource(role, resource string) (status int, code, detail string) {
	typ, cloud, ok := parseARI(resource)
	if !ok || strings.HasSuffix(typ, "-admin") {
		return http.StatusBadRequest, "ADMIN-UAM-400-5", "Empty/Invalid Resource: " + resource
	}
	var products []string
	for _, ws := range s.workspaces {
		if t, c, ok := parseARI(ws.ID); ok && c == cloud {
			products = append(products, strings.TrimSuffix(t, "-admin"))
		}
	}
	switch {
	case len(products) == 0:
		return http.StatusNotFound, "ADMIN-UAM-404-2", "Resource " + resource + " not found."
	case typ == "platform":
		if role != siteAdmin && role != "atlassian/user" {
			return http.StatusBadRequest, "ADMIN-UAM-400-3", "The role " + role + " is not valid for resource " + resource + "."
		}
	case !slices.Contains(products, typ):
		return http.StatusNotFound, "ADMIN-UAM-404-2", "Resource " + resource + " not found."
	case role == siteAdmin:
		return http.StatusBadRequest, "ADMIN-UAM-400-3", "The role " + role + " is not valid for resource " + resource + "."
	}
	return 0, "", ""
}

// userRoles lists a user's platform role assignments, one entry per resource, as reads see them
// (after the consistency delay).
func (s *Server) userRoles(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n := 20
	if l := q.Get("limit"); l != "" {
		v, err := strconv.Atoi(l)
		if err != nil || v < 1 || v > 100 {
			writeErrors(w, http.StatusBadRequest, "", "Bad Request", "limit must be between 1 and 100.")
			return
		}
		n = v
	}
	pos := 0
	if c := q.Get("cursor"); c != "" {
		cur, err := decodeCursor(c)
		if err != nil {
			writeErrors(w, http.StatusBadRequest, "ADMIN-400-1", "Bad Request", "The cursor is invalid.")
			return
		}
		pos = cur.Pos
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[r.PathValue("accountId")]
	if u == nil {
		writeErrors(w, http.StatusNotFound, "ADMIN-404-8", "Not Found", "User not found.")
		return
	}
	byRes := map[string][]string{}
	for k, st := range u.roles {
		if s.visible(st) {
			res := st.shown
			if k.role == orgAdmin || res == "" {
				res = k.resource
			}
			byRes[res] = append(byRes[res], k.role)
		}
	}
	res := make([]string, 0, len(byRes))
	for k := range byRes {
		res = append(res, k)
	}
	slices.Sort(res)
	data := []map[string]any{}
	next := -1
	for i := pos; i < len(res); i++ {
		if len(data) == n {
			next = i
			break
		}
		roles := byRes[res[i]]
		slices.Sort(roles)
		ras := make([]map[string]any, 0, len(roles))
		for _, role := range roles {
			ras = append(ras, map[string]any{"role": role, "roleAssignmentMethods": []string{"direct"}})
		}
		owner := "platform"
		if !strings.Contains(res[i], "::org/") {
			owner = "jira-software"
		}
		data = append(data, map[string]any{
			"directoryId": nil, "resourceId": res[i], "resourceOwner": owner,
			"roleAssignments": ras, "roles": roles, "userDirectoryStatus": membership(u),
		})
	}
	links := map[string]string{}
	if next >= 0 {
		links["next"] = encodeCursor(cursor{Pos: next})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
}
