package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/jitbot/jitbot/access"
)

// slackCode returns Slack's error code of err ("invalid_auth", "users_not_found", …), "ratelimited"
// for HTTP 429, "http_NNN" for other HTTP failures, and "" for anything else. It is the only
// place that reads Slack's error strings.
func slackCode(err error) string {
	if err == nil {
		return ""
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return "ratelimited"
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code == http.StatusTooManyRequests {
			return "ratelimited"
		}
		return fmt.Sprintf("http_%d", sc.Code)
	}
	// slack-go returns some codes as plain errors (e.g. from apps.connections.open).
	switch s := err.Error(); s {
	case "invalid_auth", "account_inactive", "not_authed", "token_revoked", "token_expired",
		"not_allowed_token_type", "user_not_found", "users_not_found", "no_such_subteam",
		"plan_upgrade_required", "expired_trigger_id", "invalid_trigger_id":
		return s
	}
	return ""
}

// isFatalAuth reports whether err says a token is not accepted: retrying cannot help.
func isFatalAuth(err error) bool {
	switch slackCode(err) {
	case "invalid_auth", "account_inactive", "not_authed", "token_revoked", "token_expired", "not_allowed_token_type":
		return true
	}
	return false
}

// appTokenError and botTokenError are the errors Run stops with on a fatal auth failure. They
// name the variable, never the token.
func appTokenError(err error) error {
	return fmt.Errorf("slack app-level token is invalid (check JITBOT_SLACK_APP_TOKEN: an xapp- token with connections:write): %s", slackCode(err))
}

func botTokenError(err error) error {
	return fmt.Errorf("slack bot token is invalid (check JITBOT_SLACK_BOT_TOKEN: the xoxb- token of the installed app): %s", slackCode(err))
}

// slackError turns a Web API failure into a domain error for the access ports: ENOTFOUND for
// missing users and groups, EUNAVAILABLE for transient trouble, EFORBIDDEN for auth and scope
// problems.
func slackError(op string, err error) error {
	var code access.Code
	switch c := slackCode(err); c {
	case "user_not_found", "users_not_found", "no_such_subteam":
		code = access.ENOTFOUND
	case "missing_scope", "plan_upgrade_required", "invalid_auth", "not_authed", "token_revoked", "account_inactive":
		code = access.EFORBIDDEN
	default:
		code = access.EUNAVAILABLE
	}
	return fmt.Errorf("slack %s: %w", op, &access.Error{Code: code, Message: fmt.Sprintf("Slack refused %s (%v).", op, err)})
}

// errorAnswer is what a person is told about err: userText and, when the domain names the
// command that does what was meant, that command in the bot's syntax.
func (b *Bot) errorAnswer(ctx context.Context, err error) message {
	text := userText(ctx, err)
	if u := access.ErrorUsage(err); u != "" {
		return textMessage(":warning: " + escape(text) + " Try `" + escape(b.cfg.Command+" "+u) + "`.")
	}
	return errorMessage(text)
}

// userText is what a person is told about err: the domain's sentence, or for internal errors a
// generic sentence with a reference that is logged with the whole chain.
func userText(ctx context.Context, err error) string {
	if access.ErrorCode(err) != access.EINTERNAL {
		return access.ErrorMessage(err)
	}
	ref := access.NewID()
	zerolog.Ctx(ctx).Error().Err(err).Str("ref", ref).Msg("internal error shown to a user")
	return fmt.Sprintf("Something went wrong inside jitbot (reference %s); an operator can find the details in its log.", ref)
}
