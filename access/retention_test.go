package access_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

func (h *harness) events() []access.AuditEvent {
	h.t.Helper()
	var evs []access.AuditEvent
	if err := h.store.View(h.ctx(), func(tx access.Tx) (err error) {
		evs, err = tx.AuditEvents(access.AuditFilter{})
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	return evs
}

func (h *harness) base() *access.ChainBase {
	h.t.Helper()
	var b *access.ChainBase
	if err := h.store.View(h.ctx(), func(tx access.Tx) (err error) {
		b, err = tx.AuditBase()
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	return b
}

// TestPruneHistory_service: an ended grant, its request and a denied request go once they are
// older than the retention, with the audit events of that time; the live grant stays; the
// removal is itself an audit event; the chain verifies from its base; a click on the removed
// grant is told it is gone and changes nothing.
func TestPruneHistory_service(t *testing.T) {
	h := newHarness(t)
	lead := access.UserActor("U0LEAD")
	ended := h.submit(alice, "jira-software", 2*time.Hour)
	if _, err := h.svc.Approve(h.ctx(), lead, ended.ID); err != nil {
		t.Fatal(err)
	}
	denied := h.submit(alice, "jira-software", time.Hour)
	if _, err := h.svc.Deny(h.ctx(), lead, denied.ID, "no"); err != nil {
		t.Fatal(err)
	}
	live := h.submit(bob, "jira-software", 7*24*time.Hour)
	if _, err := h.svc.Approve(h.ctx(), lead, live.ID); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Hour)
	h.sweep()
	if g := h.grant(ended.ID); g.Status != access.GrantRevoked {
		t.Fatalf("grant %s is %s, want revoked", g.ID, g.Status)
	}
	before := len(h.events())

	const retention = 25 * time.Hour
	// Within the retention nothing goes and no event is written.
	h.clock.Advance(retention - 2*time.Hour - time.Minute)
	got, err := access.PruneHistory(h.ctx(), h.store, h.clock.Now(), retention)
	if err != nil || got.Removed() != 0 || len(h.events()) != before {
		t.Fatalf("prune within the retention: %+v, %v, %d events (had %d)", got, err, len(h.events()), before)
	}
	h.clock.Advance(2*time.Hour + 2*time.Minute)
	got, err = access.PruneHistory(h.ctx(), h.store, h.clock.Now(), retention)
	if err != nil {
		t.Fatal(err)
	}
	if got.Grants != 1 || got.Requests != 2 || got.Events != before || got.FirstSeq != 1 || got.LastSeq != uint64(before) {
		t.Fatalf("pruned %+v, want 1 grant, 2 requests and the %d events", got, before)
	}
	evs := h.events()
	if len(evs) != 1 {
		t.Fatalf("%d events after pruning, want the history.pruned event only", len(evs))
	}
	e := evs[0]
	for _, want := range []string{"history retention 1d1h", "1 grants, 2 requests, 0 review items", "audit events 1 to", "chain now starts at event"} {
		if e.Action != access.ActionHistoryPruned || !strings.Contains(e.Detail, want) {
			t.Errorf("event %s %q, want history.pruned saying %q", e.Action, e.Detail, want)
		}
	}
	base := h.base()
	if base == nil || e.Seq != base.Seq+1 {
		t.Fatalf("event %d after base %+v", e.Seq, base)
	}
	if brk := access.VerifyChainFrom(base, evs, []byte("audit-key")); brk != nil {
		t.Fatalf("chain after pruning: %+v", brk)
	}
	if g := h.grant(live.ID); g.Status != access.GrantActive {
		t.Fatalf("live grant is %s", g.Status)
	}
	if _, err := h.svc.Request(h.ctx(), live.ID); err != nil {
		t.Fatalf("the live grant's request: %v", err)
	}
	// A click on the removed grant's button.
	_, err = h.svc.Revoke(h.ctx(), alice, ended.ID)
	if access.ErrorCode(err) != access.ENOTFOUND || !strings.Contains(access.ErrorMessage(err), "history retention") {
		t.Fatalf("revoke of a pruned grant: %v", err)
	}
	_, err = h.svc.Approve(h.ctx(), lead, denied.ID)
	if access.ErrorCode(err) != access.ENOTFOUND || !strings.Contains(access.ErrorMessage(err), "removed") {
		t.Fatalf("approve of a pruned request: %v", err)
	}
	if n := len(h.events()); n != 1 {
		t.Fatalf("clicks on pruned records wrote %d events", n-1)
	}
}

// TestPruneHistory_minimumCoversLimits: with the shortest retention jitbot accepts, a
// break-glass grant of the last 24 h is never pruned, so limits.break_glass_per_day still
// counts it.
func TestPruneHistory_minimumCoversLimits(t *testing.T) {
	h := newHarness(t)
	h.policy.Roles[2].Requesters = []string{"U0ALICE"}
	h.policy.Limits.BreakGlassPerDay = 1
	r, err := h.svc.Submit(h.ctx(), alice, "breakglass", 10*time.Minute, "outage")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Revoke(h.ctx(), alice, r.ID); err != nil {
		t.Fatal(err)
	}
	if g := h.grant(r.ID); g.Status != access.GrantRevoked {
		t.Fatalf("break-glass grant is %s", g.Status)
	}
	h.clock.Advance(24*time.Hour - time.Second)
	if p, err := access.PruneHistory(h.ctx(), h.store, h.clock.Now(), access.MinHistoryRetention); err != nil || p.Grants != 0 {
		t.Fatalf("pruned %+v, %v: a grant of the last 24 h", p, err)
	}
	if _, err := h.svc.Submit(h.ctx(), alice, "breakglass", 10*time.Minute, "again"); access.ErrorCode(err) != access.EFORBIDDEN {
		t.Fatalf("second break-glass in 24 h: %v, want the limit", err)
	}
}

// TestVerifyChainFrom: a chain whose front was pruned verifies from its sealed base; a base or
// first event changed, or events removed past the base, is a break when the key is set.
func TestVerifyChainFrom(t *testing.T) {
	key := []byte("k")
	var all []access.AuditEvent
	prev := ""
	for i := range 6 {
		e := access.AuditEvent{Seq: uint64(i + 1), Time: t0.Add(time.Duration(i) * time.Minute), Action: access.ActionChange, Actor: access.SystemActor, Detail: "d"}
		e.Seal(prev, key)
		prev = e.Hash
		all = append(all, e)
	}
	base := access.NewChainBase(all[2].Seq, all[2].Hash, all[2].Time, key)
	rest := all[3:]
	forged := access.NewChainBase(all[3].Seq, all[3].Hash, all[3].Time, []byte("not the key"))
	moved := base
	moved.Seq, moved.Hash = all[3].Seq, all[3].Hash
	edited := append([]access.AuditEvent{}, rest...)
	edited[0].Detail = "changed"
	tests := []struct {
		name    string
		base    *access.ChainBase
		events  []access.AuditEvent
		key     []byte
		wantSeq uint64 // 0: intact
	}{
		{"whole_chain_no_base", nil, all, key, 0},
		{"pruned_front_with_base", &base, rest, key, 0},
		{"pruned_everything", &base, nil, key, 0},
		{"front_removed_without_base", nil, rest, key, 4},
		{"more_removed_past_the_base", &base, all[4:], key, 5},
		{"base_moved_without_the_key", &moved, all[4:], key, 5},
		{"base_resealed_with_another_key", &forged, all[4:], key, 5},
		{"first_event_edited", &base, edited, key, 4},
		{"wrong_key", &base, rest, []byte("other"), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brk := access.VerifyChainFrom(tt.base, tt.events, tt.key)
			switch {
			case tt.wantSeq == 0 && brk != nil:
				t.Fatalf("break %+v, want intact", brk)
			case tt.wantSeq != 0 && (brk == nil || brk.Seq != tt.wantSeq):
				t.Fatalf("break %+v, want at event %d", brk, tt.wantSeq)
			}
		})
	}
	// Without a key anyone can seal a base (plain SHA-256): only JITBOT_AUDIT_KEY makes it proof.
	open := access.NewChainBase(all[3].Seq, all[3].Hash, all[3].Time, nil)
	if brk := access.VerifyChainFrom(&open, nil, nil); brk != nil {
		t.Fatalf("keyless base: %+v", brk)
	}
}
