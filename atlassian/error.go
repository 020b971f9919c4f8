package atlassian

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jitbot/jitbot/access"
)

// apiErrors is the union of Atlassian's error bodies: v2 Errors and v1 ApplicationErrors
// ({"errors":[{code,title,detail}]}) and the gateway's ProxyError ({"code":429,"message":…}).
type apiErrors struct {
	Errors []struct {
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"errors"`
	Message string `json:"message"`
}

// errorInfo returns the first error code and a readable detail from an error body.
func errorInfo(body []byte) (code, detail string) {
	var e apiErrors
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	if len(e.Errors) > 0 {
		d := e.Errors[0].Detail
		if d == "" {
			d = e.Errors[0].Title
		}
		return e.Errors[0].Code, d
	}
	return "", e.Message
}

// statusError turns a final non-2xx answer into an *access.Error wrapped with the operation.
// The answer's text goes into logs, alerts and /readyz, so the key it was sent with is taken
// out of it: a gateway or proxy that echoes the request's Authorization header in its error
// must not put the key there.
func statusError(op string, status int, body []byte, attempts int, key Secret) *statusErr {
	code, detail := errorInfo(body)
	code, detail = withoutKey(code, key), withoutKey(detail, key)
	why := ""
	if detail != "" {
		why = " (" + strings.TrimSuffix(detail, ".") + ")"
	}
	var e *access.Error
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e = access.Errorf(access.EFORBIDDEN, "Atlassian refused %s with HTTP %d%s: check that JITBOT_ATLASSIAN_API_KEY is a valid org admin API key for the organization in JITBOT_ATLASSIAN_ORG_ID.", op, status, why)
	case status == http.StatusNotFound:
		e = access.Errorf(access.ENOTFOUND, "Atlassian found nothing for %s%s.", op, why)
	case status == http.StatusConflict && isLicenceLimit(code, detail):
		e = licenceError(op, detail)
	case status == http.StatusConflict:
		e = access.Errorf(access.ECONFLICT, "Atlassian reported a conflict for %s%s.", op, why)
	case status == http.StatusTooManyRequests:
		e = access.Errorf(access.EUNAVAILABLE, "Atlassian is rate limiting jitbot; %s still got HTTP 429 after %d attempts.", op, attempts)
	case status >= 500:
		e = access.Errorf(access.EUNAVAILABLE, "Atlassian is unavailable: %s got HTTP %d after %d attempts.", op, status, attempts)
	case status >= 400:
		e = access.Errorf(access.EINVALID, "Atlassian rejected %s as invalid (HTTP %d)%s.", op, status, why)
	default:
		e = access.Errorf(access.EUNAVAILABLE, "Atlassian answered %s with unexpected HTTP %d.", op, status)
	}
	return &statusErr{op: op, status: status, code: code, detail: detail, err: e}
}

// withoutKey returns s with every occurrence of key replaced by [redacted].
func withoutKey(s string, key Secret) string {
	if k := strings.TrimSpace(string(key)); k != "" {
		s = strings.ReplaceAll(s, k, redacted)
	}
	return s
}

// statusErr keeps the HTTP status and Atlassian error code next to the domain error.
type statusErr struct {
	op, code, detail string
	status           int
	err              *access.Error
	unsure           bool // an earlier attempt of the call got no answer: it may have been applied
}

func (e *statusErr) Error() string { return fmt.Sprintf("%s: %s", e.op, e.err.Message) }
func (e *statusErr) Unwrap() error { return e.err }

// Cause says what Atlassian answered, for alerts: "Atlassian answered 503 (ADMIN-500)".
func (e *statusErr) Cause() string {
	s := fmt.Sprintf("Atlassian answered %d", e.status)
	if e.code != "" {
		s += " (" + e.code + ")"
	}
	return s
}

// Answered reports that Atlassian's refusal is the call's outcome: no attempt of it went
// unanswered, so a write it refused was not applied.
func (e *statusErr) Answered() bool { return !e.unsure }

// netErr is a call that got no answer at all.
type netErr struct {
	op  string
	err *access.Error
}

func (e *netErr) Error() string { return fmt.Sprintf("%s: %s", e.op, e.err.Message) }
func (e *netErr) Unwrap() error { return e.err }

// Cause says that Atlassian could not be reached, for alerts.
func (e *netErr) Cause() string { return "Atlassian could not be reached" }

// Answered is false: a write may have been applied without jitbot hearing back.
func (e *netErr) Answered() bool { return false }

// httpStatus returns the HTTP status behind err, or 0.
func httpStatus(err error) int {
	var s *statusErr
	if errors.As(err, &s) {
		return s.status
	}
	return 0
}

// isLicenceLimit recognizes Atlassian's "user limit exceeded" conflicts.
func isLicenceLimit(code, detail string) bool {
	d := strings.ToLower(detail)
	return code == "ADMIN-UAM-409-3" || code == "ADMIN-409-3" || strings.Contains(d, "limit") || strings.Contains(d, "licen")
}

func licenceError(op, detail string) *access.Error {
	return access.Errorf(access.ECONFLICT, "Atlassian refused %s: the app's user limit (licence seats) is reached%s; free a seat or raise the limit, then retry.", op, suffix(detail))
}

func suffix(detail string) string {
	if detail == "" {
		return ""
	}
	return " (" + strings.TrimSuffix(detail, ".") + ")"
}

func asStatus(err error) (*statusErr, bool) {
	var s *statusErr
	ok := errors.As(err, &s)
	return s, ok
}
