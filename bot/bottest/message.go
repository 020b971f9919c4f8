package bottest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
)

// Message is a message as the fake stores it: posted with chat.postMessage or
// chat.postEphemeral, through a response URL, or shown from a slash-command ack.
type Message struct {
	Channel   string
	TS        string
	ThreadTS  string
	User      string // recipient, for ephemerals only
	Ephemeral bool
	Text      string
	Blocks    json.RawMessage // the blocks array as posted; nil when none
	Via       string          // chat.postMessage, chat.postEphemeral, chat.update, response_url or ack
	Updated   bool            // the content was replaced at least once
	Deleted   bool            // deleted through a response URL (delete_original)
	History   []Message       // earlier versions, oldest first
}

// Button is a button element found in a message or view.
type Button struct {
	BlockID  string
	ActionID string
	Label    string
	Value    string
	Style    string
	URL      string
}

// Buttons returns the message's buttons in block order.
func (m Message) Buttons() []Button { return buttons(m.Blocks) }

// Button returns the button with actionID, if the message has one.
func (m Message) Button(actionID string) (Button, bool) {
	for _, b := range m.Buttons() {
		if b.ActionID == actionID {
			return b, true
		}
	}
	return Button{}, false
}

// PlainText renders the message for people: its blocks as text lines, or its
// text when it has no blocks.
func (m Message) PlainText() string {
	if len(m.Blocks) == 0 || string(m.Blocks) == "[]" || string(m.Blocks) == "null" {
		return m.Text
	}
	return renderBlocks(m.Blocks)
}

// Filter selects messages.
type Filter func(Message) bool

// InChannel matches non-ephemeral messages in channel, or in the bot's DM with
// a user ID (U… or W…; the DM is opened now so later posts to the user match).
func (s *Server) InChannel(channelOrUser string) Filter {
	s.mu.Lock()
	id := channelOrUser
	if strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W") {
		id, _ = s.openDM(id)
	}
	s.mu.Unlock()
	return func(m Message) bool { return m.Channel == id && !m.Ephemeral }
}

// EphemeralTo matches ephemeral messages shown to user.
func EphemeralTo(user string) Filter {
	return func(m Message) bool { return m.Ephemeral && m.User == user }
}

// Containing matches messages whose text or rendered blocks contain sub.
func Containing(sub string) Filter {
	return func(m Message) bool {
		return strings.Contains(m.Text, sub) || strings.Contains(m.PlainText(), sub)
	}
}

// WithButton matches messages that have a button with actionID.
func WithButton(actionID string) Filter {
	return func(m Message) bool { _, ok := m.Button(actionID); return ok }
}

// And matches messages that every filter matches.
func And(filters ...Filter) Filter {
	return func(m Message) bool {
		for _, f := range filters {
			if f != nil && !f(m) {
				return false
			}
		}
		return true
	}
}

type event struct {
	msg      Message
	consumed bool
}

// Messages returns every message in its current state, in post order,
// ephemerals included.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages))
	for _, m := range s.messages {
		out = append(out, m.clone())
	}
	return out
}

// Message returns the current state of the message at channel and ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byKey[channel+"/"+ts]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// MessagesTo returns the non-ephemeral, undeleted messages in a channel, or in
// the bot's DM with a user ID, in their current state.
func (s *Server) MessagesTo(channelOrUser string) []Message {
	f := s.InChannel(channelOrUser)
	var out []Message
	for _, m := range s.Messages() {
		if f(m) && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// Ephemerals returns the ephemeral messages shown to user, oldest first.
func (s *Server) Ephemerals(user string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.Ephemeral && m.User == user && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// NextMessage waits for the oldest post or update that f matches and that no
// earlier NextMessage call returned, and returns the message as it was then.
// Each post and each update counts once. A nil f matches everything.
func (s *Server) NextMessage(ctx context.Context, f Filter) (Message, error) {
	var got Message
	err := s.wait(ctx, func() bool {
		for _, e := range s.events {
			if !e.consumed && (f == nil || f(e.msg)) {
				e.consumed = true
				got = e.msg.clone()
				return true
			}
		}
		return false
	})
	return got, err
}

// addMessage stores a new message. Call with s.mu held.
func (s *Server) addMessage(m *Message) {
	s.messages = append(s.messages, m)
	s.byKey[m.Channel+"/"+m.TS] = m
	s.events = append(s.events, &event{msg: m.clone()})
	s.log("bottest: %s %s %s: %q", m.Via, m.Channel, m.TS, firstLine(m.PlainText()))
	s.notify()
}

// replaceMessage replaces the content of m, keeping the old version in its
// history. A nil text or blocks keeps the old one. Call with s.mu held.
func (s *Server) replaceMessage(m *Message, via string, text *string, blocks json.RawMessage) {
	old := m.clone()
	old.History = nil
	m.History = append(m.History, old)
	if text != nil {
		m.Text = *text
	}
	if blocks != nil {
		m.Blocks = blocks
	}
	m.Via = via
	m.Updated = true
	s.events = append(s.events, &event{msg: m.clone()})
	s.log("bottest: %s %s %s: %q", via, m.Channel, m.TS, firstLine(m.PlainText()))
	s.notify()
}

func (m *Message) clone() Message {
	c := *m
	c.Blocks = slices.Clone(m.Blocks)
	c.History = slices.Clone(m.History)
	return c
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
