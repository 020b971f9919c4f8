package bot

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/bot/bottest"
)

// withOutboxClock runs the outbox on clock, the delivery loop's own waits included, and makes its
// safety-net poll poll.
func withOutboxClock(clock *accesstest.Clock, poll time.Duration) harnessOption {
	return func(c *Config) { c.Now, c.After, c.DeliveryPoll = clock.Now, clock.After, poll }
}

// sleepingUntil waits (bounded) until the delivery loop sleeps on clock until at.
func (h *harness) sleepingUntil(clock *accesstest.Clock, at time.Time) {
	h.t.Helper()
	h.eventually(fmt.Sprintf("delivery loop asleep until %s", at), func() bool {
		return slices.ContainsFunc(clock.Sleepers(), at.Equal)
	})
}

// An idle bot does not read the outbox: not in an hour of its clock, nor in the second of real
// time that hour takes here (the loop polled every 200 ms before). At the end of its safety-net
// poll it looks once, and sleeps again.
func TestBot_Delivery_idleReadsNothing(t *testing.T) {
	t.Parallel()
	clock := accesstest.NewClock(time.Now().UTC().Truncate(time.Second))
	cs := &countingStore{}
	h := newHarness(t, withCountingStore(cs), withOutboxClock(clock, time.Hour))
	h.sleepingUntil(clock, clock.Now().Add(time.Hour)) // after the first pass
	base := cs.reads.Load()
	if base == 0 {
		t.Fatal("the delivery loop sleeps without having read the outbox once")
	}
	for range 59 {
		clock.Advance(time.Minute)
		time.Sleep(20 * time.Millisecond) // real time for a polling loop to show itself
	}
	if n := cs.reads.Load() - base; n != 0 {
		t.Fatalf("an idle bot read the outbox %d times in 59 minutes of its clock (%s real)", n, 59*20*time.Millisecond)
	}
	clock.Advance(2 * time.Minute)
	h.sleepingUntil(clock, clock.Now().Add(time.Hour))
	if n := cs.reads.Load() - base; n != 1 {
		t.Fatalf("at its safety-net poll the loop read the outbox %d times; want once", n)
	}
}

// A notice written in a change's transaction is delivered once that transaction commits,
// without waiting for a poll: the poll here is an hour.
func TestBot_Delivery_wakesOnCommit(t *testing.T) {
	t.Parallel()
	cs := &countingStore{}
	h := newHarness(t, withCountingStore(cs), func(c *Config) { c.DeliveryPoll = time.Hour })
	h.eventually("first pass", func() bool { return cs.reads.Load() > 0 })
	for i := range 3 {
		text := fmt.Sprintf("commit %d", i)
		err := h.svc.Store.Update(h.ctx, func(tx access.Tx) error {
			return h.bot.Notify(h.ctx, tx, access.Notice{Kind: access.NoticeAudit, Text: text})
		})
		if err != nil {
			t.Fatal(err)
		}
		h.next(text, bottest.And(h.fake.InChannel(auditChannel), bottest.Containing(text)))
	}
	// A request through Slack: its approvers' DMs go out as soon as it is filed.
	_, answer := h.slash(dave, "request jira-admin 1h woken by the commit")
	if got := answer.PlainText(); !strings.Contains(got, "was sent to") {
		t.Fatalf("dave was told %q", got)
	}
	for _, who := range []string{bob, carol} {
		h.next(who+"'s approval DM", bottest.And(h.fake.InChannel(who), bottest.WithButton(actionApprove), bottest.Containing("woken by the commit")))
	}
}

// With nothing to wake it but time, the loop sleeps until a failed delivery's backoff ends (on
// its clock) and until Slack's pace lets a channel's next message go (on the real clock), not
// until its poll.
func TestBot_Delivery_wakesForBackoffAndPace(t *testing.T) {
	t.Parallel()
	clock := accesstest.NewClock(time.Now().UTC().Truncate(time.Second))
	h := newHarness(t, withOutboxClock(clock, time.Hour))
	h.fake.Fail("chat.postMessage", 1, "internal_error")
	if err := h.bot.enqueue(h.ctx, staticDelivery(auditChannel, textMessage("after a failure"))); err != nil {
		t.Fatal(err)
	}
	h.eventually("failed attempt", func() bool { return h.obs.failures("internal_error") == 1 })
	var it *access.OutboxItem
	h.eventually("retry recorded", func() bool {
		_ = h.store.View(h.ctx, func(tx access.Tx) error {
			items, err := tx.Outbox(0)
			if len(items) == 1 && !items[0].NextAttempt.IsZero() {
				it = items[0]
			}
			return err
		})
		return it != nil
	})
	h.sleepingUntil(clock, it.NextAttempt)
	clock.Advance(it.NextAttempt.Sub(clock.Now()))
	h.next("the retried message", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("after a failure")))

	// Past the burst, a channel's messages go about one a second, each woken by the pace.
	var ds []delivery
	for i := range channelBurst + 2 {
		ds = append(ds, staticDelivery(roleChannel, textMessage(fmt.Sprintf("paced %d", i))))
	}
	if err := h.bot.enqueue(h.ctx, ds...); err != nil {
		t.Fatal(err)
	}
	for i := range ds {
		h.next(fmt.Sprintf("paced %d", i), bottest.And(h.fake.InChannel(roleChannel), bottest.Containing(fmt.Sprintf("paced %d", i))))
	}
}
