// Package store persists access requests, grants, audit events, identity bindings, sweep
// first-seen times and cron runs in a single bbolt file. *DB implements access.Store; KVStore
// is the same store over any Backend (package store/etcdstore puts it on etcd).
//
// # Layout
//
// Buckets and key encodings are listed in keys.go. Values are JSON. The transaction code
// reads and writes buckets through the small KV interface of kv.go (bbolt's own method names),
// so every record, index and the audit chain are written once for any backend. Secondary indexes
// (grants by account, grants and requests by due time, runs by time and by name) are kept in
// step with their records inside the same transaction: every Put reads the stored previous
// record, deletes its index entries and writes the new ones.
//
// # What is live
//
// live_grants (every grant not yet revoked, keyed by account) and pending_requests (keyed by
// requester) hold what is live, and live_counts counts it, all in the record's transaction
// (live.go): Active, Mine, Awaiting, desired state, Recover and the gauges cost O(live), not
// O(history). Schema version 2 added them; opening a version-1 file builds them once. After
// every commit that stored a due time or changed a count, DB tells its watchers
// (access.Watcher): the sweeper sleeps until the next due time, the gauges follow the counts.
//
// # Outbox and inbox
//
// outbox holds what jitbot owes people (notices written in the transaction of the change they
// report, and the Slack messages they become), keyed by an ID from a counter in meta, with
// outbox_keys mapping a coalescing key (an update of one message) to the waiting item. inbox
// holds Slack envelopes recorded before their ack until their work is done (outbox.go).
//
// # Time
//
// Due indexes are keyed by big-endian Unix nanoseconds followed by the record ID, so the grants
// due at a time are one range scan from the start of the bucket: a sweep costs O(due), not
// O(grants).
//
// # Safety
//
// One access.Store Update is one bbolt read-write transaction: a transition, its index entries
// and its audit event are written together or not at all. bbolt allows one process per file:
// Open fails after Options.Timeout with ErrLocked. A file that is not a readable jitbot
// database gives ErrCorrupt; panics from bbolt on corrupted pages are recovered and returned
// as errors.
//
// # Rules
//
// store imports access and bbolt only. It never calls Slack or Atlassian.
package store
