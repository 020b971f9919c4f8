package access

import (
	"fmt"
	"strings"
	"time"
)

// GrantStatus is where a grant is in its life.
type GrantStatus string

// Grant statuses.
const (
	GrantProvisioning GrantStatus = "provisioning" // intent: access is being given
	GrantActive       GrantStatus = "active"
	GrantRevoking     GrantStatus = "revoking" // intent: access is being taken back
	GrantRevoked      GrantStatus = "revoked"  // verifiably gone
	GrantFailed       GrantStatus = "failed"   // retries exhausted; alerted, still retried slowly
)

// GrantOp is what a grant's intent does to Atlassian, for retries and failures.
type GrantOp string

// Grant operations. GrantOps lists them.
const (
	OpProvision GrantOp = "provision"
	OpRevoke    GrantOp = "revoke"
)

// GrantOps is every grant operation.
var GrantOps = []GrantOp{OpProvision, OpRevoke}

// GrantItem is one target of a grant and what jitbot knows about it.
type GrantItem struct {
	Target   Target `json:"target"`
	Checked  bool   `json:"checked,omitempty"`  // Had was recorded before any add
	Had      bool   `json:"had,omitempty"`      // the member held it before this grant
	Added    bool   `json:"added,omitempty"`    // the add call succeeded
	AddSent  bool   `json:"add_sent,omitempty"` // an add call may have reached Atlassian, outcome unknown (readback.go)
	Removed  bool   `json:"removed,omitempty"`  // done: removed and read back gone, or kept
	Verified bool   `json:"verified,omitempty"` // read back gone after removal
	Kept     string `json:"kept,omitempty"`     // why it was left in place at the end
}

// Grant is access given for a while. Its ID is its request's ID.
type Grant struct {
	ID          string        `json:"id"`
	Role        string        `json:"role"`
	Holder      Actor         `json:"holder"`
	Account     Account       `json:"account"`
	Items       []GrantItem   `json:"items"`
	Status      GrantStatus   `json:"status"`
	FailedOp    GrantOp       `json:"failed_op,omitempty"` // provision or revoke, while failed
	Duration    time.Duration `json:"duration"`
	ApprovedBy  []Actor       `json:"approved_by,omitempty"`
	BreakGlass  bool          `json:"break_glass,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	GrantedAt   time.Time     `json:"granted_at,omitempty"`
	EndsAt      time.Time     `json:"ends_at,omitempty"`
	Warned      bool          `json:"warned,omitempty"`
	NextAttempt time.Time     `json:"next_attempt,omitempty"` // retry or lease end for intents
	Attempts    int           `json:"attempts,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
	EndedAt     time.Time     `json:"ended_at,omitempty"`
	EndedBy     *Actor        `json:"ended_by,omitempty"`
	EndReason   string        `json:"end_reason,omitempty"`
	Overdue     bool          `json:"overdue,omitempty"` // an overdue alert was raised
	Late        *Lateness     `json:"late,omitempty"`    // the current step keeps failing past its due time (lateness.go)
	Messages    []MessageRef  `json:"messages,omitempty"`
}

// NewGrant starts provisioning the grant for an approved request. Its intent is leased until
// now+lease: if the process dies before the outcome is written, the sweeper re-drives it then.
func NewGrant(r *Request, role *Role, now time.Time, lease time.Duration) (*Grant, AuditEvent, error) {
	if r.Status != RequestApproved || r.Kind != KindAccess {
		return nil, AuditEvent{}, Errorf(ECONFLICT, "Request %s is %s; only an approved access request becomes a grant.", r.ID, r.Status)
	}
	g := &Grant{
		ID: r.ID, Role: r.Role, Holder: r.Requester, Account: r.Account, Status: GrantProvisioning,
		Duration: r.Duration, BreakGlass: r.BreakGlass, CreatedAt: now, NextAttempt: now.Add(lease),
	}
	for _, a := range r.Approvals {
		g.ApprovedBy = append(g.ApprovedBy, a.By)
	}
	if len(g.ApprovedBy) == 0 && r.Decision != nil {
		g.ApprovedBy = []Actor{r.Decision.By}
	}
	for _, t := range role.Grants {
		g.Items = append(g.Items, GrantItem{Target: t})
	}
	return g, g.event(ActionGrantProvisioning, SystemActor, now, "giving "+g.Targets()), nil
}

