package access

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
)

// Engine is the reconciler of docs/design.md ("Desired state, one reconciler"). It runs sync rules,
// sweeps and the protected-group guard: each run reads the part of the org its rule refers to,
// plans changes with their reasons, puts the plan through the same guards (vet) and applies it.
// Plans are recomputed from what Atlassian holds on every run, so running again after a run
// that failed part way resumes it, and a run with nothing to do writes nothing to Atlassian.
type Engine struct {
	Store       Store
	Org         Org
	Provisioner Provisioner
	Roles       RoleOrg // when set, the guard also watches platform role holders
	Notifier    Notifier
	Policy      func() *Policy
	Now         func() time.Time
	// OnRun, when set, is told of every run recorded (for metrics). It must be quick.
	OnRun func(*Run)
	// Exclusive, when set, holds a rule across processes (several replicas on one store) for
	// the length of a run that changes Atlassian. It returns the func that lets go, or an error
	// when another process holds the rule (or the hold cannot be taken): the run does not start.
	Exclusive func(ctx context.Context, key string) (release func(), err error)

	running running // rules running now: a second start is refused
}

// GuardRunName is the name of guard runs.
const GuardRunName = "guard"

// Run runs the sync rule or sweep with the given name, or the guard (kind RunGuard), now.
// With dryRun it plans and vets but changes nothing in Atlassian.
//
// Every run, dry or not, is stored with its plan and outcome (PutRun) with an ActionRun audit
// event (tagged dry_run for dry runs); each applied change gets an ActionChange event as it is
// made. A sweep's first-seen times are kept only by runs that are not dry. The audit channel
// gets a summary of every run that planned something, was dry or did not end ok; the alerts
// channel gets stopped and failed runs (except dry runs), naming the rule and why.
//
// The returned error is for runs that could not be started (no policy, no such rule, or the
// same rule already running: a *RunningError) or recorded; a run that stopped or failed is returned with a nil error and its Outcome and
// Error set.
func (e *Engine) Run(ctx context.Context, kind RunKind, name string, dryRun bool) (*Run, error) {
	return e.run(ctx, kind, name, dryRun, true)
}

// Plan returns what Run would do, without changing anything: it reads the store and the org
// only. The returned run is marked dry-run, is not stored, is not audited and posts nothing
// (for `jitbot plan` and policy pull requests).
func (e *Engine) Plan(ctx context.Context, kind RunKind, name string) (*Run, error) {
	return e.run(ctx, kind, name, true, false)
}

// Wanted reports whether a source other than grants wants u in group: a sync rule targeting the
// group whose match holds on u (u.Groups must be filled in), or a standing membership. reason
// names it. A match that fails on u is an error: the caller should keep the membership.
func (e *Engine) Wanted(ctx context.Context, u *User, group string) (reason string, ok bool, err error) {
	p := e.policy()
	if p == nil {
		return "", false, nil
	}
	d := &desired{policy: p, now: e.now()}
	reason, err = d.want(u, group, false)
	if err != nil {
		return "", false, fmt.Errorf("wanted %s in %s: %w", u.AccountID, group, err)
	}
	return reason, reason != "", nil
}

// MayWant reports whether Wanted could want anyone in group: some sync rule adds members to
// it, or it has standing members (matched on the user's current e-mail, so not decided from
// a stored account). When it is false, Wanted is false whoever the user is, so a caller need
// not read the user.
func (e *Engine) MayWant(group string) bool {
	p := e.policy()
	if p == nil {
		return false
	}
	for g, members := range p.Guard.StandingMembers {
		if strings.EqualFold(g, group) && len(members) > 0 {
			return true
		}
	}
	for i := range p.Sync {
		if containsFold(p.Sync[i].AddTo, group) {
			return true
		}
	}
	return false
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) policy() *Policy {
	if e.Policy == nil {
		return nil
	}
	return e.Policy()
}

func (e *Engine) run(ctx context.Context, kind RunKind, name string, dryRun, record bool) (*Run, error) {
	pol := e.policy()
	if pol == nil {
		return nil, Errorf(EINVALID, "No policy is loaded.")
	}
	switch kind {
	case RunSync:
		if pol.SyncRule(name) == nil {
			return nil, Errorf(ENOTFOUND, "The policy has no sync rule %s.", name)
		}
	case RunSweep:
		if pol.Sweep(name) == nil {
			return nil, Errorf(ENOTFOUND, "The policy has no sweep %s.", name)
		}
	case RunGuard:
		name = GuardRunName
	default:
		return nil, Errorf(EINVALID, "The engine does not run %s runs.", kind)
	}
	now := e.now()
	if !dryRun {
		// Only runs that change Atlassian are exclusive: a dry run or plan may look alongside.
		key, what := string(kind)+"\x00"+name, title(&Run{Kind: kind, Name: name})
		done, err := e.running.start(key, what, now)
		if err != nil {
			return nil, err
		}
		defer done()
		if e.Exclusive != nil {
			release, err := e.Exclusive(ctx, string(kind)+"/"+name)
			if err != nil {
				return nil, &RunningError{What: what, Since: now, err: Errorf(ECONFLICT,
					"%s is running on another jitbot replica (or the hold on it could not be taken); this start was not run. Its outcome is posted to the audit channel.", what)}
			}
			defer release()
		}
	}
	run := &Run{ID: uuid.NewString(), Kind: kind, Name: name, Started: now, DryRun: dryRun, By: runBy(ctx)}
	log := zerolog.Ctx(ctx).With().Str("run", run.ID).Str("run_kind", string(kind)).Str("rule", name).Bool("dry_run", dryRun).Logger()
	ctx = log.WithContext(ctx)

	org := &countingOrg{Org: e.Org}
	prov := &countingProvisioner{Provisioner: e.Provisioner}
	p, err := e.plan(ctx, org, pol, kind, name, now)
	if err == nil {
		err = vet(p, p.desired)
		run.Changes, run.InGrace, run.GraceEnd = p.changes, p.inGrace, p.graceEnd
	}
	if err == nil && !dryRun {
		err = e.begin(ctx, run)
	}
	if err == nil && !dryRun {
		err = e.apply(ctx, org, prov, run)
	}
	run.Calls = int(org.n.Load() + prov.n.Load())
	run.Finished = e.now()
	switch {
	case err == nil && dryRun:
		run.Outcome = OutcomeDryRun
	case err == nil:
		run.Outcome = OutcomeOK
	case stops(err):
		run.Outcome, run.Error = OutcomeStopped, errText(err)
	default:
		run.Outcome, run.Error = OutcomeFailed, errText(err)
	}
	ev := log.Info()
	if err != nil {
		ev = log.Warn().Err(err)
	}
	ev.Str("outcome", string(run.Outcome)).Int("changes", len(run.Changes)).Int("calls", run.Calls).Msg("run")
	if !record {
		return run, nil
	}
	if e.OnRun != nil {
		e.OnRun(run)
	}
	if err := e.record(ctx, run, p, dryRun, e.notices(pol, run)); err != nil {
		return run, err
	}
	return run, nil
}

