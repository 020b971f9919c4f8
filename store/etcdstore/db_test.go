package etcdstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

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
