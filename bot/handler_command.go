package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// ephemeral is an ack payload or response-URL body shown only to the user.
type ephemeral struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

func ephemeralOf(m message) ephemeral {
	return ephemeral{ResponseType: slack.ResponseTypeEphemeral, Text: m.Text, Blocks: m.Blocks}
}

// routeCommand answers what needs no I/O in the ack (usage, bad input, roles, help) and
// returns the work for the rest. Nothing is stored for a refused command.
func (b *Bot) routeCommand(ctx context.Context, sc slack.SlashCommand) (any, func(context.Context)) {
	c, err := parseCommand(sc.Text)
	if err != nil {
		return ephemeralOf(errorMessage(access.ErrorMessage(err))), nil
	}
	switch c.Name {
	case cmdHelp:
		return ephemeralOf(helpMessage(b.cfg.Command)), nil
	case cmdOpen:
		return nil, func(ctx context.Context) { b.openRequestModal(ctx, sc.TriggerID, sc.UserID, "", &sc) }
	case cmdRequest:
		if err := b.checkRequest(sc.UserID, c.Role, c.Duration, c.Reason); err != nil {
			return ephemeralOf(b.errorAnswer(ctx, err)), nil
		}
	}
	return nil, func(ctx context.Context) { b.runCommand(ctx, sc, c) }
}

// checkRequest checks a request against the policy without I/O: the role exists, the duration
// is within its maximum, a reason is there when required. The messages are the Service's.
func (b *Bot) checkRequest(user, roleName string, d time.Duration, reason string) error {
	p := b.policy()
	if p == nil {
		return access.Errorf(access.EUNAVAILABLE, "No policy is loaded; try again later.")
	}
	role := p.Role(roleName)
	if role == nil {
		return access.Errorf(access.ENOTFOUND, "There is no role %q. %s", roleName, access.RoleList(p)).WithUsage("roles")
	}
	_, _, err := access.NewRequest("check", role, access.UserActor(user), access.Account{}, d, reason, time.Now())
	return err
}

// runCommand does a subcommand's work after the ack and answers through the response URL.
func (b *Bot) runCommand(ctx context.Context, sc slack.SlashCommand, c command) {
	ctx = zerolog.Ctx(ctx).With().Str("command", c.Name).Logger().WithContext(ctx)
	by := access.UserActor(sc.UserID)
	var m message
	var err error
	switch c.Name {
	case cmdRequest:
		m, err = b.submit(ctx, by, c.Role, c.Duration, c.Reason)
	case cmdRoles:
		var roles []*access.Role
		if roles, err = b.svc.Requestable(ctx, by); err == nil {
			m = rolesMessage(roles)
		}
	case cmdList:
		var rs []*access.Request
		var gs []*access.Grant
		if rs, gs, err = b.svc.Mine(ctx, sc.UserID); err == nil {
			m = listMessage(rs, gs)
		}
	case cmdCancel:
		var r *access.Request
		if r, err = b.svc.Cancel(ctx, by, c.ID); err == nil {
			m = textMessage(fmt.Sprintf(":no_entry_sign: Request `%s` for *%s* is cancelled.", r.ID, r.Role))
		} else if access.ErrorCode(err) == access.ENOTFOUND {
			err = access.Errorf(access.ENOTFOUND, "There is no request %s. `list` shows yours.", c.ID)
		} else {
			m, err = b.failure(ctx, c.ID, err), nil
		}
	case cmdRevoke:
		var g *access.Grant
		if g, err = b.svc.Revoke(ctx, by, c.ID); err == nil {
			m = textMessage(revokedText(g))
		}
	case cmdExtend:
		m, err = b.extend(ctx, by, c.ID, c.Duration, c.Reason)
	case cmdActive:
		var gs []*access.Grant
		if gs, err = b.svc.Active(ctx, by, c.Role); err == nil {
			m = activeMessage(gs, c.Role)
		}
	case cmdHistory:
		m, err = b.history(ctx, by, c)
	case cmdSync:
		m, err = b.run(ctx, by, access.RunSync, c)
	case cmdSweep:
		m, err = b.run(ctx, by, access.RunSweep, c)
	default:
		m = errorMessage(fmt.Sprintf("`%s` is not handled.", c.Name))
	}
	if err != nil {
		m = b.errorAnswer(ctx, err)
	}
	b.replyAll(ctx, sc, splitMessage(m))
}

// hookUses is how many messages jitbot sends through one response URL (Slack allows 5).
const hookUses = 4

// replyAll answers a slash command with several messages: the first through the response URL,
// the rest, when there are more than it takes, in the user's DM through the outbox.
func (b *Bot) replyAll(ctx context.Context, sc slack.SlashCommand, ms []message) {
	if len(ms) > hookUses {
		rest := ms[hookUses-1:]
		ms = append(ms[:hookUses-1:hookUses-1], textMessage(fmt.Sprintf("The other %d parts of this answer are in your DM with jitbot.", len(rest))))
		for _, m := range rest {
			b.dm(ctx, sc.UserID, m)
		}
	}
	for _, m := range ms {
		b.reply(ctx, sc, m)
	}
}

// submit files a request and says who will approve it.
func (b *Bot) submit(ctx context.Context, by access.Actor, role string, d time.Duration, reason string) (message, error) {
	r, err := b.svc.Submit(ctx, by, role, d, reason)
	if err != nil {
		return message{}, err
	}
	return b.sent(ctx, r), nil
}

