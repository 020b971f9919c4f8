package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/jitbot/jitbot/access"
)

// maxAckPayload keeps ack payloads well under Slack's 20 KiB frame limit; larger answers go
// through the response URL.
const maxAckPayload = 16 << 10

// job is work left after an envelope was acknowledged.
type job struct {
	envelope string
	kind     string
	user     string
	do       func(ctx context.Context)
	recorded bool // in the inbox: forgotten once done
}

// Run connects to Slack over Socket Mode and serves until ctx ends (then it returns nil) or a
// token is refused (then it returns an error naming JITBOT_SLACK_APP_TOKEN or
// JITBOT_SLACK_BOT_TOKEN).
func (b *Bot) Run(ctx context.Context) error {
	log := zerolog.Ctx(ctx)
	if at, err := b.api.AuthTestContext(ctx); err != nil {
		if isFatalAuth(err) {
			return botTokenError(err)
		}
		log.Warn().Err(err).Msg("slack auth.test failed; continuing")
	} else {
		b.team.Store(at.TeamID)
	}
	var opts []socketmode.Option
	if b.cfg.PingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(b.cfg.PingInterval))
	}
	sm := socketmode.New(b.api, opts...)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- sm.RunContext(ctx) }()

	jobs := make(chan job, b.cfg.QueueSize)
	var wg sync.WaitGroup
	if b.svc != nil && b.svc.Store != nil && !b.cfg.DeliverElsewhere {
		wg.Go(func() { b.deliver(ctx) })
	}
	b.replay(ctx, jobs)
	for range b.cfg.Workers {
		wg.Go(func() {
			for j := range jobs {
				b.work(ctx, j)
			}
		})
	}
	defer func() {
		cancel()
		close(jobs)
		wg.Wait()
		b.connected.Store(false)
	}()

	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-runErr:
			if ctx.Err() != nil {
				return nil
			}
			if isFatalAuth(err) {
				return appTokenError(err)
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case err := <-b.fatal:
			return err
		case evt := <-sm.Events:
			if err := b.event(ctx, sm, evt, jobs); err != nil {
				return err
			}
		}
	}
}

// event handles one Socket Mode event: lifecycle events change the connection state, envelopes
// are acknowledged at once and their work queued.
func (b *Bot) event(ctx context.Context, sm *socketmode.Client, evt socketmode.Event, jobs chan<- job) error {
	arrived := time.Now()
	log := zerolog.Ctx(ctx)
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.connected.Store(false)
		log.Debug().Msg("slack: connecting")
	case socketmode.EventTypeConnected, socketmode.EventTypeHello:
		if !b.connected.Swap(true) {
			log.Info().Msg("slack: connected")
		}
	case socketmode.EventTypeDisconnect:
		b.connected.Store(false)
		log.Info().Msg("slack: disconnect requested; reconnecting")
	case socketmode.EventTypeConnectionError:
		b.connected.Store(false)
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			if isFatalAuth(ce.ErrorObj) {
				return appTokenError(ce.ErrorObj)
			}
			log.Warn().Err(ce.ErrorObj).Dur("backoff", ce.Backoff).Msg("slack: connection failed; retrying")
		}
	case socketmode.EventTypeInvalidAuth:
		return appTokenError(fmt.Errorf("invalid_auth"))
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed, socketmode.EventTypeErrorBadMessage:
		log.Warn().Str("type", string(evt.Type)).Interface("data", evt.Data).Msg("slack: socket mode error")
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		b.envelope(ctx, sm, evt, arrived, jobs)
	default:
		log.Debug().Str("type", string(evt.Type)).Msg("slack: event ignored")
	}
	return nil
}

