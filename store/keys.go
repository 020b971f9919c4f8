package store

import (
	"encoding/binary"
	"math"
	"time"
)

// Buckets. Keys are bytes; values are JSON unless said otherwise.
var (
	bucketMeta        = []byte("meta")                // "schema_version" -> big-endian uint64; "audit_head" -> access.ChainHead
	bucketRequests    = []byte("requests")            // request ID -> access.Request
	bucketDueRequests = []byte("due_requests")        // timeKey(PendingUntil, ID) of pending requests -> empty
	bucketGrants      = []byte("grants")              // grant ID -> access.Grant
	bucketGrantsByAcc = []byte("grants_by_account")   // accountID \x00 grantID -> empty
	bucketDueGrants   = []byte("due_grants")          // timeKey(Grant.Due(), ID) -> empty
	bucketAudit       = []byte("audit")               // seqKey(Seq) -> access.AuditEvent
	bucketBindings    = []byte("bindings")            // Slack user ID -> access.Binding
	bucketFirstSeen   = []byte("firstseen")           // sweep name -> map[accountID]time.Time
	bucketRuns        = []byte("runs")                // run ID -> access.Run
	bucketRunsByTime  = []byte("runs_by_time")        // timeKey(Started, ID) -> empty
	bucketRunsByName  = []byte("runs_by_name")        // name \x00 timeKey(Started, ID) -> empty
	bucketReviews     = []byte("review_items")        // item ID -> access.ReviewItem
	bucketReviewsRun  = []byte("review_items_by_run") // run \x00 item ID -> empty
	bucketDueReviews  = []byte("due_review_items")    // timeKey(ReviewItem.Due(), ID) -> empty

	bucketOutbox     = []byte(OutboxBucket)  // seqKey(ID) -> access.OutboxItem
	bucketOutboxKeys = []byte("outbox_keys") // OutboxItem.Key -> seqKey(ID)
	bucketInbox      = []byte("inbox")       // envelope ID -> access.InboxItem
)

// OutboxBucket is the bucket of outbox items. A backend that tells other replicas of its
// commits says whether one put an item there (access.Commit.Outbox).
const OutboxBucket = "outbox"

// Live indexes (live.go), schema version 2.
var (
	bucketLiveGrants  = []byte("live_grants")      // accountID \x00 grantID of grants not ended -> liveEntry
	bucketPendingReqs = []byte("pending_requests") // requester Slack ID \x00 requestID of pending requests -> empty
	bucketLiveCounts  = []byte("live_counts")      // "grants/<status>" or "pending" -> big-endian uint64
)

// History indexes (history.go), schema version 3: what the history retention may remove, so a
// prune reads only what it removes.
var (
	bucketHistory     = []byte("history")          // timeKey(end, kind + ID) of ended grants (g), requests (r) and review items (i) -> empty
	bucketHistoryWait = []byte("history_by_grant") // grantID \x00 requestID of decided requests kept with their grant -> 8-byte end (Unix ns)
)

var allBuckets = [][]byte{
	bucketMeta, bucketRequests, bucketDueRequests, bucketGrants, bucketGrantsByAcc,
	bucketDueGrants, bucketAudit, bucketBindings, bucketFirstSeen, bucketRuns,
	bucketRunsByTime, bucketRunsByName, bucketReviews, bucketReviewsRun, bucketDueReviews,
	bucketLiveGrants, bucketPendingReqs, bucketLiveCounts,
	bucketOutbox, bucketOutboxKeys, bucketInbox,
	bucketHistory, bucketHistoryWait,
}

var (
	keySchemaVersion = []byte("schema_version")
	keyAuditHead     = []byte("audit_head") // in meta: access.ChainHead of the audit chain
	keyAuditBase     = []byte("audit_base") // in meta: access.ChainBase, once events were pruned
)

// keyOutboxSeq in the meta bucket holds the last outbox ID given, big-endian.
var keyOutboxSeq = []byte("outbox_seq")

// schemaVersion is the layout this code reads and writes. Open refuses newer files and
// migrates older ones (db.go, initialize). Version 2 added the live indexes, version 3 the
// history indexes.
const schemaVersion = 3

var (
	minKeyTime = time.Unix(0, 0)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// nanos returns t as Unix nanoseconds clamped to what sorts as a big-endian uint64.
func nanos(t time.Time) uint64 {
	switch {
	case t.Before(minKeyTime):
		return 0
	case t.After(maxKeyTime):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// timeKey returns at as big-endian Unix nanoseconds followed by id, so keys sort by time.
func timeKey(at time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, nanos(at))
	return append(k, id...)
}

// keyNanos returns the time part of a timeKey.
func keyNanos(k []byte) uint64 {
	if len(k) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}

// seqKey returns the audit key of seq.
func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// accountKey returns the grants_by_account key of a grant.
func accountKey(accountID, grantID string) []byte {
	return append(accountPrefix(accountID), grantID...)
}

func accountPrefix(accountID string) []byte {
	return append([]byte(accountID), 0)
}

// runNameKey returns the runs_by_name key of a run.
func runNameKey(name string, started time.Time, id string) []byte {
	return append(runNamePrefix(name), timeKey(started, id)...)
}

func runNamePrefix(name string) []byte {
	return append([]byte(name), 0)
}
