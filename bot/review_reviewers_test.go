package bot

import (
	"slices"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// setReviewers replaces the reviewers of the harness's review, as a policy reload does.
func (h *harness) setReviewers(reviewers ...string) {
	h.setPolicy(func(p *access.Policy) {
		rv := p.Reviews[0]
		rv.Reviewers = reviewers
		p.Reviews = []access.Review{rv}
	})
}

// A reviewer added to the policy while a review runs gets its open items in a DM with Keep and
// Remove once the policy is reloaded: the item only its member could review (alerted at the
// start) among them. The reviewer who had the others gets nothing again, a second reload sends
// nothing, the audit channel says who was sent what, and the new reviewer's Keep decides the
// item. A reviewer then removed from the policy cannot decide what they were sent.
func TestBot_ReviewReviewerAdded(t *testing.T) {
	h := reviewHarness(t) // members alice, bob, dave
	h.setReviewers(bob)
	items, err := h.svc.StartReview(h.ctx, "quarterly-admins")
	if err != nil || len(items) != 3 {
		t.Fatalf("StartReview = %d items, %v", len(items), err)
	}
	own := reviewItemOf(t, items, "acc-bob")
	bobDM := h.next("bob's review DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionReviewKeep)))
	h.next("alert", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("Add another reviewer")))
	h.next("audit summary", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("quarterly-admins started")))
	h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })
	if got := buttonValues(bobDM); len(got) != 2 || slices.Contains(got, own.ID) {
		t.Fatalf("bob has buttons for %q; want alice's and dave's", got)
	}
	if n := len(h.fake.MessagesTo(carol)); n != 0 {
		t.Fatalf("carol, not a reviewer yet, got %d messages", n)
	}

	h.setReviewers(bob, carol)
	if n, err := h.svc.SendOpenReviews(h.ctx); n != 3 || err != nil {
		t.Fatalf("SendOpenReviews = %d, %v; want 3", n, err)
	}
	carolDM := h.next("carol's review DM", bottest.And(h.fake.InChannel(carol), bottest.WithButton(actionReviewKeep)))
	summary := h.next("audit line", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("sent to")))
	h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })
	got := buttonValues(carolDM)
	slices.Sort(got)
	var want []string
	for _, it := range items {
		want = append(want, it.ID)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("carol has buttons for %q; want every item %q, bob's own among them", got, want)
	}
	if len(carolDM.Buttons()) != 6 || carolDM.Buttons()[1].ActionID != actionReviewDrop {
		t.Errorf("carol's DM buttons = %+v; want Keep and Remove for 3 members", carolDM.Buttons())
	}
	for _, s := range []string{"3 open membership(s) sent to " + carol, "1 of them had been sent to nobody before"} {
		if !strings.Contains(summary.PlainText(), s) {
			t.Errorf("audit line does not say %q: %s", s, summary.PlainText())
		}
	}
	if n := len(h.fake.MessagesTo(bob)); n != 1 {
		t.Errorf("bob has %d messages, want his one review DM", n)
	}

	// A second reload sends nothing.
	if n, err := h.svc.SendOpenReviews(h.ctx); n != 0 || err != nil {
		t.Fatalf("second SendOpenReviews = %d, %v", n, err)
	}
	h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })
	if nb, nc := len(h.fake.MessagesTo(bob)), len(h.fake.MessagesTo(carol)); nb != 1 || nc != 1 {
		t.Errorf("after a second reload bob has %d messages, carol %d; want 1 each", nb, nc)
	}

	// carol keeps bob's membership: decided, both copies of what showed it updated.
	h.rawClick(carol, carolDM.Channel, carolDM.TS, actionReviewKeep, own.ID)
	h.eventually("carol's keep recorded", func() bool {
		cur, err := h.svc.ReviewItem(h.ctx, own.ID)
		return err == nil && cur.Status == access.ReviewKept && cur.Decision.By.SlackID == carol
	})
	h.eventually("carol's copy updated", func() bool {
		cur, _ := h.fake.Message(carolDM.Channel, carolDM.TS)
		return cur.Updated && strings.Contains(cur.PlainText(), "Kept by <@"+carol+">")
	})

	// carol is removed from the policy: her click on what she was sent is refused.
	h.setReviewers(bob)
	alices := reviewItemOf(t, items, "acc-alice")
	_, audit := h.counts()
	h.rawClick(carol, carolDM.Channel, carolDM.TS, actionReviewDrop, alices.ID)
	if m := h.next("carol's refusal", bottest.EphemeralTo(carol)); !strings.Contains(m.PlainText(), "not a reviewer") {
		t.Errorf("carol, removed from the policy, was told %q", m.PlainText())
	}
	if cur, err := h.svc.ReviewItem(h.ctx, alices.ID); err != nil || cur.Status != access.ReviewPending || !h.org.Member("site-admins", "acc-alice") {
		t.Errorf("after the removed reviewer's click alice's item is %+v, %v", cur, err)
	}
	if _, a := h.counts(); a != audit {
		t.Errorf("the removed reviewer's click wrote %d audit events", a-audit)
	}
}

// Open items of two starts of a review, sent together to a reviewer added since, stay
// decidable from the message they were sent in: deciding an item of one start updates the
// message, and the other start's item keeps its buttons there.
func TestBot_ReviewReviewerAddedTwoStarts(t *testing.T) {
	h := reviewHarness(t) // members alice, bob, dave
	h.setReviewers(bob)
	first, err := h.svc.StartReview(h.ctx, "quarterly-admins")
	if err != nil || len(first) != 3 {
		t.Fatalf("first StartReview = %d items, %v", len(first), err)
	}
	h.org.SetMember("site-admins", "acc-erin", true)
	second, err := h.svc.StartReview(h.ctx, "quarterly-admins")
	if err != nil || len(second) != 1 {
		t.Fatalf("second StartReview = %d items, %v; want erin's only", len(second), err)
	}
	h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })

	h.setReviewers(bob, carol)
	if n, err := h.svc.SendOpenReviews(h.ctx); n != 4 || err != nil {
		t.Fatalf("SendOpenReviews = %d, %v; want 4", n, err)
	}
	h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })
	erins, alices := second[0], reviewItemOf(t, first, "acc-alice")
	var erinDM, aliceDM bottest.Message
	for _, m := range h.fake.MessagesTo(carol) {
		if slices.Contains(buttonValues(m), erins.ID) {
			erinDM = m
		}
		if slices.Contains(buttonValues(m), alices.ID) {
			aliceDM = m
		}
	}
	if erinDM.TS == "" || aliceDM.TS == "" {
		t.Fatalf("carol was not sent erin's item (%q) or alice's (%q)", erinDM.TS, aliceDM.TS)
	}
	h.rawClick(carol, aliceDM.Channel, aliceDM.TS, actionReviewKeep, alices.ID)
	h.eventually("carol's copy updated", func() bool {
		cur, _ := h.fake.Message(aliceDM.Channel, aliceDM.TS)
		return cur.Updated && strings.Contains(cur.PlainText(), "Kept by <@"+carol+">")
	})
	if cur, _ := h.fake.Message(erinDM.Channel, erinDM.TS); !slices.Contains(buttonValues(cur), erins.ID) {
		t.Errorf("after a keep of alice's item of the first start, carol's message lost erin's item of the second: buttons %q, text %s", buttonValues(cur), cur.PlainText())
	}
}
