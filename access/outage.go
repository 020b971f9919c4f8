package access

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// outage is what the Service knows of Atlassian being unavailable. While it lasts, one grant
// (the probe, the next one due) keeps trying every OutageProbe; the others are held. The
// probe's first answer ends the outage and releases every held grant at once, so retries start
// within moments of recovery instead of on each grant's own backoff.
type outage struct {
	mu      sync.Mutex
	active  bool
	last    time.Time // last failure seen
	cause   string    // what Atlassian did last, e.g. "Atlassian answered 503 (ADMIN-500)"
	probe   string    // grant ID of the probe
	probeAt time.Time // when the probe was last admitted, or its attempt last ended
	probing bool      // the probe's attempt is under way
}

// staleness is how long a probe may go unseen before another grant takes its place: idle,
// between its attempts, and busy, while an attempt is under way. A probe whose call is slow
// (an outage that times out rather than answering 5xx) has not stopped: taking it over after
// the idle bound would set a second grant trying beside it, and a third, one per idle bound.
type staleness struct{ idle, busy time.Duration }

// staleAt reports whether the probe is stale at now. The caller holds o.mu.
func (o *outage) staleAt(now time.Time, st staleness) bool {
	if o.probing {
		return now.Sub(o.probeAt) > st.busy
	}
	return now.Sub(o.probeAt) > st.idle
}

// lastFailure returns the last outage failure seen.
func (o *outage) lastFailure() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// lastCause returns what Atlassian did at the last outage failure.
func (o *outage) lastCause() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cause == "" {
		return "Atlassian is unavailable"
	}
	return o.cause
}

// admit says how grant id may proceed at now: as usual (no outage), as the probe, or held.
// An admitted probe's attempt is under way until failed, answered or settled.
func (o *outage) admit(id string, now time.Time, st staleness) (probe, hold bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.active {
		return false, false
	}
	if o.probe == "" || o.probe == id || o.staleAt(now, st) {
		o.probe, o.probeAt, o.probing = id, now, true
		return true, false
	}
	return false, true
}

// settle records that grant id's attempt ended at now, whatever its outcome; if id is the
// probe, its idle time starts.
func (o *outage) settle(id string, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.probe == id && o.probing {
		o.probeAt, o.probing = now, false
	}
}

// failed records an outage failure of grant id at now and reports whether id is the probe (it
// then retries every OutageProbe; any other grant is held).
func (o *outage) failed(id, cause string, now time.Time, st staleness) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.active {
		o.active, o.probe = true, ""
	}
	o.last, o.cause = now, cause
	if o.probe == "" || o.probe == id || o.staleAt(now, st) {
		o.probe, o.probeAt, o.probing = id, now, false
		return true
	}
	return false
}

// answered ends the outage when grant id, the probe, got an answer from Atlassian; it reports
// whether an outage ended, so the held grants must be released.
func (o *outage) answered(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.active || o.probe != id {
		return false
	}
	o.active, o.probe, o.probing = false, "", false
	return true
}

// retriesOffKey marks a context whose Atlassian calls should not be retried by the client.
type retriesOffKey struct{}

// WithoutRetries returns ctx marked so that the Provisioner makes one attempt per call and
// leaves retrying to the caller. Grant steps use it: a failure is recorded at once (and an
// outage probed), and recovery is seen at the next probe rather than at the end of a client's
// backoff.
func WithoutRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, retriesOffKey{}, true)
}

// RetriesOff reports whether ctx was marked by WithoutRetries.
func RetriesOff(ctx context.Context) bool {
	v, _ := ctx.Value(retriesOffKey{}).(bool)
	return v
}

// staleProbe is how long a probe may go unseen before another grant takes its place: between
// attempts, two probe intervals and some slack; during one, the lease, as for any driver of a
// step (a call that hangs ends at the client's timeout, well within it).
func (s *Service) staleProbe() staleness {
	st := s.settings()
	return staleness{idle: 2*st.outageProbe + 5*time.Second, busy: st.lease}
}

// hold parks grant g while Atlassian is down and another grant probes: its next attempt moves
// to the end of OutageHold (the release brings it forward), its lateness is noted, and the
// alerts channel is told once it is JITBOT_ALERT_AFTER late.
func (s *Service) hold(ctx context.Context, g *Grant) {
	now := s.now()
	next := now.Add(s.settings().outageHold)
	var text string
	err := s.Store.Update(ctx, func(tx Tx) error {
		cur, err := tx.Grant(g.ID)
		if err != nil {
			return err
		}
		if cur.Op() == "" {
			return nil
		}
		cur.noteFailure(now, s.outage.lastCause(), true)
		if at := cur.StepDue().Add(s.settings().alertAfter); !cur.Late.Alerted && at.After(now) && at.Before(next) {
			next = at // back in time to raise the lateness alert
		}
		cur.NextAttempt = next
		var ev AuditEvent
		text, ev = cur.lateAlert(now, s.settings().alertAfter, false, "as soon as Atlassian answers again (one grant probes every "+FormatDuration(s.settings().outageProbe)+"), at the latest "+clock(next))
		if err := tx.PutGrant(cur); err != nil {
			return err
		}
		if text == "" {
			return nil
		}
		if err := tx.AppendAudit(&ev); err != nil {
			return err
		}
		return s.tell(ctx, tx, alertNotice(text))
	})
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("grant", g.ID).Msg("hold grant during outage")
	}
}

// release brings every grant held or backed off by the outage forward to now and drives them
// as one sweep batch (Workers accounts at once, grants of one account in order, removals read
// back together). It runs in the background: the caller is the probe that saw Atlassian answer.
// Grants are brought forward releaseBatch at a time, each batch one transaction: a store that
// bounds a transaction's size (etcd) takes any number of held grants.
func (s *Service) release(ctx context.Context) {
	now := s.now()
	var live []*Grant
	err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		live, err = tx.LiveGrants(GrantFilter{Status: []GrantStatus{GrantProvisioning, GrantRevoking, GrantFailed}})
		return err
	})
	var gs []*Grant
	for batch := range slices.Chunk(live, releaseBatch) {
		if err != nil {
			break
		}
		var held []*Grant
		err = s.Store.Update(ctx, func(tx Tx) error {
			held = held[:0] // the store may run this again after a conflict
			for _, g := range batch {
				if _, busy := s.busy.Load(g.ID); busy {
					continue
				}
				cur, err := tx.Grant(g.ID)
				if err != nil {
					return err
				}
				if cur.Late == nil || !cur.Late.Outage || cur.Ended() || cur.Status == GrantActive {
					continue
				}
				if cur.NextAttempt.After(now) {
					cur.NextAttempt = now
					if err := tx.PutGrant(cur); err != nil {
						return err
					}
				}
				held = append(held, cur)
			}
			return nil
		})
		gs = append(gs, held...)
	}
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("release grants held during the outage")
		return
	}
	zerolog.Ctx(ctx).Info().Int("grants", len(gs)).Msg("Atlassian answers again; releasing held grants")
	// As a sweep batch: revocations' removals are read back together.
	s.sweepBatch(ctx, now, gs, &SweepStats{})
}

// releaseBatch is how many held grants one transaction of release brings forward (a grant's
// record and index entries are a handful of keys; etcd takes 128 in one transaction).
const releaseBatch = 16
