package access

import (
	"sync"
	"time"
)

// waker tells the sleeping sweeper that a commit scheduled something before the time it
// means to wake at.
type waker struct {
	mu   sync.Mutex
	at   time.Time // when the sweeper means to wake; zero while it is awake
	kick chan struct{}
}

func newWaker() *waker { return &waker{kick: make(chan struct{}, 1)} }

// schedule notes that something falls due at at (a commit's earliest due time).
func (w *waker) schedule(at time.Time) {
	if at.IsZero() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.at.IsZero() || at.Before(w.at) {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// awake marks the sweeper awake: every schedule kicks until it sleeps again.
func (w *waker) awake() {
	w.mu.Lock()
	w.at = time.Time{}
	w.mu.Unlock()
}

// drain forgets kicks the next read of the store covers.
func (w *waker) drain() {
	select {
	case <-w.kick:
	default:
	}
}

// sleep marks the sweeper asleep until at and returns the channel that wakes it earlier.
func (w *waker) sleep(at time.Time) <-chan struct{} {
	w.mu.Lock()
	w.at = at
	w.mu.Unlock()
	return w.kick
}
