package access

import (
	"context"
	"encoding/json"
	"time"
)

// OutboxItem is something jitbot owes people, waiting in the store until it is delivered: a
// Notice written by a change in the same transaction, or one message a notice became (Body,
// opaque to the domain, written by the deliverer). Items survive restarts; the deliverer
// deletes each once Slack has it, or once it is plainly undeliverable.
type OutboxItem struct {
	ID          uint64          `json:"id"`
	Key         string          `json:"key,omitempty"`     // items with one key coalesce: the latest content wins
	Channel     string          `json:"channel,omitempty"` // where it goes, for pacing
	Notice      *Notice         `json:"notice,omitempty"`
	Body        json.RawMessage `json:"body,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	Attempts    int             `json:"attempts,omitempty"`
	NextAttempt time.Time       `json:"next_attempt,omitempty"` // not before; zero: now
	LastError   string          `json:"last_error,omitempty"`
}

// InboxItem is a Slack envelope recorded before it was acknowledged, kept until the work it
// carries is done, so that work survives a crash (Slack never resends an acknowledged envelope).
type InboxItem struct {
	ID       string          `json:"id"`   // the envelope ID
	Type     string          `json:"type"` // slash_commands, interactive, events_api
	Payload  json.RawMessage `json:"payload"`
	At       time.Time       `json:"at"`
	Attempts int             `json:"attempts,omitempty"` // times its work was started
}

// Outbox is the Notifier that writes every notice into the store's outbox, in the transaction
// of the change it reports. A separate loop (the bot's deliverer) sends them.
type Outbox struct {
	Now func() time.Time
}

var _ Notifier = Outbox{}

// Notify writes n to the outbox through tx.
func (o Outbox) Notify(_ context.Context, tx Tx, n Notice) error {
	if n.Role != nil {
		n.RoleName = n.Role.Name
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	return tx.PutOutbox(&OutboxItem{Notice: &n, CreatedAt: now})
}

// tell writes n through the Notifier in tx; without a Notifier nobody is told.
func (s *Service) tell(ctx context.Context, tx Tx, n Notice) error {
	if s.Notifier == nil {
		return nil
	}
	return s.Notifier.Notify(ctx, tx, n)
}

// tellNew writes notices in a transaction of their own: for reports that change nothing else
// (the digest).
func (s *Service) tellNew(ctx context.Context, ns ...Notice) error {
	if s.Notifier == nil || len(ns) == 0 {
		return nil
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		for _, n := range ns {
			if err := s.Notifier.Notify(ctx, tx, n); err != nil {
				return err
			}
		}
		return nil
	})
}
