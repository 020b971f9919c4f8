package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Envelope is a Socket Mode envelope as Slack sends it.
type Envelope struct {
	ID                     string
	Type                   string // slash_commands, interactive or events_api
	Payload                json.RawMessage
	AcceptsResponsePayload bool
	RetryAttempt           int
	RetryReason            string
}

// MarshalJSON writes the envelope as Slack does; retry fields only for events_api.
func (e Envelope) MarshalJSON() ([]byte, error) {
	o := obj{
		"envelope_id":              e.ID,
		"type":                     e.Type,
		"payload":                  e.Payload,
		"accepts_response_payload": e.AcceptsResponsePayload,
	}
	if e.Type == "events_api" {
		o["retry_attempt"] = e.RetryAttempt
		o["retry_reason"] = e.RetryReason
	}
	return json.Marshal(o)
}

// Ack is an acknowledgement the client sent over Socket Mode.
type Ack struct {
	EnvelopeID   string
	Type         string          // type of the acked envelope; empty if the fake never sent it
	Payload      json.RawMessage // nil when the ack carried no payload
	RetryAttempt int             // retry_attempt of the delivery that was acked
	Latency      time.Duration   // from writing the envelope to reading the ack
	ReceivedAt   time.Time
}

// Decode unmarshals the ack payload into v.
func (a Ack) Decode(v any) error {
	if len(a.Payload) == 0 {
		return fmt.Errorf("ack %s has no payload", a.EnvelopeID)
	}
	return json.Unmarshal(a.Payload, v)
}

// Text is the text field of the ack payload, if any.
func (a Ack) Text() string {
	var p struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(a.Payload, &p)
	return p.Text
}

// Late reports whether the ack missed Slack's 3-second deadline.
func (a Ack) Late() bool { return a.Latency > 3*time.Second }

type sentEnvelope struct {
	env    Envelope
	sentAt time.Time
	onAck  func(Ack) // side effects of the ack, run with s.mu held
}

// Push sends env on the newest open link, waiting for one if needed, and waits
// for its ack. An empty env.ID gets a fresh UUID.
func (s *Server) Push(ctx context.Context, env Envelope) (Ack, error) {
	return s.push(ctx, env, nil)
}

// Redeliver sends an envelope that was already sent again, with the same
// envelope_id and payload (so the same event_id), retry_attempt plus one and
// retry_reason (default "timeout"), and waits for its ack.
func (s *Server) Redeliver(ctx context.Context, envelopeID, reason string) (Ack, error) {
	s.mu.Lock()
	se, ok := s.sent[envelopeID]
	s.mu.Unlock()
	if !ok {
		return Ack{}, fmt.Errorf("bottest: redeliver %s: envelope never sent", envelopeID)
	}
	if reason == "" {
		reason = "timeout"
	}
	env := se.env
	env.RetryAttempt++
	env.RetryReason = reason
	return s.push(ctx, env, se.onAck)
}

// Envelopes returns every envelope delivery, in send order (redeliveries repeat the ID).
func (s *Server) Envelopes() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// Acks returns every ack received, in arrival order.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acks)
}

func (s *Server) push(ctx context.Context, env Envelope, onAck func(Ack)) (Ack, error) {
	if env.ID == "" {
		env.ID = uuid.NewString()
	}
	c, err := s.pickConn(ctx)
	if err != nil {
		return Ack{}, fmt.Errorf("bottest: push %s: wait for a link: %w", env.Type, err)
	}
	w := make(chan Ack, 1)
	s.mu.Lock()
	s.waiters[env.ID] = append(s.waiters[env.ID], w)
	s.sent[env.ID] = &sentEnvelope{env: env, sentAt: time.Now(), onAck: onAck}
	s.deliveries = append(s.deliveries, env)
	s.mu.Unlock()
	s.log("bottest: push %s %s (attempt %d)", env.Type, env.ID, env.RetryAttempt)
	if err := c.write(env); err != nil {
		s.dropWaiter(env.ID, w)
		return Ack{}, fmt.Errorf("bottest: push %s: %w", env.Type, err)
	}
	select {
	case a := <-w:
		return a, nil
	case <-ctx.Done():
		s.dropWaiter(env.ID, w)
		return Ack{}, fmt.Errorf("bottest: no ack for %s %s: %w", env.Type, env.ID, ctx.Err())
	}
}

func (s *Server) dropWaiter(id string, w chan Ack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiters[id] = slices.DeleteFunc(s.waiters[id], func(x chan Ack) bool { return x == w })
}

// recordAck stores an ack, applies its side effects and wakes its waiters.
func (s *Server) recordAck(id string, payload json.RawMessage) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(payload) == "null" {
		payload = nil
	}
	a := Ack{EnvelopeID: id, Payload: payload, ReceivedAt: now}
	se, ok := s.sent[id]
	if ok {
		a.Type = se.env.Type
		a.RetryAttempt = se.env.RetryAttempt
		a.Latency = now.Sub(se.sentAt)
	}
	s.acks = append(s.acks, a)
	s.log("bottest: ack %s %s after %s: %s", a.Type, id, a.Latency, payload)
	if ok && se.onAck != nil {
		se.onAck(a)
	}
	for _, w := range s.waiters[id] {
		w <- a
	}
	delete(s.waiters, id)
	s.notify()
}
