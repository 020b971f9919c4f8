package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
)

// historyKeys returns the keys and values of the history buckets, as text.
func historyKeys(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	err := db.bolt.View(func(btx *bolt.Tx) error {
		for _, name := range [][]byte{bucketHistory, bucketHistoryWait} {
			if err := btx.Bucket(name).ForEach(func(k, v []byte) error {
				out = append(out, fmt.Sprintf("%s %x=%x", name, k, v))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpen_MigratesHistoryIndex: a version-2 file (no history index) gets it built from its
// records when opened, the same index the transitions would have written, and pruning then
// removes its ended records.
func TestOpen_MigratesHistoryIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jitbot.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	accesstest.StoreStory(t, db, "GONE1", t0)                  // revoked an hour later
	accesstest.ActiveStory(t, db, "LIVE1", t0, 8*time.Hour)    // live
	accesstest.StoreStory(t, db, "GONE2", t0.Add(time.Minute)) // revoked
	r, e, err := access.NewRequest("DENY1", testRole, access.UserActor("UCAROL"), access.Account{ID: "acc-carol"}, time.Hour, "why", t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Deny(access.UserActor("UBOB"), t0, "no", []string{"UBOB"}); err != nil {
		t.Fatal(err)
	}
	it := &access.ReviewItem{ID: "ITEM1", Review: "q", Run: "run1", Group: "g", Account: access.Account{ID: "acc-x"}, Status: access.ReviewPending, CreatedAt: t0, Deadline: t0.Add(time.Hour)}
	if _, err := it.Keep(access.UserActor("UBOB"), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(t.Context(), func(tx access.Tx) error {
		if err := tx.PutRequest(r); err != nil {
			return err
		}
		if err := tx.PutReviewItem(it); err != nil {
			return err
		}
		return tx.AppendAudit(&e)
	}); err != nil {
		t.Fatal(err)
	}
	written := historyKeys(t, db)
	if len(written) != 7 { // GONE1, GONE2, ITEM1, DENY1 in history; the requests GONE1, GONE2 and LIVE1 waiting
		t.Fatalf("index as written: %q", written)
	}
	// Make it a version-2 file: no history buckets.
	err = db.bolt.Update(func(btx *bolt.Tx) error {
		for _, b := range [][]byte{bucketHistory, bucketHistoryWait} {
			if err := btx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return btx.Bucket(bucketMeta).Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, 2))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	db = mustOpenAt(t, path, Options{NoSync: true})
	if got := historyKeys(t, db); fmt.Sprint(got) != fmt.Sprint(written) {
		t.Errorf("history index after migration:\n%q\nas the transitions wrote it:\n%q", got, written)
	}
	_ = db.bolt.View(func(btx *bolt.Tx) error {
		if got := binary.BigEndian.Uint64(btx.Bucket(bucketMeta).Get(keySchemaVersion)); got != 3 {
			t.Errorf("schema version after migration: %d, want 3", got)
		}
		return nil
	})
	p, err := access.PruneHistory(t.Context(), db, t0.Add(48*time.Hour), 24*time.Hour)
	if err != nil || p.Grants != 2 || p.Requests != 3 || p.ReviewItems != 1 {
		t.Fatalf("pruned %+v, %v; want GONE1, GONE2, their requests, DENY1 and ITEM1", p, err)
	}
	if brk, _, err := db.VerifyAudit(); err != nil || brk != nil {
		t.Fatalf("audit chain after pruning: %+v, %v", brk, err)
	}
}

// TestPruneHistory_readsOnlyWhatItRemoves: the history index holds only ended records: live
// grants and pending requests never enter it, so a prune reads no more than it removes.
func TestPruneHistory_readsOnlyWhatItRemoves(t *testing.T) {
	db := MustOpenDB(t)
	for i := range 50 {
		accesstest.ActiveStory(t, db, "L"+strconv.Itoa(i), t0, time.Hour)
	}
	accesstest.StoreStory(t, db, "GONE", t0)
	var hist []string
	_ = db.bolt.View(func(btx *bolt.Tx) error {
		return btx.Bucket(bucketHistory).ForEach(func(k, _ []byte) error {
			hist = append(hist, string(bytes.TrimLeft(k[8:], "\x00")))
			return nil
		})
	})
	if len(hist) != 1 || hist[0] != "gGONE" {
		t.Fatalf("history index %q, want only the revoked grant", hist)
	}
}

// BenchmarkPruneHistory measures one prune batch (one transaction of at most HistoryBatch keys,
// with its history.pruned event) over ended grant stories (a grant, its request and four audit
// events each), beside 10,000 live grants that it never reads.
func BenchmarkPruneHistory(b *testing.B) {
	db := mustOpenAt(b, filepath.Join(b.TempDir(), "jitbot.db"), Options{AuditKey: []byte("bench")})
	const live = 10_000
	for lo := 0; lo < live; lo += 1000 {
		err := db.Update(b.Context(), func(tx access.Tx) error {
			for i := lo; i < lo+1000; i++ {
				g := &access.Grant{ID: "LIVE" + strconv.Itoa(i), Role: "jira-admin", Holder: access.UserActor("U" + strconv.Itoa(i)),
					Account: access.Account{ID: "acc-" + strconv.Itoa(i)}, Status: access.GrantActive, CreatedAt: t0, EndsAt: t0.Add(1000 * time.Hour)}
				if err := tx.PutGrant(g); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	n, keys, iter := 0, 0, 0
	for b.Loop() {
		b.StopTimer()
		at := t0.Add(time.Duration(iter) * 24 * time.Hour)
		iter++
		for range 12 { // more than one batch's worth
			accesstest.StoreStory(b, db, "OLD"+strconv.Itoa(n), at)
			n++
		}
		b.StartTimer()
		var p access.HistoryPruned
		err := db.Update(b.Context(), func(tx access.Tx) (err error) {
			if p, err = tx.PruneHistory(at.Add(2 * time.Hour)); err != nil || p.Removed() == 0 {
				return err
			}
			ev := access.AuditEvent{Time: at.Add(2 * time.Hour), Action: access.ActionHistoryPruned, Actor: access.SystemActor}
			return tx.AppendAudit(&ev)
		})
		if err != nil || p.Removed() == 0 {
			b.Fatalf("pruned %+v, %v", p, err)
		}
		keys += p.Cost()
	}
	b.ReportMetric(float64(keys)/float64(iter), "keys/op")
}
