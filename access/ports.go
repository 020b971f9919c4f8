package access

import (
	"context"
	"time"
)

// Store runs transactions. Update runs fn in one read-write transaction: when fn returns an
// error nothing it wrote is kept. Every transition and its audit event go through one Update.
// A store with optimistic concurrency (etcd) runs fn again when its commit loses to another,
// so fn must change nothing outside the transaction but variables it sets afresh on each run.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is one storage transaction. Lookups of a missing record return an ENOTFOUND *Error.
// Values returned are copies: changing them changes nothing until Put.
type Tx interface {
	Request(id string) (*Request, error)
	PutRequest(r *Request) error
	Requests(f RequestFilter) ([]*Request, error)
	// DueRequests returns pending requests whose PendingUntil is at or before now, oldest first.
	DueRequests(now time.Time, limit int) ([]*Request, error)

	Grant(id string) (*Grant, error)
	PutGrant(g *Grant) error
	Grants(f GrantFilter) ([]*Grant, error)
	// DueGrants returns grants whose Due() is at or before now, earliest first, in O(due).
	DueGrants(now time.Time, limit int) ([]*Grant, error)

	// AppendAudit sets e.Seq, e.PrevHash and e.Hash and appends it to the chain.
	AppendAudit(e *AuditEvent) error
	// AuditEvents returns events in order; zero filter fields match everything.
	AuditEvents(f AuditFilter) ([]AuditEvent, error)

	Binding(slackID string) (*Binding, error)
	PutBinding(b *Binding) error

	// FirstSeen records when a sweep first matched an account.
	FirstSeen(sweep string) (map[string]time.Time, error)
	PutFirstSeen(sweep string, seen map[string]time.Time) error

	PutRun(r *Run) error
	Runs(name string, limit int) ([]*Run, error)
	// PruneRuns deletes the oldest runs started before before, at most PruneBatch of them, and
	// returns how many it deleted: call it again (a new Update) while it returns PruneBatch, so
	// no transaction grows with a backlog.
	PruneRuns(before time.Time) (int, error)

	ReviewItem(id string) (*ReviewItem, error)
	PutReviewItem(it *ReviewItem) error
	// ReviewItems returns the items matching f, oldest first (ties by ID).
	ReviewItems(f ReviewFilter) ([]*ReviewItem, error)
	// DueReviewItems returns items whose Due() is at or before now, earliest first, in O(due).
	DueReviewItems(now time.Time, limit int) ([]*ReviewItem, error)

	// PutOutbox stores an outbox item. With ID 0 it is new and gets the next ID, unless its Key
	// is that of a waiting item: then it replaces that item's content and keeps its ID (several
	// updates of one message coalesce). With an ID it overwrites that item. It sets it.ID.
	PutOutbox(it *OutboxItem) error
	// Outbox returns waiting items in ID order, at most limit (0: all).
	Outbox(limit int) ([]*OutboxItem, error)
	// OutboxItem returns waiting item id, or an ENOTFOUND error.
	OutboxItem(id uint64) (*OutboxItem, error)
	// DeleteOutbox removes a delivered (or undeliverable) item; a missing one is no error.
	DeleteOutbox(id uint64) error

	// PutInbox records a Slack envelope before it is acknowledged (replacing one with its ID).
	PutInbox(e *InboxItem) error
	// Inbox returns the envelopes recorded and not yet done, oldest first.
	Inbox() ([]*InboxItem, error)
	// DeleteInbox forgets a done envelope; a missing one is no error.
	DeleteInbox(id string) error
	// Live indexes (live.go): kept in the same transaction as the records they index, so
	// what is live costs O(live), never O(history).

	// LiveGrants returns the grants not yet ended (every status but revoked) matching f,
	// oldest first, from the live index.
	LiveGrants(f GrantFilter) ([]*Grant, error)
	// PendingRequests returns the pending requests matching f, oldest first, from the pending
	// index.
	PendingRequests(f RequestFilter) ([]*Request, error)
	// LiveCounts returns how many grants of each live status and pending requests there are,
	// kept as counters: O(1).
	LiveCounts() (LiveCounts, error)
	// NextDue returns the earliest due time of any grant, pending request or review item, or
	// zero when nothing is scheduled: O(1).
	NextDue() (time.Time, error)

	// History retention (retention.go).

	// PruneHistory deletes, oldest first, revoked grants that ended before before, decided
	// requests decided before before whose grant (HistoryGrant), if any, is gone or deleted
	// with them, decided review items that ended before before, and then the audit events
	// older than before from the front of the chain, recording where the chain now starts
	// (AuditBase). It deletes at most HistoryBatch keys and sets More when it stopped there:
	// call it again in a new Update. It reads an index of ended records: O(removed). It never
	// deletes a live grant, a pending request or an open review item.
	PruneHistory(before time.Time) (HistoryPruned, error)
	// AuditBase returns where the audit chain starts after pruning, or nil when no event was
	// ever pruned (the chain starts at event 1).
	AuditBase() (*ChainBase, error)
}

// PruneBatch is the most runs one PruneRuns deletes (three keys each: a store that bounds a
// transaction, etcd, takes 128).
const PruneBatch = 32

// ReviewFilter selects review items. Zero fields match all.
type ReviewFilter struct {
	Review string // the review's name
	Run    string // one start of a review; uses an index
	Status []ReviewStatus
}

// RequestFilter selects requests. Zero fields match all.
type RequestFilter struct {
	Status    []RequestStatus
	Requester string // Slack user ID
	GrantID   string // extension requests of a grant
}

// GrantFilter selects grants. Zero fields match all.
type GrantFilter struct {
	Status    []GrantStatus
	AccountID string // uses an index
	Holder    string // Slack user ID
	Role      string
}

