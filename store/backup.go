package store

import (
	"fmt"
	"io"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the database to w: the file as it stands after every
// transaction committed before the copy began, and none committed after. It runs in one
// read-only transaction, so the bot keeps granting and revoking while it copies. size, when not
// nil, is called with the copy's length before the first byte is written (an HTTP handler sets
// Content-Length with it, so a copy cut short is never taken for a whole one).
func (db *DB) Backup(w io.Writer, size func(int64)) (n int64, err error) {
	err = db.backup(func(btx *bolt.Tx) error {
		if size != nil {
			size(btx.Size())
		}
		var werr error
		n, werr = btx.WriteTo(w)
		return werr
	})
	if err != nil {
		return n, fmt.Errorf("backup %s: %w", db.path, err)
	}
	return n, nil
}

// backup runs fn in a bbolt read transaction with faults and panics returned as errors. A copy
// is of the bbolt file itself, so it works below the kv layer the records go through.
func (db *DB) backup(fn func(*bolt.Tx) error) (err error) {
	defer guard("backup", &err)()
	return db.bolt.View(fn)
}

// CheckCopy opens the bbolt file at path read-only, reads every key of every bucket in it, and
// checks that it is a jitbot database. It is how a backup is verified before it is trusted: a
// copy cut short or damaged gives an error wrapping ErrCorrupt. It changes nothing in the file.
func CheckCopy(path string) error {
	bdb, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("check %s: %w (%v)", path, ErrCorrupt, err)
	}
	defer closeQuietly(bdb)
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	var want int64
	_ = bdb.View(func(btx *bolt.Tx) error { want = btx.Size(); return nil })
	if fi.Size() < want {
		return fmt.Errorf("check %s: %w: the file is %d bytes long and its header says %d: it was cut short", path, ErrCorrupt, fi.Size(), want)
	}
	if err := readAll(bdb); err != nil {
		return fmt.Errorf("check %s: %w: %v", path, ErrCorrupt, err)
	}
	return nil
}

// readAll reads every key and value of the file, with faults and panics returned as errors (a
// page past the end of a truncated file faults).
func readAll(bdb *bolt.DB) (err error) {
	defer guard("read", &err)()
	return bdb.View(func(btx *bolt.Tx) error {
		for _, name := range allBuckets {
			if btx.Bucket(name) == nil {
				return fmt.Errorf("bucket %s is missing", name)
			}
		}
		var walk func(b *bolt.Bucket) error
		walk = func(b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if v == nil {
					if sub := b.Bucket(k); sub != nil {
						return walk(sub)
					}
				}
				return nil
			})
		}
		return btx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walk(b) })
	})
}
