package bottest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Identity of the fake workspace and app, as returned by auth.test and put in payloads.
const (
	TeamID     = "T0FAKE"
	TeamDomain = "fake"
	AppID      = "A0FAKE"
	BotUserID  = "U0BOT"
	BotID      = "B0BOT"
)

// Default tokens accepted by a Server unless WithBotToken / WithAppToken say otherwise.
const (
	DefaultBotToken = "xoxb-fake-bot"
	DefaultAppToken = "xapp-fake-app"
)

// Server is a fake Slack workspace with one app installed. It is safe for
// concurrent use. Create it with New or NewServer and stop it with Close.
type Server struct {
	hs *httptest.Server

	botToken        string
	appToken        string
	pingInterval    time.Duration
	triggerTTL      time.Duration
	disconnectGrace time.Duration
	logf            func(format string, args ...any)
	startedAt       time.Time

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	closed  bool
	seq     int

	users    map[string]*User
	groups   map[string][]string
	channels map[string]*channel
	dms      map[string]string // user ID -> DM channel ID

	messages []*Message          // current state, in post order
	byKey    map[string]*Message // channel + "/" + ts
	events   []*event            // every post and update, for NextMessage

	views    map[string]*View
	viewList []string
	homes    map[string]string // user ID -> home view ID
	triggers map[string]*trigger
	hooks    map[string]*hook

	tickets    map[string]bool // unused tickets
	conns      []*conn
	spread     bool // WithSpread: envelopes go to the open links in turn
	turn       int
	sent       map[string]*sentEnvelope
	deliveries []Envelope
	acks       []Ack
	waiters    map[string][]chan Ack

	calls  map[string]int
	faults map[string][]*Fault

	now       func() time.Time
	noLimits  bool
	limits    limiter
	outage    int // HTTP status every Web API call answers while Slack is down; 0 when up
	throttles map[string]throttle
	escape    bool // slash command text as with should_escape: true
}

// Option configures a Server.
type Option func(*Server)

// WithSpread hands each envelope to the next open link in turn, as Slack spreads envelopes
// over the connections of an app run as several replicas. By default the newest link gets
// every envelope.
func WithSpread() Option { return func(s *Server) { s.spread = true } }

// WithBotToken sets the only bot token (xoxb-…) the Web API accepts.
func WithBotToken(token string) Option { return func(s *Server) { s.botToken = token } }

// WithAppToken sets the only app-level token (xapp-…) apps.connections.open accepts.
func WithAppToken(token string) Option { return func(s *Server) { s.appToken = token } }

// WithPingInterval sets how often the fake sends WebSocket PINGs on each link
// (default 200ms). Keep it well under the client's socketmode.OptionPingInterval.
// Zero or negative disables pings, which makes slack-go reconnect on its watchdog.
func WithPingInterval(d time.Duration) Option { return func(s *Server) { s.pingInterval = d } }

// WithTriggerTTL sets how long a trigger_id stays usable (default 3s, as in Slack).
func WithTriggerTTL(d time.Duration) Option { return func(s *Server) { s.triggerTTL = d } }

// WithDisconnectGrace sets how long the fake waits for the client to close a
// link after sending a disconnect frame before it closes the link itself (default 1s).
func WithDisconnectGrace(d time.Duration) Option { return func(s *Server) { s.disconnectGrace = d } }

// WithLogf makes the fake log each Web API call, link and envelope with logf.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(s *Server) { s.logf = logf }
}

// New starts a fake Slack on 127.0.0.1 with a random port. The caller must Close it.
func New(opts ...Option) *Server {
	s := &Server{
		botToken:        DefaultBotToken,
		appToken:        DefaultAppToken,
		pingInterval:    200 * time.Millisecond,
		triggerTTL:      3 * time.Second,
		disconnectGrace: time.Second,
		startedAt:       time.Now(),
		changed:         make(chan struct{}),
		users:           map[string]*User{},
		groups:          map[string][]string{},
		channels:        map[string]*channel{},
		dms:             map[string]string{},
		byKey:           map[string]*Message{},
		views:           map[string]*View{},
		homes:           map[string]string{},
		triggers:        map[string]*trigger{},
		hooks:           map[string]*hook{},
		tickets:         map[string]bool{},
		sent:            map[string]*sentEnvelope{},
		waiters:         map[string][]chan Ack{},
		calls:           map[string]int{},
		faults:          map[string][]*Fault{},
		now:             time.Now,
		escape:          true,
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("/link/", s.serveLink)
	mux.HandleFunc("/hooks/", s.serveHook)
	s.hs = httptest.NewServer(mux)
	return s
}

// NewServer is New for tests: the server is closed when t's test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	t.Cleanup(s.Close)
	return s
}

// Close closes every Socket Mode link and stops the HTTP server.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := append([]*conn(nil), s.conns...)
	s.notify()
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.hs.CloseClientConnections()
	s.hs.Close()
}

// URL is the server's base URL, e.g. http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.hs.URL }

// APIURL is the Web API base URL to pass to slack.OptionAPIURL; it ends with "/".
func (s *Server) APIURL() string { return s.hs.URL + "/api/" }

// BotToken is the bot token the Web API accepts.
func (s *Server) BotToken() string { return s.botToken }

// AppToken is the app-level token apps.connections.open accepts.
func (s *Server) AppToken() string { return s.appToken }

// Calls reports how many times a Web API method was called (including failed
// and faulted calls). Use "response_url" for posts to response URLs.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// WaitCalls waits until method has been called at least n times.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) error {
	return s.wait(ctx, func() bool { return s.calls[method] >= n })
}

// notify wakes every waiter. Call with s.mu held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait blocks until cond, evaluated with s.mu held, returns true, or ctx ends.
func (s *Server) wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, ch, closed := cond(), s.changed, s.closed
		s.mu.Unlock()
		if ok {
			return nil
		}
		if closed {
			return errClosed
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// nextID returns prefix followed by a fresh sequence number. Call with s.mu held.
func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%07d", prefix, s.seq)
}

// nextTS returns a unique, increasing message timestamp. Call with s.mu held.
func (s *Server) nextTS() string {
	s.seq++
	return fmt.Sprintf("%d.%06d", s.startedAt.Unix(), s.seq)
}

func (s *Server) log(format string, args ...any) {
	if s.logf != nil {
		s.logf(format, args...)
	}
}

type fakeError string

func (e fakeError) Error() string { return string(e) }

const errClosed = fakeError("bottest: server closed")

// hostURL is the base used in URLs handed to the client (response URLs, links).
func (s *Server) hostURL(scheme string) string {
	return scheme + "://" + strings.TrimPrefix(s.hs.URL, "http://")
}
