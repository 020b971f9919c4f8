package access

import "context"

type runByKey struct{}

// WithRunBy marks ctx as carrying a run a person asked for now (an operator's "sync NAME" in
// Slack). Engine.Run records them as the run's actor in the audit log, and posts the run to the
// audit channel whatever its outcome, naming them, so the bot posts nothing of its own and the
// channel gets one post per run.
func WithRunBy(ctx context.Context, by Actor) context.Context {
	return context.WithValue(ctx, runByKey{}, by)
}

// runBy returns the person WithRunBy put in ctx, or nil for a scheduled run.
func runBy(ctx context.Context) *Actor {
	if by, ok := ctx.Value(runByKey{}).(Actor); ok {
		return &by
	}
	return nil
}
