package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
)

// MustOpenDB opens a new database in a temporary directory, with fsync off and the contract's
// audit key, and closes it when the test ends.
func MustOpenDB(tb testing.TB) *DB {
	tb.Helper()
	return mustOpenAt(tb, filepath.Join(tb.TempDir(), "jitbot.db"), Options{AuditKey: accesstest.StoreContractKey, NoSync: true})
}

func mustOpenAt(tb testing.TB, path string, opts Options) *DB {
	tb.Helper()
	db, err := Open(path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

func TestDB_Contract(t *testing.T) {
	accesstest.StoreContract(t, func(t *testing.T) access.Store { return MustOpenDB(t) })
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var testRole = &access.Role{
	Name: "jira-admin", Grants: []access.Target{access.GroupTarget("jira-admins")},
	MaxDuration: 8 * time.Hour, DefaultDuration: time.Hour, Approvers: []string{"UBOB"}, Approvals: 1,
}

// story writes a request through to an active grant, each transition with its audit event.
func story(tb testing.TB, db *DB, id string, now time.Time, d time.Duration) {
	tb.Helper()
	accesstest.ActiveStory(tb, db, id, now, d)
}

// revoke ends grant id at now in one transaction with its audit event.
func revoke(tb testing.TB, db *DB, id string, now time.Time) {
	tb.Helper()
	err := db.Update(tb.Context(), func(tx access.Tx) error {
		g, err := tx.Grant(id)
		if err != nil {
			return err
		}
		if _, err := g.BeginRevoke(access.SystemActor, false, "expired", now, time.Minute); err != nil {
			return err
		}
		for i := range g.Items {
			g.ItemRemoved(i, true, now)
		}
		e, err := g.MarkRevoked(now)
		if err != nil {
			return err
		}
		if err := tx.PutGrant(g); err != nil {
			return err
		}
		return tx.AppendAudit(&e)
	})
	if err != nil {
		tb.Fatalf("revoke %s: %v", id, err)
	}
}

func TestDB_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jitbot.db")
	key := []byte("k")
	db, err := Open(path, Options{AuditKey: key})
	if err != nil {
		t.Fatal(err)
	}
	story(t, db, "G1", t0, time.Hour)
	story(t, db, "G2", t0, 2*time.Hour)
	revoke(t, db, "G1", t0.Add(time.Hour))
	err = db.Update(t.Context(), func(tx access.Tx) error {
		if err := tx.PutBinding(&access.Binding{SlackID: "UALICE", Email: "alice@example.com", At: t0}); err != nil {
			return err
		}
		if err := tx.PutFirstSeen("external", map[string]time.Time{"acc-x": t0}); err != nil {
			return err
		}
		return tx.PutRun(&access.Run{ID: "RUN1", Name: "nightly", Started: t0, Outcome: "ok"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpenAt(t, path, Options{AuditKey: key}) // a restart
	brk, n, err := db.VerifyAudit()
	if err != nil || brk != nil || n != 7 {
		t.Fatalf("VerifyAudit after reopen: break %+v, %d events, %v; want intact, 7", brk, n, err)
	}
	err = db.View(t.Context(), func(tx access.Tx) error {
		g1, err := tx.Grant("G1")
		if err != nil {
			return err
		}
		if g1.Status != access.GrantRevoked {
			t.Errorf("G1 is %s, want revoked", g1.Status)
		}
		due, err := tx.DueGrants(t0.Add(2*time.Hour), 0)
		if err != nil {
			return err
		}
		if len(due) != 1 || due[0].ID != "G2" {
			t.Errorf("due grants after reopen: %v, want G2", due)
		}
		if early, err := tx.DueGrants(t0.Add(time.Hour), 0); err != nil || len(early) != 0 {
			t.Errorf("due grants before G2's warning: %d, %v", len(early), err)
		}
		if _, err := tx.Binding("UALICE"); err != nil {
			return err
		}
		if seen, err := tx.FirstSeen("external"); err != nil || !seen["acc-x"].Equal(t0) {
			t.Errorf("first seen after reopen: %v, %v", seen, err)
		}
		if runs, err := tx.Runs("nightly", 0); err != nil || len(runs) != 1 {
			t.Errorf("runs after reopen: %d, %v", len(runs), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The chain continues across the restart.
	revoke(t, db, "G2", t0.Add(2*time.Hour))
	if brk, n, err := db.VerifyAudit(); err != nil || brk != nil || n != 8 {
		t.Errorf("VerifyAudit after more events: %+v, %d, %v", brk, n, err)
	}
	if brk, _, _ := (&DB{bolt: db.bolt, key: []byte("wrong")}).VerifyAudit(); brk == nil || brk.Seq != 1 {
		t.Errorf("VerifyAudit with the wrong key: %+v, want a break at 1", brk)
	}
}

func TestDB_VerifyAudit(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(b *bolt.Bucket) error
		wantSeq uint64 // 0: intact
	}{
		{"intact", func(*bolt.Bucket) error { return nil }, 0},
		{"edited_detail", func(b *bolt.Bucket) error {
			var e access.AuditEvent
			if err := json.Unmarshal(b.Get(seqKey(2)), &e); err != nil {
				return err
			}
			e.Detail = "nothing to see"
			v, _ := json.Marshal(e)
			return b.Put(seqKey(2), v)
		}, 2},
		{"deleted_event", func(b *bolt.Bucket) error { return b.Delete(seqKey(2)) }, 3},
		{"event_copied_over_another", func(b *bolt.Bucket) error {
			return b.Put(seqKey(3), bytes.Clone(b.Get(seqKey(1))))
		}, 3},
		{"not_json", func(b *bolt.Bucket) error { return b.Put(seqKey(2), []byte("{")) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := MustOpenDB(t)
			story(t, db, "R1", t0, time.Hour)
			if err := db.bolt.Update(func(btx *bolt.Tx) error { return tt.tamper(btx.Bucket(bucketAudit)) }); err != nil {
				t.Fatal(err)
			}
			brk, _, err := db.VerifyAudit()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantSeq == 0 && brk != nil:
				t.Errorf("break %+v, want intact", brk)
			case tt.wantSeq != 0 && (brk == nil || brk.Seq != tt.wantSeq):
				t.Errorf("break %+v, want at %d", brk, tt.wantSeq)
			}
		})
	}
}

func TestDB_ExportAudit(t *testing.T) {
	db := MustOpenDB(t)
	story(t, db, "R1", t0, time.Hour)
	story(t, db, "R2", t0.Add(time.Hour), time.Hour)
	tests := []struct {
		name  string
		since time.Time
		want  []uint64
	}{
		{"all", time.Time{}, []uint64{1, 2, 3, 4, 5, 6}},
		{"since", t0.Add(time.Hour), []uint64{4, 5, 6}},
		{"future", t0.Add(48 * time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint64
			err := db.ExportAudit(tt.since, func(e access.AuditEvent) error { got = append(got, e.Seq); return nil })
			if err != nil || !equalSeqs(got, tt.want) {
				t.Errorf("exported %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	stop := errors.New("stop")
	n := 0
	err := db.ExportAudit(time.Time{}, func(access.AuditEvent) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("export stopped by fn: %v after %d events", err, n)
	}
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOpen_Locked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jitbot.db")
	mustOpenAt(t, path, Options{NoSync: true})
	_, err := Open(path, Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestOpen_NewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jitbot.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.bolt.Update(func(btx *bolt.Tx) error {
		return btx.Bucket(bucketMeta).Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, schemaVersion+1))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	_, err = Open(path, Options{NoSync: true})
	if !errors.Is(err, ErrSchema) {
		t.Fatalf("Open of a newer schema: %v, want ErrSchema", err)
	}
	// The refusal wrote nothing and released the lock.
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 50 * time.Millisecond, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_ = b.View(func(btx *bolt.Tx) error {
		if got := binary.BigEndian.Uint64(btx.Bucket(bucketMeta).Get(keySchemaVersion)); got != schemaVersion+1 {
			t.Errorf("schema version after refusal: %d", got)
		}
		return nil
	})
}

func TestOpen_ForeignBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Update(func(btx *bolt.Tx) error { _, err := btx.CreateBucket([]byte("widgets")); return err })
	_ = b.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open of another program's bbolt file: %v, want ErrCorrupt", err)
	}
}

// TestOpen_Corrupted damages a real database in several ways. Open and then reading every
// record must return errors, never panic or crash; garbage and broken meta pages must be
// reported as ErrCorrupt by Open.
func TestOpen_Corrupted(t *testing.T) {
	pristine := filepath.Join(t.TempDir(), "pristine.db")
	db, err := Open(pristine, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		story(t, db, "R"+strconv.Itoa(i), t0.Add(time.Duration(i)*time.Minute), time.Hour)
	}
	_ = db.Close()
	good, err := os.ReadFile(pristine)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	rnd := rand.New(rand.NewPCG(1, 2))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.UintN(256))
		}
		return b
	}
	tests := []struct {
		name        string
		data        func() []byte
		wantCorrupt bool // Open itself must say ErrCorrupt
	}{
		{"garbage", func() []byte { return garbage(64 << 10) }, true},
		{"short_garbage", func() []byte { return garbage(100) }, true},
		{"zeroed_meta_pages", func() []byte {
			b := bytes.Clone(good)
			clear(b[:2*page])
			return b
		}, true},
		{"truncated_to_half", func() []byte { return bytes.Clone(good[:len(good)/2]) }, false},
		{"truncated_after_meta", func() []byte { return bytes.Clone(good[:3*page]) }, false},
		{"data_pages_garbage", func() []byte {
			b := bytes.Clone(good)
			copy(b[2*page:], garbage(len(b)-2*page))
			return b
		}, false},
		{"data_pages_zeroed", func() []byte {
			b := bytes.Clone(good)
			clear(b[2*page:])
			return b
		}, false},
	}
	for i := range 20 {
		tests = append(tests, struct {
			name        string
			data        func() []byte
			wantCorrupt bool
		}{"random_page_" + strconv.Itoa(i), func() []byte {
			b := bytes.Clone(good)
			p := 2 + rnd.IntN(len(b)/page-2)
			copy(b[p*page:], garbage(page))
			return b
		}, false})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jitbot.db")
			if err := os.WriteFile(path, tt.data(), 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := Open(path, Options{NoSync: true, Timeout: 50 * time.Millisecond})
			if err != nil {
				if tt.wantCorrupt && !errors.Is(err, ErrCorrupt) {
					t.Errorf("Open: %v, want ErrCorrupt", err)
				}
				t.Logf("Open: %v", err)
				return
			}
			defer db.Close()
			if tt.wantCorrupt {
				t.Errorf("Open succeeded, want ErrCorrupt")
			}
			err = db.View(t.Context(), func(tx access.Tx) error {
				if _, err := tx.Requests(access.RequestFilter{}); err != nil {
					return err
				}
				if _, err := tx.Grants(access.GrantFilter{}); err != nil {
					return err
				}
				if _, err := tx.DueGrants(t0.Add(100*time.Hour), 0); err != nil {
					return err
				}
				_, err := tx.AuditEvents(access.AuditFilter{})
				return err
			})
			t.Logf("read: %v", err)
			_, _, err = db.VerifyAudit()
			t.Logf("verify: %v", err)
			err = db.Update(t.Context(), func(tx access.Tx) error {
				e := access.AuditEvent{Time: t0, Action: access.ActionRun, Actor: access.SystemActor}
				return tx.AppendAudit(&e)
			})
			t.Logf("write: %v", err)
		})
	}
}

// TestDB_VerifyAudit_head: the chain's head shows events removed from the end, and a head
// rewritten to match a shortened chain needs the audit key.
func TestDB_VerifyAudit_head(t *testing.T) {
	truncate := func(b *bolt.Bucket) (uint64, error) {
		k, _ := b.Cursor().Last()
		last := binary.BigEndian.Uint64(k)
		for seq := last - 2; seq <= last; seq++ {
			if err := b.Delete(seqKey(seq)); err != nil {
				return 0, err
			}
		}
		return last - 3, nil
	}
	tests := []struct {
		name    string
		tamper  func(t *testing.T, btx *bolt.Tx)
		wantMsg string
	}{
		{"last_three_deleted", func(t *testing.T, btx *bolt.Tx) {
			if _, err := truncate(btx.Bucket(bucketAudit)); err != nil {
				t.Fatal(err)
			}
		}, "removed from the end"},
		{"head_resealed_without_the_key", func(t *testing.T, btx *bolt.Tx) {
			b := btx.Bucket(bucketAudit)
			left, err := truncate(b)
			if err != nil {
				t.Fatal(err)
			}
			var e access.AuditEvent
			if err := json.Unmarshal(b.Get(seqKey(left)), &e); err != nil {
				t.Fatalf("event %d: %v (%q)", left, err, b.Get(seqKey(left)))
			}
			v, _ := json.Marshal(access.NewChainHead(left, e.Hash, []byte("guessed")))
			if err := btx.Bucket(bucketMeta).Put(keyAuditHead, v); err != nil {
				t.Fatal(err)
			}
		}, "does not match its seal"},
		{"head_deleted", func(t *testing.T, btx *bolt.Tx) {
			if err := btx.Bucket(bucketMeta).Delete(keyAuditHead); err != nil {
				t.Fatal(err)
			}
		}, "head record is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := MustOpenDB(t)
			story(t, db, "R1", t0, time.Hour)
			story(t, db, "R2", t0, time.Hour)
			if brk, n, err := db.VerifyAudit(); brk != nil || err != nil || n < 5 {
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

// An event whose text is not UTF-8 is stored as its JSON reads back, and the chain still
// verifies (found by FuzzAuditExport: the hash covered the bytes written, the check the text
// read back).
func TestDB_VerifyAudit_notUTF8(t *testing.T) {
	db := MustOpenDB(t)
	ev := access.AuditEvent{Time: t0, Action: access.ActionRequestSubmitted, Actor: access.UserActor("U\xff"), Subject: "R\xfe1", Role: "\xff\xfe", Detail: "caf\xe9", Tags: []string{"\x80"}}
	if err := db.Update(t.Context(), func(tx access.Tx) error { return tx.AppendAudit(&ev) }); err != nil {
		t.Fatal(err)
	}
	if brk, n, err := db.VerifyAudit(); err != nil || brk != nil || n != 1 {
		t.Fatalf("VerifyAudit: break %+v, %d events, %v; want intact, 1", brk, n, err)
	}
	if ev.Role != "\uFFFD\uFFFD" || ev.Detail != "caf\uFFFD" {
		t.Errorf("sealed event has role %q, detail %q; want each bad byte as U+FFFD", ev.Role, ev.Detail)
	}
}
