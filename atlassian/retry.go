package atlassian

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxJitter bounds the positive jitter added to a server-requested wait.
const maxJitter = 500 * time.Millisecond

// retryDelay says whether an attempt that ended with status (0: network error err) should be
// retried, and after how long. Only 429, 5xx and network errors are retried: every call jitbot
// makes is idempotent, so repeating one is safe.
func (c *Client) retryDelay(attempt, status int, h http.Header, err error) (time.Duration, bool) {
	switch {
	case err != nil || status == 0:
		return c.backoff(attempt), true
	case status == http.StatusTooManyRequests || status >= 500:
		if d, ok := c.serverWait(h); ok {
			return d + c.jitter(d), true
		}
		return c.backoff(attempt), true
	}
	return 0, false
}

// serverWait reads Retry-After (seconds or an HTTP date) or X-RateLimit-Reset (ISO-8601) and
// returns the longer of the two when both are present.
func (c *Client) serverWait(h http.Header) (time.Duration, bool) {
	var d time.Duration
	ok := false
	now := c.cfg.Now()
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			d, ok = time.Duration(s*float64(time.Second)), true
		} else if t, err := http.ParseTime(v); err == nil {
			d, ok = max(t.Sub(now), 0), true
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if t, err := parseReset(v); err == nil {
			d, ok = max(d, t.Sub(now)), true
		}
	}
	return d, ok
}

// parseReset parses the ISO-8601 forms Atlassian uses for X-RateLimit-Reset.
func parseReset(v string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z0700"} {
		var t time.Time
		if t, err = time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// jitter is a small positive addition to a server-requested wait: up to 10% of d, at most
// maxJitter, and at least a few milliseconds so a retry never lands exactly on the reset.
func (c *Client) jitter(d time.Duration) time.Duration {
	j := min(d/10, maxJitter)
	j = max(j, 50*time.Millisecond)
	return time.Duration(c.cfg.Rand()*float64(j)) + time.Millisecond
}

// backoff is exponential from MinBackoff, capped at MaxBackoff, with "equal jitter": half the
// step fixed, half random.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.MinBackoff
	for i := 0; i < attempt && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	return d/2 + time.Duration(c.cfg.Rand()*float64(d/2))
}
