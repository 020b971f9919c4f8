package accesstest

import (
	"context"
	"errors"

	"github.com/jitbot/jitbot/access"
)

// errDiscard rolls back Twice's first run.
var errDiscard = errors.New("first run discarded")

// Twice wraps s so that every Update runs fn twice: once in a transaction that is rolled back,
// then for real. It is what a store with optimistic concurrency (etcd) does when a commit
// loses to another one, so a test run through it fails when fn changes anything it did not
// read inside the transaction.
func Twice(s access.Store) access.Store { return twice{s} }

type twice struct{ access.Store }

func (t twice) Update(ctx context.Context, fn func(access.Tx) error) error {
	err := t.Store.Update(ctx, func(tx access.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errDiscard
	})
	if !errors.Is(err, errDiscard) {
		return err
	}
	return t.Store.Update(ctx, fn)
}
