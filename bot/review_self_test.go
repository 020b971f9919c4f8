package bot

import (
	"slices"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// reviewItemOf returns the item of items about account.
func reviewItemOf(t *testing.T, items []*access.ReviewItem, account string) *access.ReviewItem {
	t.Helper()
	for _, it := range items {
		if it.Account.ID == account {
			return it
		}
	}
	t.Fatalf("no review item for %s", account)
	return nil
}

// buttonValues are the item IDs a review message has buttons for.
func buttonValues(m bottest.Message) []string {
	var out []string
	for _, b := range m.Buttons() {
		if !slices.Contains(out, b.Value) {
			out = append(out, b.Value)
		}
	}
	return out
}

// A reviewer who is a member under review is not sent their own item, whether jitbot knows
// them by a stored binding or only by their Slack e-mail; the other reviewer is. A crafted
// click of theirs on their own item is refused and changes nothing; the other reviewer decides
// it.
func TestBot_ReviewNotOwnItem(t *testing.T) {
	for _, tt := range []struct {
		name  string
		email string // bob's Slack e-mail
		bind  bool   // bob's Slack user is bound to acc-bob
	}{
		{name: "by_slack_email", email: "bob@example.com"},
		{name: "by_stored_binding", email: "robert@example.net", bind: true},
		{name: "by_plus_addressed_slack_email", email: "Bob+review@example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := reviewHarness(t) // reviewers bob and carol; members alice, bob, dave
			h.fake.AddUser(bob, "bob", tt.email)
			if tt.bind {
				if err := h.store.Update(h.ctx, func(tx access.Tx) error {
					return tx.PutBinding(&access.Binding{SlackID: bob, Email: "bob@example.com",
						Account: access.Account{ID: "acc-bob", Email: "bob@example.com", Name: "bob"}, At: t0})
				}); err != nil {
					t.Fatal(err)
				}
			}
			items, err := h.svc.StartReview(h.ctx, "quarterly-admins")
			if err != nil || len(items) != 3 {
				t.Fatalf("StartReview = %d items, %v", len(items), err)
			}
			own := reviewItemOf(t, items, "acc-bob")
			bobDM := h.next("bob's review DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionReviewKeep)))
			carolDM := h.next("carol's review DM", bottest.And(h.fake.InChannel(carol), bottest.WithButton(actionReviewKeep)))
			h.next("audit summary", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("quarterly-admins started")))
			h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })

			if got := buttonValues(bobDM); len(got) != 2 || slices.Contains(got, own.ID) {
				t.Errorf("bob has buttons for items %q; want alice's and dave's, never his own %s", got, own.ID)
			}
			if strings.Contains(bobDM.PlainText(), "bob@example.com") {
				t.Errorf("bob's review DM shows his own membership:\n%s", bobDM.PlainText())
			}
			if n := len(h.fake.MessagesTo(bob)); n != 1 {
				t.Errorf("bob got %d messages, want the one review DM", n)
			}
			if got := buttonValues(carolDM); len(got) != 3 || !slices.Contains(got, own.ID) {
				t.Errorf("carol has buttons for items %q; want all three, bob's %s included", got, own.ID)
			}

			// bob's crafted clicks on his own item: refused, nothing changes.
			for _, action := range []string{actionReviewKeep, actionReviewDrop} {
				_, audit := h.counts()
				h.rawClick(bob, bobDM.Channel, bobDM.TS, action, own.ID)
				if m := h.next("bob's refusal", bottest.EphemeralTo(bob)); !strings.Contains(m.PlainText(), "your own membership") {
					t.Errorf("bob's %s on his own item was answered %q", action, m.PlainText())
				}
				cur, err := h.svc.ReviewItem(h.ctx, own.ID)
				if err != nil || cur.Status != access.ReviewPending || cur.Decision != nil {
					t.Fatalf("after bob's %s his item is %+v, %v; want pending, undecided", action, cur, err)
				}
				if _, a := h.counts(); a != audit || !h.org.Member("site-admins", "acc-bob") {
					t.Fatalf("bob's %s changed something: audit %d→%d, bob member %v", action, audit, a, h.org.Member("site-admins", "acc-bob"))
				}
			}

			// carol decides it.
			h.rawClick(carol, carolDM.Channel, carolDM.TS, actionReviewKeep, own.ID)
			h.eventually("carol's keep recorded", func() bool {
				cur, err := h.svc.ReviewItem(h.ctx, own.ID)
				return err == nil && cur.Status == access.ReviewKept && cur.Decision.By.SlackID == carol
			})
		})
	}
}

// A member who is the review's only reviewer is asked about nobody's membership of their own:
// the alerts channel is told, naming the item and the review, to add another reviewer; the
// item stays pending.
func TestBot_ReviewOnlyReviewerIsTheMember(t *testing.T) {
	h := reviewHarness(t)
	h.pol.Reviews[0].Reviewers = []string{bob}
	h.org.SetMember("site-admins", "acc-alice", false)
	h.org.SetMember("site-admins", "acc-dave", false)
	items, err := h.svc.StartReview(h.ctx, "quarterly-admins")
	if err != nil || len(items) != 1 {
		t.Fatalf("StartReview = %d items, %v", len(items), err)
	}
	alert := h.next("alert", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("Add another reviewer")))
	for _, want := range []string{"quarterly-admins", items[0].ID, "bob@example.com in site-admins", "stay pending"} {
		if !strings.Contains(alert.PlainText(), want) {
			t.Errorf("alert does not say %q:\n%s", want, alert.PlainText())
		}
	}
	h.next("audit summary", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("quarterly-admins started")))
	h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })
	if ms := h.fake.MessagesTo(bob); len(ms) != 0 {
		t.Errorf("bob was sent %d messages, the first %q; want none", len(ms), ms[0].PlainText())
	}
	if cur, err := h.svc.ReviewItem(h.ctx, items[0].ID); err != nil || cur.Status != access.ReviewPending {
		t.Errorf("item = %+v, %v; want pending", cur, err)
	}
}
