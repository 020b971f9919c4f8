package access

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Verifier is a Provisioner that reads back many accounts at once: Holding returns which of
// accounts hold t, in fewer calls than one Has each (for a group, one users/search per ten
// accounts, or one listing of the group when that is cheaper). Like Has, it may lag a change
// by the consistency window.
type Verifier interface {
	Holding(ctx context.Context, t Target, accounts []Account) (map[string]bool, error)
}

// verifyBatch gathers the removals of one sweep batch, so they are read back together: one
// read per target touched instead of one per removal. Each grant stays held (busy) by this
// process until finish has recorded its outcome, and is marked ended only once read back gone.
type verifyBatch struct {
	mu     sync.Mutex
	grants []*batchGrant
	closed bool // being read back: too late to join
}

type batchGrant struct {
	g       *Grant
	removed []int
	release func()
}

// add hands g's removals to the batch, or reports false when the batch is already being read
// back and the caller must read them back itself.
func (b *verifyBatch) add(g *Grant, removed []int, release func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.grants = append(b.grants, &batchGrant{g: g, removed: removed, release: release})
	return true
}

// close ends the batch and returns its grants.
func (b *verifyBatch) close() []*batchGrant {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.grants
}

// targetReads is what the read-backs of one target said: account ID -> still holds it.
type targetReads struct {
	held map[string]bool
	err  error
}

// finishBatch reads back every removal of b, one Holding per target, then records each
// grant's outcome (ended, or retried when a removal is still visible or the read failed).
func (s *Service) finishBatch(ctx context.Context, now time.Time, b *verifyBatch) {
	grants := b.close()
	if len(grants) == 0 {
		return
	}
	targets := map[string]Target{}
	accounts := map[string][]Account{}
	for _, bg := range grants {
		for _, i := range bg.removed {
			t := bg.g.Items[i].Target
			k := t.Key()
			targets[k] = t
			if !slices.ContainsFunc(accounts[k], func(a Account) bool { return a.ID == bg.g.Account.ID }) {
				accounts[k] = append(accounts[k], bg.g.Account)
			}
		}
	}
	reads := map[string]targetReads{}
	for k, t := range targets {
		held, err := s.holding(WithoutRetries(ctx), t, accounts[k]) // a failure is retried by the grant
		reads[k] = targetReads{held: held, err: err}
	}
	byID := map[string]*batchGrant{}
	var gs []*Grant
	for _, bg := range grants {
		byID[bg.g.ID] = bg
		gs = append(gs, bg.g)
	}
	s.forAccounts(gs, func(g *Grant) {
		bg := byID[g.ID]
		defer bg.release()
		gone := map[int]bool{}
		var err error
		for _, i := range bg.removed {
			t := g.Items[i].Target
			r := reads[t.Key()]
			if r.err != nil {
				err = fmt.Errorf("verify removal of %s: %w", t, r.err)
				break
			}
			gone[i] = !r.held[g.Account.ID]
		}
		if err == nil {
			err = s.finishRevoke(ctx, g.ID, bg.removed, gone)
		}
		if err != nil {
			s.fail(ctx, g.ID, err)
		}
		s.noteOverdue(ctx, now, g.ID)
	})
}

// holding reads back which of accounts hold t: in bulk when the Provisioner can.
func (s *Service) holding(ctx context.Context, t Target, accounts []Account) (map[string]bool, error) {
	if v, ok := s.Provisioner.(Verifier); ok {
		return v.Holding(ctx, t, accounts)
	}
	held := map[string]bool{}
	for _, a := range accounts {
		ok, err := s.Provisioner.Has(ctx, a, t)
		if err != nil {
			return nil, err
		}
		held[a.ID] = ok
	}
	return held, nil
}
