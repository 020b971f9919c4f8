package access

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Lateness is what jitbot knows about a grant's step (giving access, or taking it back) that
// kept failing after it was due. It is kept on the grant, so a restart loses nothing, and
// cleared when the step succeeds.
type Lateness struct {
	Since   time.Time `json:"since"`             // first failure of the step
	Last    time.Time `json:"last"`              // last failure seen (this grant's, or the outage's it waited on)
	Cause   string    `json:"cause"`             // what went wrong, e.g. "Atlassian answered 503 (ADMIN-500)"
	Outage  bool      `json:"outage,omitempty"`  // Atlassian was unavailable: retried as soon as it answers again
	Alerted bool      `json:"alerted,omitempty"` // the alerts channel was told
}

// causer is an error that can say in a few words what the outside service did:
// "Atlassian answered 503 (ADMIN-500)", "Atlassian could not be reached". The Atlassian
// client's errors are.
type causer interface{ Cause() string }

// failureCause says what went wrong in err, for people: the outside service's answer when err
// carries one, else err's message.
func failureCause(err error) string {
	var c causer
	if errors.As(err, &c) {
		if s := c.Cause(); s != "" {
			return s
		}
	}
	return ErrorMessage(err)
}

// outageCause reports whether err is Atlassian being unavailable (an answer of 429 or 5xx, or
// none at all), as opposed to a refusal or a change not yet visible, and says what it did.
func outageCause(err error) (string, bool) {
	var c causer
	if ErrorCode(err) != EUNAVAILABLE || !errors.As(err, &c) {
		return "", false
	}
	return c.Cause(), true
}

// StepDue returns when g's current step was due: its end for a revocation, its approval for
// giving access.
func (g *Grant) StepDue() time.Time {
	if g.Ending() {
		return g.EndsAt
	}
	return g.CreatedAt
}

// noteFailure records a failure of g's current step at now.
func (g *Grant) noteFailure(now time.Time, cause string, outage bool) {
	if g.Late == nil {
		g.Late = &Lateness{Since: now}
	}
	g.Late.Last, g.Late.Cause, g.Late.Outage = now, cause, outage
}

// lateAlert returns the alert for g's failing step at now, or "" when no alert is due: the
// step is not yet alertAfter past due (unless force), or an alert was already raised. It marks
// g alerted (and, for a revocation, overdue) when it returns one.
func (g *Grant) lateAlert(now time.Time, alertAfter time.Duration, force bool, next string) (string, AuditEvent) {
	if g.Late == nil || g.Late.Alerted {
		return "", AuditEvent{}
	}
	late := now.Sub(g.StepDue())
	if late < alertAfter && !force {
		return "", AuditEvent{}
	}
	g.Late.Alerted = true
	what := "Giving access for grant"
	if g.Ending() {
		what = "Revocation of grant"
		g.Overdue = true // the overdue alert is this one
	}
	how := "is overdue by " + lateFmt(late) + " and keeps failing"
	if late < alertAfter {
		how = "keeps failing"
	}
	text := fmt.Sprintf("%s %s (%s for %s) %s: %s (since %s). Next attempt: %s. jitbot keeps retrying and will post here when it succeeds.",
		what, g.ID, g.Role, g.member(), how, strings.TrimSuffix(g.Late.Cause, "."), clock(g.Late.Since), next)
	e := g.event(ActionGrantOverdue, SystemActor, now, fmt.Sprintf("%s overdue, still failing: %s; next attempt %s", lateFmt(late), g.Late.Cause, next))
	e.Tags = append(e.Tags, TagOverdue)
	return text, e
}

// lateNote says, once g's step succeeded at now, how late it was and why ("revoked 27 s after
// expiry: Atlassian answered 503 from 14:02:11 to 14:02:26 UTC (revoked 27 s late)"), using the last
// failure seen of the outage it waited on when that is later than its own. It returns "" when
// the step never failed, and clears g.Late.
func (g *Grant) lateNote(now, outageLast time.Time) (note string, alerted bool) {
	l := g.Late
	if l == nil {
		return "", false
	}
	g.Late = nil
	last := l.Last
	if outageLast.After(last) {
		last = outageLast
	}
	late := max(now.Sub(g.StepDue()), 0)
	verb, after := "revoked", "after expiry"
	switch {
	case !g.Ending():
		verb, after = "granted", "after approval"
	case g.EndedBy != nil && g.EndedBy.Kind != ActorSystem:
		after = "after it was ended"
	}
	cause := strings.TrimSuffix(l.Cause, ".")
	why := fmt.Sprintf("%s from %s to %s UTC", cause, hms(l.Since), hms(last))
	if !last.After(l.Since) {
		why = fmt.Sprintf("%s at %s UTC", cause, hms(l.Since))
	}
	return fmt.Sprintf("%s %s %s: %s (%s %s late)", verb, lateFmt(late), after, why, verb, lateFmt(late)), l.Alerted
}

// member names g's account for people.
func (g *Grant) member() string {
	return g.Account.Handle()
}

// lateFmt writes a lateness in seconds below two minutes ("27 s"), else as a duration.
func lateFmt(d time.Duration) string {
	if d < 2*time.Minute {
		return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
	}
	return FormatDuration(d.Truncate(time.Second))
}

// clock is a time of day in UTC, for alerts.
func clock(t time.Time) string { return hms(t) + " UTC" }

// hms is a time of day in UTC without the zone.
func hms(t time.Time) string { return t.UTC().Format("15:04:05") }
