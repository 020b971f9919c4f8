package store

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestBoltCursor_lastOfEmptiedBucket: bbolt's own Cursor.Last never returns on a bucket of
// several pages whose every key was deleted in the same transaction (as a prune of a whole
// bucket does); the adapter's Last answers nil, and still finds the last key of a bucket
// emptied but for one.
func TestBoltCursor_lastOfEmptiedBucket(t *testing.T) {
	for _, keep := range []int{0, 1} {
		bdb, err := bolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		const n = 1000 // 100-byte values: many leaf pages
		if err := bdb.Update(func(btx *bolt.Tx) error {
			b, err := btx.CreateBucket([]byte("b"))
			for i := range n {
				if err == nil {
					err = b.Put(binary.BigEndian.AppendUint64(nil, uint64(i)), make([]byte, 100))
				}
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		done := make(chan []byte, 1)
		go func() {
			_ = bdb.Update(func(btx *bolt.Tx) error {
				b := boltKV{btx}.Bucket([]byte("b"))
				for i := keep; i < n; i++ {
					if err := b.Delete(binary.BigEndian.AppendUint64(nil, uint64(i))); err != nil {
						return err
					}
				}
				k, _ := b.Cursor().Last()
				done <- k
				return nil
			})
		}()
		select {
		case k := <-done:
			want := keep > 0
			if (k != nil) != want {
				t.Errorf("keeping %d of %d keys: Last returned %x", keep, n, k)
			}
		case <-time.After(10 * time.Second):
			// The transaction never ends, so the file cannot be closed either.
			t.Fatalf("keeping %d of %d keys: Last did not return in 10 s", keep, n)
		}
		if err := bdb.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
