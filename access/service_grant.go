package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"
)

// Revoke ends grant id now. The holder may end their own grant; operators may end anyone's;
// the approvers of a break-glass role may end its grants.
func (s *Service) Revoke(ctx context.Context, by Actor, id string) (*Grant, error) {
	id = NormalizeID(id)
	g, err := s.Grant(ctx, id)
	if err != nil {
		return nil, err
	}
	operator := false
	if !by.Is(g.Holder) {
		if operator, err = s.IsOperator(ctx, by); err != nil {
			return nil, err
		}
		if !operator && g.BreakGlass {
			if role := s.roleOrNil(g.Role); role != nil {
				ids, err := s.currentApprovers(ctx, role)
				if err != nil {
					return nil, err
				}
				operator = contains(ids, by.SlackID)
			}
		}
	}
	now := s.now()
	err = s.update(ctx, id, func(g *Grant) (AuditEvent, error) {
		return g.BeginRevoke(by, operator, "ended early", now, s.settings().lease)
	})
	if err != nil {
		return g, fmt.Errorf("revoke grant %s: %w", id, err)
	}
	s.drive(ctx, id)
	return s.Grant(ctx, id)
}

// update applies fn to grant id in one transaction with the event it returns.
func (s *Service) update(ctx context.Context, id string, fn func(g *Grant) (AuditEvent, error)) error {
	return s.updateTell(ctx, id, fn, nil)
}

// updateTell is update that also writes, in the same transaction, the notices tell returns for
// the changed grant.
func (s *Service) updateTell(ctx context.Context, id string, fn func(g *Grant) (AuditEvent, error), tell func(g *Grant) []Notice) error {
	var ns notices[Grant]
	if tell != nil {
		ns = tellOf(tell)
	}
	_, err := updateRecord(ctx, s, grantRecords, id, fn, ns)
	return err
}

// errRecorded means another driver of the same intent (another replica) recorded the step
// first: nothing to write, and nothing went wrong.
var errRecorded = errors.New("step already recorded")

// drive takes grant id's intent (provision or revoke) as far as it can now. Failures are
// recorded on the grant with the next retry time; drive never loses an intent. While Atlassian
// is down one grant probes it and the others are held (outage.go).
func (s *Service) drive(ctx context.Context, id string) { s.driveIn(ctx, id, nil) }

// driveIn is drive; with a batch, a revocation's removals are read back with the batch's
// (verify.go) and the grant stays held by this process until the batch finishes it. It
// reports whether the grant was handed to the batch.
func (s *Service) driveIn(ctx context.Context, id string, b *verifyBatch) (deferred bool) {
	if _, busy := s.busy.LoadOrStore(id, struct{}{}); busy {
		return false
	}
	release := func() { s.busy.Delete(id) }
	defer func() {
		if !deferred {
			release()
		}
	}()
	log := zerolog.Ctx(ctx).With().Str("grant", id).Logger()
	ctx = log.WithContext(ctx)
	g, err := s.Grant(ctx, id)
	if err != nil {
		log.Error().Err(err).Msg("read grant")
		return false
	}
	if g.Op() == "" {
		return false
	}
	probe, held := s.outage.admit(id, s.now(), s.staleProbe())
	if held {
		s.hold(ctx, g)
		return false
	}
	if probe {
		defer func() { s.outage.settle(id, s.now()) }()
	}
	// One attempt per call: a failure is seen at once and retried here (the outage probe, or
	// backoff), so an outage is alerted and its end noticed, not hidden in a client's retries.
	callCtx := WithoutRetries(ctx)
	// Hold the intent while working on it, so a sweep pass elsewhere leaves it alone. An intent
	// just written (BeginRevoke, NewGrant) is already held: no second write for it.
	if op := g.Op(); op != "" && g.NextAttempt.Before(s.now().Add(s.settings().lease/2)) {
		until := s.now().Add(s.settings().lease)
		if err := mark(ctx, s, grantRecords, id, func(cur *Grant) { cur.Lease(until) }); err != nil {
			log.Error().Err(err).Msg("lease grant")
			return false
		}
	}
	switch g.Op() {
	case OpProvision:
		err = s.provision(callCtx, g)
	case OpRevoke:
		if b == nil {
			err = s.revoke(callCtx, g)
			break
		}
		var removed []int
		if removed, err = s.removeItems(callCtx, g); err == nil {
			s.answered(ctx, id, probe, nil)
			if b.add(g, removed, release) {
				return true
			}
			err = s.readBack(callCtx, g, removed) // the batch is already being read back
		}
	}
	s.answered(ctx, id, probe, err)
	if err == nil {
		return false
	}
	log.Warn().Err(err).Str("op", string(g.Op())).Msg("grant step failed; will retry")
	s.fail(ctx, id, err)
	return false
}

