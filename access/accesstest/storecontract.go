package accesstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// StoreContractKey is the audit key the stores given to StoreContract must be opened with.
var StoreContractKey = []byte("store-contract-audit-key")

// StoreContract runs the behaviour every access.Store must have. open returns a new, empty
// store whose audit key is StoreContractKey; it is called once per subtest.
func StoreContract(t *testing.T, open func(t *testing.T) access.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s access.Store)
	}{
		{"request_put_get", contractRequestPutGet},
		{"request_filters", contractRequestFilters},
		{"due_requests_pending_only", contractDueRequests},
		{"grant_put_get", contractGrantPutGet},
		{"grant_filters_and_account_index", contractGrantFilters},
		{"due_grants_follow_status", contractDueGrantsFollowStatus},
		{"due_grants_extend_leaves_no_stale_entry", contractDueGrantsExtend},
		{"due_grants_order_and_limit", contractDueGrantsOrder},
		{"rollback_on_error", contractRollback},
		{"view_is_read_only", contractViewReadOnly},
		{"cancelled_context", contractCancelledContext},
		{"audit_chain", contractAuditChain},
		{"audit_filters", contractAuditFilters},
		{"bindings", contractBindings},
		{"first_seen_replaces", contractFirstSeen},
		{"runs_newest_first_and_prune", contractRuns},
		{"review_items", contractReviewItems},
		{"concurrent_decisions_once", contractConcurrentDecisions},
		{"outbox_order_coalesce_delete", contractOutbox},
		{"outbox_written_with_the_change_or_not_at_all", contractOutboxRollback},
		{"inbox", contractInbox},
		// storelive.go
		{"live_index_follows_status", contractLiveGrants},
		{"pending_index_follows_status", contractPendingRequests},
		{"live_index_rollback", contractLiveRollback},
		{"next_due", contractNextDue},
		{"watch_reports_commits", contractWatch},
		// storehistory.go
		{"history_prune_each_kind", contractHistoryEachKind},
		{"history_prune_in_bounded_batches", contractHistoryBatches},
		{"history_prune_rollback", contractHistoryRollback},
		{"history_append_after_pruning_all", contractHistoryAppendAfterPruningAll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			tt.fn(t, s)
			contractIndexesConsistent(t, s)
			contractHistoryConsistent(t, s)
		})
	}
}

var contractT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const contractApprover = "UAPPROVER"

func contractRole(name string) *access.Role {
	return &access.Role{
		Name:            name,
		Grants:          []access.Target{access.GroupTarget(name + "-group"), access.RoleTarget("org-admin", "")},
		MaxDuration:     8 * time.Hour,
		DefaultDuration: time.Hour,
		Approvers:       []string{contractApprover},
		Approvals:       1,
		PendingTimeout:  time.Hour,
	}
}

func contractAccount(slackID string) access.Account {
	return access.Account{ID: "acc-" + slackID, Email: slackID + "@example.com", Name: slackID}
}

// contractPending returns a pending request of slackID for role, submitted at now.
func contractPending(t *testing.T, id, role, slackID string, now time.Time) (*access.Request, access.AuditEvent) {
	t.Helper()
	r, e, err := access.NewRequest(id, contractRole(role), access.UserActor(slackID), contractAccount(slackID), time.Hour, "debugging", now)
	if err != nil {
		t.Fatalf("new request %s: %v", id, err)
	}
	return r, e
}

// contractActive returns a grant of slackID for role, active from now for d.
func contractActive(t *testing.T, id, role, slackID string, now time.Time, d time.Duration) *access.Grant {
	t.Helper()
	r, _ := contractPending(t, id, role, slackID, now)
	r.Duration = d
	if _, err := r.Approve(access.UserActor(contractApprover), now, contractRole(role), []string{contractApprover}); err != nil {
		t.Fatalf("approve %s: %v", id, err)
	}
	g, _, err := access.NewGrant(r, contractRole(role), now, 5*time.Minute)
	if err != nil {
		t.Fatalf("new grant %s: %v", id, err)
	}
	for i := range g.Items {
		g.RecordPrior(i, false, "", now)
		g.Items[i].Added = true
	}
	if _, err := g.Activate(now); err != nil {
		t.Fatalf("activate %s: %v", id, err)
	}
	return g
}

