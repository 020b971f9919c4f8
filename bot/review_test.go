package bot

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/bot/bottest"
)

// fixtureReviewItems returns pending items of review quarterly-admins for the given e-mails
// (local parts) in site-admins.
func fixtureReviewItems(names ...string) []*access.ReviewItem {
	var out []*access.ReviewItem
	for i, n := range names {
		out = append(out, &access.ReviewItem{
			ID: fmt.Sprintf("RV%06d", i), Review: "quarterly-admins", Run: "run-1", Group: "site-admins",
			Account: access.Account{ID: "acc-" + n, Email: n + "@example.com", Name: n}, Status: access.ReviewPending,
			OnNoResponse: access.ReviewOnNoResponseRemove, CreatedAt: t0, Deadline: t0.Add(7 * 24 * time.Hour),
		})
	}
	return out
}

func TestRenderReview(t *testing.T) {
	t.Run("pending", func(t *testing.T) {
		m := reviewMessage(fixtureReviewItems("dave", "alice", "carol"))
		checkLimits(t, m.Blocks, messageBlocks)
		golden(t, m)
	})
	t.Run("decided", func(t *testing.T) {
		items := fixtureReviewItems("alice", "carol", "dave", "frank", "erin")
		at := t0.Add(time.Hour)
		if _, err := items[0].Keep(access.UserActor(bob), at); err != nil {
			t.Fatal(err)
		}
		for i, removed := range map[int]bool{1: true, 2: false} {
			if _, err := items[i].BeginRemove(access.UserActor(bob), at, time.Minute); err != nil {
				t.Fatal(err)
			}
			why := "would leave site-admins below min_members (1)"
			if removed {
				why = ""
			}
			if _, err := items[i].FinishRemove(removed, why, at); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := items[3].Keep(access.PolicyActor, items[3].Deadline); err != nil {
			t.Fatal(err)
		}
		m := reviewMessage(items)
		checkLimits(t, m.Blocks, messageBlocks)
		golden(t, m)
	})
	t.Run("many_members_split", func(t *testing.T) {
		var names []string
		for i := range 45 {
			names = append(names, fmt.Sprintf("user%02d", i))
		}
		chunks := reviewChunks(fixtureReviewItems(names...))
		if len(chunks) != 3 {
			t.Fatalf("%d messages for 45 members, want 3", len(chunks))
		}
		seen := 0
		for _, c := range chunks {
			m := reviewMessage(c)
			checkLimits(t, m.Blocks, messageBlocks)
			seen += len(c)
		}
		if seen != 45 {
			t.Errorf("%d members shown, want 45", seen)
		}
	})
}

// reviewHarness is the bot harness with a review of site-admins by S0SEC (bob, carol), whose
// members are alice, bob and dave.
func reviewHarness(t *testing.T) *harness {
	h := newHarness(t)
	h.pol.Reviews = []access.Review{{Name: "quarterly-admins", Groups: []string{"site-admins"}, Reviewers: []string{"S0SEC"},
		Deadline: 7 * 24 * time.Hour, OnNoResponse: access.ReviewOnNoResponseKeep}}
	h.svc.Engine = &access.Engine{Store: h.store, Org: h.org, Provisioner: h.org, Policy: func() *access.Policy { return h.pol }}
	for _, n := range []string{"alice", "bob", "dave"} {
		h.org.SetMember("site-admins", "acc-"+n, true)
	}
	return h
}

func TestBot_ReviewFlow(t *testing.T) {
	h := reviewHarness(t)
	items, err := h.svc.StartReview(h.ctx, "quarterly-admins")
	if err != nil || len(items) != 3 {
		t.Fatalf("StartReview = %d items, %v", len(items), err)
	}
	bobDM := h.next("bob's review DM", bottest.And(h.fake.InChannel(bob), bottest.WithButton(actionReviewKeep)))
	carolDM := h.next("carol's review DM", bottest.And(h.fake.InChannel(carol), bottest.WithButton(actionReviewKeep)))
	h.next("audit summary", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("quarterly-admins started")))
	// bob, a member himself, is not asked about his own membership (TestBot_ReviewNotOwnItem).
	members := map[string]int{bobDM.Channel: 2, carolDM.Channel: 3}
	for _, m := range []bottest.Message{bobDM, carolDM} {
		bs := m.Buttons()
		if len(bs) != 2*members[m.Channel] {
			t.Fatalf("%d buttons in %s, want Keep and Remove for %d members: %s", len(bs), m.Channel, members[m.Channel], m.PlainText())
		}
		for i, b := range bs {
			want, label := actionReviewKeep, labelKeep
			if i%2 == 1 {
				want, label = actionReviewDrop, labelRemove
			}
			if b.ActionID != want || b.Label != label || b.Value != bs[i-i%2].Value || b.Value == "" {
				t.Errorf("button %d = %+v; want %s labelled %s", i, b, want, label)
			}
		}
	}
	first, _ := bobDM.Button(actionReviewDrop) // alice, sorted first
	alicesItem, err := h.svc.ReviewItem(h.ctx, first.Value)
	if err != nil || alicesItem.Account.ID != "acc-alice" {
		t.Fatalf("first item = %+v, %v; want alice's", alicesItem, err)
	}

	// dave is not a reviewer: an ephemeral refusal, nothing changes.
	_, audit := h.counts()
	h.click(dave, bobDM, actionReviewDrop)
	toDave, inDaveDM := bottest.EphemeralTo(dave), h.fake.InChannel(dave) // not in bob's DM: told in his own
	if m := h.next("dave's refusal", func(m bottest.Message) bool { return toDave(m) || inDaveDM(m) }); !strings.Contains(m.PlainText(), "not a reviewer") {
		t.Errorf("dave was told %q", m.PlainText())
	}
	if _, a := h.counts(); a != audit || !h.org.Member("site-admins", "acc-alice") {
		t.Fatalf("a refused click changed something: audit %d→%d, alice member %v", audit, a, h.org.Member("site-admins", "acc-alice"))
	}
	if cur, _ := h.fake.Message(bobDM.Channel, bobDM.TS); cur.Updated {
		t.Error("a refused click updated the review message")
	}

	// bob removes alice: she is gone from the org and both copies show it, without her buttons.
	h.click(bob, bobDM, actionReviewDrop)
	h.next("audit line", bottest.And(h.fake.InChannel(auditChannel), bottest.Containing("Removed by")))
	if h.org.Member("site-admins", "acc-alice") {
		t.Error("alice is still in site-admins after Remove")
	}
	for _, m := range []bottest.Message{bobDM, carolDM} {
		h.eventually("copy updated", func() bool { cur, _ := h.fake.Message(m.Channel, m.TS); return cur.Updated })
		cur, _ := h.fake.Message(m.Channel, m.TS)
		if !cur.Updated || len(cur.Buttons()) != 2*(members[m.Channel]-1) || !strings.Contains(cur.PlainText(), "Removed by <@"+bob+">") {
			t.Errorf("copy in %s: %d buttons, text %q", m.Channel, len(cur.Buttons()), cur.PlainText())
		}
		for _, b := range cur.Buttons() {
			if b.Value == alicesItem.ID {
				t.Errorf("alice's %s button is still shown", b.ActionID)
			}
		}
	}

	// A late click on carol's stale copy is answered with who decided; nothing changes.
	_, audit = h.counts()
	h.rawClick(carol, carolDM.Channel, carolDM.TS, actionReviewKeep, alicesItem.ID)
	if m := h.next("carol's late answer", bottest.EphemeralTo(carol)); !strings.Contains(m.PlainText(), "already decided") || !strings.Contains(m.PlainText(), bob) {
		t.Errorf("carol was told %q", m.PlainText())
	}
	if _, a := h.counts(); a != audit {
		t.Errorf("late click wrote %d audit events", a-audit)
	}
}
