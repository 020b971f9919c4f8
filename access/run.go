package access

import (
	"fmt"
	"time"
)

// RunKind is what produced a run.
type RunKind string

// Run kinds.
const (
	RunSync   RunKind = "sync"
	RunSweep  RunKind = "sweep"
	RunGuard  RunKind = "guard"
	RunDigest RunKind = "digest"
)

// ChangeOp is one kind of change a plan makes.
type ChangeOp string

// Change operations.
const (
	OpAdd     ChangeOp = "add"
	OpRemove  ChangeOp = "remove"
	OpSuspend ChangeOp = "suspend"
	OpRestore ChangeOp = "restore"
	OpReport  ChangeOp = "report"
)

// Change is one planned change with its reason.
type Change struct {
	Op       ChangeOp `json:"op"`
	Account  Account  `json:"account"`
	Group    string   `json:"group,omitempty"`
	GroupID  string   `json:"group_id,omitempty"`
	Role     string   `json:"role,omitempty"`     // a platform role change (the guard): site-admin, …
	Resource string   `json:"resource,omitempty"` // the role's resource as Atlassian reports it
	Reason   string   `json:"reason"`
	Done     bool     `json:"done,omitempty"`
	Absent   bool     `json:"absent,omitempty"`  // done with no call: the member was already not there
	Skipped  string   `json:"skipped,omitempty"` // why a guard left it out
	Error    string   `json:"error,omitempty"`
}

// Outcome is how a run ended. Outcomes lists them.
type Outcome string

// Run outcomes.
const (
	OutcomeOK      Outcome = "ok"
	OutcomeStopped Outcome = "stopped" // bad input or a guard stopped the run before any change
	OutcomeFailed  Outcome = "failed"  // Atlassian or the store failed; the next run resumes
	OutcomeDryRun  Outcome = "dry-run"
	OutcomeRunning Outcome = "running" // stored before the first change; a run left so was cut short by a crash
)

// Outcomes is every run outcome.
var Outcomes = []Outcome{OutcomeOK, OutcomeStopped, OutcomeFailed, OutcomeDryRun, OutcomeRunning}

// Run is one execution of a sync rule, sweep, drift check or digest, and its outcome.
type Run struct {
	ID       string    `json:"id"`
	Kind     RunKind   `json:"kind"`
	Name     string    `json:"name"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitempty"`
	DryRun   bool      `json:"dry_run,omitempty"`
	Changes  []Change  `json:"changes,omitempty"`
	Outcome  Outcome   `json:"outcome"`
	Error    string    `json:"error,omitempty"`
	Calls    int       `json:"calls,omitempty"`
	By       *Actor    `json:"by,omitempty"` // who ran it now (WithRunBy); nil for the schedule
	// InGrace counts the users a sweep would act on but for its grace (matched for less than
	// it); GraceEnd is when the first of them leaves it.
	InGrace  int       `json:"in_grace,omitempty"`
	GraceEnd time.Time `json:"grace_end,omitempty"`
}

// GraceNote says, for people, how many more users a sweep matched and when the first is acted
// on, or "" when none waits in its grace.
func (r *Run) GraceNote() string {
	if r.InGrace == 0 {
		return ""
	}
	return fmt.Sprintf("%d more matched, within the sweep's grace (the first is acted on from %s)", r.InGrace, r.GraceEnd.UTC().Format(time.RFC3339))
}
