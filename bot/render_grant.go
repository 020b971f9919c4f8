package bot

// Views of grants and roles: what a holder is told, and the lists of /access list, active and roles.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// grantButtons are Revoke now and Extend for grant id.
func grantButtons(id string) slack.Block {
	return slack.NewActionBlock("grant_"+id,
		button(actionRevoke, labelRevoke, id, slack.StyleDanger),
		button(actionExtend, labelExtend, id, ""),
	)
}

// grantMessage renders what the holder is told about grant g for notice kind (granted,
// expiring, extended, ended). Live grants carry Revoke now and Extend.
func grantMessage(g *access.Grant, kind access.NoticeKind) message {
	var s string
	switch kind {
	case access.NoticeGranted:
		s = fmt.Sprintf(":unlock: *Access granted* `%s`: *%s* — %s — until %s.", g.ID, g.Role, inline(g.Targets()), when(g.EndsAt))
	case access.NoticeExpiring:
		s = fmt.Sprintf(":alarm_clock: *Ending soon* `%s`: your *%s* access ends %s. Extend it if you still need it.", g.ID, g.Role, when(g.EndsAt))
	case access.NoticeExtended:
		s = fmt.Sprintf(":arrow_forward: *Extended* `%s`: your *%s* access now ends %s.", g.ID, g.Role, when(g.EndsAt))
	case access.NoticeEnded:
		s = fmt.Sprintf(":lock: *Access ended* `%s`: *%s* ended %s.", g.ID, g.Role, when(g.EndedAt))
		if g.EndedBy != nil && g.EndedBy.Kind == access.ActorUser && !g.EndedBy.Is(g.Holder) {
			s += " Ended by " + who(*g.EndedBy) + "."
		}
		var kept []string
		for _, it := range g.Items {
			if it.Kept != "" {
				kept = append(kept, fmt.Sprintf("%s stays: %s", inline(it.Target.String()), inline(it.Kept)))
			}
		}
		if len(kept) > 0 {
			s += "\n" + strings.Join(kept, "\n")
		}
	default:
		s = fmt.Sprintf("Grant `%s` (*%s*) is %s.", g.ID, g.Role, g.Status)
	}
	blocks := []slack.Block{section("grant_"+g.ID+"_"+string(kind), s)}
	if g.Status == access.GrantActive && kind != access.NoticeEnded {
		blocks = append(blocks, grantButtons(g.ID))
	}
	return message{Text: truncate(fmt.Sprintf("Grant %s (%s): %s", g.ID, g.Role, kind), fallbackLimit), Blocks: blocks}
}

// grantClosedMessage replaces an earlier message about g (granted, ending soon, extended) once
// g has ended: what it gave and when, without buttons. The ended notice itself is a new
// message, so the holder reads "Access ended" once.
func grantClosedMessage(g *access.Grant) message {
	s := fmt.Sprintf(":lock: `%s`: *%s* — %s — from %s to %s.", g.ID, g.Role, g.Targets(), when(g.GrantedAt), when(g.EndedAt))
	return message{Text: truncate(fmt.Sprintf("Grant %s (%s): ended", g.ID, g.Role), fallbackLimit), Blocks: []slack.Block{section("grant_"+g.ID+"_closed", s)}}
}

// rolesMessage lists the roles a person may request, with their limits and approvers.
func rolesMessage(roles []*access.Role) message {
	if len(roles) == 0 {
		return textMessage("There is no role you may request. Ask an operator if you need access.")
	}
	ls := []string{"*Roles you may request* (`request ROLE DURATION REASON…`):"}
	for _, r := range roles {
		l := fmt.Sprintf("• *%s*", r.Name)
		if r.Description != "" {
			l += " — " + inline(r.Description)
		}
		l += fmt.Sprintf("\n    up to %s (default %s)", access.FormatDuration(r.MaxDuration), access.FormatDuration(r.DefaultDuration))
		switch {
		case r.BreakGlass:
			l += "; break-glass: granted at once on your reason, and announced"
			if len(r.Approvers) > 0 {
				l += "; " + principals(r.Approvers) + " may end it"
			}
		default:
			l += "; approved by " + principals(r.Approvers)
			if r.Approvals > 1 {
				l += fmt.Sprintf(" (%d of them)", r.Approvals)
			}
		}
		if r.ReasonRequired || r.BreakGlass {
			l += "; reason required"
		}
		ls = append(ls, l)
	}
	return message{Text: "Roles you may request", Blocks: lines("roles", ls, messageBlocks)}
}

