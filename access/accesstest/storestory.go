package accesstest

import (
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

var storyRole = &access.Role{
	Name: "jira-admin", Grants: []access.Target{access.GroupTarget("jira-admins")},
	MaxDuration: 8 * time.Hour, DefaultDuration: time.Hour, Approvers: []string{"UBOB"}, Approvals: 1,
}

// StoreStory takes request id through the four transitions of a grant's life (submit, approve,
// activate, revoke), each in its own Update with its audit event, as the domain does. Store
// benchmarks use it to compare backends on the same work.
func StoreStory(tb testing.TB, s access.Store, id string, now time.Time) {
	tb.Helper()
	ActiveStory(tb, s, id, now, time.Hour)
	runSteps(tb, s, id, []func(tx access.Tx) (access.AuditEvent, error){
		func(tx access.Tx) (access.AuditEvent, error) {
			g, err := tx.Grant(id)
			if err != nil {
				return access.AuditEvent{}, err
			}
			end := now.Add(time.Hour)
			if _, err := g.BeginRevoke(access.SystemActor, false, "expired", end, time.Minute); err != nil {
				return access.AuditEvent{}, err
			}
			for i := range g.Items {
				g.ItemRemoved(i, true, end)
			}
			e, err := g.MarkRevoked(end)
			if err == nil {
				err = tx.PutGrant(g)
			}
			return e, err
		},
	})
}

// ActiveStory writes request id through to an active grant of d (submit, approve, activate),
// each transition in its own Update with its audit event.
func ActiveStory(tb testing.TB, s access.Store, id string, now time.Time, d time.Duration) {
	tb.Helper()
	alice := access.UserActor("UALICE")
	acc := access.Account{ID: "acc-alice", Email: "alice@example.com"}
	steps := []func(tx access.Tx) (access.AuditEvent, error){
		func(tx access.Tx) (access.AuditEvent, error) {
			r, e, err := access.NewRequest(id, storyRole, alice, acc, d, "debugging", now)
			if err == nil {
				err = tx.PutRequest(r)
			}
			return e, err
		},
		func(tx access.Tx) (access.AuditEvent, error) {
			r, err := tx.Request(id)
			if err != nil {
				return access.AuditEvent{}, err
			}
			e, err := r.Approve(access.UserActor("UBOB"), now, storyRole, []string{"UBOB"})
			if err == nil {
				err = tx.PutRequest(r)
			}
			return e, err
		},
		func(tx access.Tx) (access.AuditEvent, error) {
			r, err := tx.Request(id)
			if err != nil {
				return access.AuditEvent{}, err
			}
			g, _, err := access.NewGrant(r, storyRole, now, time.Minute)
			if err != nil {
				return access.AuditEvent{}, err
			}
			for i := range g.Items {
				g.RecordPrior(i, false, "", now)
				g.Items[i].Added = true
			}
			e, err := g.Activate(now)
			if err == nil {
				err = tx.PutGrant(g)
			}
			return e, err
		},
	}
	runSteps(tb, s, id, steps)
}

func runSteps(tb testing.TB, s access.Store, id string, steps []func(tx access.Tx) (access.AuditEvent, error)) {
	tb.Helper()
	for _, step := range steps {
		err := s.Update(tb.Context(), func(tx access.Tx) error {
			e, err := step(tx)
			if err != nil {
				return err
			}
			return tx.AppendAudit(&e)
		})
		if err != nil {
			tb.Fatalf("story %s: %v", id, err)
		}
	}
}
