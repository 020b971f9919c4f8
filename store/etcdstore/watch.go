package etcdstore

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/jitbot/jitbot/access"
)

// watchRemote follows the txn key, which every commit rewrites with its handle's ID, from
// revision from on, and after another replica's commit tells this store's watchers the next due
// time and the live counts: the leader's sweeper then wakes for a grant a follower approved, and
// every replica's gauges follow. A watch that breaks resumes where it stopped, so no commit made
// meanwhile goes unseen; one whose history was compacted away reads the state afresh.
func (db *DB) watchRemote(ctx context.Context, from int64) {
	for ctx.Err() == nil {
		wch := db.be.cli.Watch(clientv3.WithRequireLeader(ctx), db.be.txnKey, clientv3.WithRev(from))
		for resp := range wch {
			remote := false
			for _, ev := range resp.Events {
				if string(ev.Kv.Value) != db.be.id { // every commit writes its handle's ID there
					remote = true
				}
			}
			if resp.CompactRevision > 0 {
				from, remote = resp.CompactRevision, true // events before it are gone: read afresh
			} else if resp.Header.Revision >= from {
				from = resp.Header.Revision + 1
			}
			if resp.Canceled || resp.Err() != nil {
				remote = true // events may have been missed: read the state afresh
			}
			if remote {
				db.tellRemote(ctx)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// tellRemote reads the next due time and live counts and tells the watchers.
func (db *DB) tellRemote(ctx context.Context) {
	var c access.Commit
	err := db.View(ctx, func(tx access.Tx) error {
		due, err := tx.NextDue()
		if err != nil {
			return err
		}
		lc, err := tx.LiveCounts()
		if err != nil {
			return err
		}
		c = access.Commit{Due: due, Counts: &lc}
		return nil
	})
	if err == nil {
		db.Notify(c)
	}
}
