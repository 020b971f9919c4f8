package access_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
)

// toldItems is what the review notices of f tell each reviewer, as the bot sends them: for
// each reviewer of a notice, its items that ask them (ReviewItem.AskedOf), as account@group,
// sorted, a duplicate kept.
func toldItems(f *reviewFixture) map[string][]string {
	out := map[string][]string{}
	for _, n := range f.notes.Of(access.NoticeReview) {
		for _, r := range n.Reviewers {
			for _, it := range n.Items {
				if it.AskedOf(r) {
					out[r] = append(out[r], it.Account.ID+"@"+it.Group)
				}
			}
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// A reviewer added to the policy while a review runs is sent its open items, the one alerted
// as having no reviewer but its member among them, whether the policy is reloaded or the
// review's schedule fires again; the reviewers already sent them get nothing again, nobody
// gets an item twice on a second trigger, and the new reviewer's click decides the item.
func TestService_SendOpenReviews_reviewerAdded(t *testing.T) {
	for _, trigger := range []struct {
		name string
		run  func(f *reviewFixture) (int, error)
	}{
		{name: "policy_reload", run: func(f *reviewFixture) (int, error) { return f.svc.SendOpenReviews(context.Background()) }},
		{name: "schedule_fires_again", run: func(f *reviewFixture) (int, error) {
			items, err := f.svc.StartReview(context.Background(), "quarterly")
			if len(items) != 0 {
				return 0, fmt.Errorf("a second start created %d items", len(items))
			}
			return -1, err
		}},
	} {
		t.Run(trigger.name, func(t *testing.T) {
			f := newReviewFixture(t, "")
			f.pol.Reviews[0].Reviewers = []string{reviewer1} // sec1, alone reviewing his own item
			items := f.start(t)
			own := items["sec1@site-admins"]
			if alerts := f.notes.Texts(access.NoticeAlert); len(alerts) != 1 || !strings.Contains(alerts[0], own.ID) {
				t.Fatalf("alerts at the start = %q; want one naming sec1's item", alerts)
			}
			first := map[string][]string{reviewer1: {"alice@site-admins", "carol@jira-users"}}
			if got := toldItems(f); !mapsEqual(got, first) {
				t.Fatalf("at the start the reviewers were told %v, want %v", got, first)
			}

			f.pol.Reviews[0].Reviewers = []string{reviewer1, reviewer2}
			n, err := trigger.run(f)
			if err != nil || (n != -1 && n != 3) {
				t.Fatalf("trigger = %d, %v; want 3 items sent", n, err)
			}
			want := map[string][]string{
				reviewer1: {"alice@site-admins", "carol@jira-users"},
				reviewer2: {"alice@site-admins", "carol@jira-users", "sec1@site-admins"},
			}
			if got := toldItems(f); !mapsEqual(got, want) {
				t.Fatalf("after the reviewer was added the reviewers were told %v, want %v", got, want)
			}
			for k, wantTo := range map[string][]string{
				"alice@site-admins": {reviewer1, reviewer2}, "carol@jira-users": {reviewer1, reviewer2}, "sec1@site-admins": {reviewer2},
			} {
				if it := f.item(t, items[k].ID); !slices.Equal(it.SentTo, wantTo) || !it.SentKnown {
					t.Errorf("item %s: sent to %v (known %v), want %v", k, it.SentTo, it.SentKnown, wantTo)
				}
			}
			sent := f.audit(t, access.ActionReviewSent)
			if len(sent) != 3 {
				t.Fatalf("%d review.sent events, want 3", len(sent))
			}
			for _, ev := range sent {
				alone := strings.Contains(ev.Detail, "nobody had been sent it before")
				if !strings.Contains(ev.Detail, reviewer2) || alone != (ev.Subject == own.ID) {
					t.Errorf("review.sent of %s says %q", ev.Subject, ev.Detail)
				}
			}
			summaries := slices.DeleteFunc(f.notes.Texts(access.NoticeAudit), func(s string) bool { return !strings.Contains(s, "sent to") })
			if len(summaries) != 1 || !strings.Contains(summaries[0], "3 open membership(s) sent to "+reviewer2) ||
				!strings.Contains(summaries[0], "1 of them had been sent to nobody before") {
				t.Errorf("audit summaries = %q", summaries)
			}
			if alerts := f.notes.Count(access.NoticeAlert); alerts != 1 {
				t.Errorf("%d alerts, want only the one at the start", alerts)
			}

			// Again: nobody is sent anything twice.
			if n, err := f.svc.SendOpenReviews(context.Background()); n != 0 || err != nil {
				t.Errorf("second reload sent %d items, %v", n, err)
			}
			if again, err := f.svc.StartReview(context.Background(), "quarterly"); len(again) != 0 || err != nil {
				t.Errorf("second start: %d items, %v", len(again), err)
			}
			if got := toldItems(f); !mapsEqual(got, want) {
				t.Errorf("after second triggers the reviewers were told %v, want %v", got, want)
			}
			if n := len(f.audit(t, access.ActionReviewSent)); n != 3 {
				t.Errorf("%d review.sent events after second triggers, want 3", n)
			}

			// The new reviewer decides the item only its member could review before.
			if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer1), own.ID, true); access.ErrorCode(err) != access.EFORBIDDEN {
				t.Errorf("sec1 on his own item: %v; want EFORBIDDEN", err)
			}
			if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer2), own.ID, true); err != nil {
				t.Fatal(err)
			}
			if it := f.item(t, own.ID); it.Status != access.ReviewKept || it.Decision == nil || it.Decision.By.SlackID != reviewer2 {
				t.Errorf("sec1's item after reviewer2's Keep = %+v", it)
			}
		})
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// A reviewer added to the policy who is a member under review is never sent their own item:
// it records them as its member, and they get the others.
func TestService_SendOpenReviews_newReviewerIsAMember(t *testing.T) {
	const aliceSlack = "U0ALICE"
	f := newReviewFixture(t, "")
	f.svc.Identity.(people).emails[aliceSlack] = "alice@example.com"
	items := f.start(t)
	f.pol.Reviews[0].Reviewers = append(f.pol.Reviews[0].Reviewers, aliceSlack)
	if n, err := f.svc.SendOpenReviews(context.Background()); n != 2 || err != nil {
		t.Fatalf("SendOpenReviews = %d, %v; want 2 items sent", n, err)
	}
	if got, want := toldItems(f)[aliceSlack], []string{"carol@jira-users", "sec1@site-admins"}; !slices.Equal(got, want) {
		t.Errorf("alice was told %v, want %v", got, want)
	}
	it := f.item(t, items["alice@site-admins"].ID)
	if !slices.Contains(it.SelfReviewers, aliceSlack) || slices.Contains(it.SentTo, aliceSlack) {
		t.Errorf("alice's item: self reviewers %v, sent to %v", it.SelfReviewers, it.SentTo)
	}
	if n, err := f.svc.SendOpenReviews(context.Background()); n != 0 || err != nil {
		t.Errorf("second reload = %d, %v", n, err)
	}
}

// A reviewer removed from the policy can no longer decide an item, even one sent to them;
// the item stays pending and nothing is written.
func TestService_Review_removedReviewer(t *testing.T) {
	f := newReviewFixture(t, "")
	it := f.start(t)["alice@site-admins"]
	if !slices.Contains(f.item(t, it.ID).SentTo, reviewer2) {
		t.Fatal("the item was not sent to reviewer2")
	}
	f.pol.Reviews[0].Reviewers = []string{reviewer1}
	before := f.store.AuditLen()
	for _, keep := range []bool{true, false} {
		if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer2), it.ID, keep); access.ErrorCode(err) != access.EFORBIDDEN {
			t.Errorf("removed reviewer's click (keep %v): %v; want EFORBIDDEN", keep, err)
		}
	}
	if cur := f.item(t, it.ID); cur.Status != access.ReviewPending || cur.Decision != nil || f.store.AuditLen() != before || !f.org.Member("site-admins", "alice") {
		t.Errorf("a removed reviewer's click changed something: %+v", cur)
	}
	if n, err := f.svc.SendOpenReviews(context.Background()); n != 0 || err != nil {
		t.Errorf("SendOpenReviews after a removal = %d, %v", n, err)
	}
}

