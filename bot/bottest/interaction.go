package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// SlashCommand runs command with text as userID typed it in the bot's DM,
// and waits for the ack. An ack payload with text or blocks is recorded as the
// message Slack would show (ephemeral unless response_type is in_channel).
func (s *Server) SlashCommand(ctx context.Context, userID, command, text string) (Ack, error) {
	return s.SlashCommandIn(ctx, userID, s.DMChannel(userID), command, text)
}

// SlashCommandIn is SlashCommand typed in channelID.
func (s *Server) SlashCommandIn(ctx context.Context, userID, channelID, command, text string) (Ack, error) {
	s.mu.Lock()
	text = s.slashText(text)
	s.mu.Unlock()
	return s.SlashCommandSent(ctx, userID, channelID, command, text)
}

// SlashCommandSent is SlashCommandIn with text sent exactly as given, whatever the escaping.
func (s *Server) SlashCommandSent(ctx context.Context, userID, channelID, command, text string) (Ack, error) {
	s.mu.Lock()
	chName := channelID
	if ch, ok := s.channels[channelID]; ok {
		chName = ch.name
	}
	team := TeamID
	if u, ok := s.users[userID]; ok && u.TeamID != "" {
		team = u.TeamID
	}
	payload := obj{
		"token":                 "fake-verification-token",
		"team_id":               team,
		"team_domain":           TeamDomain,
		"channel_id":            channelID,
		"channel_name":          chName,
		"user_id":               userID,
		"user_name":             s.userName(userID),
		"command":               command,
		"text":                  text,
		"api_app_id":            AppID,
		"is_enterprise_install": "false",
		"response_url":          s.newHook(userID, channelID, ""),
		"trigger_id":            s.issueTrigger(userID),
	}
	s.mu.Unlock()
	onAck := func(a Ack) {
		var body struct {
			Text         string          `json:"text"`
			Blocks       json.RawMessage `json:"blocks"`
			ResponseType string          `json:"response_type"`
		}
		if json.Unmarshal(a.Payload, &body) != nil || (body.Text == "" && len(body.Blocks) == 0) {
			return
		}
		m := &Message{Channel: channelID, TS: s.nextTS(), Text: body.Text, Blocks: body.Blocks, Via: "ack"}
		if body.ResponseType != "in_channel" {
			m.Ephemeral, m.User = true, userID
		}
		s.addMessage(m)
	}
	return s.push(ctx, Envelope{Type: "slash_commands", Payload: mustJSON(payload), AcceptsResponsePayload: true}, onAck)
}

