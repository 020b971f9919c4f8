package atlassiantest

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// fault is an injected failure for n requests to a route ("" for every route).
type fault struct {
	route      string
	n          int
	status     int
	retryAfter time.Duration // 429: Retry-After seconds when > 0; else X-RateLimit-Reset only
}

// Fail429 makes the next n requests to route ("" for any) answer 429 with Retry-After set to
// retryAfter (whole seconds, rounded up) and X-RateLimit-Reset; retryAfter 0 sends only the
// reset header.
func (s *Server) Fail429(route string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{route: route, n: n, status: http.StatusTooManyRequests, retryAfter: retryAfter})
}

// Fail makes the next n requests to route ("" for any) answer status (e.g. 500).
func (s *Server) Fail(route string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{route: route, n: n, status: status})
}

// SetLatency delays every answer by d (real time).
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// SetOutage turns a total outage on or off: every request gets 500 (or the status from
// SetOutageStatus).
func (s *Server) SetOutage(on bool) { s.mu.Lock(); s.outage = on; s.mu.Unlock() }

// OutageBetween makes every request between from and to on the fake clock fail.
func (s *Server) OutageBetween(from, to time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outFrom, s.outTo = from, to
}

// SetOutageStatus sets the status outages answer with (default 500, the only 5xx the spec
// documents).
func (s *Server) SetOutageStatus(status int) { s.mu.Lock(); s.outStatus = status; s.mu.Unlock() }

// SetRateLimit limits the fake to n requests per window (a token bucket holding n, on the fake
// clock); beyond it requests get 429 with Retry-After and X-RateLimit-Reset. n <= 0 removes it.
func (s *Server) SetRateLimit(n int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		s.limiter = nil
		return
	}
	s.limiter = rate.NewLimiter(rate.Limit(float64(n)/window.Seconds()), n)
}

// applyFaults answers the request with an injected failure and reports whether it did.
func (s *Server) applyFaults(w http.ResponseWriter, route string, v1 bool) bool {
	s.mu.Lock()
	now := s.now()
	status, retryAfter := 0, time.Duration(0)
	switch {
	case s.outage || (!s.outFrom.IsZero() && !now.Before(s.outFrom) && now.Before(s.outTo)):
		status = s.outStatus
	default:
		for i, f := range s.faults {
			if f.route != "" && f.route != route {
				continue
			}
			status, retryAfter = f.status, f.retryAfter
			if f.n--; f.n <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			break
		}
	}
	if status == 0 && s.limiter != nil {
		r := s.limiter.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			status, retryAfter = http.StatusTooManyRequests, d
		}
	}
	if status == http.StatusTooManyRequests {
		s.throttled++
	}
	s.mu.Unlock()
	switch {
	case status == 0:
		return false
	case status == http.StatusTooManyRequests:
		reset := now.Add(retryAfter).UTC()
		w.Header().Set("X-RateLimit-Reset", reset.Format(time.RFC3339))
		w.Header().Set("X-RateLimit-Limit", "100")
		w.Header().Set("X-RateLimit-Remaining", "0")
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
		}
		if v1 {
			writeJSON(w, status, map[string]any{"code": 429, "message": "Rate limit exceeded"})
		} else {
			writeErrors(w, status, "ADMIN-429-1", "Too Many Requests", "Rate limit exceeded; retry later.")
		}
	case v1:
		writeAppErrors(w, status, "ADMIN-500", "Internal server error (injected).")
	default:
		writeErrors(w, status, "", http.StatusText(status), "Internal server error (injected).")
	}
	return true
}
