package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditEvent is one state change, appended to a hash chain.
type AuditEvent struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Action   Action    `json:"action"`
	Actor    Actor     `json:"actor"`
	Subject  string    `json:"subject,omitempty"` // request / grant ID, rule or sweep name
	Role     string    `json:"role,omitempty"`
	Member   string    `json:"member,omitempty"` // Atlassian account (e-mail or ID)
	Detail   string    `json:"detail,omitempty"`
	Tags     []string  `json:"tags,omitempty"` // e.g. break_glass, auto_approved
	PrevHash string    `json:"prev_hash,omitempty"`
	Hash     string    `json:"hash,omitempty"`
}

// Action is what an audit event records. Actions lists them.
type Action string

// Audit actions.
const (
	ActionRequestSubmitted  Action = "request.submitted"
	ActionRequestApproval   Action = "request.approval"
	ActionRequestApproved   Action = "request.approved"
	ActionRequestDenied     Action = "request.denied"
	ActionRequestCancelled  Action = "request.cancelled"
	ActionRequestExpired    Action = "request.expired"
	ActionGrantProvisioning Action = "grant.provisioning"
	ActionGrantPrior        Action = "grant.prior_checked"
	ActionGrantActive       Action = "grant.active"
	ActionGrantWarned       Action = "grant.warned"
	ActionGrantExtended     Action = "grant.extended"
	ActionGrantRevoking     Action = "grant.revoking"
	ActionGrantItemAdded    Action = "grant.item_added"
	ActionGrantItemRemoved  Action = "grant.item_removed"
	ActionGrantOverdue      Action = "grant.overdue"
	ActionGrantItemKept     Action = "grant.item_kept"
	ActionGrantRevoked      Action = "grant.revoked"
	ActionGrantRetry        Action = "grant.retry"
	ActionGrantFailed       Action = "grant.failed"
	ActionIdentityBound     Action = "identity.bound"
	ActionRun               Action = "run"
	ActionChange            Action = "change"
	ActionPolicyReloaded    Action = "policy.reloaded"
	ActionPolicyRefused     Action = "policy.refused"
	ActionReviewStarted     Action = "review.started"  // an item to certify was created
	ActionReviewSent        Action = "review.sent"     // an open item was sent to reviewers added since its start
	ActionReviewKept        Action = "review.kept"     // a reviewer certified a membership
	ActionReviewRemoving    Action = "review.removing" // a reviewer asked for a removal (intent)
	ActionReviewRemoved     Action = "review.removed"  // the membership is gone
	ActionReviewRefused     Action = "review.refused"  // a guard refused the removal
	ActionReviewExpired     Action = "review.expired"  // no response by the deadline: on_no_response applies
	ActionHistoryPruned     Action = "history.pruned"  // ended records and old audit events removed by the history retention
)

// Actions is every audit action.
var Actions = []Action{ActionRequestSubmitted, ActionRequestApproval, ActionRequestApproved, ActionRequestDenied, ActionRequestCancelled, ActionRequestExpired, ActionGrantProvisioning, ActionGrantPrior, ActionGrantActive, ActionGrantWarned, ActionGrantExtended, ActionGrantRevoking, ActionGrantItemAdded, ActionGrantItemRemoved, ActionGrantOverdue, ActionGrantItemKept, ActionGrantRevoked, ActionGrantRetry, ActionGrantFailed, ActionIdentityBound, ActionRun, ActionChange, ActionPolicyReloaded, ActionPolicyRefused, ActionReviewStarted, ActionReviewSent, ActionReviewKept, ActionReviewRemoving, ActionReviewRemoved, ActionReviewRefused, ActionReviewExpired, ActionHistoryPruned}

// Tags.
const (
	TagBreakGlass   = "break_glass"
	TagAutoApproved = "auto_approved"
	TagOverdue      = "overdue"
	TagDryRun       = "dry_run"
)

// ChainHash returns the hash of e chained to prev: HMAC-SHA256 with key when key is set,
// SHA-256 otherwise. Every field is covered, Seq included; Hash is ignored and PrevHash is
// taken to be prev.
func (e AuditEvent) ChainHash(prev string, key []byte) string {
	e.PrevHash = prev
	e.Hash = ""
	e.Time = e.Time.UTC()
	b, _ := json.Marshal(e) // a struct of plain fields always marshals
	return chainMAC(b, key)
}

// chainMAC is the hex HMAC-SHA256 of msg under key, or its plain SHA-256 without a key: the
// hash of every audit event, and the seal of the chain's head and base records.
func chainMAC(msg, key []byte) string {
	if len(key) > 0 {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		return hex.EncodeToString(m.Sum(nil))
	}
	s := sha256.Sum256(msg)
	return hex.EncodeToString(s[:])
}

// Seal sets e's PrevHash and Hash for appending after an event whose hash is prev. Text that
// is not UTF-8 is first replaced as encoding/json would store it (U+FFFD for each bad byte), so
// the hash covers what is read back, not what was written.
func (e *AuditEvent) Seal(prev string, key []byte) {
	e.sanitize()
	e.PrevHash = prev
	e.Hash = e.ChainHash(prev, key)
}

