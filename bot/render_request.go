package bot

// Views of a request: what approvers, channels and the requester see.

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// requestSummary is one line about r: who asks for what for how long.
func requestSummary(r *access.Request) string {
	if r.Kind == access.KindExtend {
		return fmt.Sprintf("%s asks to extend grant `%s` (*%s*) by *%s*", who(r.Requester), r.GrantID, r.Role, access.FormatDuration(r.Duration))
	}
	return fmt.Sprintf("%s asks for *%s* for *%s*", who(r.Requester), r.Role, access.FormatDuration(r.Duration))
}

// requestStatus says where r is: waiting, or the outcome with who and when.
func requestStatus(r *access.Request, need int) string {
	switch r.Status {
	case access.RequestPending:
		s := fmt.Sprintf(":hourglass_flowing_sand: Waiting for approval, until %s.", when(r.PendingUntil))
		if len(r.Approvals) > 0 {
			s += fmt.Sprintf(" Approved so far by %s (%d of %d).", mentions(r.Approvers()), len(r.Approvals), need)
		}
		return s
	case access.RequestApproved:
		switch {
		case r.BreakGlass:
			return fmt.Sprintf(":rotating_light: Break-glass: approved on the requester's reason at %s.", when(decidedAt(r)))
		case r.AutoApproved:
			return fmt.Sprintf(":white_check_mark: Approved automatically by the policy at %s.", when(decidedAt(r)))
		}
		return fmt.Sprintf(":white_check_mark: Approved by %s at %s.", decider(r), when(decidedAt(r)))
	case access.RequestDenied:
		s := fmt.Sprintf(":x: Denied by %s at %s.", decider(r), when(decidedAt(r)))
		if r.Decision != nil && r.Decision.Reason != "" {
			s += " Reason: " + inline(r.Decision.Reason)
		}
		return s
	case access.RequestCancelled:
		return fmt.Sprintf(":no_entry_sign: Cancelled by %s at %s.", decider(r), when(decidedAt(r)))
	case access.RequestExpired:
		return fmt.Sprintf(":hourglass: Expired: nobody decided before %s.", when(r.PendingUntil))
	}
	return string(r.Status)
}

func decider(r *access.Request) string {
	if r.Decision == nil {
		return "nobody"
	}
	if r.Status == access.RequestApproved && len(r.Approvals) > 1 {
		return mentions(r.Approvers())
	}
	return who(r.Decision.By)
}

func decidedAt(r *access.Request) time.Time {
	if r.Decision == nil {
		return time.Time{}
	}
	return r.Decision.At
}

func approvalsNeeded(role *access.Role) int {
	if role == nil || role.Approvals < 1 {
		return 1
	}
	return role.Approvals
}

// requestMessage renders request r as approvers and channels see it. It has Approve and Deny
// buttons while r is pending and decide is set.
func requestMessage(r *access.Request, role *access.Role, decide bool) message {
	title := "Access request"
	if r.Kind == access.KindExtend {
		title = "Extension request"
	}
	head := fmt.Sprintf("*%s `%s`*\n%s.", title, r.ID, requestSummary(r))
	if role != nil && role.Description != "" && r.Kind == access.KindAccess {
		head += "\n_" + inline(role.Description) + "_"
	}
	reason := "*Reason:* _no reason given_"
	if strings.TrimSpace(r.Reason) != "" {
		reason = "*Reason* (as the requester wrote it):\n" + quote(r.Reason)
	}
	blocks := []slack.Block{
		section("req_"+r.ID, head),
		section("reason_"+r.ID, reason),
		contextBlock("status_"+r.ID+"_"+string(r.Status), requestStatus(r, approvalsNeeded(role))),
	}
	if decide && r.Status == access.RequestPending {
		blocks = append(blocks, slack.NewActionBlock("decide_"+r.ID,
			button(actionApprove, labelApprove, r.ID, slack.StylePrimary),
			button(actionDeny, labelDeny, r.ID, slack.StyleDanger),
		))
	}
	text := fmt.Sprintf("%s %s: %s for %s by %s — %s", title, r.ID, r.Role, access.FormatDuration(r.Duration), r.Requester.SlackID, r.Status)
	return message{Text: truncate(text, fallbackLimit), Blocks: blocks}
}

