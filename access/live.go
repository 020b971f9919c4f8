package access

import "time"

// LiveCounts are the sizes of the live indexes, for the gauges.
type LiveCounts struct {
	Grants  map[GrantStatus]int `json:"grants"`  // grants not yet ended, by status
	Pending int                 `json:"pending"` // pending requests
}

// LiveStatuses are the statuses of grants not yet ended: the live index holds these.
var LiveStatuses = []GrantStatus{GrantProvisioning, GrantActive, GrantRevoking, GrantFailed}

// Ended reports whether g has ended for good: it then leaves the live index.
func (g *Grant) Ended() bool { return g.Status == GrantRevoked }

// Watcher is a Store that reports its commits, so the sweeper sleeps until the next due time
// instead of polling, and gauges follow changes instead of scanning the store per scrape.
type Watcher interface {
	// Watch calls fn after every committed Update that stored a record with a due time,
	// changed a live count or put an item in the outbox, outside the transaction, in the goroutine that committed: fn must
	// be quick and must not block. Rolled-back updates are not reported. The returned func
	// stops the calls.
	Watch(fn func(Commit)) (stop func())
}

// Commit is what a committed Update changed that others wait on.
type Commit struct {
	Due    time.Time   // earliest due time stored by the update; zero when none
	Counts *LiveCounts // the live counts after the update, when it changed them
	Outbox bool        // the update put an item in the outbox (Tx.PutOutbox): delivery has work
}
