package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
)

// RequestStatus is where a request is in its life.
type RequestStatus string

// Request statuses.
const (
	RequestPending   RequestStatus = "pending"
	RequestApproved  RequestStatus = "approved"
	RequestDenied    RequestStatus = "denied"
	RequestCancelled RequestStatus = "cancelled"
	RequestExpired   RequestStatus = "expired"
)

// RequestKind tells new access from an extension of a grant.
type RequestKind string

// Request kinds.
const (
	KindAccess RequestKind = "access"
	KindExtend RequestKind = "extend"
)

// Decision is one approval, or the final outcome of a request.
type Decision struct {
	By        Actor     `json:"by"`
	At        time.Time `json:"at"`
	Reason    string    `json:"reason,omitempty"`
	AccountID string    `json:"account_id,omitempty"` // the approver's Atlassian account, when known
	Email     string    `json:"email,omitempty"`      // the approver's e-mail, when known
}

// account is the Atlassian account, as far as known, of whoever made d.
func (d Decision) account() Account { return Account{ID: d.AccountID, Email: d.Email} }

// Request asks for a role for a while, or for more time on a grant.
type Request struct {
	ID           string        `json:"id"`
	Kind         RequestKind   `json:"kind"`
	GrantID      string        `json:"grant_id,omitempty"` // extension: the grant to extend
	Role         string        `json:"role"`
	Requester    Actor         `json:"requester"`
	Account      Account       `json:"account"`
	Duration     time.Duration `json:"duration"`
	Reason       string        `json:"reason,omitempty"`
	Status       RequestStatus `json:"status"`
	CreatedAt    time.Time     `json:"created_at"`
	PendingUntil time.Time     `json:"pending_until"`
	Approvals    []Decision    `json:"approvals,omitempty"`
	Decision     *Decision     `json:"decision,omitempty"`
	AutoApproved bool          `json:"auto_approved,omitempty"`
	BreakGlass   bool          `json:"break_glass,omitempty"`
	Messages     []MessageRef  `json:"messages,omitempty"`
}

// NewID returns a short request ID: eight characters from an alphabet without look-alikes.
func NewID() string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// IDFor derives a request ID from key (a Slack envelope ID): the same key always gives the same
// ID, in NewID's alphabet.
func IDFor(key string) string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	sum := sha256.Sum256([]byte("jitbot request id\x00" + key))
	var b [8]byte
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b[:])
}

type requestIDKey struct{}

// WithRequestID makes the request (or extension) filed under ctx get id, so that filing it
// again, when the Slack envelope that asked for it is replayed after a crash, returns the
// request filed the first time instead of filing a second.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestID is the ID a request filed under ctx gets, and whether it was fixed by
// WithRequestID.
func requestID(ctx context.Context) (string, bool) {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && id != "" {
		return id, true
	}
	return NewID(), false
}

// NormalizeID upper-cases an ID typed by a person.
func NormalizeID(id string) string { return strings.ToUpper(strings.TrimSpace(id)) }

