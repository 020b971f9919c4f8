package bot

// View of a sync, sweep or guard run.

import (
	"fmt"

	"github.com/jitbot/jitbot/access"
)

// runMessage shows a sync or sweep run and its plan or outcome.
func runMessage(r *access.Run, by string) message {
	head := fmt.Sprintf("*%s %s*", r.Kind, r.Name)
	if r.DryRun {
		head += " (dry-run: nothing changed)"
	}
	head += fmt.Sprintf(" — %s, %d changes", r.Outcome, len(r.Changes))
	if by != "" {
		head += ", run by <@" + by + ">"
	}
	if r.Error != "" {
		head += "\nError: " + inline(r.Error)
	}
	ls := []string{head}
	for _, c := range r.Changes {
		l := "• " + inline(c.Describe())
		switch {
		case c.Skipped != "":
			l += " _(skipped: " + inline(c.Skipped) + ")_"
		case c.Error != "":
			l += " _(failed: " + inline(c.Error) + ")_"
		case c.Done:
			l += " :white_check_mark:"
		}
		ls = append(ls, l)
	}
	if g := r.GraceNote(); g != "" {
		ls = append(ls, "_"+inline(g)+"_")
	}
	return message{Text: truncate(fmt.Sprintf("%s %s: %s, %d changes", r.Kind, r.Name, r.Outcome, len(r.Changes)), fallbackLimit), Blocks: lines("run", ls, unbounded)}
}
