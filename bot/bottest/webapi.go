package bottest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// args holds the arguments of a Web API call, sent as a form or as JSON.
type args struct {
	m      map[string]json.RawMessage
	bearer string
}

func parseArgs(r *http.Request) (*args, error) {
	a := &args{m: map[string]json.RawMessage{}}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		a.bearer = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return a, nil
		}
		return a, json.Unmarshal(body, &a.m)
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k, v := range r.Form {
		b, _ := json.Marshal(v[0])
		a.m[k] = b
	}
	return a, nil
}

func (a *args) has(key string) bool { _, ok := a.m[key]; return ok }

// get returns an argument as a string: JSON strings unquoted, anything else as JSON text.
func (a *args) get(key string) string {
	raw, ok := a.m[key]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// json returns an argument that holds JSON, whether it was sent as a JSON value
// or as a JSON-encoded string (form posts). Absent or empty gives nil.
func (a *args) json(key string) json.RawMessage {
	raw, ok := a.m[key]
	if !ok {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		return json.RawMessage(s)
	}
	return raw
}

func (a *args) token() string {
	if t := a.get("token"); t != "" {
		return t
	}
	return a.bearer
}

// apiError is a Slack error answer: ok:false with a code and optional messages.
type apiError struct {
	code     string
	messages []string
}

func (e *apiError) Error() string { return e.code }

func fail(code string, messages ...string) error { return &apiError{code: code, messages: messages} }

type method func(s *Server, a *args) (obj, error)

var methods = map[string]method{
	"auth.test":             (*Server).authTest,
	"chat.postMessage":      (*Server).chatPostMessage,
	"chat.update":           (*Server).chatUpdate,
	"chat.postEphemeral":    (*Server).chatPostEphemeral,
	"conversations.open":    (*Server).conversationsOpen,
	"users.info":            (*Server).usersInfo,
	"users.list":            (*Server).usersList,
	"users.lookupByEmail":   (*Server).usersLookupByEmail,
	"usergroups.users.list": (*Server).usergroupsUsersList,
	"views.open":            (*Server).viewsOpen,
	"views.push":            (*Server).viewsPush,
	"views.update":          (*Server).viewsUpdate,
	"views.publish":         (*Server).viewsPublish,
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("method")
	if s.applyFault(w, r, s.takeFault(name)) {
		return
	}
	s.mu.Lock()
	down := s.outage
	s.mu.Unlock()
	if down != 0 && name != "apps.connections.open" {
		writeJSON(w, down, obj{"ok": false, "error": http.StatusText(down)})
		return
	}
	a, err := parseArgs(r)
	if err != nil {
		writeJSON(w, http.StatusOK, obj{"ok": false, "error": "invalid_form_data"})
		return
	}
	if name != "apps.connections.open" && s.checkBotToken(a) == nil {
		s.mu.Lock()
		ch := ""
		if name == "chat.postMessage" {
			ch = a.get("channel")
			if c, ok := s.resolveChannel(ch); ok {
				ch = c.id
			}
		}
		wait, limited := s.throttled(name)
		if !limited {
			wait, limited = s.rateLimited(name, ch)
		}
		s.mu.Unlock()
		if limited {
			s.log("bottest: %s -> 429 for %s", name, wait)
			writeRateLimited(w, wait)
			return
		}
	}
	var res obj
	if name == "apps.connections.open" {
		res, err = s.appsConnectionsOpen(a)
	} else if m, ok := methods[name]; !ok {
		err = fail("unknown_method")
	} else if err = s.checkBotToken(a); err == nil {
		s.mu.Lock()
		res, err = m(s, a)
		s.mu.Unlock()
	}
	if err != nil {
		res = obj{"ok": false, "error": err.Error()}
		if ae, ok := err.(*apiError); ok && len(ae.messages) > 0 {
			res["errors"] = ae.messages
			res["response_metadata"] = obj{"messages": ae.messages}
		}
		s.log("bottest: %s -> %s", name, err)
	} else {
		res["ok"] = true
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) checkBotToken(a *args) error {
	switch tok := a.token(); {
	case tok == "":
		return fail("not_authed")
	case tok == s.botToken:
		return nil
	case strings.HasPrefix(tok, "xapp-"):
		return fail("not_allowed_token_type")
	default:
		return fail("invalid_auth")
	}
}

func (s *Server) appsConnectionsOpen(a *args) (obj, error) {
	switch {
	case a.bearer == "":
		return nil, fail("not_authed")
	case !strings.HasPrefix(a.bearer, "xapp-"):
		return nil, fail("not_allowed_token_type")
	case a.bearer != s.appToken:
		return nil, fail("invalid_auth")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ticket := s.nextID("tk-")
	s.tickets[ticket] = true
	return obj{"url": s.hostURL("ws") + "/link/?ticket=" + ticket + "&app_id=" + AppID}, nil
}

func (s *Server) authTest(*args) (obj, error) {
	return obj{
		"url":     "https://" + TeamDomain + ".slack.com/",
		"team":    "Fake Workspace",
		"user":    "jitbot",
		"team_id": TeamID,
		"user_id": BotUserID,
		"bot_id":  BotID,
	}, nil
}

// checkContent validates message text and blocks as chat.* methods do.
func checkContent(text string, blocks json.RawMessage, requireText bool) error {
	if blocks != nil {
		if problems := validateBlocks(blocks, MaxMessageBlocks); len(problems) > 0 {
			return fail("invalid_blocks", problems...)
		}
		if n := blocksTextLen(blocks); n > MaxBlocksText {
			return fail("msg_blocks_too_long", fmt.Sprintf("[ERROR] blocks hold %d characters of text; at most %d are accepted", n, MaxBlocksText))
		}
	}
	if len([]rune(text)) > MaxMessageText {
		return fail("msg_too_long")
	}
	if requireText && text == "" {
		if b, _ := decodeBlocks(blocks); len(b) == 0 {
			return fail("no_text")
		}
	}
	return nil
}

func (s *Server) chatPostMessage(a *args) (obj, error) {
	ch, ok := s.resolveChannel(a.get("channel"))
	if !ok {
		return nil, fail("channel_not_found")
	}
	text, blocks := a.get("text"), a.json("blocks")
	if err := checkContent(text, blocks, true); err != nil {
		return nil, err
	}
	m := &Message{Channel: ch.id, TS: s.nextTS(), ThreadTS: a.get("thread_ts"), Text: text, Blocks: blocks, Via: "chat.postMessage"}
	s.addMessage(m)
	return obj{"channel": m.Channel, "ts": m.TS, "message": messageJSON(m)}, nil
}

func (s *Server) chatUpdate(a *args) (obj, error) {
	chID := a.get("channel")
	if _, ok := s.channels[chID]; !ok {
		return nil, fail("channel_not_found")
	}
	m, ok := s.byKey[chID+"/"+a.get("ts")]
	if !ok || m.Ephemeral || m.Deleted {
		return nil, fail("message_not_found")
	}
	var text *string
	if a.has("text") {
		t := a.get("text")
		text = &t
	}
	blocks := a.json("blocks")
	if a.has("blocks") && blocks == nil {
		blocks = json.RawMessage("[]")
	}
	t := m.Text
	if text != nil {
		t = *text
	}
	if err := checkContent(t, blocks, false); err != nil {
		return nil, err
	}
	s.replaceMessage(m, "chat.update", text, blocks)
	return obj{"channel": m.Channel, "ts": m.TS, "text": m.Text, "message": messageJSON(m)}, nil
}

func (s *Server) chatPostEphemeral(a *args) (obj, error) {
	ch, ok := s.resolveChannel(a.get("channel"))
	if !ok {
		return nil, fail("channel_not_found")
	}
	user := a.get("user")
	if _, ok := s.users[user]; !ok {
		return nil, fail("user_not_found")
	}
	if !contains(ch.members, user) {
		return nil, fail("user_not_in_channel")
	}
	text, blocks := a.get("text"), a.json("blocks")
	if err := checkContent(text, blocks, true); err != nil {
		return nil, err
	}
	m := &Message{Channel: ch.id, TS: s.nextTS(), ThreadTS: a.get("thread_ts"), User: user, Ephemeral: true, Text: text, Blocks: blocks, Via: "chat.postEphemeral"}
	s.addMessage(m)
	return obj{"message_ts": m.TS}, nil
}

func (s *Server) conversationsOpen(a *args) (obj, error) {
	if id := a.get("channel"); id != "" {
		ch, ok := s.channels[id]
		if !ok {
			return nil, fail("channel_not_found")
		}
		return obj{"no_op": true, "already_open": true, "channel": channelJSON(ch)}, nil
	}
	users := strings.Split(a.get("users"), ",")
	if len(users) != 1 || users[0] == "" {
		return nil, fail("not_supported", "bottest: conversations.open supports one user")
	}
	if _, ok := s.users[users[0]]; !ok {
		return nil, fail("user_not_found")
	}
	id, existed := s.openDM(users[0])
	s.notify()
	return obj{"no_op": existed, "already_open": existed, "channel": channelJSON(s.channels[id])}, nil
}

func (s *Server) usersInfo(a *args) (obj, error) {
	u, ok := s.users[a.get("user")]
	if !ok {
		return nil, fail("user_not_found")
	}
	return obj{"user": userJSON(u)}, nil
}

// usersList pages through the workspace's users, ordered by ID: limit (default 200, at most
// 1000) and cursor as Slack takes them, next_cursor empty on the last page.
func (s *Server) usersList(a *args) (obj, error) {
	ids := make([]string, 0, len(s.users))
	for id := range s.users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	limit := 200
	if n, err := strconv.Atoi(a.get("limit")); err == nil && n > 0 {
		limit = min(n, 1000)
	}
	start := 0
	if c := a.get("cursor"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "dXNlcjo"))
		if err != nil || n < 0 || n > len(ids) {
			return nil, fail("invalid_cursor")
		}
		start = n
	}
	end := min(start+limit, len(ids))
	members := make([]obj, 0, end-start)
	for _, id := range ids[start:end] {
		members = append(members, userJSON(s.users[id]))
	}
	next := ""
	if end < len(ids) {
		next = "dXNlcjo" + itoa(end)
	}
	return obj{"members": members, "cache_ts": s.now().Unix(), "response_metadata": obj{"next_cursor": next}}, nil
}

func (s *Server) usersLookupByEmail(a *args) (obj, error) {
	u := s.userByEmail(a.get("email"))
	if u == nil {
		return nil, fail("users_not_found")
	}
	return obj{"user": userJSON(u)}, nil
}

func (s *Server) usergroupsUsersList(a *args) (obj, error) {
	members, ok := s.groups[a.get("usergroup")]
	if !ok {
		return nil, fail("no_such_subteam")
	}
	if members == nil {
		members = []string{}
	}
	return obj{"users": members}, nil
}

func messageJSON(m *Message) obj {
	o := obj{
		"type":    "message",
		"user":    BotUserID,
		"bot_id":  BotID,
		"app_id":  AppID,
		"team":    TeamID,
		"text":    m.Text,
		"ts":      m.TS,
		"channel": m.Channel,
	}
	if m.ThreadTS != "" {
		o["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		o["blocks"] = m.Blocks
	}
	return o
}

func channelJSON(ch *channel) obj {
	o := obj{"id": ch.id, "name": ch.name, "is_im": ch.im, "is_channel": !ch.im, "created": 1700000000}
	if ch.im {
		o["user"] = ch.user
	}
	return o
}

func userJSON(u *User) obj {
	profile := obj{"real_name": u.RealName, "display_name": u.Name}
	if u.Email != "" {
		profile["email"] = u.Email
	}
	team := u.TeamID
	if team == "" {
		team = TeamID
	}
	return obj{
		"id":        u.ID,
		"team_id":   team,
		"name":      u.Name,
		"real_name": u.RealName,
		"deleted":   u.Deleted,
		"is_bot":    u.IsBot,
		"tz":        u.TZ,
		"profile":   profile,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func itoa(n int) string { return strconv.Itoa(n) }
