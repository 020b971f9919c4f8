package access

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// snapshot is the part of the organization a run looks at: the groups the rule names, and the
// users it may change or needs to decide about. It never holds the whole org: users arrive
// page by page and only those a planner keeps stay in memory.
type snapshot struct {
	groups  map[string]Group               // by lower-cased name
	users   map[string]*User               // kept users by account ID
	members map[string]map[string]struct{} // lower-cased group name -> account IDs, for groups read in full
}

func newSnapshot() *snapshot {
	return &snapshot{groups: map[string]Group{}, users: map[string]*User{}, members: map[string]map[string]struct{}{}}
}

// readGroups looks the named groups up. A group that does not exist stops the run: its
// ENOTFOUND error names it.
func (s *snapshot) readGroups(ctx context.Context, org Org, names []string) error {
	var missing []string
	for _, n := range names {
		if _, ok := s.groups[strings.ToLower(n)]; !ok && !containsFold(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	gs, err := org.Groups(ctx, missing)
	if err != nil {
		return fmt.Errorf("read groups %s: %w", strings.Join(missing, ", "), err)
	}
	for _, g := range gs {
		s.groups[strings.ToLower(g.Name)] = g
	}
	for _, n := range missing {
		if _, ok := s.groups[strings.ToLower(n)]; !ok {
			return Errorf(ENOTFOUND, "Group %s does not exist in the Atlassian organization.", n)
		}
	}
	return nil
}

// group returns the group with the name, read by readGroups.
func (s *snapshot) group(name string) Group { return s.groups[strings.ToLower(name)] }

// readUsers reads the users that can matter to a run: the members of full (whose member lists
// are recorded in full, for guards such as min_members) and, when narrow is not nil, the
// members of the narrow groups — otherwise every user of the org. All named groups must have
// been read by readGroups. visit decides for each user whether it is kept.
func (s *snapshot) readUsers(ctx context.Context, org Org, full, narrow []string, visit func(*User) (keep bool, err error)) error {
	for _, g := range full {
		s.members[strings.ToLower(g)] = map[string]struct{}{}
	}
	var q UserQuery
	if narrow != nil {
		seen := map[string]bool{}
		for _, n := range append(append([]string(nil), full...), narrow...) {
			if id := s.group(n).ID; !seen[id] {
				seen[id] = true
				q.GroupIDs = append(q.GroupIDs, id)
			}
		}
		if len(q.GroupIDs) == 0 {
			return nil
		}
	}
	err := org.Users(ctx, q, func(u *User) error {
		keep, err := visit(u)
		if err != nil {
			return err
		}
		for _, g := range u.Groups {
			if m, ok := s.members[strings.ToLower(g)]; ok {
				m[u.AccountID] = struct{}{}
				keep = true
			}
		}
		if keep {
			s.users[u.AccountID] = u
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	return nil
}

// isMember reports whether the account is in the group, for groups read in full.
func (s *snapshot) isMember(group, accountID string) bool {
	_, ok := s.members[strings.ToLower(group)][accountID]
	return ok
}

// count returns the number of members of a group read in full.
func (s *snapshot) count(group string) int { return len(s.members[strings.ToLower(group)]) }

// inGroupRe finds `"NAME" in user.groups` in a condition's source.
var inGroupRe = regexp.MustCompile(`(?:"([^"\\]*)"|'([^'\\]*)')\s+in\s+user\.groups\b`)

// referencedGroups returns the group names that c tests membership of (`"X" in user.groups`).
// A run checks that they exist: a typo in a group name would silently match no one.
func referencedGroups(c Condition) []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, m := range inGroupRe.FindAllStringSubmatch(c.String(), -1) {
		n := m[1] + m[2]
		if !containsFold(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// requiredGroups returns groups one of which a user must be in for c to hold, or nil when c
// cannot be narrowed that way. It reads the condition's source conservatively: a disjunction
// narrows only when every branch narrows, a conjunction when any conjunct does, and an atom
// only when it is exactly `"X" in user.groups`. Anything else (negation, ternary, macros) reads
// the whole org.
func requiredGroups(c Condition) []string {
	if c == nil {
		return nil
	}
	return narrowExpr(c.String())
}

var atomRe = regexp.MustCompile(`^(?:"([^"\\]*)"|'([^'\\]*)')\s+in\s+user\.groups$`)

func narrowExpr(expr string) []string {
	expr = stripParens(strings.TrimSpace(expr))
	if expr == "" || hasTopLevel(expr, "?") {
		return nil
	}
	if parts := splitTopLevel(expr, "||"); len(parts) > 1 {
		var out []string
		for _, p := range parts {
			g := narrowExpr(p)
			if g == nil {
				return nil
			}
			out = append(out, g...)
		}
		return out
	}
	if parts := splitTopLevel(expr, "&&"); len(parts) > 1 {
		for _, p := range parts {
			if g := narrowExpr(p); g != nil {
				return g
			}
		}
		return nil
	}
	if m := atomRe.FindStringSubmatch(expr); m != nil {
		return []string{m[1] + m[2]}
	}
	return nil
}

// stripParens removes parentheses that wrap the whole expression.
func stripParens(s string) string {
	for len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		depth := 0
		wraps := true
		walk(s, func(i int, c byte, d int) bool {
			depth = d
			if d == 0 && i < len(s)-1 {
				wraps = false
				return false
			}
			return true
		})
		if !wraps || depth != 0 {
			return s
		}
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// walk calls fn for every byte of s outside string literals with the parenthesis depth after
// it, until fn returns false.
func walk(s string, fn func(i int, c byte, depth int) bool) {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'':
			quote = c
			continue
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
		if !fn(i, c, depth) {
			return
		}
	}
}

func hasTopLevel(s, op string) bool {
	found := false
	walk(s, func(i int, c byte, d int) bool {
		if d == 0 && strings.HasPrefix(s[i:], op) {
			found = true
			return false
		}
		return true
	})
	return found
}

func splitTopLevel(s, op string) []string {
	var parts []string
	last := 0
	skip := -1
	walk(s, func(i int, c byte, d int) bool {
		if i <= skip {
			return true
		}
		if d == 0 && strings.HasPrefix(s[i:], op) {
			parts = append(parts, s[last:i])
			last = i + len(op)
			skip = last - 1
		}
		return true
	})
	return append(parts, s[last:])
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
