package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// openRequestModal opens the request form with a trigger. sc, when set, is the slash command
// to answer if the form cannot be opened.
// It offers only the roles user may request; with none, user is told so instead.
func (b *Bot) openRequestModal(ctx context.Context, trigger, user, role string, sc *slack.SlashCommand) {
	var m message
	roles, err := b.svc.Requestable(ctx, access.UserActor(user))
	switch {
	case err != nil:
		m = b.errorAnswer(ctx, err)
	case len(roles) == 0:
		m = rolesMessage(nil)
	default:
		_, err := b.api.OpenViewContext(ctx, trigger, requestModal(roles, role))
		if err == nil {
			return
		}
		b.noteFatal(err)
		zerolog.Ctx(ctx).Warn().Err(err).Msg("slack: open request modal")
		m = errorMessage(fmt.Sprintf("The request form could not be opened (%s). Write the request instead: `%s`.", slackCode(err), usage[cmdRequest]))
	}
	if sc != nil {
		b.reply(ctx, *sc, m)
		return
	}
	b.dm(ctx, user, m)
}

// value reads a text input or selected option of a submitted view.
func value(v slack.View, block, action string) string {
	if v.State == nil {
		return ""
	}
	a, ok := v.State.Values[block][action]
	if !ok {
		return ""
	}
	if a.SelectedOption.Value != "" {
		return a.SelectedOption.Value
	}
	return strings.TrimSpace(a.Value)
}

// onSubmit validates a submitted modal without I/O. Invalid input is answered in the ack with
// errors on the fields; valid input closes the modal and the work runs after the ack.
func (b *Bot) onSubmit(ctx context.Context, cb slack.InteractionCallback) (any, func(context.Context)) {
	user := cb.User.ID
	by := access.UserActor(user)
	switch cb.View.CallbackID {
	case callbackRequest:
		errs := map[string]string{}
		p := b.policy()
		var role *access.Role
		if p != nil {
			role = p.Role(value(cb.View, blockRole, inputRole))
		}
		if role == nil {
			errs[blockRole] = "Choose one of the roles."
		}
		reason := value(cb.View, blockReason, inputReason)
		d, derr := modalDuration(value(cb.View, blockDuration, inputDuration), role)
		if derr != nil {
			errs[blockDuration] = access.ErrorMessage(derr)
		} else if role != nil {
			if err := access.CheckDuration(role, d); err != nil {
				errs[blockDuration] = access.ErrorMessage(err)
			}
		}
		if role != nil && reason == "" && (role.ReasonRequired || role.BreakGlass) {
			errs[blockReason] = fmt.Sprintf("Role %s needs a reason.", role.Name)
		}
		if len(errs) > 0 {
			return slack.NewErrorsViewSubmissionResponse(errs), nil
		}
		name := role.Name
		return nil, func(ctx context.Context) {
			if _, err := b.submit(ctx, by, name, d, reason); err != nil {
				b.dm(ctx, user, b.errorAnswer(ctx, err))
			}
		}
	case callbackExtend:
		id, roleName, _ := strings.Cut(cb.View.PrivateMetadata, "|")
		role := b.role(roleName)
		errs := map[string]string{}
		reason := value(cb.View, blockReason, inputReason)
		d, err := access.ParseDuration(value(cb.View, blockDuration, inputDuration))
		if err != nil {
			errs[blockDuration] = access.ErrorMessage(err)
		} else if role != nil && d > role.MaxDuration {
			errs[blockDuration] = fmt.Sprintf("%s is longer than role %s allows in all: at most %s.", access.FormatDuration(d), role.Name, access.FormatDuration(role.MaxDuration))
		}
		if role != nil && role.ReasonRequired && reason == "" {
			errs[blockReason] = fmt.Sprintf("Role %s needs a reason.", role.Name)
		}
		if len(errs) > 0 {
			return slack.NewErrorsViewSubmissionResponse(errs), nil
		}
		return nil, func(ctx context.Context) {
			if _, err := b.extend(ctx, by, id, d, reason); err != nil {
				b.dm(ctx, user, b.errorAnswer(ctx, err))
			}
		}
	case callbackDeny:
		id, channel, _ := strings.Cut(cb.View.PrivateMetadata, "|")
		reason := value(cb.View, blockReason, inputReason)
		return nil, func(ctx context.Context) {
			r, err := b.svc.Deny(ctx, by, id, reason)
			if err != nil {
				b.tell(ctx, channel, user, b.failure(ctx, id, err))
				return
			}
			b.tell(ctx, channel, user, textMessage(fmt.Sprintf("You denied request `%s`.", r.ID)))
		}
	}
	return nil, nil
}

// modalDuration reads the duration field: empty means the role's default.
func modalDuration(s string, role *access.Role) (time.Duration, error) {
	if s == "" && role != nil {
		return role.DefaultDuration, nil
	}
	if s == "" {
		return 0, nil
	}
	return access.ParseDuration(s)
}
