package access

import (
	"strings"
	"time"
)

// Policy is a loaded, validated policy file (docs/configuration.md). Package policies builds it.
type Policy struct {
	Version      int
	Organization Organization
	Channels     Channels
	Teams        map[string][]string // team name -> principals (Slack U…/W…/S… IDs or e-mails)
	Permissions  Permissions
	Roles        []Role
	Sync         []SyncRule
	Sweeps       []Sweep
	Reviews      []Review
	Guard        Guard
	Digest       Digest
	Limits       Limits
}

// Limits bound what one person can ask for. Zero fields take the defaults.
type Limits struct {
	PendingPerUser   int // undecided requests a person may have at once (default 5)
	BreakGlassPerDay int // break-glass grants a person may get in any 24 h (default 2)
}

// Default limits (docs/configuration.md, policy file).
const (
	DefaultPendingPerUser   = 5
	DefaultBreakGlassPerDay = 2
)

// Pending returns the pending-requests limit in force.
func (l Limits) Pending() int {
	if l.PendingPerUser > 0 {
		return l.PendingPerUser
	}
	return DefaultPendingPerUser
}

// BreakGlass returns the break-glass-per-day limit in force.
func (l Limits) BreakGlass() int {
	if l.BreakGlassPerDay > 0 {
		return l.BreakGlassPerDay
	}
	return DefaultBreakGlassPerDay
}

// Organization describes the company.
type Organization struct {
	Domains  []string
	Timezone *time.Location
}

// Channels are where jitbot posts.
type Channels struct {
	Audit  string
	Alerts string // the audit channel when not set
}

// Permissions lists who may do what beyond requesting. Principals are already expanded from
// team names.
type Permissions struct {
	Auditors  []string
	Operators []string
}

// Role is something that can be requested.
type Role struct {
	Name            string
	Description     string
	Grants          []Target
	MaxDuration     time.Duration
	DefaultDuration time.Duration
	Approvers       []string // principals, expanded from teams
	Approvals       int
	ReasonRequired  bool
	PendingTimeout  time.Duration
	Channel         string
	AutoApprove     Condition // nil when not set
	BreakGlass      bool
	// Requesters may request the role (principals, expanded from teams); empty means every
	// internal user. RequesterNames are the same as written in the file, for messages.
	Requesters     []string
	RequesterNames []string
	RequestIf      Condition // nil when not set: CEL over requester, request and now
}

// SyncRule keeps groups in step with a condition.
type SyncRule struct {
	Name            string
	Schedule        string
	Match           Condition
	AddTo           []string
	RemoveUnmatched bool
	AllowProtected  bool // may add to protected groups
}

// SweepAction is what a sweep does to users it matches.
type SweepAction string

// Sweep actions.
const (
	SweepReport           SweepAction = "report"
	SweepSuspend          SweepAction = "suspend"
	SweepRemoveFromGroups SweepAction = "remove_from_groups"
)

// Sweep is a scheduled check of users.
type Sweep struct {
	Name     string
	Schedule string
	Match    Condition
	Exclude  []string // e-mails or account IDs never acted on
	Action   SweepAction
	Groups   []string
	Grace    time.Duration
}

// Review is a periodic certification of group members.
type Review struct {
	Name         string
	Schedule     string
	Groups       []string
	Reviewers    []string
	Deadline     time.Duration
	OnNoResponse string // keep | remove
}

// DriftAction is what the guard does with unexplained members of protected groups.
type DriftAction string

// Drift actions.
const (
	DriftReport DriftAction = "report"
	DriftRevert DriftAction = "revert"
)

// Guard protects the most powerful groups.
type Guard struct {
	ProtectedGroups []string
	StandingMembers map[string][]string // group -> e-mails or account IDs
	MinMembers      map[string]int
	OnDrift         DriftAction
	Schedule        string
	MaxChanges      int
}

// Digest is the daily summary.
type Digest struct {
	Channel  string
	Schedule string
}

// Condition is a compiled boolean expression over Input (a CEL program, built by package
// policies). Eval returns an error when the expression fails at run time.
type Condition interface {
	Eval(in Input) (bool, error)
	String() string
}

// Input is what conditions can see.
type Input struct {
	User      *User        // the user under test (sync rules, sweeps)
	Requester *User        // the requester (auto_approve)
	Request   *RequestInfo // the request (auto_approve)
	Now       time.Time
	Domains   []string // corporate domains, for `external`
}

// RequestInfo is the `request` variable of conditions.
type RequestInfo struct {
	Role     string
	Kind     string        // "request" or "extend"
	Duration time.Duration // asked for now
	Total    time.Duration // the grant's whole length if this is approved
	Reason   string        // typed by the requester: never a basis for trust
}

// CEL names of request kinds (the `request.kind` variable).
const (
	InputKindRequest = "request"
	InputKindExtend  = "extend"
)

// Role returns the role with the given name, or nil.
func (p *Policy) Role(name string) *Role {
	for i := range p.Roles {
		if strings.EqualFold(p.Roles[i].Name, name) {
			return &p.Roles[i]
		}
	}
	return nil
}

// SyncRule returns the sync rule with the given name, or nil.
func (p *Policy) SyncRule(name string) *SyncRule {
	for i := range p.Sync {
		if p.Sync[i].Name == name {
			return &p.Sync[i]
		}
	}
	return nil
}

// Sweep returns the sweep with the given name, or nil.
func (p *Policy) Sweep(name string) *Sweep {
	for i := range p.Sweeps {
		if p.Sweeps[i].Name == name {
			return &p.Sweeps[i]
		}
	}
	return nil
}

// AlertsChannel returns the channel for failures that need a person.
func (p *Policy) AlertsChannel() string {
	if p.Channels.Alerts != "" {
		return p.Channels.Alerts
	}
	return p.Channels.Audit
}

// IsProtected reports whether group is one of the guard's protected groups.
func (p *Policy) IsProtected(group string) bool {
	for _, g := range p.Guard.ProtectedGroups {
		if strings.EqualFold(g, group) {
			return true
		}
	}
	return false
}

// IsStanding reports whether the user (by e-mail or account ID) is a standing member of group.
func (p *Policy) IsStanding(group string, u Account) bool {
	for g, members := range p.Guard.StandingMembers {
		if !strings.EqualFold(g, group) {
			continue
		}
		for _, m := range members {
			if m == u.ID || (u.Email != "" && strings.EqualFold(m, u.Email)) {
				return true
			}
		}
	}
	return false
}
