package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/policies"
)

// Start-up verification of the Atlassian key: retried with backoff between these bounds while
// Atlassian cannot be reached; /readyz says why meanwhile.
const (
	verifyMinBackoff = time.Second
	verifyMaxBackoff = 30 * time.Second
)

// verifyAtlassian checks the API key and organization ID with one cheap call before jitbot
// reports ready (Run clears the reason once the sweeper and jobs are started). A refused key
// or organization is returned (start-up stops, naming the variable); a network error or 5xx
// is retried until it passes or ctx ends, with /readyz saying why jitbot is not ready, and
// unreachable is called at the first of them.
func (a *App) verifyAtlassian(ctx context.Context, unreachable func()) error {
	wait := a.verifyBackoff
	if wait <= 0 {
		wait = verifyMinBackoff
	}
	for {
		err := a.atl.Verify(ctx)
		if err == nil {
			why := "Atlassian key verified; starting the sweeper"
			a.atlPending.Store(&why)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if access.ErrorCode(err) == access.EFORBIDDEN {
			return fmt.Errorf("check the Atlassian settings: %w", err)
		}
		why := fmt.Sprintf("Atlassian key not verified yet (%s); retrying in %s", access.ErrorMessage(err), wait)
		a.atlPending.Store(&why)
		if unreachable != nil {
			unreachable()
		}
		a.log.Warn().Err(err).Dur("retry_in", wait).Msg("Atlassian key check")
		t := time.NewTimer(a.realDuration(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, verifyMaxBackoff)
	}
}

// checkPolicyTargets checks every group and resource of the policy in force against the org.
// What does not resolve is an alert, never a stop: the rest of the policy still works, and a
// grant of a vanished target fails on its own. when says at which moment ("at start-up").
func (a *App) checkPolicyTargets(ctx context.Context, refs []policies.Ref, when string) []policies.Problem {
	problems, err := checkTargets(ctx, a.atl, refs)
	if err != nil {
		a.log.Warn().Err(err).Str("when", when).Msg("policy targets not checked")
		return nil
	}
	if len(problems) == 0 {
		return nil
	}
	sortProblems(problems)
	text := fmt.Sprintf("Policy targets that do not resolve in Atlassian (checked %s); grants and runs that use them will fail until the policy or the organization is fixed:\n%s", when, formatProblems(problems))
	a.log.Error().Str("when", when).Int("problems", len(problems)).Msg("policy targets do not resolve")
	alert := access.Notice{Kind: access.NoticeAlert, Text: text}
	if err := a.db.Update(ctx, func(tx access.Tx) error { return a.bot.Notify(ctx, tx, alert) }); err != nil {
		a.log.Error().Err(err).Msg("post policy target alert")
	}
	return problems
}
