package store

import (
	"context"

	bolt "go.etcd.io/bbolt"
)

// KV is what the transaction code needs from a key-value backend: named buckets of sorted
// byte keys. Its method names and signatures are bbolt's, so bbolt's types fit with a thin
// adapter, and another backend (etcd, package store/etcdstore) carries every record, index
// and the audit chain unchanged.
type KV interface {
	// Bucket returns the named bucket, or nil when it does not exist.
	Bucket(name []byte) Bucket
}

// Bucket is one bucket of a KV transaction. Keys sort bytewise. A value returned by Get or a
// cursor is valid until the transaction ends and must not be changed. A backend whose reads
// can fail (a network store) returns nil and fails the whole transaction instead.
type Bucket interface {
	Get(k []byte) []byte
	Put(k, v []byte) error
	Delete(k []byte) error
	// ForEach calls fn for every key in order and stops at fn's first error.
	ForEach(fn func(k, v []byte) error) error
	Cursor() Cursor
}

// Backend runs KV transactions.
type Backend interface {
	// Update runs fn in one read-write transaction: nothing fn wrote is kept when it returns
	// an error. A backend with optimistic concurrency may run fn more than once.
	Update(ctx context.Context, fn func(KV) error) error
	// View runs fn in one read-only transaction over a consistent snapshot.
	View(ctx context.Context, fn func(KV) error) error
}

type (
	kv     = KV
	bucket = Bucket
	cursor = Cursor
)

// Cursor walks a bucket in key order. Every method returns a nil key past either end.
type Cursor interface {
	First() (k, v []byte)
	Last() (k, v []byte)
	Next() (k, v []byte)
	Prev() (k, v []byte)
	// Seek moves to the first key at or after seek.
	Seek(seek []byte) (k, v []byte)
}

// boltKV is a bbolt transaction seen as a kv.
type boltKV struct{ btx *bolt.Tx }

func (b boltKV) Bucket(name []byte) bucket {
	bb := b.btx.Bucket(name)
	if bb == nil {
		return nil
	}
	return boltBucket{bb}
}

// boltBucket is a bbolt bucket seen as a bucket.
type boltBucket struct{ *bolt.Bucket }

func (b boltBucket) Cursor() cursor { return boltCursor{b.Bucket.Cursor()} }

// boltCursor is *bolt.Cursor with a Last that holds on an emptied bucket: bbolt v1.5.0's
// Cursor.Last loops for ever on a bucket of several pages whose every key was deleted in the
// same transaction (it skips empty pages backwards without end), which a prune of a whole
// bucket does. First has no such fault, so an empty bucket is found by it first.
type boltCursor struct{ *bolt.Cursor }

func (c boltCursor) Last() (k, v []byte) {
	if k, _ := c.Cursor.First(); k == nil {
		return nil, nil
	}
	return c.Cursor.Last()
}
