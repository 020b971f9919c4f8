package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jitbot/jitbot/access"
	"github.com/jitbot/jitbot/atlassian"
	"github.com/jitbot/jitbot/policies"
)

// targetChecker is what checking a policy's groups and resources needs from Atlassian.
type targetChecker interface {
	LookupGroups(ctx context.Context, names []string) (map[string]access.Group, error)
	CheckResource(ctx context.Context, role, resource string) (string, error)
}

// principalChecker is what checking a policy's principals needs from Slack.
type principalChecker interface {
	CheckPrincipal(ctx context.Context, p string) error
}

// checkTargets checks every group and resource refs name against the live org: a group must
// exist and not be synced from the identity provider and, where jitbot changes its members,
// be modifiable (managementAccess); a resource must resolve to exactly one site. It
// returns one problem per reference that fails, and an error when Atlassian could not be asked
// (bad key, outage).
func checkTargets(ctx context.Context, org targetChecker, refs []policies.Ref) ([]policies.Problem, error) {
	var names []string
	for _, r := range refs {
		if r.Kind == policies.RefGroup {
			names = append(names, r.Value)
		}
	}
	var groups map[string]access.Group
	if len(names) > 0 {
		var err error
		if groups, err = org.LookupGroups(ctx, names); err != nil {
			return nil, fmt.Errorf("check groups: %w", err)
		}
	}
	var out []policies.Problem
	resolved := map[string]error{}
	for _, r := range refs {
		switch r.Kind {
		case policies.RefGroup:
			g, ok := groups[strings.ToLower(r.Value)]
			if !ok {
				out = append(out, r.Problem("no Atlassian group named %s exists in this organization", r.Value))
				continue
			}
			// A synced group is the identity provider's wherever it is named; one that is
			// merely not modifiable matters where jitbot changes members.
			if err := atlassian.Writable(g); err != nil && (r.Writes || g.ExternalSynced) {
				out = append(out, r.Problem("%s", strings.TrimSuffix(access.ErrorMessage(err), ".")))
			}
		case policies.RefResource:
			key := r.Role + "\x00" + r.Value
			err, seen := resolved[key]
			if !seen {
				_, err = org.CheckResource(ctx, r.Role, r.Value)
				switch access.ErrorCode(err) {
				case "", access.ENOTFOUND, access.EINVALID:
				default:
					return nil, fmt.Errorf("check resource %s: %w", r.Value, err)
				}
				resolved[key] = err
			}
			if err != nil {
				out = append(out, r.Problem("%s", strings.TrimSuffix(access.ErrorMessage(err), ".")))
			}
		}
	}
	return out, nil
}

// checkPrincipals checks that every principal refs name resolves in Slack.
func checkPrincipals(ctx context.Context, slack principalChecker, refs []policies.Ref) ([]policies.Problem, error) {
	var out []policies.Problem
	results := map[string]error{}
	for _, r := range refs {
		if r.Kind != policies.RefPrincipal {
			continue
		}
		err, seen := results[r.Value]
		if !seen {
			err = slack.CheckPrincipal(ctx, r.Value)
			switch access.ErrorCode(err) {
			case "", access.ENOTFOUND, access.EINVALID:
			default:
				return nil, fmt.Errorf("check Slack principal %s: %w", r.Value, err)
			}
			results[r.Value] = err
		}
		if err != nil {
			out = append(out, r.Problem("%s", strings.TrimSuffix(access.ErrorMessage(err), ".")))
		}
	}
	return out, nil
}

// sortProblems orders problems by line, keeping the order of problems on one line.
func sortProblems(ps []policies.Problem) {
	slices.SortStableFunc(ps, func(a, b policies.Problem) int { return a.Line - b.Line })
}

// formatProblems prints problems one a line as FILE:LINE: field: message.
func formatProblems(ps []policies.Problem) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
