package etcdstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store"
	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

func openBackend(t *testing.T, srv *etcdtest.Server, opts Options) *DB {
	t.Helper()
	opts.Endpoints = srv.Endpoints()
	if opts.Prefix == "" {
		opts.Prefix = "/" + t.Name() + "/"
	}
	db, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// model is the reference: a sorted map.
type model map[string]string

func (m model) keys() []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestBackend_CursorMatchesModel drives random puts, deletes and cursor walks, some committed
// and some still buffered in the transaction, and compares every answer with a sorted map.
func TestBackend_CursorMatchesModel(t *testing.T) {
	srv := etcdtest.Start(t)
	db := openBackend(t, srv, Options{PageSize: 3})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	committed := model{}
	key := func() string { return fmt.Sprintf("k%02d\x00%c", rng.IntN(40), 'a'+rng.IntN(3)) }
	for round := range 15 {
		work := model{}
		for k, v := range committed {
			work[k] = v
		}
		err := db.be.Update(ctx, func(kv store.KV) error {
			b := kv.Bucket([]byte("things"))
			for op := range 20 {
				switch rng.IntN(4) {
				case 0:
					k, v := key(), fmt.Sprintf("v%d.%d", round, op)
					if err := b.Put([]byte(k), []byte(v)); err != nil {
						return err
					}
					work[k] = v
				case 1:
					k := key()
					if err := b.Delete([]byte(k)); err != nil {
						return err
					}
					delete(work, k)
				case 2:
					k := key()
					got, want := b.Get([]byte(k)), work[k]
					if _, ok := work[k]; ok != (got != nil) || string(got) != want {
						t.Fatalf("round %d: Get(%q) = %q, want %q (present %v)", round, k, got, want, ok)
					}
				case 3:
					checkCursor(t, round, b.Cursor(), work, key())
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		committed = work
		if err := db.be.View(ctx, func(kv store.KV) error {
			checkCursor(t, round, kv.Bucket([]byte("things")).Cursor(), committed, key())
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func checkCursor(t *testing.T, round int, c store.Cursor, m model, seek string) {
	t.Helper()
	ks := m.keys()
	var fwd, back []string
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if m[string(k)] != string(v) {
			t.Fatalf("round %d: cursor value of %q = %q, want %q", round, k, v, m[string(k)])
		}
		fwd = append(fwd, string(k))
	}
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		back = append(back, string(k))
	}
	slices.Reverse(back)
	if !slices.Equal(fwd, ks) || !slices.Equal(back, ks) {
		t.Fatalf("round %d: forward %q backward %q, want %q", round, fwd, back, ks)
	}
	i := sort.SearchStrings(ks, seek)
	k, _ := c.Seek([]byte(seek))
	if i < len(ks) != (k != nil) || (k != nil && string(k) != ks[i]) {
		t.Fatalf("round %d: Seek(%q) = %q, want index %d of %q", round, seek, k, i, ks)
	}
	if k != nil {
		p, _ := c.Prev()
		if (i > 0) != (p != nil) || (p != nil && string(p) != ks[i-1]) {
			t.Fatalf("round %d: Prev after Seek(%q) = %q", round, seek, p)
		}
	}
}

// TestBackend_ConflictRetries: two handles (two replicas) read the same counter and write it
// back; every increment lands exactly once, and the losers were retried.
func TestBackend_ConflictRetries(t *testing.T) {
	srv := etcdtest.Start(t)
	a := openBackend(t, srv, Options{Prefix: "/shared/", Retries: 100})
	b := openBackend(t, srv, Options{Prefix: "/shared/", Retries: 100})
	ctx := context.Background()
	const n = 20
	errs := make(chan error, 2*n)
	for i := range 2 * n {
		db := []*DB{a, b}[i%2]
		go func() {
			errs <- db.be.Update(ctx, func(kv store.KV) error {
				bk := kv.Bucket([]byte("c"))
				v := bk.Get([]byte("n"))
				var x int
				if v != nil {
					fmt.Sscan(string(v), &x)
				}
				return bk.Put([]byte("n"), []byte(fmt.Sprint(x+1)))
			})
		}()
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var got []byte
	_ = a.be.View(ctx, func(kv store.KV) error { got = kv.Bucket([]byte("c")).Get([]byte("n")); return nil })
	if string(got) != fmt.Sprint(2*n) {
		t.Fatalf("counter = %s, want %d (lost updates)", got, 2*n)
	}
	if a.Conflicts()+b.Conflicts() == 0 {
		t.Log("no conflicts happened; the increments did not overlap")
	}
}

func TestBackend_RetriesExhausted(t *testing.T) {
	srv := etcdtest.Start(t)
	db := openBackend(t, srv, Options{Retries: 2})
	ctx := context.Background()
	runs := 0
	err := db.be.Update(ctx, func(kv store.KV) error {
		runs++
		kv.Bucket([]byte("c")).Get([]byte("x"))
		// Someone else commits between our read and our commit, every time.
		if _, err := db.be.cli.Put(ctx, db.be.txnKey, ""); err != nil {
			return err
		}
		return kv.Bucket([]byte("c")).Put([]byte("x"), []byte("1"))
	})
	if access.ErrorCode(err) != access.ECONFLICT || runs != 3 {
		t.Fatalf("err = %v (code %s) after %d runs, want ECONFLICT after 3", err, access.ErrorCode(err), runs)
	}
	if n := db.Conflicts(); n != 3 {
		t.Fatalf("Conflicts() = %d, want 3", n)
	}
}

func TestBackend_TooLarge(t *testing.T) {
	srv := etcdtest.Start(t)
	db := openBackend(t, srv, Options{MaxTxnOps: 10, MaxTxnBytes: 4096})
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		n    int
		size int
	}{{"ops", 10, 1}, {"bytes", 2, 3000}} {
		t.Run(tt.name, func(t *testing.T) {
			err := db.be.Update(ctx, func(kv store.KV) error {
				for i := range tt.n {
					if err := kv.Bucket([]byte("big")).Put([]byte(fmt.Sprint(i)), bytes.Repeat([]byte("x"), tt.size)); err != nil {
						return err
					}
				}
				return nil
			})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			resp, _ := db.be.cli.Get(ctx, db.be.data+"big/", clientv3.WithPrefix(), clientv3.WithCountOnly())
			if resp.Count != 0 {
				t.Fatalf("%d keys written by a refused transaction", resp.Count)
			}
		})
	}
}

func TestBackend_Unavailable(t *testing.T) {
	srv := etcdtest.Start(t)
	db := openBackend(t, srv, Options{})
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := db.Update(ctx, func(tx access.Tx) error {
		_, err := tx.Grant("G1")
		return err
	})
	if err == nil || access.ErrorCode(err) == access.ENOTFOUND {
		t.Fatalf("err = %v, want the read failure, not a missing grant", err)
	}
}

func TestOpen_NewerSchema(t *testing.T) {
	srv := etcdtest.Start(t)
	db := openBackend(t, srv, Options{Prefix: "/newer/"})
	v := append([]byte{formatV1}, 0, 0, 0, 0, 0, 0, 0, 99)
	if _, err := db.be.cli.Put(context.Background(), "/newer/b/meta/schema_version", string(v)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), Options{Endpoints: srv.Endpoints(), Prefix: "/newer/"})
	if !errors.Is(err, ErrSchema) {
		t.Fatalf("err = %v, want ErrSchema", err)
	}
}

func TestBackend_CorruptValue(t *testing.T) {
	srv := etcdtest.Start(t)
	db := openBackend(t, srv, Options{})
	if _, err := db.be.cli.Put(context.Background(), db.be.data+"grants/G1", "{}"); err != nil {
		t.Fatal(err)
	}
	err := db.View(context.Background(), func(tx access.Tx) error { _, err := tx.Grant("G1"); return err })
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}
