package access_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jitbot/jitbot/access"
)

// bindingFailStore fails every read of an identity binding, as a broken store would.
type bindingFailStore struct{ access.Store }

type bindingFailTx struct{ access.Tx }

func (s bindingFailStore) View(ctx context.Context, fn func(access.Tx) error) error {
	return s.Store.View(ctx, func(tx access.Tx) error { return fn(bindingFailTx{tx}) })
}

func (s bindingFailStore) Update(ctx context.Context, fn func(access.Tx) error) error {
	return s.Store.Update(ctx, func(tx access.Tx) error { return fn(bindingFailTx{tx}) })
}

func (bindingFailTx) Binding(string) (*access.Binding, error) {
	return nil, errors.New("read binding: input/output error")
}

// TestService_Review_identityReadFailsClosed: when the store cannot say who the reviewer is,
// the decision is refused and the item stays open, rather than judged as if they were nobody.
func TestService_Review_identityReadFailsClosed(t *testing.T) {
	f := newReviewFixture(t, "keep")
	items := f.start(t)
	it := items["alice@site-admins"]
	if it == nil {
		t.Fatalf("no item for alice in %v", items)
	}
	f.svc.Store = bindingFailStore{f.store}
	if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer1), it.ID, true); err == nil {
		t.Fatal("a decision counted although the reviewer's identity could not be read")
	}
	f.svc.Store = f.store
	if got := f.item(t, it.ID); got.Status != access.ReviewPending {
		t.Errorf("item %s after the refused decision, want pending", got.Status)
	}
}
