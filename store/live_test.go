package store

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jitbot/jitbot/access"
)

// TestOpen_MigratesLiveIndexes: a version-1 file (no live indexes) gets them built from its
// records when opened, once, and its schema version raised.
func TestOpen_MigratesLiveIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jitbot.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	story(t, db, "LIVE1", t0, time.Hour)
	story(t, db, "GONE1", t0, time.Hour)
	revoke(t, db, "GONE1", t0.Add(time.Hour))
	r, e, err := access.NewRequest("PEND1", testRole, access.UserActor("UCAROL"), access.Account{ID: "acc-carol"}, time.Hour, "why", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(t.Context(), func(tx access.Tx) error {
		if err := tx.PutRequest(r); err != nil {
			return err
		}
		return tx.AppendAudit(&e)
	}); err != nil {
		t.Fatal(err)
	}
	// Make it a version-1 file: no live buckets.
	err = db.bolt.Update(func(btx *bolt.Tx) error {
		for _, b := range [][]byte{bucketLiveGrants, bucketPendingReqs, bucketLiveCounts} {
			if err := btx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return btx.Bucket(bucketMeta).Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, 1))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	db = mustOpenAt(t, path, Options{NoSync: true})
	err = db.View(t.Context(), func(tx access.Tx) error {
		live, err := tx.LiveGrants(access.GrantFilter{})
		if err != nil {
			return err
		}
		if len(live) != 1 || live[0].ID != "LIVE1" {
			t.Errorf("live grants after migration: %v, want LIVE1", live)
		}
		pending, err := tx.PendingRequests(access.RequestFilter{})
		if err != nil {
			return err
		}
		if len(pending) != 1 || pending[0].ID != "PEND1" {
			t.Errorf("pending requests after migration: %v, want PEND1", pending)
		}
		c, err := tx.LiveCounts()
		if err != nil {
			return err
		}
		if c.Grants[access.GrantActive] != 1 || c.Pending != 1 {
			t.Errorf("counts after migration: %+v", c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.bolt.View(func(btx *bolt.Tx) error {
		if got := binary.BigEndian.Uint64(btx.Bucket(bucketMeta).Get(keySchemaVersion)); got != schemaVersion {
			t.Errorf("schema version after migration: %d, want %d", got, schemaVersion)
		}
		return nil
	})
}
