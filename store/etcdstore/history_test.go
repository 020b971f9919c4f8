package etcdstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/store/etcdstore"
	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

// historyKeys lists the history index of prefix, as key=value text.
func historyKeys(t *testing.T, cli *clientv3.Client, prefix string) []string {
	t.Helper()
	var out []string
	for _, b := range []string{"history/", "history_by_grant/"} {
		resp, err := cli.Get(context.Background(), prefix+"b/"+b, clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range resp.Kvs {
			out = append(out, fmt.Sprintf("%x=%x", kv.Key, kv.Value))
		}
	}
	return out
}

// TestOpen_MigratesHistoryIndex: a prefix of schema version 2 (no history index) gets it built
// when opened, in Txns within the op limit, the same as the transitions write it, and its
// version raised to 3; a prune then removes what ended.
func TestOpen_MigratesHistoryIndex(t *testing.T) {
	srv := etcdtest.Start(t)
	const prefix = "/mig/"
	opts := etcdstore.Options{Prefix: prefix, MaxTxnOps: 16}
	db := open(t, srv, opts)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 12 { // more records than one migration Txn takes
		accesstest.StoreStory(t, db, fmt.Sprintf("GONE%02d", i), t0)
	}
	accesstest.ActiveStory(t, db, "LIVE", t0, 8*time.Hour)
	written := historyKeys(t, db.Client(), prefix)
	if len(written) != 12+13 {
		t.Fatalf("%d history entries as written, want 12 grants and 13 requests", len(written))
	}
	ctx := context.Background()
	if _, err := db.Client().Delete(ctx, prefix+"b/history", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	v2 := string([]byte{1, 0, 0, 0, 0, 0, 0, 0, 2})
	if _, err := db.Client().Put(ctx, prefix+"b/meta/schema_version", v2); err != nil {
		t.Fatal(err)
	}
	if got := historyKeys(t, db.Client(), prefix); len(got) != 0 {
		t.Fatalf("history left: %q", got)
	}

	again := open(t, srv, opts)
	if got := historyKeys(t, again.Client(), prefix); fmt.Sprint(got) != fmt.Sprint(written) {
		t.Fatalf("history index after migration:\n%q\nas written:\n%q", got, written)
	}
	resp, err := again.Client().Get(ctx, prefix+"b/meta/schema_version")
	if err != nil || len(resp.Kvs) != 1 || resp.Kvs[0].Value[8] != 3 {
		t.Fatalf("schema version after migration: %v %v", resp, err)
	}
	// A prune takes up to 100 keys a Txn (access.HistoryBatch): etcd's default limit, 128.
	p, err := access.PruneHistory(ctx, open(t, srv, etcdstore.Options{Prefix: prefix}), t0.Add(48*time.Hour), 24*time.Hour)
	if err != nil || p.Grants != 12 || p.Requests != 12 {
		t.Fatalf("pruned %+v, %v; want the 12 ended grants and their requests", p, err)
	}
	if brk, _, err := again.VerifyAudit(ctx); brk != nil || err != nil {
		t.Fatalf("audit chain after pruning: %+v %v", brk, err)
	}
}
