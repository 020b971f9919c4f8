package access

import (
	"errors"
	"fmt"
	"time"
)

// Reading back before an add. A grant reads the member's access before its first add (its
// prior state, RecordPrior) and again before adding once more after a failed or interrupted
// attempt. What the second read finds depends on what jitbot knows of its own earlier add:
//
//   - not there: the add is sent (again);
//   - there, and no add of this grant can have reached Atlassian (none was sent, or Atlassian
//     answered it with a refusal): someone gave it outside jitbot meanwhile, so it is recorded
//     as held before the grant and left in place at the end;
//   - there after an add whose outcome is unknown (the process died, or no answer came):
//     the grant counts it as its own and takes it back at the end, so access never outlives
//     the grant.

// answerer is an error that says whether the outside service answered the call (so a refused
// write was not applied) or may have applied it without jitbot hearing back.
type answerer interface{ Answered() bool }

// refused reports whether err is a definite refusal: the service answered, so the write it
// failed was not applied.
func refused(err error) bool {
	var a answerer
	return errors.As(err, &a) && a.Answered()
}

// MarkAddSent records, before the add call for item i, that it may reach Atlassian.
func (g *Grant) MarkAddSent(i int) { g.Items[i].AddSent = true }

// AddRefused records that Atlassian answered the add for item i with a refusal: it was not
// applied.
func (g *Grant) AddRefused(i int) { g.Items[i].AddSent = false }

// RecordReadBack records what the read before adding item i again found, and returns the
// audit event saying so. present with no add possibly applied means it was given outside
// jitbot: it becomes Had. present after an add of unknown outcome counts as given by g, and
// the event is then that add's grant.item_added (the add's own record never came), so every
// item a grant gave has one.
func (g *Grant) RecordReadBack(i int, present bool, now time.Time) AuditEvent {
	it := &g.Items[i]
	action, d := ActionGrantPrior, ""
	switch {
	case it.Added || it.Had:
		// Another driver of the same intent (another replica) finished the item meanwhile:
		// what it recorded stands (present now because this grant gave it).
		d = fmt.Sprintf("%s: read back before adding again: already recorded as %s; kept", it.Target, map[bool]string{true: "given by this grant", false: "held before"}[it.Added])
	case !present:
		d = fmt.Sprintf("%s: read back before adding again: not present", it.Target)
	case it.AddSent:
		it.Added, it.AddSent = true, false
		action = ActionGrantItemAdded
		d = fmt.Sprintf("%s: read back before adding again: present after an add whose outcome was unknown; counted as given by this grant", it.Target)
	default:
		it.Had = true
		d = fmt.Sprintf("%s: read back before adding again: present, though no add of this grant reached Atlassian; given outside jitbot, it will be left in place at the end", it.Target)
	}
	return g.event(action, SystemActor, now, d)
}
