package accesstest

import (
	"context"
	"time"

	"github.com/jitbot/jitbot/access"
)

// Bounded wraps s so that an Update writing more than max records and audit events fails, as
// etcd refuses a transaction over its --max-txn-ops. Domain tests use it to show that work of
// any size is split into transactions a bounded store takes.
func Bounded(s access.Store, max int) access.Store { return bounded{Store: s, max: max} }

type bounded struct {
	access.Store
	max int
}

func (b bounded) Update(ctx context.Context, fn func(access.Tx) error) error {
	return b.Store.Update(ctx, func(tx access.Tx) error {
		return fn(&boundedTx{Tx: tx, max: b.max})
	})
}

type boundedTx struct {
	access.Tx
	n, max int
}

func (t *boundedTx) write() error {
	t.n++
	if t.n > t.max {
		return access.Errorf(access.EINTERNAL, "transaction writes more than %d records (the store's bound)", t.max)
	}
	return nil
}

func (t *boundedTx) PutRequest(r *access.Request) error {
	if err := t.write(); err != nil {
		return err
	}
	return t.Tx.PutRequest(r)
}

func (t *boundedTx) PutGrant(g *access.Grant) error {
	if err := t.write(); err != nil {
		return err
	}
	return t.Tx.PutGrant(g)
}

func (t *boundedTx) AppendAudit(e *access.AuditEvent) error {
	if err := t.write(); err != nil {
		return err
	}
	return t.Tx.AppendAudit(e)
}

func (t *boundedTx) PutBinding(bd *access.Binding) error {
	if err := t.write(); err != nil {
		return err
	}
	return t.Tx.PutBinding(bd)
}

func (t *boundedTx) PutFirstSeen(sweep string, seen map[string]time.Time) error {
	if err := t.write(); err != nil {
		return err
	}
	return t.Tx.PutFirstSeen(sweep, seen)
}

func (t *boundedTx) PutRun(r *access.Run) error {
	if err := t.write(); err != nil {
		return err
	}
	return t.Tx.PutRun(r)
}

func (t *boundedTx) PutReviewItem(it *access.ReviewItem) error {
	if err := t.write(); err != nil {
		return err
	}
	return t.Tx.PutReviewItem(it)
}

// OnCommit hands fn to the wrapped transaction, so that fakes standing for what happens after
// a commit (Notices) see only committed work through a bounded store too. A wrapped
// transaction without OnCommit runs fn now, as Notices does without it.
func (t *boundedTx) OnCommit(fn func()) {
	if c, ok := t.Tx.(interface{ OnCommit(func()) }); ok {
		c.OnCommit(fn)
		return
	}
	fn()
}
