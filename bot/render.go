package bot

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// Action IDs of buttons and inputs. The first six are fixed (docs/slack.md).
const (
	actionApprove     = "approve_request"
	actionDeny        = "deny_request"
	actionRevoke      = "revoke_grant"
	actionExtend      = "extend_grant"
	actionReviewKeep  = "review_keep"
	actionReviewDrop  = "review_remove"
	actionOpenRequest = "open_request_modal"
)

// Button labels, fixed (docs/slack.md).
const (
	labelApprove = "Approve"
	labelDeny    = "Deny"
	labelRevoke  = "Revoke now"
	labelExtend  = "Extend"
)

// Slack Block Kit limits.
const (
	sectionTextLimit = 3000
	messageBlocks    = 50
	viewBlocks       = 100
	buttonValueLimit = 2000
	fallbackLimit    = 3000
	// messageTextBudget is the most text jitbot puts in one message's blocks: Slack refuses a
	// message with much more (msg_blocks_too_long, around 12,000 characters).
	messageTextBudget = 10000
)

// message is what jitbot posts: fallback text and blocks.
type message struct {
	Text   string
	Blocks []slack.Block
}

// truncate shortens s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, truncate(s, sectionTextLimit), false, false)
}

func plain(s string, n int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, truncate(s, n), false, false)
}

func section(blockID, text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID(blockID))
}

func contextBlock(blockID, text string) *slack.ContextBlock {
	return slack.NewContextBlock(blockID, mrkdwn(text))
}

func button(actionID, label, value string, style slack.Style) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, truncate(value, buttonValueLimit), plain(label, 75))
	if style != "" {
		b = b.WithStyle(style)
	}
	return b
}

// escape makes text a person typed safe inside mrkdwn: no mentions, links or broadcasts.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// inline is user text on one line: escaped, its line breaks folded into spaces, so it cannot
// start a line of its own.
func inline(s string) string { return strings.Join(strings.Fields(escape(s)), " ") }

// quote is user text of several lines as a block quote: escaped, every line marked as part of
// the quote, so nothing in it can pass for a line jitbot wrote.
func quote(s string) string {
	ls := strings.Split(strings.TrimSpace(escape(s)), "\n")
	for i, l := range ls {
		ls[i] = ">" + strings.TrimRight(l, " \t\r")
	}
	return strings.Join(ls, "\n")
}

// who is an actor as Slack shows it.
func who(a access.Actor) string {
	switch a.Kind {
	case access.ActorUser:
		return "<@" + a.SlackID + ">"
	case access.ActorPolicy:
		return "the policy"
	default:
		return "jitbot"
	}
}

// when is a time people read in their own time zone, with a UTC fallback.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// principal is a policy principal as Slack shows it.
func principal(p string) string {
	switch access.ParsePrincipal(p) {
	case access.PrincipalUser:
		return "<@" + p + ">"
	case access.PrincipalGroup:
		return "<!subteam^" + p + ">"
	}
	return escape(p)
}

func principals(ps []string) string {
	if len(ps) == 0 {
		return "nobody"
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = principal(p)
	}
	return strings.Join(out, ", ")
}

func mentions(ids []string) string {
	if len(ids) == 0 {
		return "nobody"
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "<@" + id + ">"
	}
	return strings.Join(out, ", ")
}

// textMessage is a message of one section.
func textMessage(text string) message {
	return message{Text: truncate(text, fallbackLimit), Blocks: []slack.Block{section("text", text)}}
}

// unbounded is lines' max for answers that splitMessage splits into several messages.
const unbounded = 1 << 30

// lines packs lines into sections of at most sectionTextLimit characters, at most max blocks;
// what does not fit is summarized in a last context block.
func lines(prefix string, ls []string, max int) []slack.Block {
	var blocks []slack.Block
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			blocks = append(blocks, section(fmt.Sprintf("%s_%d", prefix, len(blocks)), cur.String()))
			cur.Reset()
		}
	}
	for i, l := range ls {
		l = truncate(l, sectionTextLimit)
		if cur.Len()+len(l)+1 > sectionTextLimit {
			flush()
		}
		if len(blocks) >= max-1 {
			blocks = append(blocks, contextBlock(prefix+"_more", fmt.Sprintf("… and %d more not shown.", len(ls)-i)))
			return blocks
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(l)
	}
	flush()
	return blocks
}

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

// sentMessage tells the requester their request is on its way.
func sentMessage(r *access.Request, approvers []string) message {
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
	if len(approvers) == 0 && r.Status == access.RequestPending {
		s += " Nobody can approve it right now: the role's approvers could not be found in Slack; tell an operator."
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
		who := c.Account.Email
		if who == "" {
			who = c.Account.ID
		}
		l := fmt.Sprintf("• %s %s", c.Op, inline(who))
		if c.Group != "" {
			l += " — group " + inline(c.Group)
		}
		if c.Reason != "" {
			l += ": " + inline(c.Reason)
		}
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
	return message{Text: truncate(fmt.Sprintf("%s %s: %s, %d changes", r.Kind, r.Name, r.Outcome, len(r.Changes)), fallbackLimit), Blocks: lines("run", ls, unbounded)}
}

// helpMessage is the usage of command.
func helpMessage(command string) message {
	return textMessage(fmt.Sprintf("*%s* gives you time-boxed Atlassian access after approval.\n%s", command, usageText()))
}

// errorMessage is an answer to bad input or a refused action. text is plain (a domain
// message, which may quote what the user typed): it is escaped.
func errorMessage(text string) message {
	return textMessage(":warning: " + escape(text))
}