// infoMessage renders a request approvers are told about but need not decide (auto-approved,
// break-glass).
func infoMessage(r *access.Request, role *access.Role) message {
	m := requestMessage(r, role, false)
	if r.BreakGlass && r.Status == access.RequestApproved {
		// The grant has the request's ID; the role's approvers may end it.
		m.Blocks = append(m.Blocks,
			contextBlock("info_"+r.ID, "For your information: no decision is needed. As an approver of the role you may end it now."),
			slack.NewActionBlock("breakglass_"+r.ID, button(actionRevoke, labelRevoke, r.ID, slack.StyleDanger)))
		return m
	}
	m.Blocks = append(m.Blocks, contextBlock("info_"+r.ID, "For your information: no decision is needed."))
	return m
}

// sentMessage tells the requester their request is on its way to approvers (the people asked,
// the requester aside; known is false when Slack could not say who they are), and when fewer
// than need may approve it, that it cannot be approved as things are.
func sentMessage(r *access.Request, approvers []string, need int, known bool) message {
	var s string
	switch {
	case r.Status == access.RequestApproved && r.BreakGlass:
		s = fmt.Sprintf(":rotating_light: Break-glass request `%s` for *%s* (%s) is approved on your reason; access is being given now. The alerts channel has been told.", r.ID, r.Role, access.FormatDuration(r.Duration))
	case r.Status == access.RequestApproved:
		s = fmt.Sprintf(":white_check_mark: Request `%s` for *%s* (%s) was approved automatically by the policy; access is being given now.", r.ID, r.Role, access.FormatDuration(r.Duration))
	case r.Kind == access.KindExtend:
		s = fmt.Sprintf(":outbox_tray: Extension request `%s` for grant `%s` (+%s) was sent to %s.", r.ID, r.GrantID, access.FormatDuration(r.Duration), mentions(approvers))
	default:
		s = fmt.Sprintf(":outbox_tray: Request `%s` for *%s* (%s) was sent to %s. `cancel %s` withdraws it.", r.ID, r.Role, access.FormatDuration(r.Duration), mentions(approvers), r.ID)
	}
	switch {
	case r.Status != access.RequestPending:
	case !known && len(approvers) == 0:
		s += " jitbot could not look up the role's approvers in Slack just now; they are asked as soon as it can."
	case len(approvers) == 0:
		s += " Nobody can approve it right now: the role has no approver in Slack other than you, and you cannot approve your own request from any of your Slack accounts. Ask an operator to add an approver to the role."
	case len(approvers) < need:
		s += fmt.Sprintf(" It needs %d approvers and only %d other than you can approve it, so it cannot be approved as things are. Ask an operator to add an approver to the role.", need, len(approvers))
	}
	return textMessage(s)
}

// outcomeMessage tells the requester what became of their request.
func outcomeMessage(r *access.Request) message {
	var s string
	switch r.Status {
	case access.RequestApproved:
		s = fmt.Sprintf(":white_check_mark: Your request `%s` for *%s* was approved by %s.", r.ID, r.Role, decider(r))
		if r.Kind == access.KindAccess {
			s += " Access is being given now."
		}
	case access.RequestDenied:
		s = fmt.Sprintf(":x: Your request `%s` for *%s* was denied by %s.", r.ID, r.Role, decider(r))
		if r.Decision != nil && r.Decision.Reason != "" {
			s += " Reason: " + inline(r.Decision.Reason)
		}
	case access.RequestExpired:
		s = fmt.Sprintf(":hourglass: Your request `%s` for *%s* expired: nobody decided before %s. File a new one if you still need it.", r.ID, r.Role, when(r.PendingUntil))
	case access.RequestCancelled:
		s = fmt.Sprintf(":no_entry_sign: Request `%s` for *%s* is cancelled.", r.ID, r.Role)
	default:
		s = fmt.Sprintf("Request `%s` for *%s* is %s.", r.ID, r.Role, r.Status)
	}
	return textMessage(s)
}
