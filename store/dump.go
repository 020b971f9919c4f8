package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ForEachKey calls fn for every key of every bucket, bucket by bucket in name order and keys in
// order, in one read transaction: a raw copy of the whole database, for moving it to another
// backend. It stops at fn's first error and returns it.
func (db *DB) ForEachKey(fn func(bucket, k, v []byte) error) error {
	return db.rawView("copy database", func(btx *bolt.Tx) error {
		return btx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if v == nil && b.Bucket(k) != nil {
					return fmt.Errorf("bucket %s holds a nested bucket %q, which jitbot never writes", name, k)
				}
				return fn(name, k, v)
			})
		})
	})
}

// rawView runs fn in a read-only bbolt transaction with panics recovered.
func (db *DB) rawView(op string, fn func(*bolt.Tx) error) (err error) {
	defer guard(op, &err)()
	return db.bolt.View(fn)
}
