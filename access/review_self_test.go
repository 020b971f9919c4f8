package access_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jitbot/jitbot/access"
)

// emailDown is Identity that cannot read down's e-mail until up is set.
type emailDown struct {
	people
	down string
	up   *atomic.Bool
}

func (e emailDown) Email(ctx context.Context, slackID string) (string, error) {
	if slackID == e.down && !e.up.Load() {
		return "", access.Errorf(access.EUNAVAILABLE, "Slack is not answering")
	}
	return e.people.Email(ctx, slackID)
}

// A review's items record the reviewers known to be their member, by stored binding, else by
// Slack e-mail; a reviewer whose e-mail cannot be read is asked. An item only its member
// reviews is alerted, naming it and the review.
func TestService_StartReview_notOwnItems(t *testing.T) {
	for _, tt := range []struct {
		name      string
		reviewers []string            // the policy's, when not reviewer1 and reviewer2
		bind      map[string]string   // reviewer → account ID of a stored binding
		down      string              // reviewer whose e-mail cannot be read
		want      map[string][]string // item → SelfReviewers, empty when not listed
		alerted   []string            // items alerted
	}{
		{name: "by_slack_email", want: map[string][]string{"sec1@site-admins": {reviewer1}}},
		{name: "by_stored_binding", bind: map[string]string{reviewer2: "alice"},
			want: map[string][]string{"sec1@site-admins": {reviewer1}, "alice@site-admins": {reviewer2}}},
		{name: "unreadable_email_is_asked", down: reviewer1},
		{name: "only_reviewer_is_the_member", reviewers: []string{reviewer1},
			want: map[string][]string{"sec1@site-admins": {reviewer1}}, alerted: []string{"sec1@site-admins"}},
		{name: "every_reviewer_is_the_member", bind: map[string]string{reviewer2: "sec1"},
			want: map[string][]string{"sec1@site-admins": {reviewer1, reviewer2}}, alerted: []string{"sec1@site-admins"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newReviewFixture(t, "")
			if tt.reviewers != nil {
				f.pol.Reviews[0].Reviewers = tt.reviewers
			}
			pp := f.svc.Identity.(people)
			f.svc.Identity = emailDown{people: pp, down: tt.down, up: &atomic.Bool{}}
			for id, acc := range tt.bind {
				if err := f.store.Update(context.Background(), func(tx access.Tx) error {
					return tx.PutBinding(&access.Binding{SlackID: id, Email: acc + "@example.com", Account: access.Account{ID: acc, Email: acc + "@example.com"}, At: engineT0})
				}); err != nil {
					t.Fatal(err)
				}
			}
			items := f.start(t)
			if len(items) != 3 {
				t.Fatalf("%d items, want 3", len(items))
			}
			sent := f.notes.Of(access.NoticeReview)
			if len(sent) != 1 {
				t.Fatalf("%d review notices, want 1", len(sent))
			}
			for k, it := range items {
				stored := f.item(t, it.ID)
				var told *access.ReviewItem
				for _, x := range sent[0].Items {
					if x.ID == it.ID {
						told = x
					}
				}
				for what, got := range map[string]*access.ReviewItem{"returned": it, "stored": stored, "told": told} {
					if got == nil || !slices.Equal(got.SelfReviewers, tt.want[k]) {
						t.Errorf("%s item %s: self reviewers %v, want %v", what, k, got, tt.want[k])
					}
				}
				for _, r := range f.pol.Reviews[0].Reviewers {
					if asked := !slices.Contains(tt.want[k], r); it.AskedOf(r) != asked {
						t.Errorf("item %s AskedOf(%s) = %v, want %v", k, r, !asked, asked)
					}
				}
			}
			alerts := f.notes.Of(access.NoticeAlert)
			if len(tt.alerted) == 0 {
				if len(alerts) != 0 {
					t.Errorf("alerted %q", alerts[0].Text)
				}
				return
			}
			if len(alerts) != 1 {
				t.Fatalf("%d alerts, want 1", len(alerts))
			}
			for _, k := range tt.alerted {
				it := items[k]
				for _, want := range []string{"quarterly", it.ID, it.Member() + " in " + it.Group, "Add another reviewer", "stay pending", "on_no_response keep"} {
					if !strings.Contains(alerts[0].Text, want) {
						t.Errorf("alert does not say %q: %s", want, alerts[0].Text)
					}
				}
			}
		})
	}
}

// A reviewer asked about their own item because their e-mail could not be read has their
// click judged as before: refused while who they are cannot be read, refused as their own
// once it can; the item stays pending.
func TestService_Review_ownItemAskedForWantOfEmail(t *testing.T) {
	f := newReviewFixture(t, "")
	up := &atomic.Bool{}
	f.svc.Identity = emailDown{people: f.svc.Identity.(people), down: reviewer1, up: up}
	own := f.start(t)["sec1@site-admins"]
	if !own.AskedOf(reviewer1) {
		t.Fatal("reviewer1, whose e-mail could not be read, is not asked")
	}
	if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer1), own.ID, true); err == nil {
		t.Error("a click by a reviewer whose e-mail cannot be read was taken")
	}
	up.Store(true)
	if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer1), own.ID, true); access.ErrorCode(err) != access.EFORBIDDEN {
		t.Errorf("reviewer1 on their own item: %v; want EFORBIDDEN", err)
	}
	if it := f.item(t, own.ID); it.Status != access.ReviewPending || it.Decision != nil {
		t.Errorf("item after refused clicks = %+v", it)
	}
}

// An item only its member reviews waits for its deadline like any other and then gets
// on_no_response.
func TestService_ExpireReviews_onlyTheMemberReviews(t *testing.T) {
	for _, onNoResponse := range []string{access.ReviewOnNoResponseKeep, access.ReviewOnNoResponseRemove} {
		t.Run(onNoResponse, func(t *testing.T) {
			f := newReviewFixture(t, onNoResponse)
			f.pol.Reviews[0].Reviewers = []string{reviewer1}
			own := f.start(t)["sec1@site-admins"]
			if len(f.notes.Of(access.NoticeAlert)) != 1 {
				t.Fatal("not alerted")
			}
			f.now = own.Deadline.Add(-1)
			if _, err := f.svc.ExpireReviews(context.Background()); err != nil {
				t.Fatal(err)
			}
			if it := f.item(t, own.ID); it.Status != access.ReviewPending {
				t.Fatalf("before its deadline the item is %s", it.Status)
			}
			f.now = own.Deadline
			if _, err := f.svc.ExpireReviews(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := access.ReviewKept
			if onNoResponse == access.ReviewOnNoResponseRemove {
				want = access.ReviewRemoved
			}
			if it := f.item(t, own.ID); it.Status != want || it.Decision == nil || it.Decision.By.Kind == access.ActorUser {
				t.Errorf("at its deadline the item is %+v; want %s by the policy", it, want)
			}
		})
	}
}
