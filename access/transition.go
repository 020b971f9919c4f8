package access

import "context"

// records says how one kind of record is read and written inside a transaction.
type records[T any] struct {
	get func(Tx, string) (*T, error)
	put func(Tx, *T) error
}

// The record kinds that change by transitions.
var (
	grantRecords   = records[Grant]{get: Tx.Grant, put: Tx.PutGrant}
	requestRecords = records[Request]{get: Tx.Request, put: Tx.PutRequest}
	reviewRecords  = records[ReviewItem]{get: Tx.ReviewItem, put: Tx.PutReviewItem}
)

// notices returns what people are told of a record just changed; it may read more of tx (the
// rest of a review, say).
type notices[T any] func(tx Tx, rec *T) ([]Notice, error)

// tellOf is a notices that needs only the record.
func tellOf[T any](fn func(rec *T) []Notice) notices[T] {
	return func(_ Tx, rec *T) ([]Notice, error) { return fn(rec), nil }
}

// transition is the one way a stored record changes. Inside tx it reads record id of kind k,
// lets fn check and apply the transition (fn returns its audit event, or an error that
// leaves the transaction to roll back), writes the record and the event, then writes the
// notices tell returns for the changed record (tell may be nil). It returns the record as
// written. A store that checks revisions (compare-and-swap) does it here, for every kind.
// fn may run more than once (a store may re-run a transaction after a conflict): it must
// only change the record it is given.
func transition[T any](ctx context.Context, s *Service, tx Tx, k records[T], id string, fn func(*T) (AuditEvent, error), tell notices[T]) (*T, error) {
	rec, err := k.get(tx, id)
	if err != nil {
		return nil, err
	}
	ev, err := fn(rec)
	if err != nil {
		return nil, err
	}
	if err := k.put(tx, rec); err != nil {
		return nil, err
	}
	if err := tx.AppendAudit(&ev); err != nil {
		return nil, err
	}
	if tell == nil {
		return rec, nil
	}
	ns, err := tell(tx, rec)
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		if err := s.tell(ctx, tx, n); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// updateRecord is transition in a transaction of its own.
func updateRecord[T any](ctx context.Context, s *Service, k records[T], id string, fn func(*T) (AuditEvent, error), tell notices[T]) (*T, error) {
	var out *T
	err := s.Store.Update(ctx, func(tx Tx) error {
		var err error
		out, err = transition(ctx, s, tx, k, id, fn, tell)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mark writes bookkeeping on record id of kind k that is not a transition: fn changes the
// record, which is written back with no audit event and no notice (a lease taken, a call
// noted before it is made).
func mark[T any](ctx context.Context, s *Service, k records[T], id string, fn func(*T)) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		rec, err := k.get(tx, id)
		if err != nil {
			return err
		}
		fn(rec)
		return k.put(tx, rec)
	})
}
