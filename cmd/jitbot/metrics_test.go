package main

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/store"
)

// viewCounter is the bbolt store, counting read transactions.
type viewCounter struct {
	*store.DB
	views atomic.Int64
}

func (v *viewCounter) View(ctx context.Context, fn func(access.Tx) error) error {
	v.views.Add(1)
	return v.DB.View(ctx, fn)
}

// TestMetrics_GaugesFollowCommits: the live gauges change when a commit changes the store's
// counters, and a scrape reads no store at all.
func TestMetrics_GaugesFollowCommits(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "jitbot.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &viewCounter{DB: db}
	m := newMetrics(st)
	role := lcPolicy().Role("jira-software")
	if err := db.Update(t.Context(), func(tx access.Tx) error {
		for i := range 3 {
			if err := putActiveGrant(tx, role, i, nil, time.Hour); err != nil {
				return err
			}
		}
		r, _, err := access.NewRequest("PENDING1", role, access.UserActor("UPEND"), access.Account{ID: "acc-pend"}, time.Hour, "why", lcT0)
		if err != nil {
			return err
		}
		return tx.PutRequest(r)
	}); err != nil {
		t.Fatal(err)
	}
	views := st.views.Load()
	var got map[string]float64
	for range 3 {
		got = gauges(t, m)
	}
	if got["jitbot_active_grants"] != 3 || got["jitbot_pending_requests"] != 1 {
		t.Errorf("gauges %v, want 3 active grants and 1 pending request", got)
	}
	if n := st.views.Load() - views; n != 0 {
		t.Errorf("scrapes opened %d read transactions; gauges should be set on change", n)
	}
}

// gauges scrapes m and returns its jitbot gauges by name.
func gauges(t testing.TB, m *metrics) map[string]float64 {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			if g := mt.GetGauge(); g != nil {
				out[f.GetName()] = g.GetValue()
			}
		}
	}
	return out
}
