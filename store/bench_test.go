package store

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// BenchmarkTransitions measures durable transitions: with fsync on, each iteration commits
// submit, approve, activate and revoke, each in its own transaction with its audit event.
func BenchmarkTransitions(b *testing.B) {
	db := mustOpenAt(b, filepath.Join(b.TempDir(), "jitbot.db"), Options{AuditKey: []byte("bench")})
	b.ReportAllocs()
	start := time.Now()
	i := 0
	for b.Loop() {
		id := "R" + strconv.Itoa(i)
		now := t0.Add(time.Duration(i) * time.Second)
		story(b, db, id, now, time.Hour)
		revoke(b, db, id, now.Add(time.Hour))
		i++
	}
	b.ReportMetric(float64(4*i)/time.Since(start).Seconds(), "transitions/s")
}

// BenchmarkDueGrants shows that finding the due grants costs O(due), not O(grants): 100 due
// among 100 and 100 due among 10,000 take about the same time.
func BenchmarkDueGrants(b *testing.B) {
	for _, total := range []int{100, 10_000} {
		b.Run("due_100_of_"+strconv.Itoa(total), func(b *testing.B) {
			db := mustOpenAt(b, filepath.Join(b.TempDir(), "jitbot.db"), Options{NoSync: true})
			now := t0.Add(24 * time.Hour)
			const batch = 1000
			for lo := 0; lo < total; lo += batch {
				err := db.Update(b.Context(), func(tx access.Tx) error {
					for i := lo; i < min(lo+batch, total); i++ {
						ends := now.Add(time.Duration(i+1) * time.Minute) // not due
						if i < 100 {
							ends = now.Add(-time.Duration(i+1) * time.Minute) // due
						}
						g := &access.Grant{
							ID: "G" + strconv.Itoa(i), Role: "jira-admin", Holder: access.UserActor("U" + strconv.Itoa(i)),
							Account: access.Account{ID: "acc-" + strconv.Itoa(i)}, Status: access.GrantActive,
							Items:    []access.GrantItem{{Target: access.GroupTarget("jira-admins"), Checked: true, Added: true}},
							Duration: 8 * time.Hour, CreatedAt: ends.Add(-8 * time.Hour), GrantedAt: ends.Add(-8 * time.Hour),
							EndsAt: ends, Warned: true,
						}
						if err := tx.PutGrant(g); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				err := db.View(b.Context(), func(tx access.Tx) error {
					due, err := tx.DueGrants(now, 0)
					if err == nil && len(due) != 100 {
						b.Fatalf("%d due, want 100", len(due))
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
