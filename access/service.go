package access

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Service runs requests and grants: it checks every action against the policy, stores each
// transition with its audit event in one transaction, changes Atlassian through the
// Provisioner and tells people through the Notifier.
type Service struct {
	Store       Store
	Directory   Directory
	Identity    Identity
	Principals  Principals
	Provisioner Provisioner
	Notifier    Notifier
	Observer    Observer
	// Engine reads group members for access reviews, removes the memberships reviewers reject
	// through its guards, and says which memberships sync rules and the guard want (an ending
	// grant leaves those in place).
	Engine *Engine
	Policy func() *Policy
	Now    func() time.Time
	// After is the sweeper's timer on the clock of Now: time.After when not set.
	After func(d time.Duration) <-chan time.Time

	Lease time.Duration // how long an intent is held by the caller (default 2m)
	// Shared says several processes drive grants on one store (replicas on etcd): Recover then
	// leaves an intent whose lease still runs to the process holding it (the sweeper takes it
	// when the lease runs out) instead of driving it alongside.
	Shared            bool
	MaxAttempts       int           // attempts before a grant is failed and alerted (default 6)
	RetryBase         time.Duration // first backoff (default 10s), doubled up to RetryMax
	RetryMax          time.Duration // default 10m
	FailedRetry       time.Duration // retry cadence of failed grants (default 15m)
	ConsistencyWindow time.Duration // how long a removal may stay visible (default 30s)
	OverdueAfter      time.Duration // revocation lag that raises an alert (default 5m)
	BindingTTL        time.Duration // re-check a stored identity after this (default 24h)
	Workers           int           // accounts driven at once by a sweep pass (default 8)
	Jitter            func(d time.Duration) time.Duration
	AlertAfter        time.Duration // a step still failing this long after it was due is alerted (default 1m)
	OutageProbe       time.Duration // while Atlassian is down, how often one grant probes it (default 1s)
	OutageHold        time.Duration // how long other grants are held meanwhile, unless released sooner (default 1m)
	ReviewerFresh     time.Duration // how old a lookup of a review's reviewers may be when a click is judged (default 5s)

	busy    sync.Map       // grant ID -> struct{}: driven by this process right now
	running running        // reviews being started now
	overdue sync.Map       // grant ID -> struct{}: revocations known to be overdue
	outage  outage         // Atlassian unavailable: one probe, the rest held (outage.go)
	bg      sync.WaitGroup // releases running in the background
}

// Observer receives measurements. All methods must be cheap and safe for concurrent use.
type Observer interface {
	Revoked(result string, lag time.Duration)
	Overdue(n int)
}

type nopObserver struct{}

func (nopObserver) Revoked(string, time.Duration) {}
func (nopObserver) Overdue(int)                   {}

func (s *Service) observer() Observer {
	if s.Observer == nil {
		return nopObserver{}
	}
	return s.Observer
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Service) policy() (*Policy, error) {
	if s.Policy == nil {
		return nil, Errorf(EUNAVAILABLE, "No policy is loaded.")
	}
	p := s.Policy()
	if p == nil {
		return nil, Errorf(EUNAVAILABLE, "No policy is loaded.")
	}
	return p, nil
}

func (s *Service) role(p *Policy, name string) (*Role, error) {
	r := p.Role(name)
	if r == nil {
		return nil, Errorf(ENOTFOUND, "There is no role %q. %s", name, RoleList(p)).WithUsage("roles")
	}
	return r, nil
}

// RoleList is a sentence naming the roles of p.
func RoleList(p *Policy) string {
	if len(p.Roles) == 0 {
		return "The policy defines no roles."
	}
	s := "The policy's roles (the roles command lists those you may request): "
	for i, r := range p.Roles {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s (max %s)", r.Name, FormatDuration(r.MaxDuration))
	}
	return s + "."
}

// alertNotice is a notice for the alerts channel.
func alertNotice(text string) Notice { return Notice{Kind: NoticeAlert, Text: text} }

// Approvers resolves the Slack user IDs that may approve role.
func (s *Service) Approvers(ctx context.Context, role *Role) ([]string, error) {
	return s.resolve(ctx, role.Approvers, "approvers of "+role.Name)
}

// resolve expands principals to Slack user IDs (through the Principals' cache, if it keeps
// one); what names them in an error. No principals, or no Principals wired, is nobody.
func (s *Service) resolve(ctx context.Context, principals []string, what string) ([]string, error) {
	if s.Principals == nil || len(principals) == 0 {
		return nil, nil
	}
	ids, err := s.Principals.Resolve(ctx, principals)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", what, err)
	}
	return ids, nil
}

// member reports whether slackID is among principals.
func (s *Service) member(ctx context.Context, slackID string, principals []string) (bool, error) {
	if len(principals) == 0 || s.Principals == nil {
		return false, nil
	}
	ids, err := s.Principals.Resolve(ctx, principals)
	if err != nil {
		return false, err
	}
	return contains(ids, slackID), nil
}

// IsOperator reports whether the actor may run sync rules and sweeps and end anyone's grant,
// judged on the operators as they are now, past any cache: each use changes Atlassian.
func (s *Service) IsOperator(ctx context.Context, by Actor) (bool, error) {
	p, err := s.policy()
	if err != nil {
		return false, err
	}
	ids, err := s.resolveCurrent(ctx, p.Permissions.Operators)
	if err != nil {
		return false, fmt.Errorf("resolve operators: %w", err)
	}
	return contains(ids, by.SlackID), nil
}

// IsAuditor reports whether the actor may see every active grant and the history.
func (s *Service) IsAuditor(ctx context.Context, by Actor) (bool, error) {
	p, err := s.policy()
	if err != nil {
		return false, err
	}
	return s.member(ctx, by.SlackID, p.Permissions.Auditors)
}

func (s *Service) jitter(d time.Duration) time.Duration {
	if s.Jitter != nil {
		return s.Jitter(d)
	}
	// ±20%
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

// backoff returns when to retry after attempts failures.
func (s *Service) backoff(attempts int, now time.Time, failed bool) time.Time {
	set := s.settings()
	if failed {
		return now.Add(s.jitter(set.failedRetry))
	}
	d := set.retryBase
	for i := 1; i < attempts && d < set.retryMax; i++ {
		d *= 2
	}
	if d > set.retryMax {
		d = set.retryMax
	}
	return now.Add(s.jitter(d))
}
