package access

import (
	"fmt"
	"strings"
)

// notices are the run's summary for the audit channel and, for a stopped or failed run, an
// alert saying which rule and why.
func (e *Engine) notices(pol *Policy, run *Run) []Notice {
	var out []Notice
	post := func(n Notice) { out = append(out, n) }
	if len(run.Changes) > 0 || run.DryRun || run.Outcome != OutcomeOK || run.By != nil {
		post(Notice{Kind: NoticeAudit, Actor: runActor(run), Text: report(run)})
	}
	if run.DryRun || (run.Outcome != OutcomeStopped && run.Outcome != OutcomeFailed) {
		return out
	}
	text := fmt.Sprintf("%s stopped before changing anything: %s The next run will try again.", title(run), run.Error)
	if run.Outcome == OutcomeFailed {
		text = fmt.Sprintf("%s failed after %d of %d changes: %s The next run recomputes the plan from Atlassian and resumes.",
			title(run), done(run.Changes), writes(run.Changes), run.Error)
	}
	post(Notice{Kind: NoticeAlert, Actor: PolicyActor, Text: text})
	return out
}

// title names the run's rule for people: "Sync rule engineering-jira".
func title(run *Run) string {
	switch run.Kind {
	case RunSync:
		return "Sync rule " + run.Name
	case RunSweep:
		return "Sweep " + run.Name
	}
	return "The protected-group guard"
}

func done(cs []Change) int {
	n := 0
	for _, c := range cs {
		if c.Done && c.Op != OpReport {
			n++
		}
	}
	return n
}

// summary is the one-line outcome of a run, with its kind and rule.
func summary(run *Run) string {
	return fmt.Sprintf("%s %s: %s", run.Kind, run.Name, outcome(run))
}

// outcome is how a run ended and what it changed.
func outcome(run *Run) string {
	skipped := 0
	for _, c := range run.Changes {
		if c.Skipped != "" {
			skipped++
		}
	}
	s := fmt.Sprintf("%s, %d planned, %d done, %d skipped by guards", run.Outcome, len(run.Changes), done(run.Changes), skipped)
	if run.Error != "" {
		s += ": " + run.Error
	}
	return s
}

// reportLines is how many changes a notice lists.
const reportLines = 20

// report is the audit-channel text of a run: its outcome and its changes with their reasons.
func report(run *Run) string {
	var b strings.Builder
	b.WriteString(title(run))
	if run.DryRun {
		b.WriteString(" (dry run)")
	}
	fmt.Fprintf(&b, ": %s", outcome(run))
	if g := run.GraceNote(); g != "" {
		b.WriteString("; " + g)
	}
	for i, c := range run.Changes {
		if i == reportLines {
			fmt.Fprintf(&b, "\n… and %d more", len(run.Changes)-i)
			break
		}
		b.WriteString("\n• " + c.Describe())
		switch {
		case c.Skipped != "":
			b.WriteString(" (skipped: " + c.Skipped + ")")
		case c.Error != "":
			b.WriteString(" (failed: " + c.Error + ")")
		}
	}
	return b.String()
}

// Describe states the change in plain words, with its reason: "add a@x to g: reason",
// "remove a@x holding site-admin on https://x.atlassian.net: reason". The audit channel, the
// bot and `jitbot plan` all describe a change with it, each adding its own mark-up and status.
func (c Change) Describe() string {
	who := c.Account.Handle()
	var what string
	switch {
	case c.Role != "":
		what = fmt.Sprintf("%s %s holding %s", c.Op, who, c.Role)
		if c.Resource != "" {
			what += " on " + c.Resource
		}
	case c.Op == OpAdd:
		what = fmt.Sprintf("add %s to %s", who, c.Group)
	case c.Op == OpRemove:
		what = fmt.Sprintf("remove %s from %s", who, c.Group)
	case c.Group != "":
		what = fmt.Sprintf("%s %s in %s", c.Op, who, c.Group)
	default:
		what = fmt.Sprintf("%s %s", c.Op, who)
	}
	return what + ": " + c.Reason
}
