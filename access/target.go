package access

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
)

// TargetKind is what a grant gives: membership of a group or a platform role.
type TargetKind string

// Target kinds.
const (
	TargetGroup TargetKind = "group"
	TargetRole  TargetKind = "role"
)

// Target is one thing a role grants: an Atlassian group (by name) or a platform role on a
// resource (a site host or resource ARI; empty for org-admin).
type Target struct {
	Kind     TargetKind `json:"kind"`
	Group    string     `json:"group,omitempty"`
	Role     string     `json:"role,omitempty"`
	Resource string     `json:"resource,omitempty"`
}

// GroupTarget returns the Target for membership of the named group.
func GroupTarget(name string) Target { return Target{Kind: TargetGroup, Group: name} }

// RoleTarget returns the Target for a platform role on a resource.
func RoleTarget(role, resource string) Target {
	if role == "org-admin" {
		resource = ""
	}
	return Target{Kind: TargetRole, Role: role, Resource: resource}
}

// Key identifies the target for reference counting: two grants with the same account and key
// give the same access.
func (t Target) Key() string {
	if t.Kind == TargetGroup {
		return "group:" + t.Group
	}
	if t.Resource == "" {
		return "role:" + t.Role
	}
	return "role:" + t.Role + "@" + t.Resource
}

// String is the target as people read it.
func (t Target) String() string {
	if t.Kind == TargetGroup {
		return fmt.Sprintf("group %s", t.Group)
	}
	if t.Resource == "" {
		return fmt.Sprintf("role %s", t.Role)
	}
	return fmt.Sprintf("role %s on %s", t.Role, t.Resource)
}

// TargetComparer is implemented by a Provisioner that can tell whether two role targets
// written differently (a site host and the site's ARI) are the same access.
type TargetComparer interface {
	SameTarget(ctx context.Context, a, b Target) (bool, error)
}

// sameTarget reports whether a and b give the same access: the same key, or two targets of one
// platform role whose resources the Provisioner says are the same. When that cannot be told
// they count as different, so an ending grant never keeps access for another's sake on a guess.
func (s *Service) sameTarget(ctx context.Context, a, b Target) bool {
	if a.Key() == b.Key() {
		return true
	}
	if a.Kind != TargetRole || b.Kind != TargetRole || a.Role != b.Role {
		return false
	}
	c, ok := s.Provisioner.(TargetComparer)
	if !ok {
		return false
	}
	same, err := c.SameTarget(ctx, a, b)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("a", a.String()).Str("b", b.String()).Msg("compare role targets")
		return false
	}
	return same
}
