package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// Delivery pacing (Slack's rate limits, docs.slack.dev/apis/web-api/rate-limits).
const (
	channelBurst    = 3                      // messages a channel takes at once…
	channelInterval = time.Second            // …then about one per second
	updatesPerMin   = 50                     // chat.update is Tier 3, per workspace
	unwatchedPoll   = 200 * time.Millisecond // how often the outbox of a store that does not report its commits is read
	storeRetry      = time.Second            // how soon a pass that could not read or write the store is tried again
	deliveryBatch   = 5000                   // outbox items read per pass
	maxBackoff      = 5 * time.Minute        // longest wait between attempts of one delivery
	alertEvery      = 10 * time.Minute       // at most one alert per channel and reason this often
	maxInFlight     = 16                     // Slack calls at once, over all channels
)

// undeliverable are Slack's answers that retrying cannot change: the item is dropped, with
// one alert.
var undeliverable = map[string]string{
	"channel_not_found":   "the channel does not exist or jitbot is not in it (invite jitbot to a private channel)",
	"not_in_channel":      "jitbot is not in the channel (invite it, or give it chat:write.public)",
	"is_archived":         "the channel is archived",
	"message_not_found":   "the message to update was deleted",
	"cant_update_message": "the message is not jitbot's own",
	"edit_window_closed":  "the message can no longer be edited",
	"user_not_found":      "the user does not exist",
	"user_disabled":       "the user is deactivated",
	"cannot_dm_bot":       "the user is a bot",
	"invalid_blocks":      "Slack refused the message's layout (a jitbot bug: please report it)",
	"msg_too_long":        "the message is too long (a jitbot bug: please report it)",
	"msg_blocks_too_long": "the message is too long (a jitbot bug: please report it)",
	"no_text":             "the message is empty (a jitbot bug: please report it)",
}

// deliverer sends the outbox to Slack: one message at a time per channel, in order, paced
// within Slack's limits, each retried with backoff until it is delivered or undeliverable.
type deliverer struct {
	mu       sync.Mutex
	busy     map[string]bool      // channel -> a delivery is in flight
	tokens   map[string]*tokens   // channel -> pacing
	blocked  map[string]time.Time // Web API method -> not before (Retry-After of a workspace limit)
	updates  []time.Time          // chat.update calls of the last minute
	alerted  map[string]time.Time // channel + reason -> last alert
	inFlight sync.WaitGroup
	running  int // calls in flight
}

type tokens struct {
	n     float64
	at    time.Time
	until time.Time // Retry-After of this channel
}

func newDeliverer() *deliverer {
	return &deliverer{busy: map[string]bool{}, tokens: map[string]*tokens{}, blocked: map[string]time.Time{}, alerted: map[string]time.Time{}}
}

// wakeDelivery tells the delivery loop that something was queued.
func (b *Bot) wakeDelivery() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// commitsWake reports whether the store tells the delivery loop of its commits: then the
// loop wakes on the commit of an outbox item, and nothing else needs to wake it.
func (b *Bot) commitsWake() bool {
	_, ok := b.svc.Store.(access.Watcher)
	return ok
}

func (b *Bot) now() time.Time {
	if b.cfg.Now != nil {
		return b.cfg.Now()
	}
	return time.Now()
}

// after is time.After on the outbox's clock (Config.Now).
func (b *Bot) after(d time.Duration) <-chan time.Time {
	if b.cfg.After != nil {
		return b.cfg.After(d)
	}
	return time.After(d)
}

// RunDelivery runs the outbox delivery loop until ctx ends, for a Bot configured with
// DeliverElsewhere: with several replicas on one store, only the leader delivers, so no
// message is sent twice.
func (b *Bot) RunDelivery(ctx context.Context) {
	if b.svc != nil && b.svc.Store != nil {
		b.deliver(ctx)
	}
}

