package bot

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/jitbot/jitbot/access"
)

// maxReplays is how many times an envelope's work is started before it is given up: one that
// keeps killing jitbot must not keep killing it.
const maxReplays = 3

// record writes an envelope to the store's inbox before it is acknowledged: Slack never resends
// an acknowledged envelope, so from the ack on, the store is the only copy of what was asked.
// A bbolt commit takes milliseconds, well within Slack's 3 s.
func (b *Bot) record(ctx context.Context, req *socketmode.Request, kind string) error {
	if b.svc == nil || b.svc.Store == nil {
		return nil
	}
	e := &access.InboxItem{ID: req.EnvelopeID, Type: kind, Payload: req.Payload, At: b.now(), Attempts: 1}
	if err := b.svc.Store.Update(ctx, func(tx access.Tx) error { return tx.PutInbox(e) }); err != nil {
		return fmt.Errorf("record envelope %s: %w", req.EnvelopeID, err)
	}
	return nil
}

// forget removes a done envelope from the inbox.
func (b *Bot) forget(ctx context.Context, id string) {
	if err := b.svc.Store.Update(context.WithoutCancel(ctx), func(tx access.Tx) error { return tx.DeleteInbox(id) }); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("envelope", id).Msg("inbox: forget done envelope; it will be replayed")
	}
}

// replay queues the work of every envelope recorded but not finished (jitbot stopped after the
// ack), once: each is marked seen so that a redelivery is dropped, and requests it files get an
// ID derived from the envelope ID, so that filing again finds the first.
func (b *Bot) replay(ctx context.Context, jobs chan<- job) {
	if b.svc == nil || b.svc.Store == nil {
		return
	}
	log := zerolog.Ctx(ctx)
	var items []*access.InboxItem
	if err := b.svc.Store.View(ctx, func(tx access.Tx) error {
		var err error
		items, err = tx.Inbox()
		return err
	}); err != nil {
		log.Error().Err(err).Msg("inbox: read")
		return
	}
	for _, e := range items {
		b.seen.Seen("envelope:" + e.ID)
		if e.Attempts >= maxReplays {
			log.Error().Str("envelope", e.ID).Str("type", e.Type).Int("attempts", e.Attempts).Msg("inbox: envelope given up after repeated attempts")
			b.forget(ctx, e.ID)
			continue
		}
		e.Attempts++
		if err := b.svc.Store.Update(ctx, func(tx access.Tx) error { return tx.PutInbox(e) }); err != nil {
			log.Error().Err(err).Str("envelope", e.ID).Msg("inbox: count replay")
			continue
		}
		evt, err := envelopeEvent(e)
		if err != nil {
			log.Error().Err(err).Str("envelope", e.ID).Msg("inbox: undecodable envelope dropped")
			b.forget(ctx, e.ID)
			continue
		}
		_, work, user := b.route(ctx, evt)
		if work == nil {
			b.forget(ctx, e.ID)
			continue
		}
		log.Info().Str("envelope", e.ID).Str("type", e.Type).Msg("inbox: replaying an envelope acknowledged before a stop")
		select {
		case jobs <- job{envelope: e.ID, kind: e.Type, user: user, do: work, recorded: true}:
		case <-ctx.Done():
			return
		}
	}
}

// envelopeEvent rebuilds the Socket Mode event of a recorded envelope.
func envelopeEvent(e *access.InboxItem) (socketmode.Event, error) {
	req := &socketmode.Request{Type: e.Type, EnvelopeID: e.ID, Payload: e.Payload}
	switch e.Type {
	case string(socketmode.EventTypeSlashCommand):
		var sc slack.SlashCommand
		if err := json.Unmarshal(e.Payload, &sc); err != nil {
			return socketmode.Event{}, err
		}
		return socketmode.Event{Type: socketmode.EventTypeSlashCommand, Data: sc, Request: req}, nil
	case string(socketmode.EventTypeInteractive):
		var cb slack.InteractionCallback
		if err := json.Unmarshal(e.Payload, &cb); err != nil {
			return socketmode.Event{}, err
		}
		return socketmode.Event{Type: socketmode.EventTypeInteractive, Data: cb, Request: req}, nil
	case string(socketmode.EventTypeEventsAPI):
		ev, err := slackevents.ParseEvent(e.Payload, slackevents.OptionNoVerifyToken())
		if err != nil {
			return socketmode.Event{}, err
		}
		return socketmode.Event{Type: socketmode.EventTypeEventsAPI, Data: ev, Request: req}, nil
	}
	return socketmode.Event{}, fmt.Errorf("unknown envelope type %q", e.Type)
}
