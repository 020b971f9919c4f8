package access

import "time"

// Defaults of the Service's tunables: a zero (or negative) field of Service means its default.
const (
	DefaultLease             = 2 * time.Minute
	DefaultMaxAttempts       = 6
	DefaultRetryBase         = 10 * time.Second
	DefaultRetryMax          = 10 * time.Minute
	DefaultFailedRetry       = 15 * time.Minute
	DefaultConsistencyWindow = 30 * time.Second
	DefaultOverdueAfter      = 5 * time.Minute
	DefaultBindingTTL        = 24 * time.Hour
	DefaultWorkers           = 8
	DefaultAlertAfter        = time.Minute
	DefaultOutageProbe       = time.Second
	DefaultOutageHold        = time.Minute
	DefaultReviewerFresh     = 5 * time.Second
	// DefaultPendingTimeout is how long a request waits for a decision when its role does not
	// say (the policy loader fills Role.PendingTimeout with it).
	DefaultPendingTimeout = 24 * time.Hour
)

// settings are the Service's tunables with every default filled in. The domain reads them
// through Service.settings, never a tunable field of Service itself, so each default is
// applied in one place.
type settings struct {
	lease             time.Duration
	maxAttempts       int
	retryBase         time.Duration
	retryMax          time.Duration
	failedRetry       time.Duration
	consistencyWindow time.Duration
	overdueAfter      time.Duration
	bindingTTL        time.Duration
	workers           int
	alertAfter        time.Duration
	outageProbe       time.Duration
	outageHold        time.Duration
	reviewerFresh     time.Duration
}

// settings resolves the Service's tunables. It reads the fields on each call, so a field
// changed after the Service was built (a test, a reload) takes effect.
func (s *Service) settings() settings {
	return settings{
		lease:             orDefault(s.Lease, DefaultLease),
		maxAttempts:       orDefault(s.MaxAttempts, DefaultMaxAttempts),
		retryBase:         orDefault(s.RetryBase, DefaultRetryBase),
		retryMax:          orDefault(s.RetryMax, DefaultRetryMax),
		failedRetry:       orDefault(s.FailedRetry, DefaultFailedRetry),
		consistencyWindow: orDefault(s.ConsistencyWindow, DefaultConsistencyWindow),
		overdueAfter:      orDefault(s.OverdueAfter, DefaultOverdueAfter),
		bindingTTL:        orDefault(s.BindingTTL, DefaultBindingTTL),
		workers:           orDefault(s.Workers, DefaultWorkers),
		alertAfter:        orDefault(s.AlertAfter, DefaultAlertAfter),
		outageProbe:       orDefault(s.OutageProbe, DefaultOutageProbe),
		outageHold:        orDefault(s.OutageHold, DefaultOutageHold),
		reviewerFresh:     orDefault(s.ReviewerFresh, DefaultReviewerFresh),
	}
}

// pendingTimeout is how long a request for r waits for a decision.
func (r *Role) pendingTimeout() time.Duration {
	return orDefault(r.PendingTimeout, DefaultPendingTimeout)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}
