package accesstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// contractIndexesConsistent checks the live indexes against a scan of every record: the live
// grants (with each filter they serve), the pending requests, the counters and the next due
// time. StoreContract runs it after every case.
func contractIndexesConsistent(t *testing.T, s access.Store) {
	t.Helper()
	contractView(t, s, func(tx access.Tx) error {
		all, err := tx.Grants(access.GrantFilter{})
		if err != nil {
			return err
		}
		var live []*access.Grant
		want := access.LiveCounts{Grants: map[access.GrantStatus]int{}}
		filters := []access.GrantFilter{{}}
		next := time.Time{}
		earliest := func(at time.Time) {
			if !at.IsZero() && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
		for _, g := range all {
			earliest(g.Due())
			if g.Ended() {
				continue
			}
			live = append(live, g)
			want.Grants[g.Status]++
			filters = append(filters,
				access.GrantFilter{Holder: g.Holder.SlackID}, access.GrantFilter{Role: g.Role},
				access.GrantFilter{AccountID: g.Account.ID}, access.GrantFilter{Status: []access.GrantStatus{g.Status}},
				access.GrantFilter{Holder: g.Holder.SlackID, Status: access.LiveStatuses})
		}
		for _, f := range filters {
			got, err := tx.LiveGrants(f)
			if err != nil {
				return err
			}
			var exp []*access.Grant
			for _, g := range live {
				if contractMatchGrant(g, f) {
					exp = append(exp, g)
				}
			}
			contractIDs(t, fmt.Sprintf("index: LiveGrants(%+v) against a scan", f), grantIDs(got), grantIDs(exp))
		}
		pending, err := tx.Requests(access.RequestFilter{Status: []access.RequestStatus{access.RequestPending}})
		if err != nil {
			return err
		}
		want.Pending = len(pending)
		rfilters := []access.RequestFilter{{}}
		for _, r := range pending {
			earliest(r.PendingUntil)
			rfilters = append(rfilters, access.RequestFilter{Requester: r.Requester.SlackID})
		}
		for _, f := range rfilters {
			got, err := tx.PendingRequests(f)
			if err != nil {
				return err
			}
			var exp []*access.Request
			for _, r := range pending {
				if f.Requester == "" || r.Requester.SlackID == f.Requester {
					exp = append(exp, r)
				}
			}
			contractIDs(t, fmt.Sprintf("index: PendingRequests(%+v) against a scan", f), requestIDs(got), requestIDs(exp))
		}
		counts, err := tx.LiveCounts()
		if err != nil {
			return err
		}
		contractSameCounts(t, "index: LiveCounts against a scan", counts, want)
		items, err := tx.ReviewItems(access.ReviewFilter{})
		if err != nil {
			return err
		}
		for _, it := range items {
			earliest(it.Due())
		}
		got, err := tx.NextDue()
		if err != nil {
			return err
		}
		if !got.Equal(next) {
			t.Errorf("index: NextDue() = %s, a scan says %s", got, next)
		}
		return nil
	})
}

func contractMatchGrant(g *access.Grant, f access.GrantFilter) bool {
	return (len(f.Status) == 0 || slices.Contains(f.Status, g.Status)) &&
		(f.AccountID == "" || g.Account.ID == f.AccountID) &&
		(f.Holder == "" || g.Holder.SlackID == f.Holder) &&
		(f.Role == "" || f.Role == g.Role)
}

// contractSameCounts compares counts, a missing status counting as zero.
func contractSameCounts(t *testing.T, what string, got, want access.LiveCounts) {
	t.Helper()
	norm := func(m map[access.GrantStatus]int) map[access.GrantStatus]int {
		out := map[access.GrantStatus]int{}
		for k, v := range m {
			if v != 0 {
				out[k] = v
			}
		}
		return out
	}
	if got.Pending != want.Pending || !maps.Equal(norm(got.Grants), norm(want.Grants)) {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

func contractLive(t *testing.T, s access.Store, f access.GrantFilter) []string {
	t.Helper()
	var gs []*access.Grant
	contractView(t, s, func(tx access.Tx) (err error) { gs, err = tx.LiveGrants(f); return err })
	return grantIDs(gs)
}

func contractCounts(t *testing.T, s access.Store) access.LiveCounts {
	t.Helper()
	var c access.LiveCounts
	contractView(t, s, func(tx access.Tx) (err error) { c, err = tx.LiveCounts(); return err })
	return c
}

func contractLiveGrants(t *testing.T, s access.Store) {
	g1 := contractActive(t, "G1", "jira-admin", "UALICE", contractT0, time.Hour)
	g2 := contractActive(t, "G2", "confluence-admin", "UBOB", contractT0.Add(time.Minute), time.Hour)
	old := contractRevoked(t, contractActive(t, "G0", "jira-admin", "UALICE", contractT0.Add(-2*time.Hour), time.Hour), contractT0.Add(-time.Hour))
	r, _ := contractPending(t, "G3", "jira-admin", "UCAROL", contractT0.Add(2*time.Minute))
	if _, err := r.Approve(access.UserActor(contractApprover), contractT0.Add(2*time.Minute), contractRole("jira-admin"), []string{contractApprover}); err != nil {
		t.Fatal(err)
	}
	g3, _, err := access.NewGrant(r, contractRole("jira-admin"), contractT0.Add(2*time.Minute), time.Minute) // provisioning
	if err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, old, g1, g2, g3)
	contractIDs(t, "live, oldest first; the revoked one is not there", contractLive(t, s, access.GrantFilter{}), []string{"G1", "G2", "G3"})
	contractIDs(t, "live of an account", contractLive(t, s, access.GrantFilter{AccountID: "acc-UALICE"}), []string{"G1"})
	contractIDs(t, "live of a holder", contractLive(t, s, access.GrantFilter{Holder: "UBOB"}), []string{"G2"})
	contractIDs(t, "live of a role, any case", contractLive(t, s, access.GrantFilter{Role: "JIRA-ADMIN"}), []string{"G1", "G3"})
	contractIDs(t, "live provisioning", contractLive(t, s, access.GrantFilter{Status: []access.GrantStatus{access.GrantProvisioning}}), []string{"G3"})
	contractIDs(t, "revoked asked of the live index", contractLive(t, s, access.GrantFilter{Status: []access.GrantStatus{access.GrantRevoked}}), nil)
	contractSameCounts(t, "counts", contractCounts(t, s), access.LiveCounts{Grants: map[access.GrantStatus]int{access.GrantActive: 2, access.GrantProvisioning: 1}})

	// Revoking is still live; failed is still live; revoked leaves the index.
	end := contractT0.Add(30 * time.Minute)
	if _, err := g1.BeginRevoke(g1.Holder, false, "done", end, time.Minute); err != nil {
		t.Fatal(err)
	}
	g3.Retry(fmt.Errorf("down"), end.Add(time.Hour), 1, end)
	contractPut(t, s, g1, g3)
	contractIDs(t, "revoking and failed stay", contractLive(t, s, access.GrantFilter{}), []string{"G1", "G2", "G3"})
	contractSameCounts(t, "counts after revoking and failing", contractCounts(t, s),
		access.LiveCounts{Grants: map[access.GrantStatus]int{access.GrantActive: 1, access.GrantRevoking: 1, access.GrantFailed: 1}})
	for i := range g1.Items {
		g1.ItemRemoved(i, true, end)
	}
	if _, err := g1.MarkRevoked(end); err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, g1, g1) // twice: no double count
	contractIDs(t, "a revoked grant leaves the index", contractLive(t, s, access.GrantFilter{}), []string{"G2", "G3"})
	contractIDs(t, "and its account's", contractLive(t, s, access.GrantFilter{AccountID: "acc-UALICE"}), nil)
	contractSameCounts(t, "counts after the end", contractCounts(t, s),
		access.LiveCounts{Grants: map[access.GrantStatus]int{access.GrantActive: 1, access.GrantFailed: 1}})

	// A grant moved to another account moves in the index.
	g2.Account.ID = "acc-MOVED"
	contractPut(t, s, g2)
	contractIDs(t, "moved account", contractLive(t, s, access.GrantFilter{AccountID: "acc-MOVED"}), []string{"G2"})
	contractIDs(t, "old account", contractLive(t, s, access.GrantFilter{AccountID: "acc-UBOB"}), nil)
}

func contractPendingRequests(t *testing.T, s access.Store) {
	a, _ := contractPending(t, "A", "jira-admin", "UALICE", contractT0)
	b, _ := contractPending(t, "B", "jira-admin", "UBOB", contractT0.Add(time.Minute))
	c, _ := contractPending(t, "C", "jira-admin", "UALICE", contractT0.Add(2*time.Minute))
	contractPut(t, s, c, b, a)
	pending := func(f access.RequestFilter) []string {
		t.Helper()
		var rs []*access.Request
		contractView(t, s, func(tx access.Tx) (err error) { rs, err = tx.PendingRequests(f); return err })
		return requestIDs(rs)
	}
	contractIDs(t, "pending, oldest first", pending(access.RequestFilter{}), []string{"A", "B", "C"})
	contractIDs(t, "pending of a requester", pending(access.RequestFilter{Requester: "UALICE"}), []string{"A", "C"})
	contractIDs(t, "pending of a requester whose ID prefixes another's", pending(access.RequestFilter{Requester: "UALIC"}), nil)
	if got := contractCounts(t, s).Pending; got != 3 {
		t.Errorf("pending count %d, want 3", got)
	}
	if _, err := a.Approve(access.UserActor(contractApprover), contractT0.Add(3*time.Minute), contractRole("jira-admin"), []string{contractApprover}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Expire(contractT0.Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, a, b, b)
	contractIDs(t, "decided and expired leave", pending(access.RequestFilter{}), []string{"C"})
	if got := contractCounts(t, s).Pending; got != 1 {
		t.Errorf("pending count %d, want 1", got)
	}
}

// contractLiveRollback: ending a grant and filing a request in an update that fails leaves
// the indexes and counters as they were: they are written in the record's transaction.
func contractLiveRollback(t *testing.T, s access.Store) {
	g := contractActive(t, "G1", "jira-admin", "UALICE", contractT0, time.Hour)
	contractPut(t, s, g)
	before := contractCounts(t, s)
	err := s.Update(t.Context(), func(tx access.Tx) error {
		cur, err := tx.Grant("G1")
		if err != nil {
			return err
		}
		contractRevoked(t, cur, contractT0.Add(time.Minute))
		if err := tx.PutGrant(cur); err != nil {
			return err
		}
		r, _ := contractPending(t, "R1", "jira-admin", "UBOB", contractT0)
		if err := tx.PutRequest(r); err != nil {
			return err
		}
		if live, err := tx.LiveGrants(access.GrantFilter{}); err != nil || len(live) != 0 {
			t.Errorf("inside the update, live grants %v, %v: want none", grantIDs(live), err)
		}
		return errContract // the crash between the record and anything after it
	})
	if err == nil {
		t.Fatal("the update succeeded")
	}
	contractIDs(t, "live after the rollback", contractLive(t, s, access.GrantFilter{}), []string{"G1"})
	contractSameCounts(t, "counts after the rollback", contractCounts(t, s), before)
}

func contractNextDue(t *testing.T, s access.Store) {
	next := func() time.Time {
		t.Helper()
		var at time.Time
		contractView(t, s, func(tx access.Tx) (err error) { at, err = tx.NextDue(); return err })
		return at
	}
	if at := next(); !at.IsZero() {
		t.Errorf("NextDue of an empty store: %s", at)
	}
	g := contractActive(t, "G1", "jira-admin", "UALICE", contractT0, time.Hour) // warn at +50m
	contractPut(t, s, g)
	if at := next(); !at.Equal(contractT0.Add(50 * time.Minute)) {
		t.Errorf("NextDue with one grant: %s, want its warning", at)
	}
	r, _ := contractPending(t, "R1", "jira-admin", "UBOB", contractT0.Add(-30*time.Minute)) // until +30m
	contractPut(t, s, r)
	if at := next(); !at.Equal(contractT0.Add(30 * time.Minute)) {
		t.Errorf("NextDue with a request: %s, want its timeout", at)
	}
	it := contractReviewItem("RV1", "run1", "site-admins", "UCAROL", contractT0.Add(-24*time.Hour+10*time.Minute)) // deadline +10m
	contractPut(t, s, it)
	if at := next(); !at.Equal(contractT0.Add(10 * time.Minute)) {
		t.Errorf("NextDue with a review item: %s, want its deadline", at)
	}
}

func contractWatch(t *testing.T, s access.Store) {
	w, ok := s.(access.Watcher)
	if !ok {
		t.Fatalf("%T does not implement access.Watcher: the sweeper would have to poll", s)
	}
	var mu sync.Mutex
	var got []access.Commit
	stop := w.Watch(func(c access.Commit) { mu.Lock(); got = append(got, c); mu.Unlock() })
	commits := func() []access.Commit {
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}
	g := contractActive(t, "G1", "jira-admin", "UALICE", contractT0, time.Hour)
	contractPut(t, s, g)
	cs := commits()
	if len(cs) != 1 || !cs[0].Due.Equal(g.Due()) || cs[0].Counts == nil || cs[0].Counts.Grants[access.GrantActive] != 1 || cs[0].Outbox {
		t.Errorf("after putting an active grant: %+v, want one commit due at %s counting it, no outbox item", cs, g.Due())
	}
	contractPut(t, s, &access.Binding{SlackID: "UBOB", Email: "bob@example.com", At: contractT0})
	if cs := commits(); len(cs) != 0 {
		t.Errorf("a binding was reported: %+v", cs)
	}
	// An outbox item is reported, so the delivery loop sleeps until one is written; taking
	// one out is not (the loop does that itself).
	item := &access.OutboxItem{Channel: "C1", Body: json.RawMessage(`{"n":1}`), CreatedAt: contractT0}
	contractUpdate(t, s, func(tx access.Tx) error { return tx.PutOutbox(item) })
	if cs := commits(); len(cs) != 1 || !cs[0].Outbox || !cs[0].Due.IsZero() || cs[0].Counts != nil {
		t.Errorf("after putting an outbox item: %+v, want one commit with Outbox and nothing else", cs)
	}
	contractUpdate(t, s, func(tx access.Tx) error { return tx.DeleteOutbox(item.ID) })
	if cs := commits(); len(cs) != 0 {
		t.Errorf("taking an outbox item out was reported: %+v", cs)
	}
	_ = s.Update(t.Context(), func(tx access.Tx) error {
		if err := tx.PutOutbox(&access.OutboxItem{Channel: "C1", Body: json.RawMessage(`{"n":2}`), CreatedAt: contractT0}); err != nil {
			return err
		}
		return errContract
	})
	if cs := commits(); len(cs) != 0 {
		t.Errorf("a rolled-back outbox item was reported: %+v", cs)
	}
	_ = s.Update(t.Context(), func(tx access.Tx) error {
		if err := tx.PutGrant(contractActive(t, "G2", "jira-admin", "UBOB", contractT0, time.Minute)); err != nil {
			return err
		}
		return errContract
	})
	if cs := commits(); len(cs) != 0 {
		t.Errorf("a rolled-back update was reported: %+v", cs)
	}
	r, _ := contractPending(t, "R1", "jira-admin", "UBOB", contractT0)
	g2 := contractActive(t, "G2", "jira-admin", "UBOB", contractT0, 10*time.Minute) // warn at +8m
	contractPut(t, s, r, g2)
	cs = commits()
	if len(cs) != 1 || !cs[0].Due.Equal(g2.Due()) || cs[0].Counts == nil || cs[0].Counts.Pending != 1 || cs[0].Counts.Grants[access.GrantActive] != 2 {
		t.Errorf("after one update with a request and a grant: %+v, want one commit due at %s (the earliest), 1 pending, 2 active", cs, g2.Due())
	}
	stop()
	contractPut(t, s, contractActive(t, "G3", "jira-admin", "UCAROL", contractT0, time.Hour))
	if cs := commits(); len(cs) != 0 {
		t.Errorf("reported after stop: %+v", cs)
	}
}