// listMessage shows a user's pending requests and live grants.
func listMessage(rs []*access.Request, gs []*access.Grant) message {
	if len(rs) == 0 && len(gs) == 0 {
		return textMessage("You have no pending requests and no active grants. `request ROLE DURATION REASON…` or `roles` to start.")
	}
	var blocks []slack.Block
	if len(rs) > 0 {
		ls := []string{"*Your pending requests:*"}
		for _, r := range rs {
			ls = append(ls, fmt.Sprintf("• `%s` *%s* for %s — %s", r.ID, r.Role, access.FormatDuration(r.Duration), requestStatus(r, 1)))
		}
		blocks = append(blocks, lines("pending", ls, 10)...)
	}
	if len(gs) > 0 {
		blocks = append(blocks, section("grants_head", "*Your grants:*"))
		for i, g := range gs {
			if len(blocks) >= messageBlocks-3 {
				blocks = append(blocks, contextBlock("grants_more", fmt.Sprintf("… and %d more grants.", len(gs)-i)))
				break
			}
			blocks = append(blocks, section("mygrant_"+g.ID, grantLine(g))) // grantButtons uses grant_ID
			if g.Status == access.GrantActive {
				blocks = append(blocks, grantButtons(g.ID))
			}
		}
	}
	return message{Text: fmt.Sprintf("%d pending requests, %d grants", len(rs), len(gs)), Blocks: blocks}
}

func grantLine(g *access.Grant) string {
	switch g.Status {
	case access.GrantActive:
		return fmt.Sprintf("• `%s` *%s* (%s) until %s", g.ID, g.Role, inline(g.Targets()), when(g.EndsAt))
	case access.GrantFailed:
		return fmt.Sprintf("• `%s` *%s*: %s keeps failing, jitbot keeps retrying (%s)", g.ID, g.Role, g.FailedOp, inline(g.LastError))
	}
	return fmt.Sprintf("• `%s` *%s*: %s", g.ID, g.Role, g.Status)
}

// activeMessage lists every live grant for auditors.
func activeMessage(gs []*access.Grant, role string) message {
	if len(gs) == 0 {
		if role != "" {
			return textMessage(fmt.Sprintf("No active grants of role %s.", role))
		}
		return textMessage("No active grants.")
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].EndsAt.Before(gs[j].EndsAt) })
	ls := []string{fmt.Sprintf("*%d active grants:*", len(gs))}
	for _, g := range gs {
		var by []string
		for _, a := range g.ApprovedBy {
			by = append(by, who(a))
		}
		approved := strings.Join(by, ", ")
		if approved == "" {
			approved = "nobody"
		}
		member := g.Account.Email
		if member == "" {
			member = g.Account.ID
		}
		l := fmt.Sprintf("• `%s` %s (%s) *%s* since %s until %s, approved by %s", g.ID, who(g.Holder), inline(member), g.Role, when(g.GrantedAt), when(g.EndsAt), approved)
		if g.Status != access.GrantActive {
			l += fmt.Sprintf(" — %s", g.Status)
		}
		if g.BreakGlass {
			l += " :rotating_light: break-glass"
		}
		ls = append(ls, l)
	}
	return message{Text: fmt.Sprintf("%d active grants", len(gs)), Blocks: lines("active", ls, unbounded)}
}