// stops reports whether err is bad input or a guard (the run stopped before changing
// anything) rather than a failure of Atlassian or the store.
func stops(err error) bool {
	switch ErrorCode(err) {
	case EINVALID, ENOTFOUND, EFORBIDDEN:
		return true
	}
	return false
}

// plan reads the live grants and the org and plans the run.
func (e *Engine) plan(ctx context.Context, org Org, pol *Policy, kind RunKind, name string, now time.Time) (*plan, error) {
	d, err := loadDesired(ctx, e.Store, pol, now)
	if err != nil {
		return nil, err
	}
	var p *plan
	switch kind {
	case RunSync:
		p, err = planSync(ctx, org, d, pol.SyncRule(name))
	case RunSweep:
		var seen map[string]time.Time
		err = e.Store.View(ctx, func(tx Tx) error {
			var err error
			seen, err = tx.FirstSeen(name)
			if ErrorCode(err) == ENOTFOUND {
				return nil
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("read first-seen times of sweep %s: %w", name, err)
		}
		p, err = planSweep(ctx, org, d, pol.Sweep(name), seen)
	case RunGuard:
		p, err = planGuard(ctx, org, e.Roles, d, &pol.Guard)
	}
	if err != nil {
		return nil, err
	}
	p.desired = d
	return p, nil
}

// begin stores run as running, with the changes it is about to make, before any of them is
// made: a store that cannot be written (a full disk, a read-only file) stops the run before it
// changes Atlassian, where each change would otherwise be made and then found impossible to
// audit, and a process that dies mid-run leaves its plan behind.
func (e *Engine) begin(ctx context.Context, run *Run) error {
	if writes(run.Changes) == 0 {
		return nil
	}
	run.Outcome = OutcomeRunning
	if err := e.Store.Update(ctx, func(tx Tx) error { return tx.PutRun(run) }); err != nil {
		return fmt.Errorf("store run %s before its changes: %w", run.ID, err)
	}
	return nil
}

// record stores the run, its audit event, a sweep's first-seen times and the notices about it in
// one transaction.
func (e *Engine) record(ctx context.Context, run *Run, p *plan, dryRun bool, notices []Notice) error {
	ev := AuditEvent{Time: run.Finished, Action: ActionRun, Actor: runActor(run), Subject: run.Name, Detail: summary(run)}
	if dryRun {
		ev.Tags = []string{TagDryRun}
	}
	err := e.Store.Update(ctx, func(tx Tx) error {
		if err := tx.PutRun(run); err != nil {
			return err
		}
		if p != nil && p.seenSet && !dryRun {
			if err := tx.PutFirstSeen(run.Name, p.seen); err != nil {
				return err
			}
		}
		if err := tx.AppendAudit(&ev); err != nil {
			return err
		}
		if e.Notifier == nil {
			return nil
		}
		for _, n := range notices {
			if err := e.Notifier.Notify(ctx, tx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record run %s of %s %s: %w", run.ID, run.Kind, run.Name, err)
	}
	return nil
}

// runActor is who ran run: the person who asked for it now, or the policy's schedule.
func runActor(run *Run) Actor {
	if run.By != nil {
		return *run.By
	}
	return PolicyActor
}

// countingOrg counts the calls a run makes, for Run.Calls.
type countingOrg struct {
	Org
	n atomic.Int64
}

func (o *countingOrg) Groups(ctx context.Context, names []string) ([]Group, error) {
	o.n.Add(1)
	return o.Org.Groups(ctx, names)
}

func (o *countingOrg) Users(ctx context.Context, q UserQuery, fn func(*User) error) error {
	o.n.Add(1)
	return o.Org.Users(ctx, q, fn)
}

func (o *countingOrg) Suspend(ctx context.Context, accountID string) error {
	o.n.Add(1)
	return o.Org.Suspend(ctx, accountID)
}

func (o *countingOrg) Restore(ctx context.Context, accountID string) error {
	o.n.Add(1)
	return o.Org.Restore(ctx, accountID)
}

type countingProvisioner struct {
	Provisioner
	n atomic.Int64
}

func (p *countingProvisioner) Add(ctx context.Context, a Account, t Target) error {
	p.n.Add(1)
	return p.Provisioner.Add(ctx, a, t)
}

func (p *countingProvisioner) Remove(ctx context.Context, a Account, t Target) error {
	p.n.Add(1)
	return p.Provisioner.Remove(ctx, a, t)
}
