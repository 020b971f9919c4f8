package bot

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// Callback IDs of modals and the block and action IDs of their inputs.
const (
	callbackRequest = "request_modal"
	callbackExtend  = "extend_modal"
	callbackDeny    = "deny_modal"

	blockRole     = "role"
	blockDuration = "duration"
	blockReason   = "reason"
	inputRole     = "role_select"
	inputDuration = "duration_input"
	inputReason   = "reason_input"
)

const (
	modalTitleLimit = 24
	maxOptions      = 100
)

func modal(callbackID, title, submit, metadata string, blocks ...slack.Block) slack.ModalViewRequest {
	v := slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackID,
		Title:           plain(title, modalTitleLimit),
		Close:           plain("Cancel", modalTitleLimit),
		Blocks:          slack.Blocks{BlockSet: blocks},
		PrivateMetadata: metadata,
	}
	if submit != "" {
		v.Submit = plain(submit, modalTitleLimit)
	}
	return v
}

func reasonInput(required bool, initial string) *slack.InputBlock {
	label := "Reason"
	if !required {
		label = "Reason (optional)"
	}
	el := slack.NewPlainTextInputBlockElement(plain("Why do you need it?", 150), inputReason).WithMultiline(true).WithMaxLength(2000)
	if initial != "" {
		el = el.WithInitialValue(initial)
	}
	// Optional for Slack: jitbot checks it itself, so the error can name the role's rule.
	return slack.NewInputBlock(blockReason, plain(label, 2000), nil, el).WithOptional(true)
}

// requestModal is the form that files a request: a role, a duration (empty for the role's
// default) and a reason. role preselects a role when set.
func requestModal(roles []*access.Role, role string) slack.ModalViewRequest {
	var opts []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	var defaults []string
	for i, r := range roles {
		if i >= maxOptions {
			break
		}
		desc := fmt.Sprintf("up to %s", access.FormatDuration(r.MaxDuration))
		o := slack.NewOptionBlockObject(r.Name, plain(r.Name, 75), plain(desc, 75))
		opts = append(opts, o)
		if strings.EqualFold(r.Name, role) || len(roles) == 1 {
			initial = o
		}
		defaults = append(defaults, fmt.Sprintf("%s %s", r.Name, access.FormatDuration(r.DefaultDuration)))
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose a role", 150), inputRole, opts...)
	sel.InitialOption = initial
	dur := slack.NewPlainTextInputBlockElement(plain("e.g. 30m, 2h, 1d", 150), inputDuration).WithMaxLength(20)
	hint := "Empty: the role's default"
	if len(defaults) > 0 {
		hint += " (" + strings.Join(defaults, ", ") + ")"
	}
	hint += "."
	return modal(callbackRequest, "Request access", "Request", "",
		slack.NewInputBlock(blockRole, plain("Role", 2000), nil, sel),
		slack.NewInputBlock(blockDuration, plain("Duration", 2000), plain(hint, 2000), dur).WithOptional(true),
		reasonInput(true, ""),
	)
}

// extendModal asks by how much to extend grant g, the role's default preselected.
func extendModal(g *access.Grant, role *access.Role) slack.ModalViewRequest {
	def, max := access.FormatDuration(g.Duration), ""
	required := true
	if role != nil {
		def = access.FormatDuration(role.DefaultDuration)
		max = fmt.Sprintf(" Role %s allows %s in all.", role.Name, access.FormatDuration(role.MaxDuration))
		required = role.ReasonRequired
	}
	dur := slack.NewPlainTextInputBlockElement(plain("e.g. 30m, 2h", 150), inputDuration).WithInitialValue(def).WithMaxLength(20)
	return modal(callbackExtend, "Extend access", "Ask", g.ID+"|"+g.Role,
		section("extend_head", fmt.Sprintf("Extend grant `%s` (*%s*), which ends %s.%s", g.ID, g.Role, when(g.EndsAt), max)),
		slack.NewInputBlock(blockDuration, plain("Extend by", 2000), nil, dur),
		reasonInput(required, ""),
	)
}

// denyModal asks for an optional reason to deny request r. metadata carries the request ID and
// the channel of the clicked message.
func denyModal(r *access.Request, channel string) slack.ModalViewRequest {
	return modal(callbackDeny, "Deny request", "Deny", r.ID+"|"+channel,
		section("deny_head", fmt.Sprintf("Deny request `%s`: %s.", r.ID, requestSummary(r))),
		reasonInput(false, ""),
	)
}

// homeView is a user's App Home: pending requests, live grants, approvals waiting for them and
// the button that opens the request modal.
func homeView(mine []*access.Request, grants []*access.Grant, awaiting []*access.Request, p *access.Policy, roles []*access.Role) slack.HomeTabViewRequest {
	blocks := []slack.Block{slack.NewHeaderBlock(plain("Access", 150))}
	if len(roles) > 0 {
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = "*" + r.Name + "*"
		}
		blocks = append(blocks,
			slack.NewActionBlock("home_actions", button(actionOpenRequest, "Request access", "open", slack.StylePrimary)),
			contextBlock("home_roles", truncate("Roles you may request: "+strings.Join(names, ", "), sectionTextLimit)))
	} else {
		blocks = append(blocks, contextBlock("home_roles", "There is no role you may request."))
	}
	const perSection = 20 // two sections of at most 2 blocks per item, within 100 blocks
	add := func(b ...slack.Block) { blocks = append(blocks, b...) }

	add(slack.NewDividerBlock(), section("home_awaiting", fmt.Sprintf("*Waiting for your approval* (%d)", len(awaiting))))
	for i, r := range awaiting {
		if i == perSection {
			add(contextBlock("home_awaiting_more", fmt.Sprintf("… and %d more.", len(awaiting)-i)))
			break
		}
		var role *access.Role
		if p != nil {
			role = p.Role(r.Role)
		}
		m := requestMessage(r, role, true)
		add(section("home_req_"+r.ID, fmt.Sprintf("`%s` %s. Reason: %s", r.ID, requestSummary(r), orNone(inline(r.Reason)))))
		add(m.Blocks[len(m.Blocks)-1])
	}
	if len(awaiting) == 0 {
		add(contextBlock("home_awaiting_none", "Nothing to decide."))
	}

	add(slack.NewDividerBlock(), section("home_grants", fmt.Sprintf("*Your grants* (%d)", len(grants))))
	for i, g := range grants {
		if i == perSection {
			add(contextBlock("home_grants_more", fmt.Sprintf("… and %d more.", len(grants)-i)))
			break
		}
		add(section("home_grant_"+g.ID, grantLine(g)))
		if g.Status == access.GrantActive {
			add(grantButtons(g.ID))
		}
	}
	if len(grants) == 0 {
		add(contextBlock("home_grants_none", "No active grants."))
	}

	add(slack.NewDividerBlock(), section("home_mine", fmt.Sprintf("*Your pending requests* (%d)", len(mine))))
	var ls []string
	for _, r := range mine {
		ls = append(ls, fmt.Sprintf("• `%s` *%s* for %s — %s", r.ID, r.Role, access.FormatDuration(r.Duration), requestStatus(r, 1)))
	}
	if len(ls) == 0 {
		add(contextBlock("home_mine_none", "No pending requests."))
	} else {
		add(lines("home_mine_list", ls, viewBlocks-len(blocks))...)
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}, CallbackID: "home"}
}

func orNone(s string) string {
	if s == "" {
		return "_none_"
	}
	return s
}
