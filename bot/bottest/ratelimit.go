package bottest

import (
	"net/http"
	"time"
)

// Slack's rate limits (docs.slack.dev/apis/web-api/rate-limits): each Web API method belongs to
// a tier allowing a number of calls per minute per workspace; chat.postMessage allows about one
// message per second per channel, with short bursts. The fake answers calls over the limit with
// HTTP 429, error ratelimited and Retry-After, as Slack does.
const (
	Tier1 = 1
	Tier2 = 20
	Tier3 = 50
	Tier4 = 100
	// ChannelBurst is how many messages a channel takes at once before the one-per-second pace.
	ChannelBurst = 3
)

// MethodTiers is the per-minute allowance of each method the fake serves. Methods not listed
// (auth.test, apps.connections.open) are not limited.
var MethodTiers = map[string]int{
	"chat.postMessage":      600, // special: limited per channel; this is the workspace cap
	"chat.update":           Tier3,
	"chat.postEphemeral":    Tier4,
	"conversations.open":    Tier3,
	"users.info":            Tier4,
	"users.list":            Tier2,
	"users.lookupByEmail":   Tier3,
	"usergroups.users.list": Tier2,
	"views.open":            Tier4,
	"views.push":            Tier4,
	"views.update":          Tier4,
	"views.publish":         Tier4,
}

// WithoutRateLimits turns the fake's rate limits off, for benchmarks that measure jitbot
// rather than Slack's pace.
func WithoutRateLimits() Option { return func(s *Server) { s.noLimits = true } }

// WithClock sets the clock of the fake's rate limits and trigger expiry (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// limiter keeps the calls of the last minute per method and a token bucket per channel.
type limiter struct {
	calls    map[string][]time.Time // method -> call times within the last minute
	channels map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// rateLimited reports whether a call of method (to channel, for posts) is over Slack's limit,
// and how long to wait. Call with s.mu held. A call within the limit is counted.
func (s *Server) rateLimited(method, channel string) (time.Duration, bool) {
	if s.noLimits {
		return 0, false
	}
	now := s.now()
	if s.limits.calls == nil {
		s.limits.calls = map[string][]time.Time{}
		s.limits.channels = map[string]*bucket{}
	}
	if method == "chat.postMessage" && channel != "" {
		b := s.limits.channels[channel]
		if b == nil {
			b = &bucket{tokens: ChannelBurst, at: now}
			s.limits.channels[channel] = b
		}
		b.tokens = min(ChannelBurst, b.tokens+now.Sub(b.at).Seconds())
		b.at = now
		if b.tokens < 1 {
			return time.Duration((1 - b.tokens) * float64(time.Second)), true
		}
		b.tokens--
	}
	limit, ok := MethodTiers[method]
	if !ok {
		return 0, false
	}
	window := s.limits.calls[method]
	i := 0
	for i < len(window) && now.Sub(window[i]) >= time.Minute {
		i++
	}
	window = window[i:]
	if len(window) >= limit {
		s.limits.calls[method] = window
		return window[0].Add(time.Minute).Sub(now), true
	}
	s.limits.calls[method] = append(window, now)
	return 0, false
}

// writeRateLimited answers 429 with Retry-After in whole seconds (at least 1).
func writeRateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", itoa(secs))
	writeJSON(w, http.StatusTooManyRequests, obj{"ok": false, "error": "ratelimited"})
}

// Outage makes every Web API method (not Socket Mode, not response URLs) answer HTTP status
// with an empty error until the returned function is called: Slack being down.
func (s *Server) Outage(status int) (end func()) {
	s.mu.Lock()
	s.outage = status
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.outage = 0
		s.notify()
		s.mu.Unlock()
	}
}