// envelope acks one envelope, with an immediate answer when there is one, and queues the rest.
func (b *Bot) envelope(ctx context.Context, sm *socketmode.Client, evt socketmode.Event, arrived time.Time, jobs chan<- job) {
	req := evt.Request
	if req == nil {
		return
	}
	kind := string(evt.Type)
	b.cfg.Observer.Envelope(kind)
	dup := b.seen.Seen("envelope:" + req.EnvelopeID)
	if evt.Type == socketmode.EventTypeEventsAPI {
		var outer struct {
			EventID string `json:"event_id"`
		}
		if json.Unmarshal(req.Payload, &outer) == nil && b.seen.Seen("event:"+outer.EventID) {
			dup = true
		}
	}
	var (
		payload any
		work    func(ctx context.Context)
		user    string
	)
	if dup {
		zerolog.Ctx(ctx).Info().Str("envelope", req.EnvelopeID).Int("retry", req.RetryAttempt).Msg("slack: repeated envelope dropped")
	} else {
		payload, work, user = b.route(ctx, evt)
	}
	// Only this loop sends to jobs, so a queue with room now still has room after the ack. A
	// full queue is answered "busy" rather than blocking the loop that reads every envelope.
	if work != nil && len(jobs) >= cap(jobs) {
		zerolog.Ctx(ctx).Warn().Str("envelope", req.EnvelopeID).Str("kind", kind).Msg("slack: job queue full; answered busy")
		payload, work = b.busy(ctx, evt)
	}
	if payload != nil {
		if raw, err := json.Marshal(payload); err != nil || len(raw) > maxAckPayload {
			// Too big for an ack: answer through the response URL instead.
			big := payload
			payload = nil
			if sc, ok := evt.Data.(slack.SlashCommand); ok && work == nil {
				work = func(ctx context.Context) { b.replyRaw(ctx, sc, big) }
			}
		}
	}
	recorded := false
	if work != nil {
		if err := b.record(ctx, req, kind); err != nil {
			// Still acked and done; only a crash before it is done would lose it.
			zerolog.Ctx(ctx).Error().Err(err).Msg("slack: envelope not recorded")
		} else {
			recorded = true
		}
	}
	if err := sm.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("envelope", req.EnvelopeID).Msg("slack: ack failed")
	}
	b.cfg.Observer.Acked(kind, time.Since(arrived))
	if work == nil {
		return
	}
	select {
	case jobs <- job{envelope: req.EnvelopeID, kind: kind, user: user, do: work, recorded: recorded}:
	case <-ctx.Done():
	}
}

// busyText is the answer to an envelope that finds the job queue full.
const busyText = "jitbot is busy right now and did nothing with this; please try again in a moment."

// busy returns the ack payload that tells the sender jitbot is too busy, and for a button
// click (whose ack shows nothing) a small job that says so, run outside the job queue.
func (b *Bot) busy(ctx context.Context, evt socketmode.Event) (any, func(context.Context)) {
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		return ephemeralOf(errorMessage(busyText)), nil
	case slack.InteractionCallback:
		switch data.Type {
		case slack.InteractionTypeViewSubmission:
			return slack.NewErrorsViewSubmissionResponse(map[string]string{blockReason: busyText}), nil
		case slack.InteractionTypeBlockActions:
			select {
			case b.busySlots <- struct{}{}:
				go func() {
					defer func() { <-b.busySlots }()
					tctx, cancel := context.WithTimeout(ctx, b.cfg.EventTimeout)
					defer cancel()
					b.answer(tctx, data, errorMessage(busyText))
				}()
			default: // already telling enough people; this click is dropped, as logged
			}
		}
	}
	return nil, nil
}

// route decides, without I/O, the ack payload of an envelope and the work to do after the ack.
func (b *Bot) route(ctx context.Context, evt socketmode.Event) (payload any, work func(context.Context), user string) {
	if team, user, ok := b.foreign(evt); ok {
		zerolog.Ctx(ctx).Warn().Str("team", team).Str("slack_user", user).Msg("slack: refused someone from another workspace")
		m := errorMessage(foreignText)
		switch data := evt.Data.(type) {
		case slack.SlashCommand:
			return ephemeralOf(m), nil, user
		case slack.InteractionCallback:
			if data.Type == slack.InteractionTypeViewSubmission {
				return nil, nil, user
			}
			return nil, func(ctx context.Context) { b.answer(ctx, data, m) }, user
		}
		return nil, nil, user
	}
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		payload, work = b.routeCommand(ctx, data)
		return payload, work, data.UserID
	case slack.InteractionCallback:
		switch data.Type {
		case slack.InteractionTypeBlockActions:
			return nil, func(ctx context.Context) { b.onAction(ctx, data) }, data.User.ID
		case slack.InteractionTypeViewSubmission:
			payload, work = b.onSubmit(ctx, data)
			return payload, work, data.User.ID
		}
		return nil, nil, data.User.ID
	case slackevents.EventsAPIEvent:
		if ev, ok := data.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok && ev.Tab == "home" {
			return nil, func(ctx context.Context) { b.publishHome(ctx, ev.User) }, ev.User
		}
	}
	return nil, nil, ""
}

// work runs one job with a deadline, a child logger and panic recovery.
func (b *Bot) work(parent context.Context, j job) {
	ctx, cancel := context.WithTimeout(parent, b.cfg.EventTimeout)
	defer cancel()
	log := zerolog.Ctx(parent).With().Str("envelope", j.envelope).Str("kind", j.kind).Str("slack_user", j.user).Logger()
	ctx = log.WithContext(ctx)
	defer func() {
		if r := recover(); r != nil {
			log.Error().Interface("panic", r).Str("stack", string(debug.Stack())).Msg("slack handler panicked")
		}
	}()
	if j.recorded {
		// Requests filed for this envelope get an ID derived from it: replaying it after a
		// crash finds them instead of filing them again.
		ctx = access.WithRequestID(ctx, access.IDFor(j.envelope))
		defer func() {
			if parent.Err() == nil {
				b.forget(ctx, j.envelope)
			}
		}()
	}
	j.do(ctx)
}
