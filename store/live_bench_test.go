package store

import (
	"strconv"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
)

// liveBenchDB returns a database holding stored grants, all but the last 100 of them ended
// (revoked), with their requests; the 100 live ones have a holder each, and 20 more requests
// are pending. Fsync is off: seeding 100,000 grants is not what is measured.
func liveBenchDB(b *testing.B, stored int) *DB {
	b.Helper()
	db := MustOpenDB(b)
	const batch = 2000
	for lo := 0; lo < stored; lo += batch {
		err := db.Update(b.Context(), func(tx access.Tx) error {
			for i := lo; i < min(lo+batch, stored); i++ {
				id := "G" + strconv.Itoa(i)
				at := t0.Add(time.Duration(i) * time.Minute)
				holder := access.UserActor("U" + strconv.Itoa(i%500))
				r := &access.Request{ID: id, Kind: access.KindAccess, Role: "jira-admin", Requester: holder,
					Account: access.Account{ID: "acc-" + strconv.Itoa(i%500)}, Duration: time.Hour, Status: access.RequestApproved,
					CreatedAt: at, PendingUntil: at.Add(24 * time.Hour)}
				g := &access.Grant{ID: id, Role: "jira-admin", Holder: holder, Account: r.Account, Status: access.GrantRevoked,
					Items:    []access.GrantItem{{Target: access.GroupTarget("jira-admins"), Checked: true, Added: true, Removed: true, Verified: true}},
					Duration: time.Hour, CreatedAt: at, GrantedAt: at, EndsAt: at.Add(time.Hour), EndedAt: at.Add(time.Hour)}
				if i >= stored-100 {
					g.Status, g.EndedAt, g.Holder = access.GrantActive, time.Time{}, access.UserActor("ULIVE"+strconv.Itoa(i))
				}
				if i >= stored-120 && i < stored-100 {
					r.Status = access.RequestPending
				}
				if err := tx.PutRequest(r); err != nil {
					return err
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
	return db
}

// BenchmarkLiveQueries: what the Service asks for what is live, at 1,000 and 100,000 stored
// grants with 100 live: the Tx calls of Active, Mine (a holder's pending requests and live
// grants), Awaiting (all pending), desired-state loading and the gauges' counters. They read
// the live indexes, so their cost follows what is live, not history. full_scan is the query
// they replaced (Grants filtered by the live statuses), for comparison.
func BenchmarkLiveQueries(b *testing.B) {
	desired := []access.GrantStatus{access.GrantProvisioning, access.GrantActive, access.GrantFailed}
	for _, stored := range []int{1_000, 100_000} {
		db := liveBenchDB(b, stored)
		holder := "ULIVE" + strconv.Itoa(stored-1)
		queries := []struct {
			name string
			want int
			fn   func(tx access.Tx) (int, error)
		}{
			{"active", 100, func(tx access.Tx) (int, error) { gs, err := tx.LiveGrants(access.GrantFilter{}); return len(gs), err }},
			{"mine", 1, func(tx access.Tx) (int, error) {
				rs, err := tx.PendingRequests(access.RequestFilter{Requester: holder})
				if err != nil {
					return 0, err
				}
				gs, err := tx.LiveGrants(access.GrantFilter{Holder: holder})
				return len(rs) + len(gs), err
			}},
			{"awaiting", 20, func(tx access.Tx) (int, error) {
				rs, err := tx.PendingRequests(access.RequestFilter{})
				return len(rs), err
			}},
			{"desired_state", 100, func(tx access.Tx) (int, error) {
				gs, err := tx.LiveGrants(access.GrantFilter{Status: desired})
				return len(gs), err
			}},
			{"gauges", 100, func(tx access.Tx) (int, error) { c, err := tx.LiveCounts(); return c.Grants[access.GrantActive], err }},
			{"full_scan", 100, func(tx access.Tx) (int, error) {
				gs, err := tx.Grants(access.GrantFilter{Status: access.LiveStatuses})
				return len(gs), err
			}},
		}
		for _, q := range queries {
			b.Run(q.name+"/stored="+strconv.Itoa(stored), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					err := db.View(b.Context(), func(tx access.Tx) error {
						n, err := q.fn(tx)
						if err == nil && n != q.want {
							b.Fatalf("%s: %d, want %d", q.name, n, q.want)
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
}