// Targets lists what g gives, for people.
func (g *Grant) Targets() string {
	var s []string
	for _, it := range g.Items {
		s = append(s, it.Target.String())
	}
	return strings.Join(s, ", ")
}

func (g *Grant) event(action Action, a Actor, now time.Time, detail string) AuditEvent {
	e := AuditEvent{Time: now, Action: action, Actor: a, Subject: g.ID, Role: g.Role, Member: g.Account.Handle(), Detail: detail}
	if g.BreakGlass {
		e.Tags = append(e.Tags, TagBreakGlass)
	}
	return e
}

// Live reports whether g gives, or is about to give, access.
func (g *Grant) Live() bool {
	return g.Status == GrantProvisioning || g.Status == GrantActive || (g.Status == GrantFailed && g.FailedOp == OpProvision)
}

// Ending reports whether g is taking its access back.
func (g *Grant) Ending() bool {
	return g.Status == GrantRevoking || (g.Status == GrantFailed && g.FailedOp == OpRevoke)
}

// Op returns the operation g's intent is driving: provision or revoke, or "" when at rest.
func (g *Grant) Op() GrantOp {
	switch {
	case g.Status == GrantProvisioning:
		return OpProvision
	case g.Status == GrantRevoking:
		return OpRevoke
	case g.Status == GrantFailed:
		return g.FailedOp
	}
	return ""
}

// WarnAt returns when the holder is told the grant is about to end: ten minutes before, or a
// fifth of the grant's length before for grants shorter than fifty minutes.
func (g *Grant) WarnAt() time.Time {
	lead := 10 * time.Minute
	if total := g.EndsAt.Sub(g.GrantedAt); total/5 < lead {
		lead = total / 5
	}
	return g.EndsAt.Add(-lead)
}

// Due returns when the sweeper must next look at g, or zero when never.
func (g *Grant) Due() time.Time {
	switch g.Status {
	case GrantProvisioning, GrantRevoking, GrantFailed:
		return g.NextAttempt
	case GrantActive:
		if !g.Warned {
			if w := g.WarnAt(); w.Before(g.EndsAt) {
				return w
			}
		}
		return g.EndsAt
	}
	return time.Time{}
}

// RecordPrior records, before any add, whether the member already held item i (outside jitbot,
// or through another live grant whose own prior state is inherited as from).
func (g *Grant) RecordPrior(i int, had bool, from string, now time.Time) AuditEvent {
	it := &g.Items[i]
	if it.Checked {
		// Recorded by another driver of the same intent (another replica) first: the first
		// look is the one taken before any add of this grant, so it stays.
		return g.event(ActionGrantPrior, SystemActor, now, fmt.Sprintf("%s: prior state already recorded; kept", it.Target))
	}
	it.Checked, it.Had = true, had
	d := fmt.Sprintf("%s: not held before", it.Target)
	if had {
		d = fmt.Sprintf("%s: already held before (%s); it will be left in place at the end", it.Target, from)
	}
	return g.event(ActionGrantPrior, SystemActor, now, d)
}

// Inherit records that item i, not yet checked, is a membership another grant of the member
// (from, ending) gave and leaves in place for g: it counts as given by g, which takes it back
// at its end.
func (g *Grant) Inherit(i int, from string, now time.Time) AuditEvent {
	it := &g.Items[i]
	it.Checked, it.Had, it.Added, it.AddSent = true, false, true, false
	return g.event(ActionGrantItemAdded, SystemActor, now, fmt.Sprintf("%s handed over by ending grant %s (already in Atlassian, given by jitbot)", it.Target, from))
}