// answered ends the outage when the probe, grant id, got an answer from Atlassian (err is nil or
// not an outage), and releases every grant held meanwhile, in the background.
func (s *Service) answered(ctx context.Context, id string, probe bool, err error) {
	if _, down := outageCause(err); !probe || down || !s.outage.answered(id) {
		return
	}
	zerolog.Ctx(ctx).Info().Msg("Atlassian answers again")
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.release(context.WithoutCancel(ctx))
	}()
}

// WaitReleased waits for grants released after an outage to be driven (for tests and a
// clean stop).
func (s *Service) WaitReleased() { s.bg.Wait() }

// fail records a failed attempt and when to try again. Atlassian being down makes the grant
// the outage's probe (retried every OutageProbe) or holds it until Atlassian answers; other
// failures back off. The alerts channel is told once: when the step is JITBOT_ALERT_AFTER
// past due, or at once when a refused key or permission makes the grant failed.
func (s *Service) fail(ctx context.Context, id string, cause error) {
	now := s.now()
	why, down := outageCause(cause)
	if !down {
		why = failureCause(cause)
	}
	probe := down && s.outage.failed(id, why, now, s.staleProbe())
	var text string
	err := s.Store.Update(ctx, func(tx Tx) error {
		cur, err := tx.Grant(id)
		if err != nil {
			return err
		}
		max := s.settings().maxAttempts
		if ErrorCode(cause) == EFORBIDDEN {
			max = 1 // misconfiguration: a person must look now; retries continue slowly
		}
		failed := cur.Status == GrantFailed || cur.Attempts+1 >= max
		next := s.backoff(cur.Attempts+1, now, failed)
		nextText := clock(next)
		switch {
		case probe:
			next = now.Add(s.settings().outageProbe)
			nextText = fmt.Sprintf("%s, then every %s until Atlassian answers", clock(next), FormatDuration(s.settings().outageProbe))
		case down:
			next = now.Add(s.settings().outageHold)
			nextText = fmt.Sprintf("as soon as Atlassian answers again, at the latest %s", clock(next))
		}
		cur.noteFailure(now, why, down)
		if !cur.Late.Alerted {
			// Come back when the alert is due, if that is before the next attempt.
			if at := cur.StepDue().Add(s.settings().alertAfter); at.After(now) && at.Before(next) {
				next, nextText = at, clock(at)
			}
		}
		ev, becameFailed := cur.Retry(cause, next, max, now)
		var lev AuditEvent
		// A refused key or permission needs a person now; anything else is alerted once late.
		text, lev = cur.lateAlert(now, s.settings().alertAfter, becameFailed && ErrorCode(cause) == EFORBIDDEN, nextText)
		if err := tx.PutGrant(cur); err != nil {
			return err
		}
		if err := tx.AppendAudit(&ev); err != nil {
			return err
		}
		if text == "" {
			return nil
		}
		if err := tx.AppendAudit(&lev); err != nil {
			return err
		}
		return s.tell(ctx, tx, alertNotice(text))
	})
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("record grant failure")
	}
}

// finished are the notices of a grant step done (granted or ended, kind), with note saying how
// late it was and why; a lateness alert about it is marked resolved in the alerts channel.
func (s *Service) finished(g *Grant, kind NoticeKind, note string, alerted bool) []Notice {
	ns := []Notice{{Kind: kind, Grant: g, Role: s.roleOrNil(g.Role), Text: note}}
	if alerted {
		ns = append(ns, alertNotice(fmt.Sprintf("Resolved: grant %s (%s for %s) %s.", g.ID, g.Role, g.member(), note)))
	}
	return ns
}

