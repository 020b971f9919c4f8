package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jitbot/jitbot/access"
)

// TestDB_VerifyAudit_tamper: with the audit key set, each way of rewriting the audit log in
// the file (events reordered, the base of a pruned chain edited, replaced or deleted, the whole
// log removed) is a break.
func TestDB_VerifyAudit_tamper(t *testing.T) {
	event := func(t *testing.T, b *bolt.Bucket, seq uint64) access.AuditEvent {
		t.Helper()
		var e access.AuditEvent
		if err := json.Unmarshal(b.Get(seqKey(seq)), &e); err != nil {
			t.Fatalf("event %d: %v", seq, err)
		}
		return e
	}
	first := func(b *bolt.Bucket) uint64 {
		k, _ := b.Cursor().First()
		return keyNanos(k)
	}
	tests := []struct {
		name    string
		tamper  func(t *testing.T, btx *bolt.Tx)
		wantMsg string
	}{
		{"two_events_swapped", func(t *testing.T, btx *bolt.Tx) {
			b := btx.Bucket(bucketAudit)
			s := first(b)
			v1, v2 := bytes.Clone(b.Get(seqKey(s))), bytes.Clone(b.Get(seqKey(s+1)))
			if err := b.Put(seqKey(s), v2); err != nil {
				t.Fatal(err)
			}
			if err := b.Put(seqKey(s+1), v1); err != nil {
				t.Fatal(err)
			}
		}, "carries sequence"},
		{"two_events_swapped_and_renumbered", func(t *testing.T, btx *bolt.Tx) {
			b := btx.Bucket(bucketAudit)
			s := first(b)
			e1, e2 := event(t, b, s), event(t, b, s+1)
			e1.Seq, e2.Seq = e2.Seq, e1.Seq
			v1, _ := json.Marshal(e1)
			v2, _ := json.Marshal(e2)
			if err := b.Put(seqKey(s), v2); err != nil {
				t.Fatal(err)
			}
			if err := b.Put(seqKey(s+1), v1); err != nil {
				t.Fatal(err)
			}
		}, "does not match"},
		{"base_moved_past_an_event", func(t *testing.T, btx *bolt.Tx) {
			// Hide the oldest event left: delete it and move the base onto it, seal kept.
			b, meta := btx.Bucket(bucketAudit), btx.Bucket(bucketMeta)
			s := first(b)
			e := event(t, b, s)
			var base access.ChainBase
			if err := json.Unmarshal(meta.Get(keyAuditBase), &base); err != nil {
				t.Fatal(err)
			}
			base.Seq, base.Hash, base.Time = e.Seq, e.Hash, e.Time
			v, _ := json.Marshal(base)
			if err := meta.Put(keyAuditBase, v); err != nil {
				t.Fatal(err)
			}
			if err := b.Delete(seqKey(s)); err != nil {
				t.Fatal(err)
			}
		}, "base record (where it starts after pruning) does not match its seal"},
		{"base_resealed_without_the_key", func(t *testing.T, btx *bolt.Tx) {
			b, meta := btx.Bucket(bucketAudit), btx.Bucket(bucketMeta)
			s := first(b)
			e := event(t, b, s)
			v, _ := json.Marshal(access.NewChainBase(e.Seq, e.Hash, e.Time, []byte("guessed")))
			if err := meta.Put(keyAuditBase, v); err != nil {
				t.Fatal(err)
			}
			if err := b.Delete(seqKey(s)); err != nil {
				t.Fatal(err)
			}
		}, "does not match its seal"},
		{"head_passed_off_as_base", func(t *testing.T, btx *bolt.Tx) {
			meta := btx.Bucket(bucketMeta)
			if err := meta.Put(keyAuditBase, bytes.Clone(meta.Get(keyAuditHead))); err != nil {
				t.Fatal(err)
			}
		}, "does not match its seal"},
		{"base_deleted", func(t *testing.T, btx *bolt.Tx) {
			if err := btx.Bucket(bucketMeta).Delete(keyAuditBase); err != nil {
				t.Fatal(err)
			}
		}, "removed from the front"},
		{"whole_log_removed", func(t *testing.T, btx *bolt.Tx) {
			b, meta := btx.Bucket(bucketAudit), btx.Bucket(bucketMeta)
			var keys [][]byte
			_ = b.ForEach(func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil })
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range [][]byte{keyAuditHead, keyAuditBase} {
				if err := meta.Delete(k); err != nil {
					t.Fatal(err)
				}
			}
		}, "no audit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := MustOpenDB(t)
			story(t, db, "OLD", t0, time.Hour)
			revoke(t, db, "OLD", t0.Add(time.Hour))
			story(t, db, "NEW", t0.Add(47*time.Hour), time.Hour)
			if p, err := access.PruneHistory(t.Context(), db, t0.Add(48*time.Hour), 24*time.Hour); err != nil || p.Events == 0 {
				t.Fatalf("prune: %+v, %v", p, err)
			}
			if brk, n, err := db.VerifyAudit(); brk != nil || err != nil || n < 3 {
				t.Fatalf("before tampering: %+v, %d events, %v", brk, n, err)
			}
			if err := db.bolt.Update(func(btx *bolt.Tx) error { tt.tamper(t, btx); return nil }); err != nil {
				t.Fatal(err)
			}
			brk, _, err := db.VerifyAudit()
			if err != nil || brk == nil || !strings.Contains(brk.Reason, tt.wantMsg) {
				t.Errorf("VerifyAudit = %+v, %v; want a break saying %q", brk, err, tt.wantMsg)
			}
		})
	}
}