// AuditFilter selects audit events. Zero fields match all.
type AuditFilter struct {
	Since   time.Time
	Subject string
	Member  string
	Role    string
	Actor   string // Slack user ID
	Limit   int    // the newest Limit events when set
}

// Binding is the stored match of a Slack user to an Atlassian account.
type Binding struct {
	SlackID string    `json:"slack_id"`
	Email   string    `json:"email"`
	Account Account   `json:"account"`
	At      time.Time `json:"at"`
}

// Directory looks up Atlassian users. UserByEmail returns ENOTFOUND when no account has the
// address; EUNAVAILABLE for transient failures; EFORBIDDEN for misconfiguration (bad key).
type Directory interface {
	UserByEmail(ctx context.Context, email string) (*User, error)
	User(ctx context.Context, accountID string) (*User, error)
}

// Provisioner changes and reads back access in Atlassian. Add and Remove are idempotent: adding
// what is there and removing what is gone succeed. Has reads the current state (read-after-write
// may lag, see the Atlassian consistency window).
type Provisioner interface {
	Has(ctx context.Context, a Account, t Target) (bool, error)
	Add(ctx context.Context, a Account, t Target) error
	Remove(ctx context.Context, a Account, t Target) error
}

// Org reads the organization in bulk and changes users, for sync rules, sweeps and the guard.
type Org interface {
	// Groups returns the named groups; a name with no group is an ENOTFOUND error naming it.
	Groups(ctx context.Context, names []string) ([]Group, error)
	// Users calls fn for every user matching q, with groups and last-active filled in, page by
	// page, never holding the whole org.
	Users(ctx context.Context, q UserQuery, fn func(*User) error) error
	Suspend(ctx context.Context, accountID string) error
	Restore(ctx context.Context, accountID string) error
}

// RoleOrg reads who holds platform roles, for the guard. SameResource says whether the resource
// a role is held on (as Atlassian reports it) is the one a policy names (a site host, URL or
// ARI), comparing what the resource is, not how it is written.
type RoleOrg interface {
	RoleHolders(ctx context.Context, roles []string) ([]RoleHolding, error)
	SameResource(ctx context.Context, role, policyResource, held string) (bool, error)
}

// RoleHolding is one platform role held directly: role without the atlassian/ prefix
// (site-admin), on Resource (empty for org-admin).
type RoleHolding struct {
	Account  Account
	Role     string
	Resource string
}

// UserQuery selects users for Org.Users. Zero fields match all users.
type UserQuery struct {
	GroupIDs  []string // members of any of these groups
	Unmanaged bool     // only unmanaged (external) accounts
}

// Identity maps a Slack user to an e-mail address (Slack users.info). It returns ENOTFOUND when
// the Slack user has no e-mail.
type Identity interface {
	Email(ctx context.Context, slackID string) (string, error)
}

// Principals expands policy principals (Slack user IDs, user group IDs, e-mails) into Slack
// user IDs.
type Principals interface {
	Resolve(ctx context.Context, principals []string) ([]string, error)
}

// Notifier tells people what happened. Notify is called inside the transaction of the change
// n reports, with that transaction: it only writes (to the outbox, see Outbox) and never calls
// out, so a change and what it owes people are committed together or not at all, and nothing
// that changes Atlassian ever waits on Slack. An error aborts the transaction.
type Notifier interface {
	Notify(ctx context.Context, tx Tx, n Notice) error
}

// NoticeKind is what a Notice is about.
type NoticeKind string

// Notice kinds.
const (
	NoticeRequested     NoticeKind = "requested"      // new request: approvers get buttons
	NoticeApprovalAdded NoticeKind = "approval_added" // one of several approvals recorded
	NoticeApproved      NoticeKind = "approved"
	NoticeDenied        NoticeKind = "denied"
	NoticeCancelled     NoticeKind = "cancelled"
	NoticeExpired       NoticeKind = "expired"
	NoticeGranted       NoticeKind = "granted"
	NoticeExpiring      NoticeKind = "expiring"
	NoticeExtended      NoticeKind = "extended"
	NoticeEnded         NoticeKind = "ended"
	NoticeAlert         NoticeKind = "alert"          // needs a person: alerts channel
	NoticeAudit         NoticeKind = "audit"          // information for the audit channel
	NoticeReview        NoticeKind = "review"         // a review started, or its open items go to reviewers added since: Reviewers get Items with buttons
	NoticeReviewDecided NoticeKind = "review_decided" // Items were decided: update every copy
)

// Notice is one thing to tell. Request, Grant and Role are set when the notice is about them.
// It is stored in the outbox as JSON: Role as its name (RoleName), the rest as it was when the
// change was made.
type Notice struct {
	Kind      NoticeKind    `json:"kind"`
	Request   *Request      `json:"request,omitempty"`
	Grant     *Grant        `json:"grant,omitempty"`
	Role      *Role         `json:"-"`
	RoleName  string        `json:"role,omitempty"` // Role's name, set when the notice is stored
	Actor     Actor         `json:"actor"`
	Approvers []string      `json:"approvers,omitempty"` // Slack user IDs, for NoticeRequested
	Text      string        `json:"text,omitempty"`      // plain text for alerts and audit notices
	Channel   string        `json:"channel,omitempty"`   // where an audit notice goes when not the audit channel (the digest)
	Items     []*ReviewItem `json:"items,omitempty"`     // review items, for NoticeReview and NoticeReviewDecided
	Reviewers []string      `json:"reviewers,omitempty"` // Slack user IDs, for NoticeReview
}

// MessageRef is a Slack message that shows a request, to update when it is decided.
type MessageRef struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}