// wakeAt is when a delivery pass has work again that no commit or finished delivery will
// announce: the earliest next attempt of a waiting item (backoff, on the outbox's clock), and
// the earliest moment Slack's pace or Retry-After lets a channel's next message go (on the
// real clock). A zero time is nothing to wait for.
type wakeAt struct {
	backoff time.Time
	pace    time.Time
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// deliver runs the delivery loop until ctx ends. It never calls Atlassian and nothing that
// changes Atlassian waits on it. It reads the outbox when a commit puts an item there, when a
// delivery finishes (its channel is free again), when a waiting item's time comes, and at
// least every DeliveryPoll (a safety net); an idle bot does not read the outbox at all.
func (b *Bot) deliver(ctx context.Context) {
	d := b.out
	poll := b.cfg.DeliveryPoll
	if w, ok := b.svc.Store.(access.Watcher); ok {
		stop := w.Watch(func(c access.Commit) {
			if c.Outbox {
				b.wakeDelivery()
			}
		})
		defer stop()
	} else {
		poll = min(poll, unwatchedPoll)
	}
	done := make(chan struct{}, 1)
	pace := time.NewTimer(time.Hour)
	defer pace.Stop()
	for {
		next := b.deliverPass(ctx, done)
		wait := poll
		if !next.backoff.IsZero() {
			wait = min(wait, max(0, next.backoff.Sub(b.now())))
		}
		var paced <-chan time.Time
		if !next.pace.IsZero() {
			pace.Reset(max(0, time.Until(next.pace)))
			paced = pace.C
		}
		select {
		case <-ctx.Done():
			d.inFlight.Wait()
			return
		case <-b.wake:
		case <-done:
		case <-paced:
		case <-b.after(wait):
		}
		pace.Stop()
	}
}

// deliverPass expands waiting notices and starts every delivery whose channel is free. It
// returns when it has work again that nothing will announce.
func (b *Bot) deliverPass(ctx context.Context, done chan<- struct{}) wakeAt {
	log := zerolog.Ctx(ctx)
	var next wakeAt
	var items []*access.OutboxItem
	if err := b.svc.Store.View(ctx, func(tx access.Tx) error {
		var err error
		items, err = tx.Outbox(deliveryBatch)
		return err
	}); err != nil {
		if ctx.Err() == nil {
			log.Error().Err(err).Msg("outbox: read")
		}
		next.pace = time.Now().Add(storeRetry)
		return next
	}
	now := b.now()
	waiting, oldest := 0, time.Duration(0)
	for _, it := range items {
		if age := now.Sub(it.CreatedAt); age > oldest {
			oldest = age
		}
		if it.Notice != nil && !it.NextAttempt.After(now) {
			if !b.expandItem(ctx, it) {
				next.pace = earliest(next.pace, time.Now().Add(storeRetry))
			}
			continue
		}
		if it.Notice != nil {
			next.backoff = earliest(next.backoff, it.NextAttempt)
		}
		waiting++
	}
	b.cfg.Observer.Outbox(waiting, oldest)
	d := b.out
	skip := map[string]bool{} // channels whose earliest waiting item cannot go yet
	for _, it := range items {
		if it.Notice != nil || skip[it.Channel] {
			continue
		}
		var dv delivery
		if err := json.Unmarshal(it.Body, &dv); err != nil {
			log.Error().Err(err).Uint64("item", it.ID).Msg("outbox: undecodable item dropped")
			b.drop(ctx, it.ID)
			continue
		}
		skip[it.Channel] = true // one at a time per channel, in order
		// Backoff is on jitbot's clock; Slack's pace and Retry-After on the real one.
		if it.NextAttempt.After(now) {
			next.backoff = earliest(next.backoff, it.NextAttempt)
			continue
		}
		ok, notBefore := d.take(it.Channel, dv.method(), time.Now())
		if !ok {
			next.pace = earliest(next.pace, notBefore) // zero: a delivery in flight frees it
			continue
		}
		d.inFlight.Add(1)
		go func() {
			defer d.inFlight.Done()
			defer func() {
				d.mu.Lock()
				d.busy[it.Channel] = false
				d.running--
				d.mu.Unlock()
				select {
				case done <- struct{}{}:
				default:
				}
			}()
			b.send(ctx, it, dv)
		}()
	}
	return next
}

// take reserves channel for one call of method now, within the pace. When the call must wait
// it reports false and until when, or a zero time when a delivery in flight holds the channel
// or the last free slot (its end wakes the loop).
func (d *deliverer) take(channel, method string, now time.Time) (bool, time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy[channel] || d.running >= maxInFlight {
		return false, time.Time{}
	}
	if now.Before(d.blocked[method]) {
		return false, d.blocked[method]
	}
	t := d.tokens[channel]
	if t == nil {
		t = &tokens{n: channelBurst, at: now}
		d.tokens[channel] = t
	}
	if now.Before(t.until) {
		return false, t.until
	}
	t.n = min(channelBurst, t.n+now.Sub(t.at).Seconds()/channelInterval.Seconds())
	t.at = now
	if t.n < 1 {
		return false, now.Add(time.Duration((1 - t.n) * float64(channelInterval)))
	}
	if method == "chat.update" {
		i := 0
		for i < len(d.updates) && now.Sub(d.updates[i]) >= time.Minute {
			i++
		}
		d.updates = d.updates[i:]
		if len(d.updates) >= updatesPerMin {
			return false, d.updates[0].Add(time.Minute)
		}
		d.updates = append(d.updates, now)
	}
	t.n--
	d.busy[channel] = true
	d.running++
	return true, time.Time{}
}

// hold makes channel (and, for workspace limits, method) wait until Slack's Retry-After.
func (d *deliverer) hold(channel, method string, until time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := d.tokens[channel]; t != nil {
		t.until, t.n = until, 0
	}
	if method != "chat.postMessage" { // chat.postMessage is limited per channel
		d.blocked[method] = until
	}
}

// expandItem replaces a notice by the deliveries it needs, in one transaction. A notice that
// cannot be expanded now waits with backoff. It reports false when the store could not be
// written (the notice is still waiting, ready).
func (b *Bot) expandItem(ctx context.Context, it *access.OutboxItem) bool {
	ds, err := b.expand(ctx, *it.Notice)
	if err != nil {
		b.backoff(ctx, it, err)
		return true
	}
	err = b.svc.Store.Update(ctx, func(tx access.Tx) error {
		if err := tx.DeleteOutbox(it.ID); err != nil {
			return err
		}
		return b.put(tx, ds...)
	})
	if err != nil && ctx.Err() == nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("notice", string(it.Notice.Kind)).Msg("outbox: expand notice")
	}
	return err == nil
}

