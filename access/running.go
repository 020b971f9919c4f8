package access

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// RunningError refuses a second start of a sync rule, sweep, review or guard check while one
// is running. It carries an ECONFLICT *Error, so ErrorCode and ErrorMessage read it as one.
type RunningError struct {
	What  string    // "Sync rule engineering-jira"
	Since time.Time // when the running one started
	err   *Error
}

func (e *RunningError) Error() string { return e.err.Message }
func (e *RunningError) Unwrap() error { return e.err }

// IsRunning reports whether err refused a start because the same rule is running.
func IsRunning(err error) bool {
	var r *RunningError
	return errors.As(err, &r)
}

// running is the set of rules running in this process, each with when it started. A start
// of one already in it is refused rather than run twice: cron, `/access sync`, and a policy
// reload that rebuilds the schedule all start runs.
type running struct {
	mu    sync.Mutex
	since map[string]time.Time
}

// start marks the rule key (what names it for people) running from now. It returns the func
// that ends the run, or a *RunningError when it is running already.
func (r *running) start(key, what string, now time.Time) (done func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if since, ok := r.since[key]; ok {
		msg := fmt.Sprintf("%s is already running since %s UTC; this start was not run. Wait for it to finish: its outcome is posted to the audit channel.",
			what, since.UTC().Format("2006-01-02 15:04:05"))
		return nil, &RunningError{What: what, Since: since, err: Errorf(ECONFLICT, "%s", msg)}
	}
	if r.since == nil {
		r.since = map[string]time.Time{}
	}
	r.since[key] = now
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.since, key)
	}, nil
}