// otherGrants returns the grants of g's account other than g that have not ended, from the
// live index.
func (s *Service) otherGrants(ctx context.Context, g *Grant) ([]*Grant, error) {
	var others []*Grant
	err := s.Store.View(ctx, func(tx Tx) error {
		all, err := tx.LiveGrants(GrantFilter{AccountID: g.Account.ID})
		for _, o := range all {
			if o.ID != g.ID {
				others = append(others, o)
			}
		}
		return err
	})
	return others, err
}

// prior reports whether a's holding of target t predates grant g: another live grant of the
// same access passes on its own prior state; otherwise Atlassian is asked.
func (s *Service) prior(ctx context.Context, g *Grant, t Target) (bool, string, error) {
	others, err := s.otherGrants(ctx, g)
	if err != nil {
		return false, "", err
	}
	// Any grant not yet revoked knows what the member held before jitbot, even one that is
	// ending right now (its removal may not have happened yet).
	for _, o := range others {
		if o.Status == GrantRevoked {
			continue
		}
		for _, it := range o.Items {
			if it.Checked && s.sameTarget(ctx, it.Target, t) {
				return it.Had, "as recorded by grant " + o.ID, nil
			}
		}
	}
	had, err := s.Provisioner.Has(ctx, g.Account, t)
	return had, "present in Atlassian", err
}

func (s *Service) provision(ctx context.Context, g *Grant) error {
	for i := range g.Items {
		it := g.Items[i]
		if !it.Checked {
			had, from, err := s.prior(ctx, g, it.Target)
			if err != nil {
				return fmt.Errorf("check %s: %w", it.Target, err)
			}
			if err := s.update(ctx, g.ID, func(cur *Grant) (AuditEvent, error) {
				if cur.Op() != OpProvision {
					return AuditEvent{}, Errorf(ECONFLICT, "grant %s is %s", cur.ID, cur.Status)
				}
				ev := cur.RecordPrior(i, had, from, s.now())
				it = cur.Items[i] // what is stored: another driver, or an ending grant's hand-over, may have recorded it first
				return ev, nil
			}); err != nil {
				return err
			}
		}
		if it.Had || it.Added {
			continue
		}
		// Re-driven after a failure or a crash: read back before adding again, and record
		// what was found (readback.go).
		if g.Items[i].Checked {
			there, err := s.Provisioner.Has(ctx, g.Account, it.Target)
			if err != nil {
				return fmt.Errorf("check %s: %w", it.Target, err)
			}
			var cur *Grant
			if err := s.update(ctx, g.ID, func(c *Grant) (AuditEvent, error) {
				if c.Op() != OpProvision {
					return AuditEvent{}, Errorf(ECONFLICT, "grant %s is %s", c.ID, c.Status)
				}
				cur = c
				return c.RecordReadBack(i, there, s.now()), nil
			}); err != nil {
				return err
			}
			if cur.Items[i].Had || cur.Items[i].Added {
				continue
			}
		}
		if err := mark(ctx, s, grantRecords, g.ID, func(c *Grant) { c.MarkAddSent(i) }); err != nil {
			return err
		}
		if err := s.Provisioner.Add(ctx, g.Account, it.Target); err != nil {
			if refused(err) {
				if uerr := mark(ctx, s, grantRecords, g.ID, func(c *Grant) { c.AddRefused(i) }); uerr != nil {
					return errors.Join(err, uerr)
				}
			}
			return fmt.Errorf("give %s: %w", it.Target, err)
		}
		if err := s.update(ctx, g.ID, func(cur *Grant) (AuditEvent, error) {
			if cur.Items[i].Added {
				return AuditEvent{}, errRecorded
			}
			return cur.ItemAdded(i, s.now()), nil
		}); err != nil && !errors.Is(err, errRecorded) {
			return err
		}
	}
	var active *Grant
	var note string
	var alerted bool
	err := s.updateTell(ctx, g.ID, func(cur *Grant) (AuditEvent, error) {
		now := s.now()
		note, alerted = cur.lateNote(now, s.outage.lastFailure())
		ev, err := cur.Activate(now)
		if note != "" {
			ev.Detail += "; " + note
		}
		active = cur
		return ev, err
	}, func(cur *Grant) []Notice { return s.finished(cur, NoticeGranted, note, alerted) })
	if err != nil {
		return err
	}
	zerolog.Ctx(ctx).Info().Time("ends", active.EndsAt).Msg("grant active")
	return nil
}