func contractUpdate(t *testing.T, s access.Store, fn func(tx access.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func contractView(t *testing.T, s access.Store, fn func(tx access.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

func contractPut(t *testing.T, s access.Store, values ...any) {
	t.Helper()
	contractUpdate(t, s, func(tx access.Tx) error {
		for _, v := range values {
			var err error
			switch v := v.(type) {
			case *access.Request:
				err = tx.PutRequest(v)
			case *access.Grant:
				err = tx.PutGrant(v)
			case *access.Run:
				err = tx.PutRun(v)
			case *access.Binding:
				err = tx.PutBinding(v)
			case *access.ReviewItem:
				err = tx.PutReviewItem(v)
			default:
				err = fmt.Errorf("contractPut: %T", v)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// contractSame fails unless got and want have the same JSON encoding.
func contractSame(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func contractCode(t *testing.T, what string, err error, want access.Code) {
	t.Helper()
	if got := access.ErrorCode(err); got != want {
		t.Errorf("%s: error code %q (%v), want %q", what, got, err, want)
	}
}

func requestIDs(rs []*access.Request) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func grantIDs(gs []*access.Grant) []string {
	var ids []string
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	return ids
}

func runIDs(rs []*access.Run) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func contractIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func contractRequestPutGet(t *testing.T, s access.Store) {
	r, e := contractPending(t, "REQ1", "jira-admin", "UALICE", contractT0)
	contractUpdate(t, s, func(tx access.Tx) error {
		if err := tx.PutRequest(r); err != nil {
			return err
		}
		return tx.AppendAudit(&e)
	})
	r.Reason = "changed after put"
	contractView(t, s, func(tx access.Tx) error {
		got, err := tx.Request("REQ1")
		if err != nil {
			return err
		}
		want, _ := contractPending(t, "REQ1", "jira-admin", "UALICE", contractT0)
		contractSame(t, "stored request", got, want)
		got.Status = access.RequestDenied
		again, err := tx.Request("REQ1")
		if err != nil {
			return err
		}
		if again.Status != access.RequestPending {
			t.Errorf("changing a returned request changed the store: status %s", again.Status)
		}
		_, err = tx.Request("NOPE")
		contractCode(t, "missing request", err, access.ENOTFOUND)
		return nil
	})
	err := s.Update(t.Context(), func(tx access.Tx) error { return tx.PutRequest(&access.Request{}) })
	contractCode(t, "request without ID", err, access.EINVALID)
}

func contractRequestFilters(t *testing.T, s access.Store) {
	a, _ := contractPending(t, "A", "jira-admin", "UALICE", contractT0)
	b, _ := contractPending(t, "B", "jira-admin", "UBOB", contractT0.Add(time.Minute))
	if _, err := b.Approve(access.UserActor(contractApprover), contractT0.Add(2*time.Minute), contractRole("jira-admin"), []string{contractApprover}); err != nil {
		t.Fatal(err)
	}
	c, _ := contractPending(t, "C", "jira-admin", "UALICE", contractT0.Add(-time.Minute)) // oldest
	c.Kind, c.GrantID = access.KindExtend, "G1"
	contractPut(t, s, b, a, c)
	tests := []struct {
		name string
		f    access.RequestFilter
		want []string
	}{
		{"all_oldest_first", access.RequestFilter{}, []string{"C", "A", "B"}},
		{"pending", access.RequestFilter{Status: []access.RequestStatus{access.RequestPending}}, []string{"C", "A"}},
		{"two_statuses", access.RequestFilter{Status: []access.RequestStatus{access.RequestApproved, access.RequestDenied}}, []string{"B"}},
		{"requester", access.RequestFilter{Requester: "UBOB"}, []string{"B"}},
		{"grant", access.RequestFilter{GrantID: "G1"}, []string{"C"}},
		{"requester_and_status", access.RequestFilter{Requester: "UALICE", Status: []access.RequestStatus{access.RequestApproved}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			contractView(t, s, func(tx access.Tx) error {
				got, err := tx.Requests(tt.f)
				contractIDs(t, "requests", requestIDs(got), tt.want)
				return err
			})
		})
	}
}

func contractDueRequests(t *testing.T, s access.Store) {
	a, _ := contractPending(t, "A", "jira-admin", "UALICE", contractT0) // until t0+1h
	b, _ := contractPending(t, "B", "jira-admin", "UBOB", contractT0.Add(-30*time.Minute))
	c, _ := contractPending(t, "C", "jira-admin", "UCAROL", contractT0.Add(-50*time.Minute))
	contractPut(t, s, a, b, c)
	if _, err := c.Approve(access.UserActor(contractApprover), contractT0, contractRole("jira-admin"), []string{contractApprover}); err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, c) // approved: leaves the index
	due := func(now time.Time, limit int) []string {
		var got []*access.Request
		contractView(t, s, func(tx access.Tx) (err error) {
			got, err = tx.DueRequests(now, limit)
			return err
		})
		return requestIDs(got)
	}
	contractIDs(t, "due before any", due(contractT0.Add(29*time.Minute), 0), nil)
	contractIDs(t, "due exactly at B", due(contractT0.Add(30*time.Minute), 0), []string{"B"})
	contractIDs(t, "due all pending, oldest first", due(contractT0.Add(2*time.Hour), 0), []string{"B", "A"})
	contractIDs(t, "due with limit", due(contractT0.Add(2*time.Hour), 1), []string{"B"})
	if _, err := b.Expire(contractT0.Add(31 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, b)
	contractIDs(t, "due after B expired", due(contractT0.Add(2*time.Hour), 0), []string{"A"})
	a.PendingUntil = contractT0.Add(3 * time.Hour) // moved later: no stale entry at t0+1h
	contractPut(t, s, a)
	contractIDs(t, "due after A moved later", due(contractT0.Add(2*time.Hour), 0), nil)
	contractIDs(t, "due at A's new time", due(contractT0.Add(3*time.Hour), 0), []string{"A"})
}

func contractGrantPutGet(t *testing.T, s access.Store) {
	g := contractActive(t, "G1", "jira-admin", "UALICE", contractT0, time.Hour)
	want := contractActive(t, "G1", "jira-admin", "UALICE", contractT0, time.Hour)
	contractPut(t, s, g)
	g.Items[0].Removed = true
	contractView(t, s, func(tx access.Tx) error {
		got, err := tx.Grant("G1")
		if err != nil {
			return err
		}
		contractSame(t, "stored grant", got, want)
		got.Items[0].Removed = true
		again, err := tx.Grant("G1")
		if err != nil {
			return err
		}
		if again.Items[0].Removed {
			t.Errorf("changing a returned grant's item changed the store")
		}
		_, err = tx.Grant("NOPE")
		contractCode(t, "missing grant", err, access.ENOTFOUND)
		return nil
	})
	err := s.Update(t.Context(), func(tx access.Tx) error { return tx.PutGrant(&access.Grant{}) })
	contractCode(t, "grant without ID", err, access.EINVALID)
}

// contractRevoked returns g revoked at now.
func contractRevoked(t *testing.T, g *access.Grant, now time.Time) *access.Grant {
	t.Helper()
	if _, err := g.BeginRevoke(g.Holder, false, "done", now, 5*time.Minute); err != nil {
		t.Fatalf("begin revoke %s: %v", g.ID, err)
	}
	for i := range g.Items {
		g.ItemRemoved(i, true, now)
	}
	if _, err := g.MarkRevoked(now); err != nil {
		t.Fatalf("mark revoked %s: %v", g.ID, err)
	}
	return g
}

func contractGrantFilters(t *testing.T, s access.Store) {
	g1 := contractActive(t, "G1", "jira-admin", "UALICE", contractT0, time.Hour)
	g2 := contractActive(t, "G2", "confluence-admin", "UBOB", contractT0.Add(time.Minute), time.Hour)
	g3 := contractRevoked(t, contractActive(t, "G3", "jira-admin", "UALICE", contractT0.Add(-time.Hour), time.Hour), contractT0)
	g4 := contractActive(t, "G4", "jira-admin", "UALICE2", contractT0.Add(2*time.Minute), time.Hour) // account ID with UALICE's as prefix
	contractPut(t, s, g4, g3, g2, g1)
	active := []access.GrantStatus{access.GrantActive}
	tests := []struct {
		name string
		f    access.GrantFilter
		want []string
	}{
		{"all_oldest_first", access.GrantFilter{}, []string{"G3", "G1", "G2", "G4"}},
		{"active", access.GrantFilter{Status: active}, []string{"G1", "G2", "G4"}},
		{"account", access.GrantFilter{AccountID: "acc-UALICE"}, []string{"G3", "G1"}},
		{"account_active", access.GrantFilter{AccountID: "acc-UALICE", Status: active}, []string{"G1"}},
		{"account_unknown", access.GrantFilter{AccountID: "acc-UNOBODY"}, nil},
		{"holder", access.GrantFilter{Holder: "UBOB"}, []string{"G2"}},
		{"role_any_case", access.GrantFilter{Role: "CONFLUENCE-ADMIN"}, []string{"G2"}},
		{"role_and_holder", access.GrantFilter{Role: "jira-admin", Holder: "UALICE"}, []string{"G3", "G1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			contractView(t, s, func(tx access.Tx) error {
				got, err := tx.Grants(tt.f)
				contractIDs(t, "grants", grantIDs(got), tt.want)
				return err
			})
		})
	}
	t.Run("account_moved", func(t *testing.T) {
		g1.Account.ID = "acc-NEW"
		contractPut(t, s, g1)
		contractView(t, s, func(tx access.Tx) error {
			old, err := tx.Grants(access.GrantFilter{AccountID: "acc-UALICE"})
			if err != nil {
				return err
			}
			contractIDs(t, "old account", grantIDs(old), []string{"G3"})
			moved, err := tx.Grants(access.GrantFilter{AccountID: "acc-NEW"})
			contractIDs(t, "new account", grantIDs(moved), []string{"G1"})
			return err
		})
	})
}

func contractDue(t *testing.T, s access.Store, now time.Time, limit int) []string {
	t.Helper()
	var got []*access.Grant
	contractView(t, s, func(tx access.Tx) (err error) {
		got, err = tx.DueGrants(now, limit)
		return err
	})
	for _, g := range got {
		if g.Due().After(now) || g.Due().IsZero() {
			t.Errorf("DueGrants(%s) returned %s due %s", now, g.ID, g.Due())
		}
	}
	return grantIDs(got)
}

func contractDueGrantsFollowStatus(t *testing.T, s access.Store) {
	g := contractActive(t, "G1", "jira-admin", "UALICE", contractT0, time.Hour) // warn at +50m, ends +1h
	contractPut(t, s, g)
	contractIDs(t, "before warning", contractDue(t, s, contractT0.Add(49*time.Minute), 0), nil)
	contractIDs(t, "at warning", contractDue(t, s, contractT0.Add(50*time.Minute), 0), []string{"G1"})

	g.MarkWarned(contractT0.Add(50 * time.Minute))
	contractPut(t, s, g)
	contractIDs(t, "warned, before end", contractDue(t, s, contractT0.Add(59*time.Minute), 0), nil)
	contractIDs(t, "warned, at end", contractDue(t, s, contractT0.Add(time.Hour), 0), []string{"G1"})

	end := contractT0.Add(time.Hour)
	if _, err := g.BeginRevoke(access.SystemActor, false, "expired", end, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, g)
	contractIDs(t, "revoking, leased", contractDue(t, s, end.Add(4*time.Minute), 0), nil)
	contractIDs(t, "revoking, lease over", contractDue(t, s, end.Add(5*time.Minute), 0), []string{"G1"})

	for i := range g.Items {
		g.ItemRemoved(i, true, end.Add(time.Minute))
	}
	if _, err := g.MarkRevoked(end.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, g)
	contractIDs(t, "revoked", contractDue(t, s, end.Add(1000*time.Hour), 0), nil)
}

func contractDueGrantsExtend(t *testing.T, s access.Store) {
	g := contractActive(t, "G1", "jira-admin", "UALICE", contractT0, time.Hour)
	g.MarkWarned(contractT0.Add(50 * time.Minute))
	contractPut(t, s, g, g) // putting twice leaves one entry
	contractIDs(t, "once", contractDue(t, s, contractT0.Add(time.Hour), 0), []string{"G1"})

	ext, _ := contractPending(t, "EXT1", "jira-admin", "UALICE", contractT0.Add(55*time.Minute))
	if _, err := g.Extend(ext, time.Hour, contractRole("jira-admin"), contractT0.Add(56*time.Minute)); err != nil {
		t.Fatal(err)
	}
	contractPut(t, s, g) // due moves from +1h to the new warning at +1h50m
	contractIDs(t, "old due time", contractDue(t, s, contractT0.Add(90*time.Minute), 0), nil)
	contractIDs(t, "new due time", contractDue(t, s, contractT0.Add(110*time.Minute), 0), []string{"G1"})
}

func contractDueGrantsOrder(t *testing.T, s access.Store) {
	// Warned grants are due at their end.
	var gs []any
	for _, c := range []struct {
		id string
		d  time.Duration
	}{{"E", 3 * time.Hour}, {"B", time.Hour}, {"D", 2 * time.Hour}, {"A", time.Hour}, {"C", 90 * time.Minute}, {"F", 5 * time.Hour}} {
		g := contractActive(t, c.id, "jira-admin", "U"+c.id, contractT0, c.d)
		g.MarkWarned(contractT0)
		gs = append(gs, g)
	}
	contractPut(t, s, gs...)
	now := contractT0.Add(3 * time.Hour)
	contractIDs(t, "earliest first, ties by ID", contractDue(t, s, now, 0), []string{"A", "B", "C", "D", "E"})
	contractIDs(t, "limit", contractDue(t, s, now, 2), []string{"A", "B"})
	contractIDs(t, "nothing due", contractDue(t, s, contractT0, 0), nil)
}

var errContract = errors.New("contract: fail on purpose")

func contractRollback(t *testing.T, s access.Store) {
	g := contractActive(t, "G1", "jira-admin", "UALICE", contractT0, time.Hour)
	g.MarkWarned(contractT0)
	contractPut(t, s, g)

	r, e := contractPending(t, "R1", "jira-admin", "UBOB", contractT0)
	err := s.Update(t.Context(), func(tx access.Tx) error {
		if err := tx.PutRequest(r); err != nil {
			return err
		}
		if err := tx.AppendAudit(&e); err != nil {
			return err
		}
		g2 := contractActive(t, "G2", "jira-admin", "UBOB", contractT0, time.Minute)
		if err := tx.PutGrant(g2); err != nil {
			return err
		}
		changed, err := tx.Grant("G1")
		if err != nil {
			return err
		}
		if _, err := changed.BeginRevoke(changed.Holder, false, "stop", contractT0.Add(time.Minute), time.Minute); err != nil {
			return err
		}
		if err := tx.PutGrant(changed); err != nil {
			return err
		}
		if err := tx.PutBinding(&access.Binding{SlackID: "UBOB", Email: "bob@example.com", At: contractT0}); err != nil {
			return err
		}
		if err := tx.PutFirstSeen("external", map[string]time.Time{"acc-x": contractT0}); err != nil {
			return err
		}
		if err := tx.PutRun(&access.Run{ID: "RUN1", Kind: access.RunSync, Name: "sync", Started: contractT0, Outcome: "ok"}); err != nil {
			return err
		}
		if _, err := tx.PruneRuns(contractT0.Add(time.Hour)); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errContract)
	})
	if !errors.Is(err, errContract) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	contractView(t, s, func(tx access.Tx) error {
		_, err := tx.Request("R1")
		contractCode(t, "rolled-back request", err, access.ENOTFOUND)
		_, err = tx.Grant("G2")
		contractCode(t, "rolled-back grant", err, access.ENOTFOUND)
		_, err = tx.Binding("UBOB")
		contractCode(t, "rolled-back binding", err, access.ENOTFOUND)
		g1, err := tx.Grant("G1")
		if err != nil {
			return err
		}
		if g1.Status != access.GrantActive {
			t.Errorf("G1 is %s after a rolled-back revoke, want active", g1.Status)
		}
		if seen, err := tx.FirstSeen("external"); err != nil || len(seen) != 0 {
			t.Errorf("first seen after rollback: %v, %v", seen, err)
		}
		if runs, err := tx.Runs("", 0); err != nil || len(runs) != 0 {
			t.Errorf("runs after rollback: %v, %v", runIDs(runs), err)
		}
		if ev, err := tx.AuditEvents(access.AuditFilter{}); err != nil || len(ev) != 0 {
			t.Errorf("audit events after rollback: %d, %v", len(ev), err)
		}
		if due, err := tx.DueRequests(contractT0.Add(24*time.Hour), 0); err != nil || len(due) != 0 {
			t.Errorf("due requests after rollback: %v, %v", requestIDs(due), err)
		}
		return nil
	})
	contractIDs(t, "due grants after rollback", contractDue(t, s, contractT0.Add(59*time.Minute), 0), nil)
	contractIDs(t, "due grants at G1's end", contractDue(t, s, contractT0.Add(time.Hour), 0), []string{"G1"})

	// The chain goes on from where it was: the rolled-back event left no trace.
	e2 := access.AuditEvent{Time: contractT0, Action: access.ActionRun, Actor: access.SystemActor, Subject: "after"}
	contractUpdate(t, s, func(tx access.Tx) error { return tx.AppendAudit(&e2) })
	if e2.Seq != 1 || e2.PrevHash != "" {
		t.Errorf("first event after a rollback: seq %d prev %q, want 1 and empty", e2.Seq, e2.PrevHash)
	}
}

func contractViewReadOnly(t *testing.T, s access.Store) {
	r, e := contractPending(t, "R1", "jira-admin", "UBOB", contractT0)
	writes := map[string]func(tx access.Tx) error{
		"put_request": func(tx access.Tx) error { return tx.PutRequest(r) },
		"put_grant": func(tx access.Tx) error {
			return tx.PutGrant(contractActive(t, "G1", "jira-admin", "UBOB", contractT0, time.Hour))
		},
		"append_audit": func(tx access.Tx) error { return tx.AppendAudit(&e) },
		"put_binding":  func(tx access.Tx) error { return tx.PutBinding(&access.Binding{SlackID: "UBOB"}) },
		"put_first_seen": func(tx access.Tx) error {
			return tx.PutFirstSeen("s", map[string]time.Time{"a": contractT0})
		},
		"put_run": func(tx access.Tx) error { return tx.PutRun(&access.Run{ID: "RUN1", Name: "x", Started: contractT0}) },
	}
	for name, w := range writes {
		if err := s.View(t.Context(), w); err == nil {
			t.Errorf("%s inside View succeeded", name)
		}
	}
	contractView(t, s, func(tx access.Tx) error {
		_, err := tx.Request("R1")
		contractCode(t, "request written in View", err, access.ENOTFOUND)
		return nil
	})
}

func contractCancelledContext(t *testing.T, s access.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	fn := func(access.Tx) error { called = true; return nil }
	if err := s.Update(ctx, fn); err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a cancelled context: %v", err)
	}
	if err := s.View(ctx, fn); err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("View with a cancelled context: %v", err)
	}
	if called {
		t.Errorf("fn ran with a cancelled context")
	}
}

func contractEvent(action access.Action, subject, role, member string, actor access.Actor, at time.Time) access.AuditEvent {
	return access.AuditEvent{Time: at, Action: action, Actor: actor, Subject: subject, Role: role, Member: member, Detail: "d " + subject}
}

func contractAppend(t *testing.T, s access.Store, events ...access.AuditEvent) []access.AuditEvent {
	t.Helper()
	contractUpdate(t, s, func(tx access.Tx) error {
		for i := range events {
			if err := tx.AppendAudit(&events[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return events
}

func contractAuditChain(t *testing.T, s access.Store) {
	alice := access.UserActor("UALICE")
	var appended []access.AuditEvent
	for i := range 3 { // one transaction each
		appended = append(appended, contractAppend(t, s, contractEvent(access.ActionRequestSubmitted, fmt.Sprintf("R%d", i), "jira-admin", "alice@example.com", alice, contractT0.Add(time.Duration(i)*time.Minute)))...)
	}
	appended = append(appended, contractAppend(t, s, // two in one transaction
		contractEvent(access.ActionGrantActive, "R0", "jira-admin", "alice@example.com", access.SystemActor, contractT0.Add(10*time.Minute)),
		contractEvent(access.ActionGrantRevoked, "R0", "jira-admin", "alice@example.com", access.SystemActor, contractT0.Add(70*time.Minute)),
	)...)
	for i, e := range appended {
		if e.Seq != uint64(i+1) || e.Hash == "" {
			t.Errorf("appended event %d: seq %d hash %q, want seq %d and a hash", i, e.Seq, e.Hash, i+1)
		}
	}
	var stored []access.AuditEvent
	contractView(t, s, func(tx access.Tx) (err error) {
		stored, err = tx.AuditEvents(access.AuditFilter{})
		return err
	})
	if len(stored) != 5 {
		t.Fatalf("stored %d events, want 5", len(stored))
	}
	contractSame(t, "stored events", stored, appended)
	if brk := access.VerifyChain(stored, StoreContractKey); brk != nil {
		t.Errorf("intact chain: break at %d: %s", brk.Seq, brk.Reason)
	}
	if brk := access.VerifyChain(stored, []byte("another key")); brk == nil || brk.Seq != 1 {
		t.Errorf("wrong key: break %+v, want at 1", brk)
	}
	edited := slices.Clone(stored)
	edited[2].Detail = "nothing to see"
	if brk := access.VerifyChain(edited, StoreContractKey); brk == nil || brk.Seq != 3 {
		t.Errorf("edited event 3: break %+v, want at 3", brk)
	}
	dropped := slices.Delete(slices.Clone(stored), 1, 2)
	if brk := access.VerifyChain(dropped, StoreContractKey); brk == nil || brk.Seq != 3 {
		t.Errorf("deleted event 2: break %+v, want at 3", brk)
	}
}

func contractAuditFilters(t *testing.T, s access.Store) {
	alice, bob := access.UserActor("UALICE"), access.UserActor("UBOB")
	contractAppend(t, s,
		contractEvent(access.ActionRequestSubmitted, "R1", "jira-admin", "alice@example.com", alice, contractT0),
		contractEvent(access.ActionRequestApproved, "R1", "jira-admin", "alice@example.com", bob, contractT0.Add(time.Minute)),
		contractEvent(access.ActionRequestSubmitted, "R2", "confluence-admin", "bob@example.com", bob, contractT0.Add(2*time.Minute)),
		contractEvent(access.ActionGrantActive, "R1", "jira-admin", "alice@example.com", access.SystemActor, contractT0.Add(3*time.Minute)),
		contractEvent(access.ActionRun, "nightly", "", "", access.PolicyActor, contractT0.Add(4*time.Minute)),
	)
	tests := []struct {
		name string
		f    access.AuditFilter
		want []uint64
	}{
		{"all", access.AuditFilter{}, []uint64{1, 2, 3, 4, 5}},
		{"since", access.AuditFilter{Since: contractT0.Add(2 * time.Minute)}, []uint64{3, 4, 5}},
		{"subject", access.AuditFilter{Subject: "R1"}, []uint64{1, 2, 4}},
		{"member_any_case", access.AuditFilter{Member: "Alice@Example.com"}, []uint64{1, 2, 4}},
		{"role", access.AuditFilter{Role: "confluence-admin"}, []uint64{3}},
		{"actor_user", access.AuditFilter{Actor: "UBOB"}, []uint64{2, 3}},
		{"actor_system", access.AuditFilter{Actor: access.SystemActor.String()}, []uint64{4}},
		{"limit_newest_in_order", access.AuditFilter{Limit: 2}, []uint64{4, 5}},
		{"limit_with_filter", access.AuditFilter{Subject: "R1", Limit: 2}, []uint64{2, 4}},
		{"limit_above_count", access.AuditFilter{Limit: 50}, []uint64{1, 2, 3, 4, 5}},
		{"no_match", access.AuditFilter{Subject: "R9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			contractView(t, s, func(tx access.Tx) error {
				got, err := tx.AuditEvents(tt.f)
				var seqs []uint64
				for _, e := range got {
					seqs = append(seqs, e.Seq)
				}
				if !slices.Equal(seqs, tt.want) {
					t.Errorf("events %v, want %v", seqs, tt.want)
				}
				return err
			})
		})
	}
}

func contractBindings(t *testing.T, s access.Store) {
	contractView(t, s, func(tx access.Tx) error {
		_, err := tx.Binding("UALICE")
		contractCode(t, "missing binding", err, access.ENOTFOUND)
		return nil
	})
	first := &access.Binding{SlackID: "UALICE", Email: "alice@example.com", Account: contractAccount("UALICE"), At: contractT0}
	second := &access.Binding{SlackID: "UALICE", Email: "alice@new.example.com", Account: access.Account{ID: "acc-2"}, At: contractT0.Add(time.Hour)}
	contractPut(t, s, first)
	contractView(t, s, func(tx access.Tx) error {
		got, err := tx.Binding("UALICE")
		contractSame(t, "binding", got, first)
		return err
	})
	contractPut(t, s, second)
	contractView(t, s, func(tx access.Tx) error {
		got, err := tx.Binding("UALICE")
		contractSame(t, "replaced binding", got, second)
		return err
	})
	err := s.Update(t.Context(), func(tx access.Tx) error { return tx.PutBinding(&access.Binding{}) })
	contractCode(t, "binding without Slack ID", err, access.EINVALID)
}

func contractFirstSeen(t *testing.T, s access.Store) {
	get := func(sweep string) map[string]time.Time {
		var seen map[string]time.Time
		contractView(t, s, func(tx access.Tx) (err error) {
			seen, err = tx.FirstSeen(sweep)
			return err
		})
		if seen == nil {
			t.Errorf("FirstSeen(%s) returned a nil map", sweep)
		}
		return seen
	}
	put := func(sweep string, seen map[string]time.Time) {
		contractUpdate(t, s, func(tx access.Tx) error { return tx.PutFirstSeen(sweep, seen) })
	}
	same := func(what string, got, want map[string]time.Time) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || !g.Equal(w) {
				t.Errorf("%s: %s = %v, want %v", what, k, g, w)
			}
		}
	}
	same("never run", get("external"), nil)
	put("external", map[string]time.Time{"acc-a": contractT0, "acc-b": contractT0.Add(24 * time.Hour)})
	put("inactive", map[string]time.Time{"acc-z": contractT0})
	same("first put", get("external"), map[string]time.Time{"acc-a": contractT0, "acc-b": contractT0.Add(24 * time.Hour)})
	put("external", map[string]time.Time{"acc-b": contractT0.Add(24 * time.Hour), "acc-c": contractT0.Add(48 * time.Hour)})
	same("replaced, not merged", get("external"), map[string]time.Time{"acc-b": contractT0.Add(24 * time.Hour), "acc-c": contractT0.Add(48 * time.Hour)})
	same("other sweep untouched", get("inactive"), map[string]time.Time{"acc-z": contractT0})
	put("external", nil)
	same("emptied", get("external"), nil)
}

func contractRuns(t *testing.T, s access.Store) {
	run := func(id, name string, started time.Time) *access.Run {
		return &access.Run{ID: id, Kind: access.RunSync, Name: name, Started: started, Outcome: "ok"}
	}
	contractPut(t, s,
		run("A1", "sync-a", contractT0),
		run("B1", "sweep-b", contractT0.Add(30*time.Minute)),
		run("A2", "sync-a", contractT0.Add(time.Hour)),
		run("B2", "sweep-b", contractT0.Add(90*time.Minute)),
		run("A3", "sync-a", contractT0.Add(2*time.Hour)),
		run("S1", "sync", contractT0.Add(3*time.Hour)), // a name that prefixes another
	)
	finished := run("A3", "sync-a", contractT0.Add(2*time.Hour))
	finished.Finished, finished.Changes = contractT0.Add(2*time.Hour+time.Minute), []access.Change{{Op: access.OpAdd, Account: contractAccount("UX"), Group: "g", Reason: "rule"}}
	contractPut(t, s, finished) // replaces, no duplicate
	list := func(name string, limit int) []string {
		var got []*access.Run
		contractView(t, s, func(tx access.Tx) (err error) {
			got, err = tx.Runs(name, limit)
			return err
		})
		return runIDs(got)
	}
	contractIDs(t, "by name, newest first", list("sync-a", 0), []string{"A3", "A2", "A1"})
	contractIDs(t, "by name, limit", list("sync-a", 2), []string{"A3", "A2"})
	contractIDs(t, "prefix name", list("sync", 0), []string{"S1"})
	contractIDs(t, "all, newest first", list("", 0), []string{"S1", "A3", "B2", "A2", "B1", "A1"})
	contractIDs(t, "unknown name", list("nope", 0), nil)
	contractView(t, s, func(tx access.Tx) error {
		got, err := tx.Runs("sync-a", 1)
		if err == nil && len(got) == 1 {
			contractSame(t, "replaced run", got[0], finished)
		}
		return err
	})
	var n int
	contractUpdate(t, s, func(tx access.Tx) (err error) {
		n, err = tx.PruneRuns(contractT0.Add(time.Hour)) // A1, B1; A2 started exactly then stays
		return err
	})
	if n != 2 {
		t.Errorf("pruned %d runs, want 2", n)
	}
	contractIDs(t, "after prune", list("", 0), []string{"S1", "A3", "B2", "A2"})
	contractIDs(t, "by name after prune", list("sweep-b", 0), []string{"B2"})

	// A backlog goes PruneBatch at a time, oldest first, so no transaction grows with it.
	var backlog []any
	for i := range access.PruneBatch + 5 {
		backlog = append(backlog, run(fmt.Sprintf("OLD%03d", i), "sync-old", contractT0.Add(-time.Duration(i+1)*time.Minute)))
	}
	contractPut(t, s, backlog...)
	var counts []int
	for range 3 {
		contractUpdate(t, s, func(tx access.Tx) (err error) {
			n, err = tx.PruneRuns(contractT0)
			return err
		})
		counts = append(counts, n)
	}
	if !slices.Equal(counts, []int{access.PruneBatch, 5, 0}) {
		t.Errorf("pruning a backlog of %d: %v deleted per call, want [%d 5 0]", access.PruneBatch+5, counts, access.PruneBatch)
	}
	contractIDs(t, "after pruning the backlog", list("", 0), []string{"S1", "A3", "B2", "A2"})
}
