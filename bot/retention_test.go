package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// TestBot_clickOnPrunedHistory: once the history retention removed an ended grant and its
// request, a click on an old message's Approve, Revoke now, Extend or review button is
// answered: it is gone, removed after the retention; nothing changes.
func TestBot_clickOnPrunedHistory(t *testing.T) {
	h := newHarness(t)
	h.slash(alice, "request jira-admin 1h fixing SSO")
	carolDM := h.next("carol's approval DM", bottest.And(h.fake.InChannel(carol), bottest.WithButton(actionApprove)))
	bobDM := h.next("bob's approval DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionApprove)))
	id := requestID(t, bobDM)
	h.click(bob, bobDM, actionApprove)
	granted := h.next("grant DM", bottest.And(h.fake.InChannel(alice), bottest.WithButton(actionRevoke)))
	h.slash(alice, "revoke "+id)
	h.eventually("grant revoked", func() bool {
		g, err := h.svc.Grant(h.ctx, id)
		return err == nil && g.Status == access.GrantRevoked
	})
	p, err := access.PruneHistory(h.ctx, h.store, time.Now().Add(48*time.Hour), access.MinHistoryRetention)
	if err != nil || p.Grants != 1 || p.Requests != 1 {
		t.Fatalf("pruned %+v, %v; want the grant and its request", p, err)
	}
	reqs, audit := h.counts()
	for _, c := range []struct {
		who, channel, ts, action, value string
	}{
		{carol, carolDM.Channel, carolDM.TS, actionApprove, id},
		{carol, carolDM.Channel, carolDM.TS, actionDeny, id},
		{alice, granted.Channel, granted.TS, actionRevoke, id},
		{alice, granted.Channel, granted.TS, actionExtend, id},
		{bob, bobDM.Channel, bobDM.TS, actionReviewKeep, "GONEITEM"},
	} {
		h.rawClick(c.who, c.channel, c.ts, c.action, c.value)
		m := h.next(c.action+" answer", bottest.EphemeralTo(c.who))
		if txt := m.PlainText(); !strings.Contains(txt, "history retention") || !strings.Contains(txt, "removed") {
			t.Errorf("%s on a pruned record: %q, want it said to be removed after the history retention", c.action, txt)
		}
	}
	if r, a := h.counts(); r != reqs || a != audit {
		t.Errorf("clicks on pruned records changed the store: requests %d→%d, audit %d→%d", reqs, r, audit, a)
	}
}
