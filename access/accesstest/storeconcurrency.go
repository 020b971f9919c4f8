package accesstest

import (
	"sync"
	"testing"

	"github.com/jitbot/jitbot/access"
)

// contractConcurrentDecisions: many transactions approve the same pending request at once;
// exactly one succeeds, the others see it decided, and the chain holds one approval.
func contractConcurrentDecisions(t *testing.T, s access.Store) {
	r, e := contractPending(t, "REQC", "jira-admin", "UALICE", contractT0)
	contractUpdate(t, s, func(tx access.Tx) error {
		if err := tx.PutRequest(r); err != nil {
			return err
		}
		return tx.AppendAudit(&e)
	})
	const clicks = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range clicks {
		wg.Go(func() {
			err := s.Update(t.Context(), func(tx access.Tx) error {
				cur, err := tx.Request("REQC")
				if err != nil {
					return err
				}
				if cur.Status != access.RequestPending {
					return access.Errorf(access.ECONFLICT, "Request %s is already %s.", cur.ID, cur.Status)
				}
				ev, err := cur.ApproveByPolicy(contractT0, "contract")
				if err != nil {
					return err
				}
				if err := tx.PutRequest(cur); err != nil {
					return err
				}
				return tx.AppendAudit(&ev)
			})
			switch access.ErrorCode(err) {
			case "":
				mu.Lock()
				wins++
				mu.Unlock()
			case access.ECONFLICT:
			default:
				t.Errorf("concurrent approve: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d of %d concurrent approvals succeeded, want exactly 1", wins, clicks)
	}
	contractView(t, s, func(tx access.Tx) error {
		evs, err := tx.AuditEvents(access.AuditFilter{Subject: "REQC"})
		if err != nil {
			return err
		}
		if len(evs) != 2 || evs[1].Action != access.ActionRequestApproved {
			t.Errorf("audit of REQC: %d events, want submitted + one approval", len(evs))
		}
		all, err := tx.AuditEvents(access.AuditFilter{})
		if err != nil {
			return err
		}
		if b := access.VerifyChain(all, StoreContractKey); b != nil {
			t.Errorf("chain broken after concurrent approvals: %+v", b)
		}
		return nil
	})
}
