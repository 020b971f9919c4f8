package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
)

// TestPruneRuns_backlog: the hourly job deletes a backlog of any size, PruneBatch per
// transaction (one PruneRuns deletes at most that many).
func TestPruneRuns_backlog(t *testing.T) {
	ms := accesstest.NewMemStore(nil)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	err := ms.Update(context.Background(), func(tx access.Tx) error {
		for i := range 3*access.PruneBatch + 7 {
			if err := tx.PutRun(&access.Run{ID: fmt.Sprintf("R%03d", i), Kind: access.RunSync, Name: "s", Started: now.Add(-time.Duration(i+1) * time.Hour)}); err != nil {
				return err
			}
		}
		return tx.PutRun(&access.Run{ID: "NEW", Kind: access.RunSync, Name: "s", Started: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := pruneRuns(context.Background(), ms, now); err != nil {
		t.Fatal(err)
	}
	var left []*access.Run
	_ = ms.View(context.Background(), func(tx access.Tx) (err error) { left, err = tx.Runs("", 0); return err })
	if len(left) != 1 || left[0].ID != "NEW" {
		t.Fatalf("%d runs left, want only NEW", len(left))
	}
}
