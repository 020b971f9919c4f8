package access_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// stuckProv holds every read of the blocked accounts until release is closed, as a slow
// Atlassian would.
type stuckProv struct {
	access.Provisioner
	blocked map[string]bool
	release chan struct{}
}

func (p *stuckProv) Has(ctx context.Context, a access.Account, t access.Target) (bool, error) {
	if p.blocked[a.ID] {
		select {
		case <-p.release:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return p.Provisioner.Has(ctx, a, t)
}

// TestRunSweeper_RestartRevokesFirst: after a restart, a grant that ended during the downtime
// is revoked while the intents left behind are still being re-driven, not after them.
func TestRunSweeper_RestartRevokesFirst(t *testing.T) {
	h := newHarness(t)
	r := h.submit(alice, "jira-software", time.Hour)
	if _, err := h.svc.Approve(h.ctx(), access.UserActor("U0LEAD"), r.ID); err != nil {
		t.Fatal(err)
	}
	// Five provisioning intents a crashed process left behind, whose accounts Atlassian is
	// slow to answer for.
	prov := &stuckProv{Provisioner: h.prov, blocked: map[string]bool{}, release: make(chan struct{})}
	role := h.policy.Role("jira-software")
	err := h.store.Update(h.ctx(), func(tx access.Tx) error {
		for i := range 5 {
			acct := access.Account{ID: fmt.Sprintf("acc-left%d", i), Email: fmt.Sprintf("left%d@example.com", i)}
			prov.blocked[acct.ID] = true
			req, _, err := access.NewRequest(fmt.Sprintf("LEFT%d", i), role, access.UserActor(fmt.Sprintf("U0LEFT%d", i)), acct, time.Hour, "x", t0)
			if err != nil {
				return err
			}
			if _, err := req.ApproveByPolicy(t0, "test"); err != nil {
				return err
			}
			g, _, err := access.NewGrant(req, role, t0, time.Hour) // leased well past the restart
			if err != nil {
				return err
			}
			if err := tx.PutRequest(req); err != nil {
				return err
			}
			if err := tx.PutGrant(g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer close(prov.release)

	h.clock.Advance(2 * time.Hour) // the downtime: alice's grant ended an hour ago
	svc := h.newService(h.store)
	svc.Provisioner, svc.After = prov, h.clock.After
	ctx, cancel := context.WithCancel(h.ctx())
	done := make(chan error, 1)
	go func() { done <- svc.RunSweeper(ctx, 15*time.Second) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(10 * time.Second)
	for h.grant(r.ID).Status != access.GrantRevoked {
		if time.Now().After(deadline) {
			t.Fatalf("the expired grant is %s: it waits behind the intents being re-driven", h.grant(r.ID).Status)
		}
		time.Sleep(2 * time.Millisecond)
	}
	for i := range 5 {
		if g := h.grant(fmt.Sprintf("LEFT%d", i)); g.Status != access.GrantProvisioning {
			t.Errorf("intent LEFT%d is %s; the test means it to be still held up", i, g.Status)
		}
	}
}
