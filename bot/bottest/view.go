package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"
)

// View is a modal or Home tab as the fake stores it.
type View struct {
	ID              string
	Type            string // modal or home
	User            string // who sees it
	TriggerID       string // the trigger that opened it (modals)
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Hash            string
	Title           string
	Blocks          json.RawMessage
	RootViewID      string
	PreviousViewID  string
	Closed          bool              // closed by a submission without errors, or by clear
	Errors          map[string]string // errors from the last response_action "errors"
	Updates         int               // times replaced by views.update, publish or response_action update

	raw obj // the view as the app sent it, for payloads
}

// Buttons returns the view's buttons in block order.
func (v View) Buttons() []Button { return buttons(v.Blocks) }

// PlainText renders the view's title and blocks as text lines.
func (v View) PlainText() string {
	out := renderBlocks(v.Blocks)
	if v.Title != "" {
		out = "## " + v.Title + "\n" + out
	}
	return out
}

type trigger struct {
	user   string
	issued time.Time
	used   bool
}

// issueTrigger hands out a trigger_id for user. Call with s.mu held.
func (s *Server) issueTrigger(user string) string {
	s.seq++
	id := fmt.Sprintf("%d.%d.%x", 1000+s.seq, s.startedAt.Unix(), s.seq*7919)
	s.triggers[id] = &trigger{user: user, issued: s.now()}
	return id
}

// IssueTrigger hands out a trigger_id for userID, as a slash command or click
// would, for tests that call views.open directly. It expires after the trigger TTL.
func (s *Server) IssueTrigger(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueTrigger(userID)
}

// useTrigger consumes a trigger_id. Call with s.mu held.
func (s *Server) useTrigger(id string) (*trigger, error) {
	t, ok := s.triggers[id]
	switch {
	case id == "" || !ok:
		return nil, fail("invalid_trigger_id")
	case t.used || s.now().Sub(t.issued) > s.triggerTTL:
		return nil, fail("expired_trigger_id")
	}
	t.used = true
	return t, nil
}

// Views returns every modal opened or pushed, in its current state, oldest first.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []View
	for _, id := range s.viewList {
		if v := s.views[id]; v.Type == "modal" {
			out = append(out, v.clone())
		}
	}
	return out
}

// View returns the current state of a view by ID.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[id]
	if !ok {
		return View{}, false
	}
	return v.clone(), true
}

// HomeView returns the Home tab last published for user.
func (s *Server) HomeView(user string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.homes[user]
	if !ok {
		return View{}, false
	}
	return s.views[id].clone(), true
}

// WaitView waits until some view (modal or home, current state) matches f and returns it.
func (s *Server) WaitView(ctx context.Context, f func(View) bool) (View, error) {
	var got View
	err := s.wait(ctx, func() bool {
		for _, id := range s.viewList {
			if v := s.views[id]; f(v.clone()) {
				got = v.clone()
				return true
			}
		}
		return false
	})
	return got, err
}

func (v *View) clone() View {
	c := *v
	c.Blocks = slices.Clone(v.Blocks)
	c.Errors = maps.Clone(v.Errors)
	return c
}

// parseView decodes and validates a view argument.
func parseView(raw json.RawMessage, wantType string) (obj, error) {
	if raw == nil {
		return nil, fail("invalid_arguments", "[ERROR] missing required field: view")
	}
	var v obj
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fail("invalid_arguments", "[ERROR] view is not valid JSON")
	}
	if str(v, "type") != wantType {
		return nil, fail("invalid_arguments", fmt.Sprintf("[ERROR] view type must be %s [json-pointer:/view/type]", wantType))
	}
	blocks, _ := json.Marshal(v["blocks"])
	if problems := validateBlocks(blocks, MaxViewBlocks); len(problems) > 0 {
		return nil, fail("invalid_blocks", problems...)
	}
	var problems []string
	if wantType == "modal" {
		title := sub(v, "title")
		if n := utf8.RuneCountInString(str(title, "text")); n == 0 || n > MaxViewTitle {
			problems = append(problems, fmt.Sprintf("[ERROR] title must be 1 to %d characters [json-pointer:/view/title/text]", MaxViewTitle))
		}
		for _, key := range []string{"submit", "close"} {
			if t := sub(v, key); t != nil && utf8.RuneCountInString(str(t, "text")) > MaxViewTitle {
				problems = append(problems, fmt.Sprintf("[ERROR] must be less than %d characters [json-pointer:/view/%s/text]", MaxViewTitle+1, key))
			}
		}
		if sub(v, "submit") == nil {
			for _, b := range list(v, "blocks") {
				if str(b, "type") == "input" {
					problems = append(problems, "[ERROR] submit is required when an input block is present [json-pointer:/view/submit]")
					break
				}
			}
		}
	}
	if utf8.RuneCountInString(str(v, "private_metadata")) > MaxPrivateMetadata {
		problems = append(problems, "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]")
	}
	if utf8.RuneCountInString(str(v, "callback_id")) > MaxCallbackID {
		problems = append(problems, "[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]")
	}
	if len(problems) > 0 {
		return nil, fail("invalid_arguments", problems...)
	}
	return v, nil
}

