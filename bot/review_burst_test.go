package bot

import (
	"fmt"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// TestBot_ReviewClickBurst: a reviewer named through a Slack user group clicks Keep on 30
// members within seconds; every click is decided, though each is judged on the group as it is
// now and usergroups.users.list allows about 20 calls a minute (Tier 2).
func TestBot_ReviewClickBurst(t *testing.T) {
	h := reviewHarness(t)
	const n = 30
	for i := range n {
		id := fmt.Sprintf("acc-m%02d", i)
		h.org.AddUser(access.User{AccountID: id, Email: fmt.Sprintf("m%02d@example.com", i), Managed: true})
		h.org.SetMember("site-admins", id, true)
	}
	items, err := h.svc.StartReview(h.ctx, "quarterly-admins")
	if err != nil || len(items) < n {
		t.Fatalf("StartReview = %d items, %v", len(items), err)
	}
	dm := h.next("carol's review DM", bottest.And(h.fake.InChannel(carol), bottest.WithButton(actionReviewKeep)))
	h.eventually("outbox delivered", func() bool { return h.outboxLen() == 0 })
	start := time.Now()
	for _, it := range items {
		h.rawClick(carol, dm.Channel, dm.TS, actionReviewKeep, it.ID)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		left := 0
		for _, it := range items {
			cur, err := h.svc.ReviewItem(h.ctx, it.ID)
			if err != nil || cur.Status == access.ReviewPending {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d Keep clicks not decided after 90 s", left, len(items))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d clicks decided in %s", len(items), time.Since(start).Round(time.Millisecond))
}
