package store

import (
	bolt "go.etcd.io/bbolt"
)

// kv is what the transaction code needs from a key-value backend: named buckets of sorted
// byte keys. Its method names and signatures are bbolt's, so bbolt's types fit with a thin
// adapter, and another backend can carry every record, index and the audit chain unchanged.
type kv interface {
	// Bucket returns the named bucket, or nil when it does not exist.
	Bucket(name []byte) bucket
}

// bucket is one bucket of a kv transaction. Keys sort bytewise. A value returned by Get or a
// cursor is valid until the transaction ends and must not be changed.
type bucket interface {
	Get(k []byte) []byte
	Put(k, v []byte) error
	Delete(k []byte) error
	// ForEach calls fn for every key in order and stops at fn's first error.
	ForEach(fn func(k, v []byte) error) error
	Cursor() cursor
}

// cursor walks a bucket in key order. Every method returns a nil key past either end.
type cursor interface {
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

// boltBucket is a bbolt bucket seen as a bucket; *bolt.Cursor is a cursor as it is.
type boltBucket struct{ *bolt.Bucket }

func (b boltBucket) Cursor() cursor { return b.Bucket.Cursor() }
