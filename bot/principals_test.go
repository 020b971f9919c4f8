package bot

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPrincipalCache_maxAge: a lookup is reused while younger than the age asked for (the ttl
// for Resolve, a few seconds for a review click, nothing for a decision judged now).
func TestPrincipalCache_maxAge(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		after   time.Duration // since the first lookup
		maxAge  time.Duration
		fetches int64 // in all, the first included
	}{
		{"cached_within_ttl", 30 * time.Second, -1, 1},
		{"past_ttl", 61 * time.Second, -1, 2},
		{"recent_within", 4 * time.Second, 5 * time.Second, 1},
		{"recent_past", 6 * time.Second, 5 * time.Second, 2},
		{"current_always", 0, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newPrincipalCache(time.Minute)
			at := now
			c.now = func() time.Time { return at }
			var n atomic.Int64
			fetch := func() ([]string, error) { n.Add(1); return []string{"U1"}, nil }
			if _, err := c.get("S1", -1, fetch); err != nil {
				t.Fatal(err)
			}
			at = now.Add(tt.after)
			if ids, err := c.get("S1", tt.maxAge, fetch); err != nil || len(ids) != 1 {
				t.Fatalf("get = %v, %v", ids, err)
			}
			if got := n.Load(); got != tt.fetches {
				t.Errorf("%d lookups, want %d", got, tt.fetches)
			}
		})
	}
}

// TestPrincipalCache_recentShareLookup: recent lookups asked while one is under way share it;
// a decision judged now does not.
func TestPrincipalCache_recentShareLookup(t *testing.T) {
	c := newPrincipalCache(time.Minute)
	release := make(chan struct{})
	var n atomic.Int64
	fetch := func() ([]string, error) { n.Add(1); <-release; return []string{"U1"}, nil }
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = c.get("S1", 5*time.Second, fetch) }()
	for n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ids, err := c.get("S1", 5*time.Second, fetch); err != nil || len(ids) != 1 {
				t.Errorf("shared get = %v, %v", ids, err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = c.get("S1", 0, fetch) }() // judged now: its own lookup
	for n.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if got := n.Load(); got != 2 {
		t.Errorf("%d lookups, want 2: one shared by 11 recent asks, one for the decision judged now", got)
	}
}
