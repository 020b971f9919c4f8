package bot

// Views of the audit trail: the audit channel's lines, alerts and /access history.

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// auditMessage is the audit channel's line for a notice.
func auditMessage(n access.Notice) message { return textMessage(auditText(n)) }

// auditText is the audit channel's text for a notice, whole (the outbox splits it).
func auditText(n access.Notice) string {
	var s string
	switch {
	case n.Request != nil:
		r := n.Request
		s = fmt.Sprintf("`%s` %s — %s", r.ID, requestSummary(r), requestStatus(r, approvalsNeeded(n.Role)))
		if strings.TrimSpace(r.Reason) != "" {
			s += "\nReason:\n" + quote(r.Reason)
		}
	case n.Grant != nil:
		g := n.Grant
		switch n.Kind {
		case access.NoticeGranted:
			s = fmt.Sprintf(":unlock: Grant `%s`: %s holds *%s* (%s) until %s.", g.ID, who(g.Holder), g.Role, inline(g.Targets()), when(g.EndsAt))
			if n.Text != "" { // late: "granted 75 s after approval: … (granted 75 s late)"
				s += " " + inline(n.Text) + "."
			}
		case access.NoticeExtended:
			s = fmt.Sprintf(":arrow_forward: Grant `%s` of %s (*%s*) extended until %s.", g.ID, who(g.Holder), g.Role, when(g.EndsAt))
		case access.NoticeEnded:
			by := "at expiry"
			if g.EndedBy != nil && g.EndedBy.Kind == access.ActorUser {
				by = "by " + who(*g.EndedBy)
			}
			s = fmt.Sprintf(":lock: Grant `%s` of %s (*%s*) revoked %s, verified at %s.", g.ID, who(g.Holder), g.Role, by, when(g.EndedAt))
			if n.Text != "" { // late: how late and why, e.g. "revoked 27 s after expiry: … (revoked 27 s late)"
				s = fmt.Sprintf(":lock: Grant `%s` of %s (*%s*) %s; verified at %s.", g.ID, who(g.Holder), g.Role, inline(n.Text), when(g.EndedAt))
			}
		default:
			s = fmt.Sprintf("Grant `%s` of %s (*%s*): %s.", g.ID, who(g.Holder), g.Role, n.Kind)
		}
	default:
		s = escape(n.Text)
		if n.Actor.Kind == access.ActorUser && n.Actor.SlackID != "" {
			head, rest, more := strings.Cut(s, "\n")
			s = head + " — run by " + who(n.Actor)
			if more {
				s += "\n" + rest
			}
		}
	}
	return s
}

// alertMessage is a failure that needs a person. A break-glass grant's alert shows the
// requester's reason quoted and carries Revoke now (Revoke checks who clicked).
func alertMessage(n access.Notice) message {
	r, g := n.Request, n.Grant
	if r == nil || !r.BreakGlass {
		return textMessage(":rotating_light: " + escape(n.Text))
	}
	s := fmt.Sprintf(":rotating_light: *Break-glass* `%s`: %s granted *%s* to themselves for *%s*, on their reason alone.",
		r.ID, who(r.Requester), r.Role, access.FormatDuration(r.Duration))
	s += "\n*Reason* (as the requester wrote it):\n" + quote(r.Reason)
	m := textMessage(s)
	m.Text = truncate(fmt.Sprintf("Break-glass %s: %s granted %s to themselves", r.ID, r.Requester.SlackID, r.Role), fallbackLimit)
	if g != nil && g.Live() {
		m.Blocks = append(m.Blocks,
			contextBlock("breakglass_who_"+g.ID, "The role's approvers and the operators may end it now."),
			slack.NewActionBlock("breakglass_"+g.ID, button(actionRevoke, labelRevoke, g.ID, slack.StyleDanger)))
	}
	return m
}

// historyMessage lists audit events, newest last.
func historyMessage(es []access.AuditEvent, title string) message {
	if len(es) == 0 {
		return textMessage("No audit events " + title + ".")
	}
	ls := []string{fmt.Sprintf("*%d audit events %s:*", len(es), title)}
	for _, e := range es {
		l := fmt.Sprintf("• %s `%s` by %s", when(e.Time), e.Action, who(e.Actor))
		if e.Subject != "" {
			l += " on `" + inline(e.Subject) + "`"
		}
		if e.Role != "" {
			l += " " + inline(e.Role)
		}
		if e.Member != "" {
			l += " for " + inline(e.Member)
		}
		if e.Detail != "" {
			l += ": " + inline(truncate(e.Detail, 200))
		}
		ls = append(ls, l)
	}
	return message{Text: fmt.Sprintf("%d audit events", len(es)), Blocks: lines("history", ls, unbounded)}
}