// Activate marks g active: its time starts now.
func (g *Grant) Activate(now time.Time) (AuditEvent, error) {
	if g.Op() != OpProvision {
		return AuditEvent{}, Errorf(ECONFLICT, "Grant %s is %s, not being provisioned.", g.ID, g.Status)
	}
	for _, it := range g.Items {
		if !it.Checked || !(it.Added || it.Had) {
			return AuditEvent{}, Errorf(EINTERNAL, "Grant %s: %s was not given yet.", g.ID, it.Target)
		}
	}
	g.Status, g.FailedOp = GrantActive, ""
	g.GrantedAt, g.EndsAt = now, now.Add(g.Duration)
	g.Attempts, g.LastError, g.NextAttempt = 0, "", time.Time{}
	return g.event(ActionGrantActive, SystemActor, now, fmt.Sprintf("%s until %s", g.Targets(), g.EndsAt.UTC().Format(time.RFC3339))), nil
}

// MarkWarned records that the holder was told the grant is about to end.
func (g *Grant) MarkWarned(now time.Time) AuditEvent {
	g.Warned = true
	return g.event(ActionGrantWarned, SystemActor, now, "ends "+g.EndsAt.UTC().Format(time.RFC3339))
}

// Extend moves g's end later by by, after extension request r was approved.
func (g *Grant) Extend(r *Request, by time.Duration, role *Role, now time.Time) (AuditEvent, error) {
	if g.Status != GrantActive {
		return AuditEvent{}, Errorf(ECONFLICT, "Grant %s is %s; only an active grant can be extended.", g.ID, g.Status)
	}
	if total := g.EndsAt.Add(by).Sub(g.GrantedAt); total > role.MaxDuration {
		return AuditEvent{}, Errorf(EINVALID, "Grant %s would last %s in all; role %s allows at most %s.", g.ID, FormatDuration(total), role.Name, FormatDuration(role.MaxDuration))
	}
	g.EndsAt = g.EndsAt.Add(by)
	g.Warned = false
	by2 := SystemActor
	if r.Decision != nil {
		by2 = r.Decision.By
	}
	return g.event(ActionGrantExtended, by2, now, fmt.Sprintf("by %s (request %s) until %s", FormatDuration(by), r.ID, g.EndsAt.UTC().Format(time.RFC3339))), nil
}

// BeginRevoke writes the intent to take g's access back, leased until now+lease. by is the
// holder or an operator (operator says which), or the system at expiry.
func (g *Grant) BeginRevoke(by Actor, operator bool, reason string, now time.Time, lease time.Duration) (AuditEvent, error) {
	if by.Kind == ActorUser && !by.Is(g.Holder) && !operator {
		return AuditEvent{}, Errorf(EFORBIDDEN, "Grant %s is not yours; only its holder or an operator can end it.", g.ID)
	}
	switch {
	case g.Ending():
		return AuditEvent{}, Errorf(ECONFLICT, "Grant %s is already being revoked.", g.ID)
	case g.Status == GrantRevoked:
		return AuditEvent{}, Errorf(ECONFLICT, "Grant %s has already ended.", g.ID)
	}
	if by.Kind == ActorSystem && g.Status == GrantActive && now.Before(g.EndsAt) {
		return AuditEvent{}, Errorf(ECONFLICT, "Grant %s does not end until %s.", g.ID, g.EndsAt.UTC().Format(time.RFC3339))
	}
	g.Status, g.FailedOp = GrantRevoking, ""
	g.Attempts, g.LastError, g.NextAttempt = 0, "", now.Add(lease)
	g.EndedBy, g.EndReason = &by, reason
	if g.EndsAt.IsZero() || now.Before(g.EndsAt) {
		g.EndsAt = now
		if g.GrantedAt.IsZero() {
			g.GrantedAt = now
		}
	}
	return g.event(ActionGrantRevoking, by, now, reason), nil
}

