package etcdstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/store/etcdstore"
	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

// reviewPeople knows each Slack user's e-mail and takes principals for Slack user IDs.
type reviewPeople map[string]string

func (p reviewPeople) Email(_ context.Context, id string) (string, error) {
	if e, ok := p[id]; ok {
		return e, nil
	}
	return "", access.Errorf(access.ENOTFOUND, "no e-mail")
}

func (reviewPeople) Resolve(_ context.Context, principals []string) ([]string, error) {
	return principals, nil
}

// TestReview_withinTxnLimit: on etcd at its default limit of 128 keys a Txn, a review of 60
// members starts, and its open items are sent to 60 reviewers added since, each of them a
// member (so every item goes to a different set of reviewers: a notice of its own).
func TestReview_withinTxnLimit(t *testing.T) {
	srv := etcdtest.Start(t)
	db := open(t, srv, etcdstore.Options{})
	ctx := context.Background()
	org := accesstest.NewOrg()
	org.AddGroup("site-admins")
	people := reviewPeople{"U0SEC": "sec@example.com"}
	var all []string
	for i := range 60 {
		id := fmt.Sprintf("m%02d", i)
		org.AddUser(access.User{AccountID: id, Email: id + "@example.com", Name: id, Managed: true, Groups: []string{"site-admins"}})
		people["U"+id] = id + "@example.com"
		all = append(all, "U"+id)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	pol := &access.Policy{Version: 1, Reviews: []access.Review{{Name: "admins", Groups: []string{"site-admins"}, Reviewers: []string{"U0SEC"}}}}
	eng := &access.Engine{Store: db, Org: org, Provisioner: org, Policy: func() *access.Policy { return pol }, Now: func() time.Time { return now }}
	svc := &access.Service{Store: db, Engine: eng, Identity: people, Principals: people, Notifier: access.Outbox{},
		Policy: func() *access.Policy { return pol }, Now: func() time.Time { return now }}
	items, err := svc.StartReview(ctx, "admins")
	if err != nil || len(items) != 60 {
		t.Fatalf("StartReview = %d items, %v", len(items), err)
	}
	pol.Reviews[0].Reviewers = append([]string{"U0SEC"}, all...)
	n, err := svc.SendOpenReviews(ctx)
	if err != nil || n != 60 {
		t.Fatalf("SendOpenReviews = %d, %v; want 60 items sent", n, err)
	}
	stored, err := svc.ReviewItems(ctx, access.ReviewFilter{Review: "admins"})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range stored {
		if len(it.SentTo) != 60 || it.AskedOf("U"+it.Account.ID) {
			t.Fatalf("item of %s: sent to %d reviewers, self %v; want 60, never its member", it.Account.ID, len(it.SentTo), it.SelfReviewers)
		}
	}
}
