package bottest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// MaxHookUses is how many times a response URL may be posted to.
const MaxHookUses = 5

// hook is a response URL handed out in a payload.
type hook struct {
	user    string
	channel string
	message string // channel/ts key of the message a button was clicked in
	uses    int
	created time.Time
}

// ResponseURL hands out a response URL for userID in channelID, as a payload built by a test
// would carry (Slack puts one in every slash command and message click).
func (s *Server) ResponseURL(userID, channelID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newHook(userID, channelID, "")
}

// newHook returns a fresh response URL. Call with s.mu held.
func (s *Server) newHook(user, channel, messageKey string) string {
	id := s.nextID("")
	s.hooks[id] = &hook{user: user, channel: channel, message: messageKey, created: time.Now()}
	return s.hs.URL + "/hooks/" + TeamID + "/" + id + "/fake"
}

// serveHook answers posts to response URLs as hooks.slack.com does, with JSON.
func (s *Server) serveHook(w http.ResponseWriter, r *http.Request) {
	if s.applyFault(w, r, s.takeFault("response_url")) {
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/hooks/"), "/")
	var body struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
		ThreadTS        string          `json:"thread_ts"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
		writeJSON(w, http.StatusBadRequest, obj{"ok": false, "error": "invalid_payload"})
		return
	}
	if string(body.Blocks) == "null" {
		body.Blocks = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var h *hook
	if len(parts) >= 2 {
		h = s.hooks[parts[1]]
	}
	if h == nil || h.uses >= MaxHookUses || time.Since(h.created) > 30*time.Minute {
		writeJSON(w, http.StatusNotFound, obj{"ok": false, "error": "expired_url"})
		return
	}
	if err := checkContent(body.Text, body.Blocks, !body.DeleteOriginal); err != nil {
		writeJSON(w, http.StatusOK, obj{"ok": false, "error": err.Error()})
		return
	}
	h.uses++
	orig := s.byKey[h.message]
	switch {
	case body.DeleteOriginal && orig != nil:
		s.replaceMessage(orig, "response_url", nil, nil)
		orig.Deleted = true
		s.events[len(s.events)-1].msg.Deleted = true
	case body.ReplaceOriginal && orig != nil:
		blocks := body.Blocks
		if blocks == nil {
			blocks = json.RawMessage("[]")
		}
		s.replaceMessage(orig, "response_url", &body.Text, blocks)
	default:
		m := &Message{Channel: h.channel, TS: s.nextTS(), ThreadTS: body.ThreadTS, Text: body.Text, Blocks: body.Blocks, Via: "response_url"}
		if body.ResponseType != "in_channel" {
			m.Ephemeral, m.User = true, h.user
		}
		s.addMessage(m)
	}
	writeJSON(w, http.StatusOK, obj{"ok": true})
}
