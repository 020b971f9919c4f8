package access

import (
	"errors"
	"fmt"

	"github.com/rs/zerolog"
)

// Code says what kind of failure an *Error is. Callers match on it, never on the message.
type Code string

// Error codes. The set is closed: Codes lists it.
const (
	EINVALID     Code = "invalid"
	ENOTFOUND    Code = "not_found"
	ECONFLICT    Code = "conflict"
	EFORBIDDEN   Code = "forbidden"
	EUNAVAILABLE Code = "unavailable"
	EINTERNAL    Code = "internal"
)

// Codes is every error code.
var Codes = []Code{EINVALID, ENOTFOUND, ECONFLICT, EFORBIDDEN, EUNAVAILABLE, EINTERNAL}

// Error is a domain error: a code and a plain sentence that is safe to show in Slack. The
// sentence says what was wrong; how to type the fix is the bot's to say, from Usage.
type Error struct {
	Code    Code
	Message string
	// Usage, when set, is the command that does what was meant, as the words a person types
	// after the slash command ("request jira-admin 1h fixing SSO"): plain words, no mark-up.
	Usage string
}

// WithUsage sets the command that does what was meant (see Error.Usage) and returns e.
func (e *Error) WithUsage(format string, args ...any) *Error {
	e.Usage = fmt.Sprintf(format, args...)
	return e
}

// ErrorUsage returns the Usage of the first *Error in err's chain, or "".
func ErrorUsage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Usage
	}
	return ""
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err, or a generic sentence for internal errors.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong inside jitbot; an operator can find the details in its log."
}

// logFailure is the log event for err: debug for an expected conflict (the record changed
// under the caller, a concurrent driver holds it), error for anything else.
func logFailure(log *zerolog.Logger, err error) *zerolog.Event {
	if ErrorCode(err) == ECONFLICT {
		return log.Debug().Err(err)
	}
	return log.Error().Err(err)
}
