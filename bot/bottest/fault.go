package bottest

import (
	"net/http"
	"time"
)

// Fault changes the answer to the next Times calls of a method.
type Fault struct {
	Times      int           // calls affected; 0 means 1
	Code       string        // Slack error code sent with ok:false; empty with Status 2xx means no error
	Status     int           // HTTP status; 0 means 200 (429 when RetryAfter is set)
	RetryAfter time.Duration // sent as Retry-After seconds
	Delay      time.Duration // added latency before answering
}

// Inject queues a fault for method (a Web API method name, or "response_url").
// Faults queued for the same method apply one after the other.
func (s *Server) Inject(method string, f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.RetryAfter > 0 && f.Status == 0 {
		f.Status = http.StatusTooManyRequests
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], &f)
}

// Fail makes the next n calls of method answer ok:false with code.
func (s *Server) Fail(method string, n int, code string) {
	s.Inject(method, Fault{Times: n, Code: code})
}

// RateLimit makes the next n calls of method answer HTTP 429 with Retry-After
// and the error ratelimited.
func (s *Server) RateLimit(method string, n int, retryAfter time.Duration) {
	s.Inject(method, Fault{Times: n, Code: "ratelimited", Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}

// Throttle makes every call of method answer HTTP 429 with Retry-After until the fake's clock
// reaches until, as Slack does while an app is over a limit.
func (s *Server) Throttle(method string, until time.Time, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttles == nil {
		s.throttles = map[string]throttle{}
	}
	s.throttles[method] = throttle{until: until, retryAfter: retryAfter}
}

type throttle struct {
	until      time.Time
	retryAfter time.Duration
}

// throttled reports the Retry-After of a throttled method. Call with s.mu held.
func (s *Server) throttled(method string) (time.Duration, bool) {
	t, ok := s.throttles[method]
	if !ok || !s.now().Before(t.until) {
		return 0, false
	}
	return t.retryAfter, true
}

// Delay makes the next n calls of method answer d later than usual.
func (s *Server) Delay(method string, n int, d time.Duration) {
	s.Inject(method, Fault{Times: n, Delay: d})
}

// takeFault counts a call of method and returns the fault that applies to it,
// if any.
func (s *Server) takeFault(method string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	s.notify()
	q := s.faults[method]
	if len(q) == 0 {
		return nil
	}
	f := *q[0]
	q[0].Times--
	if q[0].Times == 0 {
		s.faults[method] = q[1:]
	}
	return &f
}

// applyFault delays and, if the fault carries an error, writes it. It reports
// whether the response has been written.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if f == nil {
		return false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.Code == "" && (f.Status == 0 || f.Status < 300) {
		return false
	}
	if f.RetryAfter > 0 {
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", itoa(secs))
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	code := f.Code
	if code == "" {
		code = http.StatusText(status)
	}
	writeJSON(w, status, obj{"ok": false, "error": code})
	return true
}