// NewRequest checks a request for role against the role's limits and returns it pending,
// with the audit event to store with it.
func NewRequest(id string, role *Role, requester Actor, account Account, d time.Duration, reason string, now time.Time) (*Request, AuditEvent, error) {
	if err := CheckDuration(role, d); err != nil {
		return nil, AuditEvent{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" && (role.ReasonRequired || role.BreakGlass) {
		return nil, AuditEvent{}, Errorf(EINVALID, "Role %s needs a reason: say why after the duration.", role.Name).WithUsage("request %s %s fixing SSO", role.Name, FormatDuration(d))
	}
	pt := role.pendingTimeout()
	r := &Request{
		ID: id, Kind: KindAccess, Role: role.Name, Requester: requester, Account: account,
		Duration: d, Reason: reason, Status: RequestPending, CreatedAt: now,
		PendingUntil: now.Add(pt), BreakGlass: role.BreakGlass,
	}
	return r, r.event(ActionRequestSubmitted, requester, now, fmt.Sprintf("for %s: %s", FormatDuration(d), reason)), nil
}

// NewExtension asks for by more time on grant g, within the role's maximum.
func NewExtension(id string, role *Role, g *Grant, requester Actor, by time.Duration, reason string, now time.Time) (*Request, AuditEvent, error) {
	if !requester.Is(g.Holder) {
		return nil, AuditEvent{}, Errorf(EFORBIDDEN, "Grant %s is not yours; only its holder can extend it.", g.ID)
	}
	if g.Status != GrantActive {
		return nil, AuditEvent{}, Errorf(ECONFLICT, "Grant %s is %s; only an active grant can be extended.", g.ID, g.Status)
	}
	if role.BreakGlass {
		return nil, AuditEvent{}, Errorf(EINVALID, "Break-glass grants are never extended; file a new request if you still need %s.", role.Name)
	}
	if by <= 0 {
		return nil, AuditEvent{}, Errorf(EINVALID, "Say how much longer grant %s should last.", g.ID).WithUsage("extend %s 30m still debugging", g.ID)
	}
	if total := g.EndsAt.Add(by).Sub(g.GrantedAt); total > role.MaxDuration {
		room := role.MaxDuration - g.EndsAt.Sub(g.GrantedAt)
		if room < 0 {
			room = 0
		}
		return nil, AuditEvent{}, Errorf(EINVALID, "Grant %s would last %s in all; role %s allows at most %s, so it can be extended by at most %s.", g.ID, FormatDuration(total), role.Name, FormatDuration(role.MaxDuration), FormatDuration(room))
	}
	reason = strings.TrimSpace(reason)
	if reason == "" && role.ReasonRequired {
		return nil, AuditEvent{}, Errorf(EINVALID, "Role %s needs a reason: say why after the duration.", role.Name).WithUsage("extend %s %s REASON", g.ID, FormatDuration(by))
	}
	pt := role.pendingTimeout()
	if until := g.EndsAt.Sub(now); until > 0 && until < pt {
		pt = until // an extension undecided when the grant ends is moot
	}
	r := &Request{
		ID: id, Kind: KindExtend, GrantID: g.ID, Role: role.Name, Requester: requester, Account: g.Account,
		Duration: by, Reason: reason, Status: RequestPending, CreatedAt: now, PendingUntil: now.Add(pt),
	}
	return r, r.event(ActionRequestSubmitted, requester, now, fmt.Sprintf("extend grant %s by %s: %s", g.ID, FormatDuration(by), reason)), nil
}

// CheckDuration checks d against the role's maximum.
func CheckDuration(role *Role, d time.Duration) error {
	switch {
	case d <= 0:
		return Errorf(EINVALID, "Say for how long you need role %s (at most %s).", role.Name, FormatDuration(role.MaxDuration)).WithUsage("request %s %s REASON", role.Name, FormatDuration(role.DefaultDuration))
	case d > role.MaxDuration:
		return Errorf(EINVALID, "%s is longer than role %s allows: the maximum is %s.", FormatDuration(d), role.Name, FormatDuration(role.MaxDuration))
	}
	return nil
}

func (r *Request) event(action Action, a Actor, now time.Time, detail string) AuditEvent {
	e := AuditEvent{Time: now, Action: action, Actor: a, Subject: r.ID, Role: r.Role, Member: r.Account.Handle(), Detail: detail}
	if r.BreakGlass {
		e.Tags = append(e.Tags, TagBreakGlass)
	}
	if r.AutoApproved {
		e.Tags = append(e.Tags, TagAutoApproved)
	}
	return e
}

func (r *Request) pending() error {
	if r.Status == RequestPending {
		return nil
	}
	if r.Decision != nil && r.Decision.By.Kind == ActorUser {
		return Errorf(ECONFLICT, "Request %s is already %s by %s.", r.ID, r.Status, r.Decision.By.SlackID)
	}
	return Errorf(ECONFLICT, "Request %s is already %s.", r.ID, r.Status)
}

// Approve records approver's approval at now; see ApproveAs.
func (r *Request) Approve(approver Actor, now time.Time, role *Role, approvers []string) (AuditEvent, error) {
	return r.ApproveAs(approver, Account{}, now, role, approvers)
}

// ApproveAs records approver's approval at now. account is the approver's Atlassian account
// (empty when they have none): an approver with the requester's account is the requester,
// whichever Slack identity clicks. role and approvers (the Slack user IDs that may approve) are
// the policy in force now: an approval given earlier by someone who is no longer an approver
// stops counting, a duration now above the role's max_duration cannot be approved, and neither
// can a request past its pending timeout. The request becomes approved once role.Approvals
// distinct current approvers agree. It returns EFORBIDDEN for the requester or a non-approver,
// ECONFLICT when the request is no longer pending (or timed out) or approver already approved,
// and EINVALID when the duration is now too long.
func (r *Request) ApproveAs(approver Actor, account Account, now time.Time, role *Role, approvers []string) (AuditEvent, error) {
	// Who may act is checked before the state, so someone who may not decide learns nothing
	// about how the request was decided.
	if approver.Is(r.Requester) || r.Account.Same(account) {
		return AuditEvent{}, Errorf(EFORBIDDEN, "You cannot approve your own request %s; another approver must.", r.ID)
	}
	if approver.Kind != ActorUser || !contains(approvers, approver.SlackID) {
		return AuditEvent{}, Errorf(EFORBIDDEN, "You are not an approver of role %s, so you cannot decide request %s.", r.Role, r.ID)
	}
	if err := r.pending(); err != nil {
		return AuditEvent{}, err
	}
	if !now.Before(r.PendingUntil) {
		return AuditEvent{}, Errorf(ECONFLICT, "Request %s timed out undecided at %s, so it can no longer be approved. The requester can file a new one.", r.ID, r.PendingUntil.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if r.Kind == KindAccess && r.Duration > role.MaxDuration {
		return AuditEvent{}, Errorf(EINVALID, "Request %s asks for %s, but role %s now allows at most %s, so it cannot be approved. Deny it; the requester can ask again for a shorter time.", r.ID, FormatDuration(r.Duration), role.Name, FormatDuration(role.MaxDuration))
	}
	for _, a := range r.Approvals {
		if a.By.Is(approver) || a.account().Same(account) {
			return AuditEvent{}, Errorf(ECONFLICT, "You have already approved request %s; it is waiting for another approver.", r.ID)
		}
	}
	// Approvals count only from people who are approvers now.
	var kept []Decision
	var dropped []string
	for _, a := range r.Approvals {
		if a.By.Kind == ActorUser && contains(approvers, a.By.SlackID) {
			kept = append(kept, a)
		} else {
			dropped = append(dropped, a.By.String())
		}
	}
	r.Approvals = append(kept, Decision{By: approver, At: now, AccountID: account.ID, Email: account.Email})
	note := ""
	if len(dropped) > 0 {
		note = fmt.Sprintf("; no longer counted (not approvers now): %s", strings.Join(dropped, ", "))
	}
	need := role.Approvals
	if need < 1 {
		need = 1
	}
	if len(r.Approvals) < need {
		return r.event(ActionRequestApproval, approver, now, fmt.Sprintf("approval %d of %d%s", len(r.Approvals), need, note)), nil
	}
	r.Status = RequestApproved
	r.Decision = &Decision{By: approver, At: now}
	return r.event(ActionRequestApproved, approver, now, fmt.Sprintf("approved (%d of %d)%s", len(r.Approvals), need, note)), nil
}

// ApproveByPolicy approves r because the role's auto_approve condition held, or because the
// role is break-glass (approved on the requester's reason alone).
func (r *Request) ApproveByPolicy(now time.Time, why string) (AuditEvent, error) {
	if err := r.pending(); err != nil {
		return AuditEvent{}, err
	}
	r.Status = RequestApproved
	by := PolicyActor
	if r.BreakGlass {
		by = r.Requester
	} else {
		r.AutoApproved = true
	}
	r.Decision = &Decision{By: by, At: now, Reason: why}
	return r.event(ActionRequestApproved, by, now, why), nil
}

// Deny records a denial by approver, with an optional reason.
func (r *Request) Deny(approver Actor, now time.Time, reason string, approvers []string) (AuditEvent, error) {
	if approver.Is(r.Requester) {
		return AuditEvent{}, Errorf(EFORBIDDEN, "You cannot decide your own request %s; cancel it to withdraw it.", r.ID).WithUsage("cancel %s", r.ID)
	}
	if approver.Kind != ActorUser || !contains(approvers, approver.SlackID) {
		return AuditEvent{}, Errorf(EFORBIDDEN, "You are not an approver of role %s, so you cannot decide request %s.", r.Role, r.ID)
	}
	if err := r.pending(); err != nil {
		return AuditEvent{}, err
	}
	reason = strings.TrimSpace(reason)
	r.Status = RequestDenied
	r.Decision = &Decision{By: approver, At: now, Reason: reason}
	return r.event(ActionRequestDenied, approver, now, reason), nil
}

// Cancel withdraws a pending request; only its requester may.
func (r *Request) Cancel(by Actor, now time.Time) (AuditEvent, error) {
	if !by.Is(r.Requester) {
		return AuditEvent{}, Errorf(EFORBIDDEN, "Request %s is not yours; only its requester can cancel it.", r.ID)
	}
	if err := r.pending(); err != nil {
		return AuditEvent{}, err
	}
	r.Status = RequestCancelled
	r.Decision = &Decision{By: by, At: now}
	return r.event(ActionRequestCancelled, by, now, ""), nil
}

// Expire ends a request left undecided past its pending timeout.
func (r *Request) Expire(now time.Time) (AuditEvent, error) {
	if err := r.pending(); err != nil {
		return AuditEvent{}, err
	}
	if now.Before(r.PendingUntil) {
		return AuditEvent{}, Errorf(ECONFLICT, "Request %s is not due to expire until %s.", r.ID, r.PendingUntil.Format(time.RFC3339))
	}
	r.Status = RequestExpired
	r.Decision = &Decision{By: SystemActor, At: now, Reason: "no decision in time"}
	return r.event(ActionRequestExpired, SystemActor, now, "undecided until "+r.PendingUntil.UTC().Format(time.RFC3339)), nil
}

// Approvers returns the Slack IDs of people who approved r so far.
func (r *Request) Approvers() []string {
	var ids []string
	for _, a := range r.Approvals {
		ids = append(ids, a.By.String())
	}
	return ids
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
