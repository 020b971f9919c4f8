package bot

import (
	"sync"
	"time"
)

// dedupe remembers keys for a while, within a bounded size, to drop repeated deliveries.
type dedupe struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	seen  map[string]time.Time
	order []stamp // insertion order, oldest first
}

type stamp struct {
	key string
	at  time.Time
}

func newDedupe(ttl time.Duration, max int) *dedupe {
	return &dedupe{ttl: ttl, max: max, now: time.Now, seen: map[string]time.Time{}}
}

// Seen records key and reports whether it was already recorded within the TTL.
func (d *dedupe) Seen(key string) bool {
	if key == "" {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for len(d.order) > 0 {
		old := d.order[0]
		if len(d.order) <= d.max && now.Sub(old.at) < d.ttl {
			break
		}
		if d.seen[old.key].Equal(old.at) {
			delete(d.seen, old.key)
		}
		d.order = d.order[1:]
	}
	if at, ok := d.seen[key]; ok && now.Sub(at) < d.ttl {
		return true
	}
	d.seen[key] = now
	d.order = append(d.order, stamp{key, now})
	return false
}

// Len is the number of keys remembered.
func (d *dedupe) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}
