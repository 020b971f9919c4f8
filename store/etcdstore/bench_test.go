package etcdstore_test

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/access/accesstest"
	"github.com/jitbot/jitbot/store/etcdstore"
	"github.com/jitbot/jitbot/store/etcdstore/etcdtest"
)

var benchT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// BenchmarkTransitions is store.BenchmarkTransitions on etcd: each iteration commits submit,
// approve, activate and revoke, each one etcd Txn with its audit event (one in-process etcd
// member on this machine's disk, fsync on).
func BenchmarkTransitions(b *testing.B) {
	srv := etcdtest.StartDurable(b)
	db := open(b, srv, etcdstore.Options{})
	start := time.Now()
	i := 0
	for b.Loop() {
		accesstest.StoreStory(b, db, "R"+strconv.Itoa(i), benchT0.Add(time.Duration(i)*time.Second))
		i++
	}
	b.ReportMetric(float64(4*i)/time.Since(start).Seconds(), "transitions/s")
}

// BenchmarkConcurrentClicks: 500 pending requests, each approved twice at once (1,000
// clicks) by 16 workers spread over three handles (three replicas). Exactly one click per
// request wins; the figure is how many commits lost to another and were retried.
func BenchmarkConcurrentClicks(b *testing.B) {
	srv := etcdtest.StartDurable(b)
	const requests, workers = 500, 16
	for range b.N {
		prefix := "/clicks" + strconv.Itoa(int(prefixes.Add(1))) + "/"
		var dbs []*etcdstore.DB
		for range 3 {
			dbs = append(dbs, open(b, srv, etcdstore.Options{Prefix: prefix, Retries: 50}))
		}
		role := &access.Role{Name: "r", Grants: []access.Target{access.GroupTarget("g")}, MaxDuration: time.Hour, Approvers: []string{"UBOB"}, Approvals: 1, PendingTimeout: time.Hour}
		for i := range requests {
			err := dbs[0].Update(b.Context(), func(tx access.Tx) error {
				r, e, err := access.NewRequest("R"+strconv.Itoa(i), role, access.UserActor("UALICE"), access.Account{ID: "a"}, time.Hour, "x", benchT0)
				if err != nil {
					return err
				}
				if err := tx.PutRequest(r); err != nil {
					return err
				}
				return tx.AppendAudit(&e)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		clicks := make(chan int, 2*requests)
		for _, i := range rand.Perm(2 * requests) {
			clicks <- i / 2
		}
		close(clicks)
		before := uint64(0)
		for _, db := range dbs {
			before += db.Conflicts()
		}
		var wins atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for w := range workers {
			db := dbs[w%len(dbs)]
			wg.Go(func() {
				for i := range clicks {
					err := db.Update(b.Context(), func(tx access.Tx) error {
						r, err := tx.Request("R" + strconv.Itoa(i))
						if err != nil {
							return err
						}
						e, err := r.Approve(access.UserActor("UBOB"), benchT0, role, []string{"UBOB"})
						if err != nil {
							return err
						}
						if err := tx.PutRequest(r); err != nil {
							return err
						}
						return tx.AppendAudit(&e)
					})
					switch access.ErrorCode(err) {
					case "":
						wins.Add(1)
					case access.ECONFLICT:
					default:
						b.Error(err)
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		if wins.Load() != requests {
			b.Fatalf("%d approvals won, want %d", wins.Load(), requests)
		}
		var after uint64
		for _, db := range dbs {
			after += db.Conflicts()
		}
		b.ReportMetric(float64(after-before)*1000/(2*requests), "retries/1000clicks")
		b.ReportMetric(2*requests/elapsed.Seconds(), "clicks/s")
	}
}