// setContent replaces a stored view's content. Call with s.mu held.
func (s *Server) setContent(v *View, raw obj) {
	blocks, _ := json.Marshal(raw["blocks"])
	if raw["blocks"] == nil {
		blocks = json.RawMessage("[]")
	}
	v.raw = raw
	v.Type = str(raw, "type")
	v.CallbackID = str(raw, "callback_id")
	v.PrivateMetadata = str(raw, "private_metadata")
	v.ExternalID = str(raw, "external_id")
	v.Title = str(sub(raw, "title"), "text")
	v.Blocks = blocks
	v.Hash = fmt.Sprintf("%d.%s", time.Now().Unix(), s.nextID("h"))
	v.Errors = nil
	s.log("bottest: view %s %s (%s) for %s: %q", v.Type, v.ID, v.CallbackID, v.User, firstLine(v.PlainText()))
	s.notify()
}

// newView stores a new view. Call with s.mu held.
func (s *Server) newView(user, triggerID, previous string, raw obj) *View {
	v := &View{ID: s.nextID("V"), User: user, TriggerID: triggerID, PreviousViewID: previous}
	v.RootViewID = v.ID
	if p, ok := s.views[previous]; ok {
		v.RootViewID = p.RootViewID
	}
	s.views[v.ID] = v
	s.viewList = append(s.viewList, v.ID)
	s.setContent(v, raw)
	return v
}

// viewJSON is the view object Slack returns and puts in payloads.
func viewJSON(v *View, values any) obj {
	o := maps.Clone(v.raw)
	if o == nil {
		o = obj{}
	}
	if values == nil {
		values = obj{}
	}
	maps.Copy(o, obj{
		"id":                    v.ID,
		"team_id":               TeamID,
		"type":                  v.Type,
		"blocks":                v.Blocks,
		"private_metadata":      v.PrivateMetadata,
		"callback_id":           v.CallbackID,
		"external_id":           v.ExternalID,
		"hash":                  v.Hash,
		"state":                 obj{"values": values},
		"root_view_id":          v.RootViewID,
		"previous_view_id":      nilIfEmpty(v.PreviousViewID),
		"app_id":                AppID,
		"bot_id":                BotID,
		"app_installed_team_id": TeamID,
	})
	return o
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) viewsOpen(a *args) (obj, error) {
	raw, err := parseView(a.json("view"), "modal")
	if err != nil {
		return nil, err
	}
	t, err := s.useTrigger(a.get("trigger_id"))
	if err != nil {
		return nil, err
	}
	v := s.newView(t.user, a.get("trigger_id"), "", raw)
	return obj{"view": viewJSON(v, nil)}, nil
}

func (s *Server) viewsPush(a *args) (obj, error) {
	raw, err := parseView(a.json("view"), "modal")
	if err != nil {
		return nil, err
	}
	t, err := s.useTrigger(a.get("trigger_id"))
	if err != nil {
		return nil, err
	}
	var top string
	for _, id := range s.viewList {
		if v := s.views[id]; v.Type == "modal" && v.User == t.user && !v.Closed {
			top = id
		}
	}
	if top == "" {
		return nil, fail("not_found", "[ERROR] no open modal to push onto")
	}
	v := s.newView(t.user, a.get("trigger_id"), top, raw)
	return obj{"view": viewJSON(v, nil)}, nil
}

func (s *Server) viewsUpdate(a *args) (obj, error) {
	var v *View
	if id := a.get("view_id"); id != "" {
		v = s.views[id]
	} else if ext := a.get("external_id"); ext != "" {
		for _, id := range s.viewList {
			if s.views[id].ExternalID == ext {
				v = s.views[id]
			}
		}
	} else {
		return nil, fail("invalid_arguments", "[ERROR] view_id or external_id is required")
	}
	if v == nil || v.Type != "modal" {
		return nil, fail("not_found")
	}
	if h := a.get("hash"); h != "" && h != v.Hash {
		return nil, fail("hash_conflict")
	}
	raw, err := parseView(a.json("view"), "modal")
	if err != nil {
		return nil, err
	}
	v.Updates++
	s.setContent(v, raw)
	return obj{"view": viewJSON(v, nil)}, nil
}

func (s *Server) viewsPublish(a *args) (obj, error) {
	user := a.get("user_id")
	if _, ok := s.users[user]; !ok {
		return nil, fail("user_not_found")
	}
	raw, err := parseView(a.json("view"), "home")
	if err != nil {
		return nil, err
	}
	id, ok := s.homes[user]
	if !ok {
		v := s.newView(user, "", "", raw)
		s.homes[user] = v.ID
		return obj{"view": viewJSON(v, nil)}, nil
	}
	v := s.views[id]
	if h := a.get("hash"); h != "" && h != v.Hash {
		return nil, fail("hash_conflict")
	}
	v.Updates++
	s.setContent(v, raw)
	return obj{"view": viewJSON(v, nil)}, nil
}