// ItemAdded records that the add call for item i succeeded.
func (g *Grant) ItemAdded(i int, now time.Time) AuditEvent {
	g.Items[i].Added, g.Items[i].AddSent = true, false
	return g.event(ActionGrantItemAdded, SystemActor, now, g.Items[i].Target.String()+" given")
}

// MarkOverdue records that g's revocation is late and an alert was raised.
func (g *Grant) MarkOverdue(now time.Time) AuditEvent {
	g.Overdue = true
	e := g.event(ActionGrantOverdue, SystemActor, now, fmt.Sprintf("revocation %s late: %s", FormatDuration(now.Sub(g.EndsAt).Truncate(time.Second)), g.LastError))
	e.Tags = append(e.Tags, TagOverdue)
	return e
}

// ItemRemoved records that item i was removed and, when verified, read back gone.
func (g *Grant) ItemRemoved(i int, verified bool, now time.Time) AuditEvent {
	it := &g.Items[i]
	it.Removed, it.Verified = verified, verified
	d := fmt.Sprintf("%s removed and verified gone", it.Target)
	if !verified {
		d = fmt.Sprintf("%s removal accepted but still visible; will check again", it.Target)
	}
	return g.event(ActionGrantItemRemoved, SystemActor, now, d)
}

// ItemKept records that item i is left in place at the end, and why.
func (g *Grant) ItemKept(i int, why string, now time.Time) AuditEvent {
	it := &g.Items[i]
	it.Removed, it.Kept = true, why
	return g.event(ActionGrantItemKept, SystemActor, now, fmt.Sprintf("%s left in place: %s", it.Target, why))
}

// MarkRevoked ends g once every item is removed and verified, or kept.
func (g *Grant) MarkRevoked(now time.Time) (AuditEvent, error) {
	if g.Op() != OpRevoke {
		return AuditEvent{}, Errorf(ECONFLICT, "Grant %s is %s, not being revoked.", g.ID, g.Status)
	}
	for _, it := range g.Items {
		if !it.Removed {
			return AuditEvent{}, Errorf(EINTERNAL, "Grant %s: %s is not verifiably gone yet.", g.ID, it.Target)
		}
	}
	g.Status, g.FailedOp = GrantRevoked, ""
	g.EndedAt, g.NextAttempt, g.Attempts, g.LastError = now, time.Time{}, 0, ""
	e := g.event(ActionGrantRevoked, SystemActor, now, "verified: "+g.Targets()+" no longer given by this grant")
	if lag := now.Sub(g.EndsAt); lag > time.Minute {
		e.Tags = append(e.Tags, TagOverdue)
		e.Detail += fmt.Sprintf(" (%s after its end)", FormatDuration(lag.Truncate(time.Second)))
	}
	return e, nil
}

// Retry records a failed attempt at g's current operation and when to try again. After
// maxAttempts the grant becomes failed (returned alert is true the first time), and keeps being
// retried at next.
func (g *Grant) Retry(cause error, next time.Time, maxAttempts int, now time.Time) (e AuditEvent, alert bool) {
	op := g.Op()
	g.Attempts++
	g.LastError = ErrorMessage(cause)
	if ErrorCode(cause) == EINTERNAL {
		g.LastError = cause.Error()
	}
	g.NextAttempt = next
	if g.Status != GrantFailed && g.Attempts >= maxAttempts {
		g.Status, g.FailedOp = GrantFailed, op
		return g.event(ActionGrantFailed, SystemActor, now, fmt.Sprintf("%s failed %d times, still retrying: %s", op, g.Attempts, g.LastError)), true
	}
	return g.event(ActionGrantRetry, SystemActor, now, fmt.Sprintf("%s attempt %d failed, next at %s: %s", op, g.Attempts, next.UTC().Format(time.RFC3339), g.LastError)), false
}

// Lease holds g's intent for the caller until until, so the sweeper leaves it alone meanwhile.
func (g *Grant) Lease(until time.Time) { g.NextAttempt = until }