// ChainBreak describes where an audit chain does not hold.
type ChainBreak struct {
	Seq    uint64
	Reason string
}

// VerifyChain checks that every event of a whole chain (starting at event 1) follows the
// previous one and carries its own hash. It returns nil when the chain is intact.
func VerifyChain(events []AuditEvent, key []byte) *ChainBreak {
	return VerifyChainFrom(nil, events, key)
}

// ChainWalk checks an audit chain one event at a time, oldest first, so a store can verify
// a chain of any length without holding it: the one place the chain's rules are written.
type ChainWalk struct {
	base *ChainBase
	key  []byte
	prev string // hash of the last event checked (or of the base)
	last uint64 // its sequence number
	n    int    // events checked
}

// NewChainWalk starts a walk of a chain whose events up to base were pruned (nil: none were,
// the chain starts at event 1). It returns a break when base's seal does not hold under key.
func NewChainWalk(base *ChainBase, key []byte) (*ChainWalk, *ChainBreak) {
	w := &ChainWalk{base: base, key: key}
	if base != nil {
		if brk := base.Check(key); brk != nil {
			return nil, brk
		}
		w.prev, w.last = base.Hash, base.Seq
	}
	return w, nil
}

// Next checks that e follows the events walked so far: the next sequence number (the first
// follows the base), linked to the previous hash, and sealed by its own hash.
func (w *ChainWalk) Next(e AuditEvent) *ChainBreak {
	switch {
	case e.Seq != w.last+1 && w.n == 0:
		return &ChainBreak{Seq: e.Seq, Reason: "the chain starts at event " + uitoa(e.Seq) + " but " + chainStart(w.base)}
	case e.Seq != w.last+1:
		return &ChainBreak{Seq: e.Seq, Reason: "sequence gap after event " + uitoa(w.last)}
	case e.PrevHash != w.prev:
		return &ChainBreak{Seq: e.Seq, Reason: "previous-hash link does not match event " + uitoa(w.last)}
	case e.ChainHash(w.prev, w.key) != e.Hash:
		return &ChainBreak{Seq: e.Seq, Reason: "event content does not match its hash (edited, or wrong audit key)"}
	}
	w.prev, w.last = e.Hash, e.Seq
	w.n++
	return nil
}

// Last is the sequence number and hash of the last event walked (the base's before any).
func (w *ChainWalk) Last() (uint64, string) { return w.last, w.prev }

// Events is how many events were walked.
func (w *ChainWalk) Events() int { return w.n }

// chainStart says where a chain with base must start, for a break.
func chainStart(base *ChainBase) string {
	if base == nil {
		return "no events were pruned by retention, so it must start at event 1: events were removed from the front"
	}
	return "its base records events up to " + uitoa(base.Seq) + " as pruned, so it must start at event " + uitoa(base.Seq+1) + ": events were removed from the front"
}

func uitoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// ChainHead is the end of an audit chain as last written: how many events it holds and the
// hash of the last, sealed under the audit key. Kept beside the events, it shows events
// removed from the end, which the links between the remaining events cannot.
type ChainHead struct {
	Count uint64 `json:"count"`
	Hash  string `json:"hash"`
	Seal  string `json:"seal"`
}

// NewChainHead returns the head of a chain of count events ending in hash, sealed with key
// (plain SHA-256 without one: then it proves order, not authorship).
func NewChainHead(count uint64, hash string, key []byte) ChainHead {
	h := ChainHead{Count: count, Hash: hash}
	h.Seal = h.seal(key)
	return h
}

func (h ChainHead) seal(key []byte) string {
	return chainMAC([]byte("jitbot audit head "+uitoa(h.Count)+" "+h.Hash), key)
}

// Check compares the head with the chain found: count events ending in hash. It returns nil
// when they agree and the head's seal holds under key.
func (h ChainHead) Check(count uint64, hash string, key []byte) *ChainBreak {
	switch {
	case !hmac.Equal([]byte(h.Seal), []byte(h.seal(key))):
		return &ChainBreak{Seq: h.Count, Reason: "the chain's head record does not match its seal (edited, or wrong audit key)"}
	case h.Count > count:
		return &ChainBreak{Seq: count + 1, Reason: "the log ends at event " + uitoa(count) + " but its head records " + uitoa(h.Count) + " events: events were removed from the end"}
	case h.Count != count || h.Hash != hash:
		return &ChainBreak{Seq: h.Count, Reason: "the chain's head (" + uitoa(h.Count) + " events) does not match the log's last event " + uitoa(count)}
	}
	return nil
}

// sanitize replaces text that is not UTF-8 with what a store would read back from its JSON.
func (e *AuditEvent) sanitize() {
	for _, s := range []*string{(*string)(&e.Action), &e.Subject, &e.Role, &e.Member, &e.Detail, &e.Actor.SlackID, &e.Actor.Name, (*string)(&e.Actor.Kind)} {
		*s = validText(*s)
	}
	for i := range e.Tags {
		e.Tags[i] = validText(e.Tags[i])
	}
}

// validText returns s with each byte that is not UTF-8 replaced by U+FFFD.
func validText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}
