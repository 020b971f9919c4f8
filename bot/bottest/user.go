package bottest

import (
	"slices"
	"strings"
)

// User is a member of the fake workspace.
type User struct {
	ID       string
	Name     string
	RealName string
	Email    string // empty: users.info has no profile.email and users.lookupByEmail never finds the user
	TZ       string
	IsBot    bool
	Deleted  bool
	TeamID   string // the user's own workspace; another one for Slack Connect users (default TeamID)
}

type channel struct {
	id      string
	name    string
	im      bool
	user    string   // the other member of a DM
	members []string // the people in it: only they can be shown ephemerals here
	private bool     // a private channel: the bot can post only when invited
	noBot   bool     // the bot is not a member
}

// AddUser adds or replaces a user. An empty email gives a user without one.
func (s *Server) AddUser(id, name, email string) {
	s.PutUser(User{ID: id, Name: name, RealName: name, Email: email})
}

// PutUser adds or replaces a user with every field set by the caller.
func (s *Server) PutUser(u User) {
	if u.TZ == "" {
		u.TZ = "Europe/London"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = &u
	s.notify()
}

// AddUserGroup adds or replaces a user group (S…) and its members.
func (s *Server) AddUserGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = slices.Clone(members)
	s.notify()
}

// AddChannel adds a public channel the bot is a member of, with members: ephemerals there go
// only to them (others get user_not_in_channel), as in Slack.
func (s *Server) AddChannel(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[id] = &channel{id: id, name: strings.ToLower(id), members: slices.Clone(members)}
	s.notify()
}

// AddPrivateChannel adds a private channel with members. Unless invited, the bot is not in it:
// chat.postMessage there answers channel_not_found, as Slack does for a private channel the
// bot cannot see.
func (s *Server) AddPrivateChannel(id string, invited bool, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[id] = &channel{id: id, name: strings.ToLower(id), members: slices.Clone(members), private: true, noBot: !invited}
	s.notify()
}

// DMChannel returns the ID of the bot's DM with user, opening it if needed.
func (s *Server) DMChannel(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := s.openDM(userID)
	return id
}

// openDM returns the DM channel with userID and whether it already existed.
// Call with s.mu held.
func (s *Server) openDM(userID string) (string, bool) {
	if id, ok := s.dms[userID]; ok {
		return id, true
	}
	id := s.nextID("D")
	s.dms[userID] = id
	s.channels[id] = &channel{id: id, name: "directmessage", im: true, user: userID, members: []string{userID}}
	return id, false
}

// resolveChannel maps a channel argument (C…, D…, G… or a user ID) to a known
// channel the bot can see. Call with s.mu held.
func (s *Server) resolveChannel(arg string) (*channel, bool) {
	if ch, ok := s.channels[arg]; ok {
		if ch.private && ch.noBot {
			return nil, false
		}
		return ch, true
	}
	if _, ok := s.users[arg]; ok {
		id, _ := s.openDM(arg)
		return s.channels[id], true
	}
	return nil, false
}

func (s *Server) userByEmail(email string) *User {
	for _, u := range s.users {
		if u.Email != "" && strings.EqualFold(u.Email, email) {
			return u
		}
	}
	return nil
}