// Open items of many members are sent to a new reviewer on a store that bounds a
// transaction's writes (etcd): all of them, once, with one summary.
func TestService_SendOpenReviews_manyItems(t *testing.T) {
	f := newReviewFixture(t, "")
	for i := range 80 {
		f.user(fmt.Sprintf("member%02d", i), true, "jira-users")
	}
	f.pol.Reviews[0].Reviewers = []string{reviewer1}
	items := f.start(t)
	f.pol.Reviews[0].Reviewers = []string{reviewer1, reviewer2}
	f.svc.Store = accesstest.Bounded(accesstest.Twice(f.store), 60)
	if n, err := f.svc.SendOpenReviews(context.Background()); n != len(items) || err != nil {
		t.Fatalf("SendOpenReviews = %d, %v; want %d", n, err, len(items))
	}
	told := toldItems(f)[reviewer2]
	if len(told) != len(items) || len(slices.Compact(slices.Clone(told))) != len(items) {
		t.Errorf("reviewer2 was told %d items (%d distinct), want %d", len(told), len(slices.Compact(slices.Clone(told))), len(items))
	}
	summaries := slices.DeleteFunc(f.notes.Texts(access.NoticeAudit), func(s string) bool { return !strings.Contains(s, "sent to") })
	if len(summaries) != 1 || !strings.Contains(summaries[0], fmt.Sprintf("%d open membership(s)", len(items))) {
		t.Errorf("summaries = %q", summaries)
	}
}

