package accesstest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// The history retention's part of the store contract: Tx.PruneHistory and Tx.AuditBase.

// contractGrantStory stores request id of slackID approved at at and its grant, active from at
// for d, revoked at end unless end is zero. It returns the grant as stored last.
func contractGrantStory(t *testing.T, s access.Store, id, slackID string, at time.Time, d time.Duration, end time.Time) *access.Grant {
	t.Helper()
	r, _ := contractPending(t, id, "jira-admin", slackID, at)
	r.Duration = d
	if _, err := r.Approve(access.UserActor(contractApprover), at, contractRole("jira-admin"), []string{contractApprover}); err != nil {
		t.Fatalf("approve %s: %v", id, err)
	}
	g := contractActive(t, id, "jira-admin", slackID, at, d)
	contractPut(t, s, r, g)
	if !end.IsZero() {
		g = contractRevoked(t, g, end)
		contractPut(t, s, g)
	}
	return g
}

// contractExtension stores an extension request of active grant g filed at at and decided at
// decided (denied when deny, else expired).
func contractExtension(t *testing.T, s access.Store, id string, g *access.Grant, at, decided time.Time, deny bool) {
	t.Helper()
	r, _, err := access.NewExtension(id, contractRole(g.Role), g, g.Holder, time.Hour, "more", at)
	if err != nil {
		t.Fatalf("extension %s: %v", id, err)
	}
	contractPut(t, s, r)
	if deny {
		_, err = r.Deny(access.UserActor(contractApprover), decided, "no", []string{contractApprover})
	} else {
		r.PendingUntil = decided
		_, err = r.Expire(decided)
	}
	if err != nil {
		t.Fatalf("decide extension %s: %v", id, err)
	}
	contractPut(t, s, r)
}

// contractDecided stores a request of slackID filed at at and denied at decided.
func contractDecided(t *testing.T, s access.Store, id, slackID string, at, decided time.Time) {
	t.Helper()
	r, _ := contractPending(t, id, "jira-admin", slackID, at)
	contractPut(t, s, r)
	if _, err := r.Deny(access.UserActor(contractApprover), decided, "no", []string{contractApprover}); err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, r)
}

// contractPrune runs PruneHistory(before) in Updates until it says there is no more, checking
// each call's bound, and returns the totals.
func contractPrune(t *testing.T, s access.Store, before time.Time) (total access.HistoryPruned, calls int) {
	t.Helper()
	for calls < 1000 {
		var p access.HistoryPruned
		contractUpdate(t, s, func(tx access.Tx) (err error) {
			p, err = tx.PruneHistory(before)
			return err
		})
		calls++
		if c := p.Cost(); c > access.HistoryBatch {
			t.Fatalf("one PruneHistory removed %+v: %d keys, over HistoryBatch %d", p, c, access.HistoryBatch)
		}
		total.Add(p)
		if !p.More {
			return total, calls
		}
	}
	t.Fatalf("PruneHistory still had more after %d calls", calls)
	return total, calls
}

// contractExists reports which of the IDs are stored as what.
func contractExists(t *testing.T, s access.Store, kind string, ids ...string) []string {
	t.Helper()
	var got []string
	contractView(t, s, func(tx access.Tx) error {
		for _, id := range ids {
			var err error
			switch kind {
			case "grant":
				_, err = tx.Grant(id)
			case "request":
				_, err = tx.Request(id)
			case "review":
				_, err = tx.ReviewItem(id)
			}
			switch {
			case err == nil:
				got = append(got, id)
			case access.ErrorCode(err) != access.ENOTFOUND:
				return err
			}
		}
		return nil
	})
	return got
}