// ClickButton clicks the button with actionID in the current version of msg
// (looked up again by channel and ts, so a button removed by chat.update
// cannot be clicked), and waits for the ack.
func (s *Server) ClickButton(ctx context.Context, userID string, msg Message, actionID string) (Ack, error) {
	s.mu.Lock()
	key := msg.Channel + "/" + msg.TS
	m, ok := s.byKey[key]
	if !ok || m.Deleted {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("bottest: click %s: no message %s", actionID, key)
	}
	b, ok := m.Button(actionID)
	if !ok {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("bottest: click %s: message %s has no such button (has %v)", actionID, key, actionIDs(m.Buttons()))
	}
	ch := s.channels[m.Channel]
	chName := m.Channel
	if ch != nil {
		chName = ch.name
	}
	payload := s.blockActions(userID, b)
	payload["container"] = obj{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": m.Ephemeral}
	payload["channel"] = obj{"id": m.Channel, "name": chName}
	if !m.Ephemeral {
		payload["message"] = messageJSON(m)
	}
	payload["response_url"] = s.newHook(userID, m.Channel, key)
	s.mu.Unlock()
	return s.push(ctx, Envelope{Type: "interactive", Payload: mustJSON(payload)}, nil)
}

// ClickViewButton clicks the button with actionID in the current version of a
// modal or Home tab, and waits for the ack.
func (s *Server) ClickViewButton(ctx context.Context, userID string, view View, actionID string) (Ack, error) {
	s.mu.Lock()
	v, ok := s.views[view.ID]
	if !ok || v.Closed {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("bottest: click %s: no open view %s", actionID, view.ID)
	}
	var b Button
	found := false
	for _, x := range v.Buttons() {
		if x.ActionID == actionID {
			b, found = x, true
			break
		}
	}
	if !found {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("bottest: click %s: view %s has no such button (has %v)", actionID, v.ID, actionIDs(v.Buttons()))
	}
	payload := s.blockActions(userID, b)
	payload["container"] = obj{"type": "view", "view_id": v.ID}
	payload["view"] = viewJSON(v, nil)
	s.mu.Unlock()
	return s.push(ctx, Envelope{Type: "interactive", Payload: mustJSON(payload)}, nil)
}

// blockActions builds the common part of a block_actions payload. Call with s.mu held.
func (s *Server) blockActions(userID string, b Button) obj {
	action := obj{
		"type":      "button",
		"action_id": b.ActionID,
		"block_id":  b.BlockID,
		"text":      obj{"type": "plain_text", "text": b.Label, "emoji": true},
		"value":     b.Value,
		"action_ts": s.nowTS(),
	}
	if b.Style != "" {
		action["style"] = b.Style
	}
	return obj{
		"type":                  "block_actions",
		"token":                 "fake-verification-token",
		"api_app_id":            AppID,
		"is_enterprise_install": false,
		"team":                  obj{"id": TeamID, "domain": TeamDomain},
		"user":                  s.userJSONShort(userID),
		"trigger_id":            s.issueTrigger(userID),
		"state":                 obj{"values": obj{}},
		"actions":               []obj{action},
	}
}

// SubmitView submits the open modal view as userID with values given as
// block_id → action_id → value (a selected option's value for selects, a user
// ID for users_select, a date for datepicker), and waits for the ack. The ack's
// response_action is applied: errors keeps the modal open with View.Errors set,
// update replaces it, push stacks a new one, clear closes the stack, and an
// empty ack closes it.
func (s *Server) SubmitView(ctx context.Context, userID string, view View, values map[string]map[string]string) (Ack, error) {
	s.mu.Lock()
	v, ok := s.views[view.ID]
	if !ok || v.Closed || v.Type != "modal" {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("bottest: submit: no open modal %s", view.ID)
	}
	state, err := stateValues(v.Blocks, values)
	if err != nil {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("bottest: submit %s: %w", v.ID, err)
	}
	payload := obj{
		"type":                  "view_submission",
		"token":                 "fake-verification-token",
		"api_app_id":            AppID,
		"is_enterprise_install": false,
		"team":                  obj{"id": TeamID, "domain": TeamDomain},
		"user":                  s.userJSONShort(userID),
		"trigger_id":            s.issueTrigger(userID),
		"view":                  viewJSON(v, state),
		"response_urls":         []obj{},
	}
	s.mu.Unlock()
	onAck := func(a Ack) { s.applyViewResponse(v, a.Payload) }
	return s.push(ctx, Envelope{Type: "interactive", Payload: mustJSON(payload), AcceptsResponsePayload: true}, onAck)
}

// applyViewResponse applies a view_submission ack. Call with s.mu held.
func (s *Server) applyViewResponse(v *View, payload json.RawMessage) {
	var r struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	_ = json.Unmarshal(payload, &r)
	switch r.ResponseAction {
	case "errors":
		v.Errors = r.Errors
	case "update":
		if raw, err := parseView(r.View, "modal"); err == nil {
			v.Updates++
			s.setContent(v, raw)
		} else {
			s.log("bottest: response_action update with bad view: %v", err)
		}
	case "push":
		if raw, err := parseView(r.View, "modal"); err == nil {
			s.newView(v.User, "", v.ID, raw)
		} else {
			s.log("bottest: response_action push with bad view: %v", err)
		}
	case "clear":
		for _, x := range s.views {
			if x.RootViewID == v.RootViewID {
				x.Closed = true
			}
		}
	default:
		v.Closed = true
	}
	s.notify()
}

// stateValues builds view.state.values for a submission.
func stateValues(blocks json.RawMessage, values map[string]map[string]string) (obj, error) {
	out := obj{}
	bs, _ := decodeBlocks(blocks)
	for _, b := range bs {
		if str(b, "type") != "input" {
			continue
		}
		e := sub(b, "element")
		out[str(b, "block_id")] = obj{str(e, "action_id"): obj{"type": str(e, "type"), "value": nil}}
	}
	for blockID, actions := range values {
		for actionID, val := range actions {
			typ := elementType(blocks, blockID, actionID)
			if typ == "" {
				return nil, fmt.Errorf("no input %s/%s in the view", blockID, actionID)
			}
			st := obj{"type": typ}
			switch typ {
			case "static_select", "external_select", "radio_buttons":
				st["selected_option"] = option(val)
			case "checkboxes", "multi_static_select":
				st["selected_options"] = []obj{option(val)}
			case "users_select":
				st["selected_user"] = val
			case "conversations_select":
				st["selected_conversation"] = val
			case "channels_select":
				st["selected_channel"] = val
			case "datepicker":
				st["selected_date"] = val
			case "timepicker":
				st["selected_time"] = val
			default:
				st["value"] = val
			}
			b, _ := out[blockID].(obj)
			if b == nil {
				b = obj{}
				out[blockID] = b
			}
			b[actionID] = st
		}
	}
	return out, nil
}

func option(val string) obj {
	return obj{"text": obj{"type": "plain_text", "text": val, "emoji": true}, "value": val}
}

// OpenHome sends an app_home_opened event (tab home) for userID, carrying the
// user's current Home view if one was published, and waits for the ack.
func (s *Server) OpenHome(ctx context.Context, userID string) (Ack, error) {
	s.mu.Lock()
	dm, _ := s.openDM(userID)
	now := time.Now()
	event := obj{"type": "app_home_opened", "user": userID, "channel": dm, "tab": "home", "event_ts": s.nowTS()}
	if id, ok := s.homes[userID]; ok {
		event["view"] = viewJSON(s.views[id], nil)
	}
	payload := obj{
		"token":      "fake-verification-token",
		"team_id":    TeamID,
		"api_app_id": AppID,
		"event":      event,
		"type":       "event_callback",
		"event_id":   s.nextID("Ev"),
		"event_time": now.Unix(),
		"authorizations": []obj{{
			"team_id": TeamID, "user_id": BotUserID, "is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         "4-fake",
	}
	s.mu.Unlock()
	return s.push(ctx, Envelope{Type: "events_api", Payload: mustJSON(payload)}, nil)
}

// userName is the user's name, or the ID for unknown users. Call with s.mu held.
func (s *Server) userName(id string) string {
	if u, ok := s.users[id]; ok {
		return u.Name
	}
	return id
}

// userJSONShort is the user object of interaction payloads. Call with s.mu held.
func (s *Server) userJSONShort(id string) obj {
	name := s.userName(id)
	team := TeamID
	if u, ok := s.users[id]; ok && u.TeamID != "" {
		team = u.TeamID
	}
	return obj{"id": id, "username": name, "name": name, "team_id": team}
}

// nowTS is a Slack timestamp for now. Call with s.mu held.
func (s *Server) nowTS() string {
	s.seq++
	return strconv.FormatInt(time.Now().Unix(), 10) + "." + fmt.Sprintf("%06d", s.seq%1000000)
}

func actionIDs(bs []Button) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.ActionID
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
