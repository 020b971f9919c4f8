package access

import (
	"regexp"
	"strings"
)

// PrincipalKind says what a policy principal names.
type PrincipalKind int

// Principal kinds. Every package that reads a principal asks ParsePrincipal.
const (
	PrincipalInvalid PrincipalKind = iota
	PrincipalUser                  // a Slack user ID: U… or W…
	PrincipalGroup                 // a Slack user-group ID: S…
	PrincipalEmail                 // an e-mail address
)

var slackIDPattern = regexp.MustCompile(`^([UWS])[A-Z0-9]+$`)

// ParsePrincipal says what principal s names. An e-mail is anything of the form local@domain.tld
// (so Una@example.com is an e-mail, never a Slack ID); a Slack ID is upper-case letters and digits
// after U, W or S.
func ParsePrincipal(s string) PrincipalKind {
	if m := slackIDPattern.FindStringSubmatch(s); m != nil {
		if m[1] == "S" {
			return PrincipalGroup
		}
		return PrincipalUser
	}
	local, domain, ok := strings.Cut(s, "@")
	if ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(domain, "@ \t") &&
		!strings.ContainsAny(local, " \t") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") {
		return PrincipalEmail
	}
	return PrincipalInvalid
}