// contractHistoryEachKind: revoked grants with their requests, decided requests and review
// items, and old audit events go; live grants (failed ones too), pending requests, open review
// items, requests of a live grant and anything that ended at or after the cutoff stay.
func contractHistoryEachKind(t *testing.T, s access.Store) {
	t0 := contractT0
	cut := t0.Add(10 * time.Hour)
	// Ended well before the cutoff: a grant with a denied extension and an expired one.
	old := contractGrantStory(t, s, "OLD", "UALICE", t0, 2*time.Hour, time.Time{})
	contractExtension(t, s, "OLDX1", old, t0.Add(30*time.Minute), t0.Add(40*time.Minute), true)
	contractExtension(t, s, "OLDX2", old, t0.Add(50*time.Minute), t0.Add(time.Hour), false)
	contractPut(t, s, contractRevoked(t, old, t0.Add(2*time.Hour)))
	// Ended exactly at the cutoff: kept.
	contractGrantStory(t, s, "EDGE", "UBOB", t0.Add(8*time.Hour), 2*time.Hour, cut)
	// Ended long ago, but its extension request was decided after the cutoff: the grant goes,
	// the request stays until it is old itself.
	late := contractGrantStory(t, s, "LATE", "UCAROL", t0, 2*time.Hour, time.Time{})
	contractExtension(t, s, "LATEX", late, t0.Add(time.Hour), cut.Add(2*time.Hour), true)
	contractPut(t, s, contractRevoked(t, late, t0.Add(3*time.Hour)))
	// Live: active (approved long ago, with an old denied extension), failed, and provisioning.
	live := contractGrantStory(t, s, "LIVE", "UDAVE", t0, 7*time.Hour, time.Time{})
	contractExtension(t, s, "LIVEX", live, t0.Add(time.Hour), t0.Add(2*time.Hour), true)
	failed := contractGrantStory(t, s, "FAIL", "UERIN", t0, time.Hour, time.Time{})
	failed.Status, failed.FailedOp, failed.EndedAt = access.GrantFailed, access.OpRevoke, t0.Add(time.Hour)
	contractPut(t, s, failed)
	// Requests without grants: denied long ago, denied after the cutoff, pending.
	contractDecided(t, s, "DENY", "UFRANK", t0, t0.Add(time.Minute))
	contractDecided(t, s, "DENYNEW", "UFRANK", t0, cut.Add(time.Minute))
	pending, _ := contractPending(t, "PEND", "jira-admin", "UGRACE", t0)
	contractPut(t, s, pending)
	// Review items of a review due at t0+2h: kept long ago, kept after the cutoff, pending,
	// removing; and one of a review due after the cutoff, kept long ago (it stays until its
	// review's deadline, so the review's summary counts it).
	kept := contractReviewItem("IKEPT", "run1", "site-admins", "UALICE", t0)
	if _, err := kept.Keep(access.UserActor(contractApprover), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	newer := contractReviewItem("INEW", "run1", "site-admins", "UBOB", t0)
	if _, err := newer.Keep(access.UserActor(contractApprover), cut.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	open := contractReviewItem("IOPEN", "run1", "site-admins", "UCAROL", t0)
	removing := contractReviewItem("IREM", "run1", "site-admins", "UDAVE", t0)
	if _, err := removing.BeginRemove(access.UserActor(contractApprover), t0.Add(time.Hour), time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, it := range []*access.ReviewItem{kept, newer, open, removing} {
		it.Deadline = t0.Add(2 * time.Hour)
	}
	early := contractReviewItem("IEARLY", "run2", "site-admins", "UALICE", t0)
	if _, err := early.Keep(access.UserActor(contractApprover), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	early.Deadline = cut.Add(time.Hour)
	contractPut(t, s, kept, newer, open, removing, early)
	// Audit events around the cutoff.
	for i := range 6 {
		contractAppend(t, s, contractEvent(access.ActionRequestSubmitted, fmt.Sprintf("E%d", i), "jira-admin", "a@example.com", access.SystemActor, cut.Add(time.Duration(i-3)*time.Hour)))
	}

	got, _ := contractPrune(t, s, cut)
	if got.Grants != 2 || got.Requests != 5 || got.ReviewItems != 1 || got.Events != 3 || got.FirstSeq != 1 || got.LastSeq != 3 {
		t.Errorf("pruned %+v, want 2 grants (OLD, LATE), 5 requests (OLD, OLDX1, OLDX2, LATE, DENY), 1 review item, events 1 to 3", got)
	}
	if !got.Until.Equal(cut.Add(-time.Hour)) {
		t.Errorf("pruned until %s, want %s (the last event removed)", got.Until, cut.Add(-time.Hour))
	}
	contractIDs(t, "grants kept", contractExists(t, s, "grant", "OLD", "EDGE", "LATE", "LIVE", "FAIL"), []string{"EDGE", "LIVE", "FAIL"})
	contractIDs(t, "requests kept", contractExists(t, s, "request", "OLD", "OLDX1", "OLDX2", "EDGE", "LATE", "LATEX", "LIVE", "LIVEX", "FAIL", "DENY", "DENYNEW", "PEND"),
		[]string{"EDGE", "LATEX", "LIVE", "LIVEX", "FAIL", "DENYNEW", "PEND"})
	contractIDs(t, "review items kept", contractExists(t, s, "review", "IKEPT", "INEW", "IOPEN", "IREM", "IEARLY"), []string{"INEW", "IOPEN", "IREM", "IEARLY"})
	contractView(t, s, func(tx access.Tx) error {
		_, err := tx.Grant("OLD")
		contractCode(t, "pruned grant", err, access.ENOTFOUND)
		byAcc, err := tx.Grants(access.GrantFilter{AccountID: contractAccount("UALICE").ID})
		if err != nil {
			return err
		}
		contractIDs(t, "grants of a pruned grant's account", grantIDs(byAcc), nil)
		run, err := tx.ReviewItems(access.ReviewFilter{Run: "run1"})
		if err != nil {
			return err
		}
		contractIDs(t, "review items of the run", reviewIDs(run), []string{"INEW", "IOPEN", "IREM"})
		events, err := tx.AuditEvents(access.AuditFilter{})
		if err != nil {
			return err
		}
		if len(events) != 3 || events[0].Seq != 4 {
			t.Fatalf("events left: %+v, want 3 from event 4", events)
		}
		base, err := tx.AuditBase()
		if err != nil {
			return err
		}
		if base == nil || base.Seq != 3 {
			t.Fatalf("base %+v, want at event 3", base)
		}
		if brk := access.VerifyChainFrom(base, events, StoreContractKey); brk != nil {
			t.Errorf("chain after pruning: break at %d: %s", brk.Seq, brk.Reason)
		}
		return nil
	})
	// Once LATEX's own decision is old, it goes too; nothing live ever does.
	got, _ = contractPrune(t, s, cut.Add(3*time.Hour))
	if got.Requests != 3 || got.Grants != 1 || got.ReviewItems != 2 {
		t.Errorf("second prune %+v, want EDGE with its request, LATEX and DENYNEW, INEW and IEARLY (its review's deadline now old)", got)
	}
	contractIDs(t, "grants kept at last", contractExists(t, s, "grant", "EDGE", "LIVE", "FAIL"), []string{"LIVE", "FAIL"})
	contractIDs(t, "requests kept at last", contractExists(t, s, "request", "LATEX", "LIVE", "LIVEX", "FAIL", "DENYNEW", "PEND"), []string{"LIVE", "LIVEX", "FAIL", "PEND"})
}

// contractHistoryBatches: a backlog goes in calls of at most HistoryBatch keys each, every
// call's work kept, and all of it goes.
func contractHistoryBatches(t *testing.T, s access.Store) {
	t0 := contractT0
	const grants, items, events = 30, 20, 150
	for i := range grants {
		g := contractGrantStory(t, s, fmt.Sprintf("G%02d", i), fmt.Sprintf("U%02d", i), t0, 2*time.Hour, time.Time{})
		contractExtension(t, s, fmt.Sprintf("X%02d", i), g, t0.Add(time.Minute), t0.Add(2*time.Minute), true)
		contractPut(t, s, contractRevoked(t, g, t0.Add(time.Duration(i)*time.Minute+time.Hour)))
	}
	for i := range items {
		it := contractReviewItem(fmt.Sprintf("I%02d", i), "run", "g", fmt.Sprintf("U%02d", i), t0)
		it.Deadline = t0.Add(time.Hour)
		if _, err := it.Keep(access.UserActor(contractApprover), t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		contractPut(t, s, it)
	}
	ev := make([]access.AuditEvent, events)
	for i := range ev {
		ev[i] = contractEvent(access.ActionChange, "S", "r", "m", access.SystemActor, t0.Add(time.Duration(i)*time.Second))
	}
	for i := 0; i < events; i += 50 { // 50 a transaction: etcd takes 128 keys in one
		contractAppend(t, s, ev[i:i+50]...)
	}
	contractGrantStory(t, s, "KEEP", "UKEEP", t0, 2*time.Hour, time.Time{})
	total, calls := contractPrune(t, s, t0.Add(24*time.Hour))
	want := grants*access.HistoryCostGrant + 2*grants*access.HistoryCostRequest + items*access.HistoryCostReview + events*access.HistoryCostEvent
	if total.Grants != grants || total.Requests != 2*grants || total.ReviewItems != items || total.Events != events {
		t.Errorf("pruned %+v, want %d grants, %d requests, %d review items, %d events", total, grants, 2*grants, items, events)
	}
	if min := (want + access.HistoryBatch - 1) / access.HistoryBatch; calls < min {
		t.Errorf("%d calls removed %d keys; at most %d a call needs %d", calls, want, access.HistoryBatch, min)
	}
	contractView(t, s, func(tx access.Tx) error {
		gs, err := tx.Grants(access.GrantFilter{})
		if err != nil {
			return err
		}
		contractIDs(t, "grants left", grantIDs(gs), []string{"KEEP"})
		rs, err := tx.Requests(access.RequestFilter{})
		if err != nil {
			return err
		}
		contractIDs(t, "requests left", requestIDs(rs), []string{"KEEP"})
		base, err := tx.AuditBase()
		if err != nil {
			return err
		}
		if base == nil || base.Seq != events {
			t.Errorf("base %+v, want at event %d", base, events)
		}
		return nil
	})
	// The chain goes on from its base when every event was pruned.
	next := contractAppend(t, s, contractEvent(access.ActionChange, "S", "r", "m", access.SystemActor, t0.Add(48*time.Hour)))
	if next[0].Seq != events+1 || next[0].PrevHash != ev[events-1].Hash {
		t.Errorf("event after pruning all: seq %d prev %q, want %d after the last pruned", next[0].Seq, next[0].PrevHash, events+1)
	}
}

// contractHistoryRollback: a prune in an Update that fails removes nothing, base included.
func contractHistoryRollback(t *testing.T, s access.Store) {
	contractGrantStory(t, s, "OLD", "UALICE", contractT0, time.Hour, contractT0.Add(time.Hour))
	contractAppend(t, s, contractEvent(access.ActionChange, "S", "r", "m", access.SystemActor, contractT0))
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx access.Tx) error {
		p, err := tx.PruneHistory(contractT0.Add(48 * time.Hour))
		if err != nil {
			return err
		}
		if p.Grants != 1 || p.Events != 1 {
			t.Errorf("pruned %+v inside the update, want the grant and the event", p)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update: %v", err)
	}
	contractIDs(t, "grants after a rolled-back prune", contractExists(t, s, "grant", "OLD"), []string{"OLD"})
	contractView(t, s, func(tx access.Tx) error {
		base, err := tx.AuditBase()
		if base != nil {
			t.Errorf("base after a rolled-back prune: %+v", base)
		}
		events, _ := tx.AuditEvents(access.AuditFilter{})
		if len(events) != 1 {
			t.Errorf("%d events after a rolled-back prune, want 1", len(events))
		}
		return err
	})
	err = s.View(t.Context(), func(tx access.Tx) error {
		_, err := tx.PruneHistory(contractT0.Add(48 * time.Hour))
		return err
	})
	if err == nil {
		t.Errorf("PruneHistory in a View: no error")
	}
}

// errHistoryProbe rolls back contractHistoryConsistent's probe.
var errHistoryProbe = errors.New("history probe: rolled back")

// contractHistoryConsistent checks the history index against a scan, after every case: pruning
// everything (in an Update rolled back at the end) must remove exactly the ended records, keep
// every live one, and leave the chain starting after its last event.
func contractHistoryConsistent(t *testing.T, s access.Store) {
	t.Helper()
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.Update(t.Context(), func(tx access.Tx) error {
		grants, err := tx.Grants(access.GrantFilter{})
		if err != nil {
			return err
		}
		requests, err := tx.Requests(access.RequestFilter{})
		if err != nil {
			return err
		}
		items, err := tx.ReviewItems(access.ReviewFilter{})
		if err != nil {
			return err
		}
		events, err := tx.AuditEvents(access.AuditFilter{})
		if err != nil {
			return err
		}
		var wantGrants, wantRequests, wantItems []string
		stored := map[string]*access.Grant{}
		for _, g := range grants {
			stored[g.ID] = g
			if !g.Ended() {
				wantGrants = append(wantGrants, g.ID)
			}
		}
		for _, r := range requests {
			g, ok := stored[r.HistoryGrant()]
			switch {
			case r.Status == access.RequestPending, ok && !g.Ended(),
				!ok && r.Status == access.RequestApproved && r.Kind == access.KindAccess:
				wantRequests = append(wantRequests, r.ID)
			}
		}
		for _, it := range items {
			if it.Open() {
				wantItems = append(wantItems, it.ID)
			}
		}
		for range 1000 {
			p, err := tx.PruneHistory(far)
			if err != nil {
				return err
			}
			if !p.More {
				break
			}
		}
		grants, _ = tx.Grants(access.GrantFilter{})
		requests, _ = tx.Requests(access.RequestFilter{})
		items, _ = tx.ReviewItems(access.ReviewFilter{})
		contractIDs(t, "history: grants left by pruning everything", grantIDs(grants), wantGrants)
		contractIDs(t, "history: requests left by pruning everything", requestIDs(requests), wantRequests)
		contractIDs(t, "history: review items left by pruning everything", reviewIDs(items), wantItems)
		left, err := tx.AuditEvents(access.AuditFilter{})
		if err != nil {
			return err
		}
		if len(left) != 0 {
			t.Errorf("history: %d audit events left by pruning everything", len(left))
		}
		if n := len(events); n > 0 {
			base, err := tx.AuditBase()
			if err != nil {
				return err
			}
			if base == nil || base.Seq != events[n-1].Seq || base.Hash != events[n-1].Hash || base.Check(StoreContractKey) != nil {
				t.Errorf("history: base after pruning every event: %+v, want event %d", base, events[n-1].Seq)
			}
		}
		return errHistoryProbe
	})
	if !errors.Is(err, errHistoryProbe) {
		t.Errorf("history probe: %v", err)
	}
}

// contractHistoryAppendAfterPruningAll: the domain prunes and appends its history.pruned event
// in one transaction; when the prune removed every event, the event follows the base, and a
// second event follows the first.
func contractHistoryAppendAfterPruningAll(t *testing.T, s access.Store) {
	old := contractAppend(t, s,
		contractEvent(access.ActionChange, "S", "r", "m", access.SystemActor, contractT0),
		contractEvent(access.ActionChange, "S", "r", "m", access.SystemActor, contractT0.Add(time.Minute)))
	var added []access.AuditEvent
	contractUpdate(t, s, func(tx access.Tx) error {
		p, err := tx.PruneHistory(contractT0.Add(time.Hour))
		if err != nil {
			return err
		}
		if p.Events != 2 {
			t.Errorf("pruned %+v, want both events", p)
		}
		added = []access.AuditEvent{
			contractEvent(access.ActionHistoryPruned, "history", "", "", access.SystemActor, contractT0.Add(2*time.Hour)),
			contractEvent(access.ActionChange, "S", "r", "m", access.SystemActor, contractT0.Add(2*time.Hour)),
		}
		for i := range added {
			if err := tx.AppendAudit(&added[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if added[0].Seq != 3 || added[0].PrevHash != old[1].Hash || added[1].Seq != 4 || added[1].PrevHash != added[0].Hash {
		t.Errorf("appended after pruning all: %d (prev %q), %d; want 3 after event 2, then 4", added[0].Seq, added[0].PrevHash, added[1].Seq)
	}
	contractView(t, s, func(tx access.Tx) error {
		base, err := tx.AuditBase()
		if err != nil {
			return err
		}
		events, err := tx.AuditEvents(access.AuditFilter{})
		if err != nil {
			return err
		}
		if brk := access.VerifyChainFrom(base, events, StoreContractKey); brk != nil || len(events) != 2 {
			t.Errorf("chain after pruning all and appending: %d events, break %+v", len(events), brk)
		}
		return nil
	})
}