// An open item stored by a jitbot that did not record whom it was sent to is taken to have
// gone to every reviewer of the policy now: nobody gets it again; a reviewer added after
// that does.
func TestService_SendOpenReviews_itemWithoutSentTo(t *testing.T) {
	f := newReviewFixture(t, "")
	it := f.start(t)["alice@site-admins"]
	if err := f.store.Update(context.Background(), func(tx access.Tx) error {
		c, err := tx.ReviewItem(it.ID)
		if err != nil {
			return err
		}
		c.SentTo, c.SentKnown = nil, false
		return tx.PutReviewItem(c)
	}); err != nil {
		t.Fatal(err)
	}
	before := toldItems(f)
	if n, err := f.svc.SendOpenReviews(context.Background()); n != 0 || err != nil {
		t.Fatalf("SendOpenReviews = %d, %v; want nothing sent", n, err)
	}
	if cur := f.item(t, it.ID); !cur.SentKnown || !slices.Equal(cur.SentTo, []string{reviewer1, reviewer2}) {
		t.Errorf("item without SentTo after a look: sent to %v (known %v)", cur.SentTo, cur.SentKnown)
	}
	const reviewer3 = "U0SEC3"
	f.pol.Reviews[0].Reviewers = append(f.pol.Reviews[0].Reviewers, reviewer3)
	if n, err := f.svc.SendOpenReviews(context.Background()); n != 3 || err != nil {
		t.Fatalf("SendOpenReviews with a third reviewer = %d, %v; want 3", n, err)
	}
	after := toldItems(f)
	if !slices.Equal(after[reviewer1], before[reviewer1]) || !slices.Equal(after[reviewer2], before[reviewer2]) || len(after[reviewer3]) != 3 {
		t.Errorf("told %v, then %v", before, after)
	}
}

// failingPrincipals cannot resolve reviewers (Slack is down).
type failingPrincipals struct{ people }

func (failingPrincipals) Resolve(context.Context, []string) ([]string, error) {
	return nil, access.Errorf(access.EUNAVAILABLE, "Slack is not answering.")
}

// Open items that cannot be sent to the reviewers (Slack cannot say who they are) are alerted.
func TestService_SendOpenReviews_reviewersUnknown(t *testing.T) {
	f := newReviewFixture(t, "")
	f.start(t)
	f.svc.Principals = failingPrincipals{f.svc.Identity.(people)}
	if _, err := f.svc.SendOpenReviews(context.Background()); access.ErrorCode(err) != access.EUNAVAILABLE {
		t.Fatalf("SendOpenReviews: %v; want EUNAVAILABLE", err)
	}
	if a := f.notes.Alerts(); !strings.Contains(a, "quarterly") || !strings.Contains(a, "could not be sent") {
		t.Errorf("alerts = %q", a)
	}
}

