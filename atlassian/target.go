package atlassian

import (
	"context"

	"github.com/jitbot/jitbot/access"
)

// Has reports whether the account holds t: membership of the group, read back with a
// users/search by account and group, or the platform role held directly, read back from the
// user's role assignments (which may lag a role change by up to 30 s).
func (c *Client) Has(ctx context.Context, a access.Account, t access.Target) (bool, error) {
	switch t.Kind {
	case access.TargetGroup:
		ok, err := c.hasGroup(ctx, a.ID, t.Group)
		return ok, describe("check", a, t, err)
	case access.TargetRole:
		role, resource, err := c.roleTarget(ctx, t)
		if err != nil {
			return false, describe("check", a, t, err)
		}
		ok, err := c.hasRole(ctx, a.ID, role, resource)
		return ok, describe("check", a, t, err)
	}
	return false, access.Errorf(access.EINVALID, "Unknown target kind %q.", t.Kind)
}

// Add gives the account t. Adding what is there succeeds.
func (c *Client) Add(ctx context.Context, a access.Account, t access.Target) error {
	switch t.Kind {
	case access.TargetGroup:
		return describe("add", a, t, c.addMember(ctx, a.ID, t.Group))
	case access.TargetRole:
		role, resource, err := c.roleTarget(ctx, t)
		if err != nil {
			return describe("add", a, t, err)
		}
		return describe("add", a, t, c.setRole(ctx, "assign", a.ID, role, resource))
	}
	return access.Errorf(access.EINVALID, "Unknown target kind %q.", t.Kind)
}

// Remove takes t away from the account. Removing what is gone succeeds.
func (c *Client) Remove(ctx context.Context, a access.Account, t access.Target) error {
	switch t.Kind {
	case access.TargetGroup:
		return describe("remove", a, t, c.removeMember(ctx, a.ID, t.Group))
	case access.TargetRole:
		role, resource, err := c.roleTarget(ctx, t)
		if err != nil {
			return describe("remove", a, t, err)
		}
		return describe("remove", a, t, c.setRole(ctx, "revoke", a.ID, role, resource))
	}
	return access.Errorf(access.EINVALID, "Unknown target kind %q.", t.Kind)
}