func (b *Bot) extend(ctx context.Context, by access.Actor, id string, d time.Duration, reason string) (message, error) {
	r, err := b.svc.Extend(ctx, by, id, d, reason)
	if err != nil {
		return message{}, err
	}
	return b.sent(ctx, r), nil
}

// sent tells the requester that r was filed and who will approve it.
func (b *Bot) sent(ctx context.Context, r *access.Request) message {
	ro := b.role(r.Role)
	if ro == nil {
		return sentMessage(r, nil, 1, false)
	}
	approvers, err := b.svc.RequestApprovers(ctx, ro, r)
	return sentMessage(r, approvers, needed(ro), err == nil)
}

// needed is how many distinct approvers role needs.
func needed(role *access.Role) int {
	if role == nil {
		return 1
	}
	return max(role.Approvals, 1)
}

func revokedText(g *access.Grant) string {
	if g.Status == access.GrantRevoked {
		return fmt.Sprintf(":lock: Grant `%s` (*%s*) is revoked and verified gone.", g.ID, g.Role)
	}
	return fmt.Sprintf(":lock: Grant `%s` (*%s*) is being revoked (%s); you will be told when it is verifiably gone.", g.ID, g.Role, g.Status)
}

// history answers `history [@user|ROLE] [DAYS]`.
func (b *Bot) history(ctx context.Context, by access.Actor, c command) (message, error) {
	since := time.Now().Add(-time.Duration(c.Days) * 24 * time.Hour)
	f := access.AuditFilter{Since: since, Role: c.Role, Limit: 200}
	title := fmt.Sprintf("in the last %d days", c.Days)
	if c.Role != "" {
		if b.role(c.Role) == nil {
			return message{}, access.Errorf(access.ENOTFOUND, "There is no role %q; `history` takes @someone or a role name.", c.Role)
		}
		title = fmt.Sprintf("for role %s %s", c.Role, title)
	}
	if c.UserName != "" {
		// The Service says who may read the history: ask it before looking anyone up.
		if _, err := b.svc.History(ctx, by, access.AuditFilter{Limit: 1}); err != nil {
			return message{}, err
		}
		id, err := b.userByName(ctx, c.UserName)
		if err != nil {
			return message{}, err
		}
		c.User = id
	}
	if c.User == "" {
		es, err := b.svc.History(ctx, by, f)
		if err != nil {
			return message{}, err
		}
		return historyMessage(es, historyTitle(es, f, title)), nil
	}
	title = fmt.Sprintf("about <@%s> %s", c.User, title)
	f.Actor = c.User
	acted, err := b.svc.History(ctx, by, f)
	if err != nil {
		return message{}, err
	}
	f.Actor = ""
	var about []access.AuditEvent
	if email, err := b.Email(ctx, c.User); err == nil {
		f.Member = email
		if about, err = b.svc.History(ctx, by, f); err != nil {
			return message{}, err
		}
	}
	es := newest(mergeEvents(acted, about), f.Limit)
	return historyMessage(es, historyTitle(es, f, title)), nil
}

// historyTitle says when the answer holds only the newest events.
func historyTitle(es []access.AuditEvent, f access.AuditFilter, title string) string {
	if f.Limit > 0 && len(es) >= f.Limit {
		return title + fmt.Sprintf(" (the newest %d; add DAYS or a role to narrow it)", f.Limit)
	}
	return title
}

// mergeEvents merges two event lists in sequence order, without duplicates.
func mergeEvents(a, b []access.AuditEvent) []access.AuditEvent {
	seen := map[uint64]bool{}
	var out []access.AuditEvent
	for _, e := range append(append([]access.AuditEvent{}, a...), b...) {
		if !seen[e.Seq] {
			seen[e.Seq] = true
			out = append(out, e)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Seq < out[j-1].Seq; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func newest(es []access.AuditEvent, n int) []access.AuditEvent {
	if len(es) > n {
		return es[len(es)-n:]
	}
	return es
}

// run answers `sync NAME [dry-run]` and `sweep NAME [dry-run]`. Who may run them (operators)
// is decided in access, by Service.RunNow.
func (b *Bot) run(ctx context.Context, by access.Actor, kind access.RunKind, c command) (message, error) {
	// The engine posts the run to the audit channel, naming by; the operator gets the answer.
	r, err := b.svc.RunNow(ctx, by, kind, c.RunName, c.DryRun)
	if err != nil {
		return message{}, err
	}
	return runMessage(r, by.SlackID), nil
}

// reply answers a slash command, ephemerally, through its response URL; when that fails,
// with chat.postEphemeral, and then with a DM.
func (b *Bot) reply(ctx context.Context, sc slack.SlashCommand, m message) {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
	if sc.ResponseURL != "" {
		_, _, err := b.api.PostMessageContext(ctx, "", append(opts, slack.MsgOptionResponseURL(sc.ResponseURL, slack.ResponseTypeEphemeral))...)
		if err == nil {
			return
		}
		zerolog.Ctx(ctx).Warn().Err(err).Msg("slack: reply through response_url")
	}
	b.tell(ctx, sc.ChannelID, sc.UserID, m)
}

func (b *Bot) replyRaw(ctx context.Context, sc slack.SlashCommand, payload any) {
	if e, ok := payload.(ephemeral); ok {
		b.reply(ctx, sc, message{Text: e.Text, Blocks: e.Blocks})
	}
}
