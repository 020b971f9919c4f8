package etcdstore

import (
	"context"
	"strings"
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
			remote, outbox := false, false
			for _, ev := range resp.Events {
				// Every commit writes its handle's ID there, and whether it put an outbox item.
				if id, put := readMark(string(ev.Kv.Value)); id != db.be.id {
					remote, outbox = true, outbox || put
				}
			}
			if resp.CompactRevision > 0 {
				from, remote, outbox = resp.CompactRevision, true, true // events before it are gone: read afresh
			} else if resp.Header.Revision >= from {
				from = resp.Header.Revision + 1
			}
			if resp.Canceled || resp.Err() != nil {
				remote, outbox = true, true // events may have been missed: read the state afresh
			}
			if remote {
				db.tellRemote(ctx, outbox)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// tellRemote reads the next due time and live counts and tells the watchers, with whether
// the commits put outbox items (the leader's delivery loop then reads the outbox).
func (db *DB) tellRemote(ctx context.Context, outbox bool) {
	c := access.Commit{Outbox: outbox}
	err := db.View(ctx, func(tx access.Tx) error {
		due, err := tx.NextDue()
		if err != nil {
			return err
		}
		lc, err := tx.LiveCounts()
		if err != nil {
			return err
		}
		c.Due, c.Counts = due, &lc
		return nil
	})
	if err == nil {
		db.Notify(c)
	}
}

// commitMark is the txn key's value after a commit of handle id: its ID, and whether the
// commit put an outbox item.
func commitMark(id string, outbox bool) string {
	if outbox {
		return id + ";outbox"
	}
	return id + ";-"
}

// readMark reads a commitMark. A value without the mark (written by an older jitbot, or by
// migrate) may have put outbox items.
func readMark(v string) (id string, outbox bool) {
	id, mark, found := strings.Cut(v, ";")
	return id, !found || mark == "outbox"
}
