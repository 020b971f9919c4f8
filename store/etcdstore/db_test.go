package etcdstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/store/etcdstore"
	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

var prefixes atomic.Int64

// open opens a store on a fresh prefix of srv, closed when the test ends.
func open(tb testing.TB, srv *etcdtest.Server, opts etcdstore.Options) *etcdstore.DB {
	tb.Helper()
	opts.Endpoints = srv.Endpoints()
	if opts.Prefix == "" {
		opts.Prefix = fmt.Sprintf("/test%d/", prefixes.Add(1))
	}
	if opts.AuditKey == nil {
		opts.AuditKey = accesstest.StoreContractKey
	}
	db, err := etcdstore.Open(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

func TestDB_Contract(t *testing.T) {
	srv := etcdtest.Start(t)
	accesstest.StoreContract(t, func(t *testing.T) access.Store { return open(t, srv, etcdstore.Options{}) })
}

// TestDB_ContractSmallPages runs the contract with two keys per page, so every range and
// cursor move crosses page boundaries.
func TestDB_ContractSmallPages(t *testing.T) {
	srv := etcdtest.Start(t)
	accesstest.StoreContract(t, func(t *testing.T) access.Store { return open(t, srv, etcdstore.Options{PageSize: 2}) })
}

// TestDB_WatchOtherReplicas: a commit through one handle (replica) is told to the watchers of
// another, with the next due time and the live counts; a handle's own commits are told once.
func TestDB_WatchOtherReplicas(t *testing.T) {
	srv := etcdtest.Start(t)
	a := open(t, srv, etcdstore.Options{Prefix: "/watch/"})
	b := open(t, srv, etcdstore.Options{Prefix: "/watch/"})
	got := make(chan access.Commit, 10)
	stop := b.Watch(func(c access.Commit) { got <- c })
	defer stop()
	ends := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	g := &access.Grant{ID: "G1", Role: "r", Holder: access.UserActor("U1"), Account: access.Account{ID: "acc-1"},
		Status: access.GrantActive, Duration: time.Hour, GrantedAt: ends.Add(-time.Hour), EndsAt: ends, Warned: true}
	if err := a.Update(t.Context(), func(tx access.Tx) error { return tx.PutGrant(g) }); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-got:
		if !c.Due.Equal(g.Due()) || c.Counts == nil || c.Counts.Grants[access.GrantActive] != 1 {
			t.Fatalf("commit told to the other replica: %+v, want due %s and one active grant", c, g.Due())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the other replica's watcher heard nothing")
	}
	g.ID, g.Account.ID = "G2", "acc-2"
	if err := b.Update(t.Context(), func(tx access.Tx) error { return tx.PutGrant(g) }); err != nil {
		t.Fatal(err)
	}
	if c := <-got; c.Counts == nil || c.Counts.Grants[access.GrantActive] != 2 {
		t.Fatalf("own commit: %+v", c)
	}
	select {
	case c := <-got:
		t.Fatalf("own commit told twice: %+v", c)
	case <-time.After(300 * time.Millisecond):
	}
	// The leader's delivery loop sleeps until an outbox item is put, on whichever replica.
	if err := a.Update(t.Context(), func(tx access.Tx) error {
		return tx.PutOutbox(&access.OutboxItem{Channel: "C1", Body: []byte(`{}`), CreatedAt: ends})
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-got:
		if !c.Outbox {
			t.Fatalf("another replica's outbox item told as %+v, want Outbox", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the other replica's outbox item was not told")
	}
	g.ID, g.Account.ID = "G3", "acc-3"
	if err := a.Update(t.Context(), func(tx access.Tx) error { return tx.PutGrant(g) }); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-got:
		if c.Outbox {
			t.Fatalf("another replica's grant told as %+v, with Outbox", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the other replica's grant was not told")
	}
}