func TestReviewItem_Send(t *testing.T) {
	pending := func(self, sentTo []string, known bool) *access.ReviewItem {
		return &access.ReviewItem{ID: "I1", Review: "quarterly", Group: "site-admins", Account: access.Account{ID: "sec1", Email: "sec1@example.com"},
			Status: access.ReviewPending, SelfReviewers: self, SentTo: sentTo, SentKnown: known}
	}
	tests := []struct {
		name      string
		item      *access.ReviewItem
		reviewers []string
		selves    []string
		wantSent  []string
		wantTo    []string
		wantSelf  []string
		wantCode  access.Code
		wantAlone bool // the event says nobody had been sent it
	}{
		{name: "new_reviewer", item: pending(nil, []string{"A"}, true), reviewers: []string{"A", "B"}, wantSent: []string{"B"}, wantTo: []string{"A", "B"}},
		{name: "alone_before", item: pending([]string{"A"}, nil, true), reviewers: []string{"A", "B"}, wantSent: []string{"B"}, wantTo: []string{"B"}, wantSelf: []string{"A"}, wantAlone: true},
		{name: "new_reviewer_is_the_member", item: pending(nil, []string{"A"}, true), reviewers: []string{"A", "B"}, selves: []string{"B"}, wantTo: []string{"A"}, wantSelf: []string{"B"}},
		{name: "nobody_new", item: pending([]string{"B"}, []string{"A"}, true), reviewers: []string{"A", "B"}, wantTo: []string{"A"}, wantSelf: []string{"B"}},
		{name: "removed_reviewer_stays_recorded", item: pending(nil, []string{"A", "C"}, true), reviewers: []string{"A"}, wantTo: []string{"A", "C"}},
		{name: "duplicate_reviewer_once", item: pending(nil, nil, true), reviewers: []string{"B", "B"}, wantSent: []string{"B"}, wantTo: []string{"B"}, wantAlone: true},
		{name: "not_kept_before_taken_as_sent", item: pending([]string{"A"}, nil, false), reviewers: []string{"A", "B", "C"}, selves: []string{"C"}, wantTo: []string{"B"}, wantSelf: []string{"A", "C"}},
		{name: "decided", item: &access.ReviewItem{ID: "I1", Status: access.ReviewKept, SentKnown: true}, reviewers: []string{"B"}, wantCode: access.ECONFLICT},
		{name: "removing", item: &access.ReviewItem{ID: "I1", Status: access.ReviewRemoving, SentKnown: true}, reviewers: []string{"B"}, wantCode: access.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent, ev, err := tt.item.Send(tt.reviewers, tt.selves, engineT0)
			if code := access.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("Send: %v, want code %q", err, tt.wantCode)
			}
			if err != nil {
				return
			}
			if !slices.Equal(sent, tt.wantSent) || !slices.Equal(tt.item.SentTo, tt.wantTo) || !slices.Equal(tt.item.SelfReviewers, tt.wantSelf) || !tt.item.SentKnown {
				t.Errorf("sent %v; item sent to %v, self %v, known %v; want %v, %v, %v", sent, tt.item.SentTo, tt.item.SelfReviewers, tt.item.SentKnown, tt.wantSent, tt.wantTo, tt.wantSelf)
			}
			if len(sent) == 0 {
				if ev.Action != "" {
					t.Errorf("an event for nothing sent: %+v", ev)
				}
				return
			}
			if ev.Action != access.ActionReviewSent || ev.Subject != "I1" || ev.Actor.Kind != access.ActorPolicy ||
				strings.Contains(ev.Detail, "nobody had been sent it before") != tt.wantAlone {
				t.Errorf("event = %+v", ev)
			}
		})
	}
}

// A review's items sent to sec1 and sec2: once sec2 is removed from the policy, sec1's own
// item has no reviewer but its member, and the next trigger alerts it, once; a second
// trigger says nothing more, and a reviewer added back is sent it and may decide it. If that
// reviewer is removed again, the item is alerted again.
func TestService_SendOpenReviews_reviewerRemovedLeavesItemAlone(t *testing.T) {
	f := newReviewFixture(t, "")
	items := f.start(t)
	own := items["sec1@site-admins"]
	if alerts := f.notes.Texts(access.NoticeAlert); len(alerts) != 0 {
		t.Fatalf("alerts at the start with two reviewers = %q", alerts)
	}
	aloneAlerts := func() []string {
		var out []string
		for _, a := range f.notes.Texts(access.NoticeAlert) {
			if strings.Contains(a, "no reviewer in the policy but their own member") {
				out = append(out, a)
			}
		}
		return out
	}
	f.pol.Reviews[0].Reviewers = []string{reviewer1}
	if _, err := f.svc.SendOpenReviews(context.Background()); err != nil {
		t.Fatal(err)
	}
	alerts := aloneAlerts()
	if len(alerts) != 1 || !strings.Contains(alerts[0], own.ID) || !strings.Contains(alerts[0], "1 membership(s)") {
		t.Fatalf("alerts after sec2 was removed = %q; want one naming sec1's own item only", alerts)
	}
	if _, err := f.svc.SendOpenReviews(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(aloneAlerts()); n != 1 {
		t.Fatalf("a second trigger alerted again: %d alerts", n)
	}
	// A third reviewer comes: sec1's item goes to them, and they may decide it.
	f.pol.Reviews[0].Reviewers = []string{reviewer1, outsider}
	if n, err := f.svc.SendOpenReviews(context.Background()); n != 3 || err != nil {
		t.Fatalf("SendOpenReviews to the new reviewer = %d, %v; want 3", n, err)
	}
	if it := f.item(t, own.ID); it.AloneAlerted {
		t.Fatal("an item sent to a new reviewer is still marked alone")
	}
	// They leave before deciding: alone again, alerted again.
	f.pol.Reviews[0].Reviewers = []string{reviewer1}
	if _, err := f.svc.SendOpenReviews(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(aloneAlerts()); n != 2 {
		t.Fatalf("alone again after its reviewer left: %d alerts, want 2", n)
	}
	f.pol.Reviews[0].Reviewers = []string{reviewer1, reviewer2}
	if _, err := f.svc.Review(context.Background(), access.UserActor(reviewer2), own.ID, true); err != nil {
		t.Fatalf("sec2, a reviewer again, keeps sec1's item: %v", err)
	}
}