func (s *Service) roleOrNil(name string) *Role {
	p, err := s.policy()
	if err != nil {
		return nil
	}
	return p.Role(name)
}

// heir is the item of another live grant an ending grant leaves a membership to.
type heir struct {
	grant string
	item  int
}

// keeper says why an ending grant must leave target t in place, or "". When another live
// grant gives it too, that grant is returned as the heir: the membership is handed over to it.
func (s *Service) keeper(ctx context.Context, g *Grant, it GrantItem) (string, *heir, error) {
	if it.Had {
		return "the member held it before this grant", nil, nil
	}
	if !it.Checked {
		return "this grant never gave it", nil, nil
	}
	others, err := s.otherGrants(ctx, g)
	if err != nil {
		return "", nil, err
	}
	for _, o := range others {
		if !o.Live() {
			continue
		}
		for k, oit := range o.Items {
			if s.sameTarget(ctx, oit.Target, it.Target) {
				return "still given by grant " + o.ID, &heir{grant: o.ID, item: k}, nil
			}
		}
	}
	if it.Target.Kind == TargetGroup && s.Engine != nil && s.Directory != nil {
		if !s.Engine.MayWant(it.Target.Group) {
			// No sync rule adds to the group and the member is not standing in it: no need
			// to read the member (one Atlassian call per revocation saved).
			return "", nil, nil
		}
		u, err := s.Directory.User(ctx, g.Account.ID)
		if err != nil {
			return "", nil, fmt.Errorf("read member: %w", err)
		}
		why, ok, err := s.Engine.Wanted(ctx, u, it.Target.Group)
		if err != nil {
			return "", nil, err
		}
		if ok {
			return why, nil, nil
		}
	}
	return "", nil, nil
}

// handOver gives the membership of ending grant from to heir h when h has not yet recorded
// what the member held before it: its item is then counted as given by it (jitbot gave it,
// through from), so it is taken back at h's end. Without this, h would find the membership
// in Atlassian, count it as held before h, and leave it in place for good. An heir that has
// recorded its prior state already knows (it inherited from's, or will add the item itself).
func (s *Service) handOver(ctx context.Context, from string, h *heir) error {
	err := s.update(ctx, h.grant, func(o *Grant) (AuditEvent, error) {
		if o.Op() != OpProvision || o.Items[h.item].Checked {
			return AuditEvent{}, errRecorded
		}
		return o.Inherit(h.item, from, s.now()), nil
	})
	if err != nil && !errors.Is(err, errRecorded) && ErrorCode(err) != ENOTFOUND {
		return fmt.Errorf("hand over to grant %s: %w", h.grant, err)
	}
	return nil
}

// revoke removes g's items and reads each back, then ends g.
func (s *Service) revoke(ctx context.Context, g *Grant) error {
	removed, err := s.removeItems(ctx, g)
	if err != nil {
		return err
	}
	return s.readBack(ctx, g, removed)
}

// readBack reads back each removed item of g on its own, then records the outcome.
func (s *Service) readBack(ctx context.Context, g *Grant, removed []int) error {
	gone := map[int]bool{}
	for _, i := range removed {
		t := g.Items[i].Target
		still, err := s.Provisioner.Has(ctx, g.Account, t)
		if err != nil {
			return fmt.Errorf("verify removal of %s: %w", t, err)
		}
		gone[i] = !still
	}
	return s.finishRevoke(ctx, g.ID, removed, gone)
}