// send makes one delivery's Slack call and records the outcome.
func (b *Bot) send(parent context.Context, it *access.OutboxItem, d delivery) {
	ctx, cancel := context.WithTimeout(parent, 30*time.Second)
	defer cancel()
	log := zerolog.Ctx(ctx).With().Uint64("outbox", it.ID).Str("channel", it.Channel).Str("op", d.Op).Logger()
	// The pass read the outbox before the previous delivery to this channel finished: send only
	// what is still waiting, as it is now (delivered meanwhile, or replaced by a newer update).
	var cur *access.OutboxItem
	if err := b.svc.Store.View(ctx, func(tx access.Tx) error {
		var err error
		cur, err = tx.OutboxItem(it.ID)
		return err
	}); err != nil {
		if access.ErrorCode(err) != access.ENOTFOUND && parent.Err() == nil {
			log.Error().Err(err).Msg("outbox: read item")
		}
		return
	}
	if !cur.CreatedAt.Equal(it.CreatedAt) || string(cur.Body) != string(it.Body) {
		it = cur
		if err := json.Unmarshal(it.Body, &d); err != nil {
			log.Error().Err(err).Msg("outbox: undecodable item dropped")
			b.drop(ctx, it.ID)
			return
		}
	}
	m, err := b.render(ctx, d)
	if err != nil {
		if access.ErrorCode(err) == access.ENOTFOUND {
			log.Warn().Err(err).Msg("outbox: what the message shows is gone; dropped")
			b.drop(ctx, it.ID)
			return
		}
		b.retry(ctx, it, d, err)
		return
	}
	var ref access.MessageRef
	switch d.Op {
	case opUpdate:
		err = b.update(ctx, d.Channel, d.TS, m)
		ref = access.MessageRef{Channel: d.Channel, TS: d.TS}
	default:
		ref.Channel, ref.TS, err = b.post(ctx, d.Channel, m)
	}
	if err != nil {
		if parent.Err() != nil {
			return // shutting down: the item stays for the next start
		}
		b.retry(ctx, it, d, err)
		return
	}
	b.cfg.Observer.Delivered(d.method())
	more, err := b.remember(ctx, d, m, ref)
	if err != nil {
		log.Warn().Err(err).Msg("outbox: remember where the message landed")
	}
	err = b.svc.Store.Update(ctx, func(tx access.Tx) error {
		cur, err := tx.OutboxItem(it.ID)
		if access.ErrorCode(err) == access.ENOTFOUND {
			return b.put(tx, more...)
		}
		if err != nil {
			return err
		}
		// A newer update of the same message replaced this one while it was being sent: keep
		// it, it goes next.
		if cur.CreatedAt.Equal(it.CreatedAt) && string(cur.Body) == string(it.Body) {
			if err := tx.DeleteOutbox(it.ID); err != nil {
				return err
			}
		}
		return b.put(tx, more...)
	})
	if err != nil {
		log.Error().Err(err).Msg("outbox: record delivery; it may be sent again")
	}
}

