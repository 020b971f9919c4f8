package access

import (
	"context"
	"fmt"
	"strings"
)

// RunNow runs the sync rule or sweep name now for by (`/access sync|sweep NAME [dry-run]`).
// Only operators may: anyone else gets EFORBIDDEN before anything about the policy is said.
// A name the policy lacks is ENOTFOUND naming the ones it has; a rule already running is a
// *RunningError (ECONFLICT) saying since when.
func (s *Service) RunNow(ctx context.Context, by Actor, kind RunKind, name string, dryRun bool) (*Run, error) {
	if kind != RunSync && kind != RunSweep {
		return nil, Errorf(EINVALID, "Only sync rules and sweeps can be run now, not %s.", kind)
	}
	ok, err := s.IsOperator(ctx, by)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Errorf(EFORBIDDEN, "Only operators can run %s now.", kind)
	}
	if s.Engine == nil {
		return nil, Errorf(EUNAVAILABLE, "Running a %s from Slack is not available in this jitbot.", kind)
	}
	p, err := s.policy()
	if err != nil {
		return nil, err
	}
	var names []string
	found := false
	if kind == RunSync {
		found = p.SyncRule(name) != nil
		for _, r := range p.Sync {
			names = append(names, r.Name)
		}
	} else {
		found = p.Sweep(name) != nil
		for _, sw := range p.Sweeps {
			names = append(names, sw.Name)
		}
	}
	if !found {
		list := "none are defined"
		if len(names) > 0 {
			list = "defined: " + strings.Join(names, ", ")
		}
		return nil, Errorf(ENOTFOUND, "There is no %s %q (%s).", kind, name, list)
	}
	run, err := s.Engine.Run(WithRunBy(ctx, by), kind, name, dryRun) // audited and posted once, naming by
	if err != nil {
		return run, fmt.Errorf("run %s %s for %s: %w", kind, name, by, err)
	}
	return run, nil
}
