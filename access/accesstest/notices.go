package accesstest

import (
	"context"
	"strings"
	"sync"

	"github.com/jitbot/jitbot/access"
)

// Notices is an access.Notifier that keeps every notice, for tests to read.
type Notices struct {
	mu  sync.Mutex
	all []access.Notice
}

var _ access.Notifier = (*Notices)(nil)

// Notify records n (called in the transaction of the change it reports).
func (n *Notices) Notify(_ context.Context, tx access.Tx, x access.Notice) error {
	record := func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.all = append(n.all, x)
	}
	// Like the outbox, a notice exists only if its transaction commits.
	if c, ok := tx.(interface{ OnCommit(func()) }); ok {
		c.OnCommit(record)
		return nil
	}
	record()
	return nil
}

// Of returns the notices of kind, oldest first.
func (n *Notices) Of(kind access.NoticeKind) []access.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []access.Notice
	for _, x := range n.all {
		if x.Kind == kind {
			out = append(out, x)
		}
	}
	return out
}

// Texts returns the texts of the notices of kind.
func (n *Notices) Texts(kind access.NoticeKind) []string {
	var out []string
	for _, x := range n.Of(kind) {
		out = append(out, x.Text)
	}
	return out
}

// Count returns how many notices of kind were sent.
func (n *Notices) Count(kind access.NoticeKind) int { return len(n.Of(kind)) }

// Alerts returns the text of every alert, one per line.
func (n *Notices) Alerts() string { return strings.Join(n.Texts(access.NoticeAlert), "\n") }