// removeItems takes away every item of ending grant g not yet done, leaving in place (and
// recording why) those another source still gives. It returns the items it removed, which
// must be read back before g is marked ended.
func (s *Service) removeItems(ctx context.Context, g *Grant) ([]int, error) {
	var removed []int
	for i := range g.Items {
		it := g.Items[i]
		if it.Removed {
			continue
		}
		why, h, err := s.keeper(ctx, g, it)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", it.Target, err)
		}
		if h != nil {
			if err := s.handOver(ctx, g.ID, h); err != nil {
				return nil, err
			}
		}
		if why != "" {
			if err := s.update(ctx, g.ID, func(cur *Grant) (AuditEvent, error) { return cur.ItemKept(i, why, s.now()), nil }); err != nil {
				return nil, err
			}
			continue
		}
		if err := s.Provisioner.Remove(ctx, g.Account, it.Target); err != nil {
			return nil, fmt.Errorf("remove %s: %w", it.Target, err)
		}
		removed = append(removed, i)
	}
	return removed, nil
}

// finishRevoke records what the read-back of the removed items of grant id said (gone[i]) and,
// when all are gone, ends the grant: one transaction. An item still visible is retried later.
func (s *Service) finishRevoke(ctx context.Context, id string, removed []int, gone map[int]bool) error {
	var done *Grant
	var still *Target
	var note string
	var alerted bool
	err := s.Store.Update(ctx, func(tx Tx) error {
		cur, err := tx.Grant(id)
		if err != nil {
			return err
		}
		now := s.now()
		var evs []AuditEvent
		for _, i := range removed {
			evs = append(evs, cur.ItemRemoved(i, gone[i], now))
			if !gone[i] && still == nil {
				t := cur.Items[i].Target
				still = &t
			}
		}
		if still == nil {
			note, alerted = cur.lateNote(now, s.outage.lastFailure())
			ev, err := cur.MarkRevoked(now)
			if err != nil {
				return err
			}
			if note != "" {
				ev.Detail += "; " + note
			}
			evs = append(evs, ev)
			done = cur
		}
		if err := tx.PutGrant(cur); err != nil {
			return err
		}
		for i := range evs {
			if err := tx.AppendAudit(&evs[i]); err != nil {
				return err
			}
		}
		if done == nil {
			return nil
		}
		for _, n := range s.finished(cur, NoticeEnded, note, alerted) {
			if err := s.tell(ctx, tx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if still != nil {
		return errStillVisible(*still, s.settings().consistencyWindow)
	}
	s.overdue.Delete(done.ID)
	lag := done.EndedAt.Sub(done.EndsAt)
	if lag < 0 {
		lag = 0
	}
	s.observer().Revoked("revoked", lag)
	zerolog.Ctx(ctx).Info().Str("grant", done.ID).Dur("lag", lag).Msg("grant revoked")
	return nil
}

func errStillVisible(t Target, window time.Duration) error {
	return Errorf(EUNAVAILABLE, "%s still visible after removal; Atlassian may take up to %s to show it", t, FormatDuration(window))
}

// Recover re-drives every intent left behind (start-up after a crash), whatever its lease,
// Workers accounts at once. It reads the live index, not the history.
func (s *Service) Recover(ctx context.Context) (int, error) {
	var gs []*Grant
	if err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		gs, err = tx.LiveGrants(GrantFilter{Status: []GrantStatus{GrantProvisioning, GrantRevoking}})
		return err
	}); err != nil {
		return 0, fmt.Errorf("recover intents: %w", err)
	}
	if s.Shared {
		now := s.now()
		gs = slices.DeleteFunc(gs, func(g *Grant) bool { return g.NextAttempt.After(now) })
	}
	s.forAccounts(gs, func(g *Grant) {
		if ctx.Err() != nil {
			return
		}
		zerolog.Ctx(ctx).Info().Str("grant", g.ID).Str("status", string(g.Status)).Msg("re-driving intent left by a previous run")
		s.drive(ctx, g.ID)
	})
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return len(gs), nil
}
