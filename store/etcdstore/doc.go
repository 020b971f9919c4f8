// Package etcdstore keeps jitbot's state in etcd, for several replicas sharing one cluster.
//
// # Layout
//
// Every bucket of package store is a key range: record k of bucket b lives at
// PREFIX + "b/" + b + "/" + k, with k's bytes as they are (etcd keys are byte strings and sort
// bytewise, so the due-time and sequence indexes keep their order). Each value starts with one
// format byte (currently 1) followed by the bytes package store wrote, so a later encoding can
// be told apart. PREFIX + "txn" is rewritten by every commit; PREFIX + "leader/" holds the
// leader election of package cmd/jitbot.
//
// # Transactions
//
// An Update reads at one etcd revision (the first read fixes it), keeps its writes in memory
// (later reads and cursors of the same Update see them), and commits them as one etcd Txn
// guarded by the mod revision of PREFIX + "txn": the commit fails when any other commit
// happened since the snapshot, and the Update then runs again on a fresh snapshot, a bounded
// number of times. That is a global optimistic lock: simple and serializable, and cheap here
// because nearly every jitbot transition appends to the one audit chain anyway, so two
// transitions could never both commit without one seeing the other's audit event. For the
// same reason the Updates of one handle (one replica) run one at a time, so only other
// replicas' commits cost retries; a retry waits a random, exponentially growing pause. An Update
// whose reads fail (etcd unreachable) fails as a whole with an EUNAVAILABLE error, whatever fn
// returned.
//
// etcd bounds one Txn (--max-txn-ops, 128 by default; --max-request-bytes, 1.5 MiB). A
// transition writes a handful of keys; a transaction over Options.MaxTxnOps or
// Options.MaxTxnBytes is refused before it is sent, with an error naming the limit.
//
// # Rules
//
// etcdstore imports access, store and the etcd client. It never calls Slack or Atlassian.
package etcdstore
