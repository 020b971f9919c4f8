package atlassiantest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

func (s *Server) workspacesSearch(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Cursor *string         `json:"cursor"`
		Limit  *int            `json:"limit"`
		Query  json.RawMessage `json:"query"`
		Sort   json.RawMessage `json:"sort"`
	}
	appErr := func(detail string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"id": "err", "status": "400", "code": "ADMIN-400-4", "title": "Bad Request", "detail": detail})
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		appErr("The request body is invalid.")
		return
	}
	n, pos := 20, 0
	if q.Limit != nil {
		if *q.Limit < 1 || *q.Limit > 1000 {
			appErr("limit must be between 1 and 1000.")
			return
		}
		n = *q.Limit
	}
	if q.Cursor != nil && *q.Cursor != "" {
		if q.Limit != nil || len(q.Query) > 0 || len(q.Sort) > 0 {
			appErr("When cursor is set no other field may be.")
			return
		}
		c, err := decodeCursor(*q.Cursor)
		if err != nil {
			appErr("The cursor is invalid.")
			return
		}
		n, pos = c.Pos>>16, c.Pos&0xffff
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data := []map[string]any{}
	end := min(pos+n, len(s.workspaces))
	for _, ws := range s.workspaces[min(pos, end):end] {
		data = append(data, map[string]any{
			"id": ws.ID, "type": "workspace",
			"attributes": map[string]any{"name": ws.Name, "type": ws.Type, "typeKey": ws.Type, "hostUrl": ws.HostURL, "status": "online"},
			"links":      map[string]string{"self": ws.HostURL},
		})
	}
	links := map[string]string{}
	if end < len(s.workspaces) {
		links["next"] = encodeCursor(cursor{Pos: n<<16 | end})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links, "meta": map[string]any{"pageSize": n, "startIndex": pos, "endIndex": end, "total": len(s.workspaces)}})
}

func (s *Server) domainsList(w http.ResponseWriter, r *http.Request) {
	pos := 0
	if c := r.URL.Query().Get("cursor"); c != "" {
		cur, err := decodeCursor(c)
		if err != nil {
			writeAppErrors(w, http.StatusBadRequest, "ADMIN-400-2", "The cursor is invalid.")
			return
		}
		pos = cur.Pos
	}
	const page = 20
	s.mu.Lock()
	defer s.mu.Unlock()
	data := []map[string]any{}
	end := min(pos+page, len(s.domains))
	for _, d := range s.domains[min(pos, end):end] {
		st := "unverified"
		if d.verified {
			st = "verified"
		}
		data = append(data, map[string]any{
			"id": d.id, "type": "domains",
			"attributes": map[string]any{"name": d.name, "claim": map[string]string{"type": "dns", "status": st}},
			"links":      map[string]string{"self": fmt.Sprintf("%s/admin/v1/orgs/%s/domains/%s", s.http.URL, s.orgID, d.id)},
		})
	}
	links := map[string]string{}
	if end < len(s.domains) {
		links["next"] = fmt.Sprintf("%s/admin/v1/orgs/%s/domains?cursor=%s", s.http.URL, s.orgID, encodeCursor(cursor{Pos: end}))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
}
