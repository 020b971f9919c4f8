package accesstest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jitbot/jitbot/access"
)

// AuditBase returns where the chain starts after pruning, or nil.
func (t *memTx) AuditBase() (*access.ChainBase, error) {
	if t.st.auditBase == nil {
		return nil, nil
	}
	return memDecode[access.ChainBase](t.st.auditBase)
}

// memEnded is one record PruneHistory may remove.
type memEnded struct {
	end  time.Time
	kind byte // g, i, r as the bbolt store's history index
	id   string
	cost int
}

// PruneHistory removes what the bbolt store's would, by a scan: revoked grants, decided review
// items and decided requests (with their grant, if it is stored) that ended before before, in
// order of their end, then the audit events older than before from the front, at most
// access.HistoryBatch keys as that store counts them.
func (t *memTx) PruneHistory(before time.Time) (access.HistoryPruned, error) {
	var p access.HistoryPruned
	if err := t.checkWritable("prune history"); err != nil {
		return p, err
	}
	ended, err := t.ended(before)
	if err != nil {
		return p, fmt.Errorf("prune history: %w", err)
	}
	budget := access.HistoryBatch
	for _, e := range ended {
		if e.cost > budget {
			p.More = true
			return p, nil
		}
		budget -= e.cost
		p.Note(e.end)
		switch e.kind {
		case 'g':
			delete(t.st.grants, e.id)
			p.Grants++
		case 'i':
			delete(t.st.reviews, e.id)
			p.ReviewItems++
		case 'r':
			delete(t.st.requests, e.id)
			p.Requests++
		}
	}
	n := 0
	for n < len(t.st.audit) {
		e, err := memDecode[access.AuditEvent](t.st.audit[n])
		if err != nil {
			return p, fmt.Errorf("prune history: %w", err)
		}
		if !e.Time.Before(before) {
			break
		}
		if budget < access.HistoryCostEvent {
			p.More = true
			break
		}
		budget -= access.HistoryCostEvent
		p.NoteEvent(*e)
		base, err := json.Marshal(access.NewChainBase(e.Seq, e.Hash, e.Time, t.key))
		if err != nil {
			return p, err
		}
		t.st.auditBase = base
		n++
	}
	t.st.audit = t.st.audit[n:len(t.st.audit):len(t.st.audit)]
	return p, nil
}

// ended lists the records PruneHistory may remove, in the order it removes them.
func (t *memTx) ended(before time.Time) ([]memEnded, error) {
	grants, err := t.allGrants()
	if err != nil {
		return nil, err
	}
	byID := map[string]*access.Grant{}
	var out []memEnded
	for _, g := range grants {
		byID[g.ID] = g
		if end := g.HistoryEnd(); g.Ended() && end.Before(before) {
			out = append(out, memEnded{end: end, kind: 'g', id: g.ID, cost: access.HistoryCostGrant})
		}
	}
	requests, err := t.allRequests()
	if err != nil {
		return nil, err
	}
	for _, r := range requests {
		end := r.HistoryEnd()
		if r.Status == access.RequestPending || !end.Before(before) {
			continue
		}
		if gid := r.HistoryGrant(); gid != "" {
			g, ok := byID[gid]
			switch {
			case ok && (!g.Ended() || !g.HistoryEnd().Before(before)):
				continue // kept with its grant
			case ok:
				end = g.HistoryEnd() // removed with its grant, before it
			case r.Kind == access.KindAccess:
				continue // approved, its grant not stored: the bbolt store keeps it for the grant
			}
		}
		out = append(out, memEnded{end: end, kind: 'f', id: r.ID, cost: access.HistoryCostRequest})
	}
	items, err := t.allReviewItems()
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if end := it.HistoryEnd(); !it.Open() && end.Before(before) {
			out = append(out, memEnded{end: end, kind: 'i', id: it.ID, cost: access.HistoryCostReview})
		}
	}
	slices.SortFunc(out, func(a, b memEnded) int {
		return cmp.Or(a.end.Compare(b.end), cmp.Compare(a.kind, b.kind), cmp.Compare(a.id, b.id))
	})
	for i := range out {
		if out[i].kind == 'f' {
			out[i].kind = 'r'
		}
	}
	return out, nil
}