// retry records a failed attempt: after Slack's Retry-After for a rate limit, with backoff
// otherwise; an undeliverable one is dropped with an alert.
func (b *Bot) retry(ctx context.Context, it *access.OutboxItem, d delivery, cause error) {
	log := zerolog.Ctx(ctx)
	code := slackCode(cause)
	reason := code
	if reason == "" {
		reason = "error"
	}
	b.cfg.Observer.DeliveryFailed(reason)
	var rl *slack.RateLimitedError
	switch {
	case errors.As(cause, &rl):
		b.out.hold(it.Channel, d.method(), time.Now().Add(rl.RetryAfter))
		it.NextAttempt = time.Time{}
	case undeliverable[code] != "" && !isFatalAuth(cause):
		log.Warn().Err(cause).Str("channel", d.Channel).Msg("outbox: undeliverable; dropped")
		b.drop(ctx, it.ID)
		b.alertUndeliverable(ctx, d, code)
		return
	default:
		b.backoff(ctx, it, cause)
		return
	}
	b.keep(ctx, it, cause)
}

// backoff makes it wait longer after each failed attempt, up to maxBackoff, with jitter.
func (b *Bot) backoff(ctx context.Context, it *access.OutboxItem, cause error) {
	it.Attempts++
	wait := time.Second << min(it.Attempts-1, 16)
	wait = min(wait, maxBackoff)
	wait += time.Duration(rand.Int64N(int64(wait/5) + 1))
	it.NextAttempt = b.now().Add(wait)
	zerolog.Ctx(ctx).Info().Err(cause).Uint64("outbox", it.ID).Int("attempts", it.Attempts).Dur("retry_in", wait).Msg("outbox: failed; will retry")
	b.keep(ctx, it, cause)
}

// keep stores it with its retry bookkeeping, unless a newer version replaced it meanwhile.
func (b *Bot) keep(ctx context.Context, it *access.OutboxItem, cause error) {
	log := zerolog.Ctx(ctx)
	it.LastError = truncate(fmt.Sprint(cause), 300)
	err := b.svc.Store.Update(ctx, func(tx access.Tx) error {
		cur, err := tx.OutboxItem(it.ID)
		if err != nil {
			return err
		}
		if !cur.CreatedAt.Equal(it.CreatedAt) || string(cur.Body) != string(it.Body) {
			return nil // replaced by a newer update meanwhile: that one goes now
		}
		return tx.PutOutbox(it)
	})
	if err != nil && access.ErrorCode(err) != access.ENOTFOUND && ctx.Err() == nil {
		log.Error().Err(err).Msg("outbox: record failed attempt")
	}
}

func (b *Bot) drop(ctx context.Context, id uint64) {
	if err := b.svc.Store.Update(ctx, func(tx access.Tx) error { return tx.DeleteOutbox(id) }); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Uint64("outbox", id).Msg("outbox: drop")
	}
}

// alertUndeliverable tells the alerts channel, once per channel and reason for a while, that
// messages to a channel cannot be delivered. An alert that cannot be delivered is only logged.
func (b *Bot) alertUndeliverable(ctx context.Context, d delivery, code string) {
	p := b.policy()
	if p == nil || p.AlertsChannel() == "" || p.AlertsChannel() == d.Channel {
		return
	}
	key := d.Channel + "/" + code
	now := time.Now()
	b.out.mu.Lock()
	last, seen := b.out.alerted[key]
	if !seen || now.Sub(last) > alertEvery {
		b.out.alerted[key] = now
	}
	b.out.mu.Unlock()
	if seen && now.Sub(last) <= alertEvery {
		return
	}
	to := "<#" + d.Channel + ">"
	if strings.HasPrefix(d.Channel, "U") || strings.HasPrefix(d.Channel, "W") {
		to = "Slack user `" + d.Channel + "`" // named, not mentioned: nobody is pinged
	}
	text := fmt.Sprintf(":rotating_light: A message to %s (%s) could not be delivered and was dropped: %s (%s).", to, d.Channel, undeliverable[code], code)
	if err := b.enqueue(ctx, staticDelivery(p.AlertsChannel(), textMessage(text))); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("outbox: queue undeliverable alert")
	}
}
