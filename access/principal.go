package access

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
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

// CurrentPrincipals is implemented by Principals that cache what they resolve. ResolveCurrent
// asks the source again (and refreshes the cache), for decisions that must count who is a
// member now: approvals, and who may end or ask for break-glass access.
type CurrentPrincipals interface {
	ResolveCurrent(ctx context.Context, principals []string) ([]string, error)
}

// RecentPrincipals is implemented by Principals that can answer from a lookup no older than
// within (or one under way), for decisions that come in bursts from one person: a reviewer
// going through a review's members would otherwise make one lookup a click, past what Slack
// allows (usergroups.users.list: about 20 a minute), and clicks past it would be refused.
type RecentPrincipals interface {
	ResolveRecent(ctx context.Context, principals []string, within time.Duration) ([]string, error)
}

// resolveRecent expands principals as they were at most within ago; a Principals that cannot
// tell is asked as for resolveCurrent.
func (s *Service) resolveRecent(ctx context.Context, principals []string, within time.Duration) ([]string, error) {
	if s.Principals == nil || len(principals) == 0 {
		return nil, nil
	}
	if r, ok := s.Principals.(RecentPrincipals); ok {
		return r.ResolveRecent(ctx, principals, within)
	}
	return s.resolveCurrent(ctx, principals)
}

// resolveCurrent expands principals as they are now, past any cache.
func (s *Service) resolveCurrent(ctx context.Context, principals []string) ([]string, error) {
	if s.Principals == nil || len(principals) == 0 {
		return nil, nil
	}
	if c, ok := s.Principals.(CurrentPrincipals); ok {
		return c.ResolveCurrent(ctx, principals)
	}
	return s.Principals.Resolve(ctx, principals)
}

// currentApprovers resolves the Slack user IDs that may approve role now.
func (s *Service) currentApprovers(ctx context.Context, role *Role) ([]string, error) {
	ids, err := s.resolveCurrent(ctx, role.Approvers)
	if err != nil {
		return nil, fmt.Errorf("resolve approvers of %s: %w", role.Name, err)
	}
	return ids, nil
}
