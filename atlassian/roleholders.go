package atlassian

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/jitbot/jitbot/access"
)

var _ access.RoleOrg = (*Client)(nil)

// RoleHolders lists who holds the platform roles (site-admin, org-admin, user-access-admin:
// written without the atlassian/ prefix) directly, with the resource of each assignment: one
// users/search filtered by role, then each holder's role assignments read back.
func (c *Client) RoleHolders(ctx context.Context, roles []string) ([]access.RoleHolding, error) {
	ids := make([]string, len(roles))
	for i, r := range roles {
		ids[i] = platformRole(r)
	}
	var users []*apiUser
	err := c.searchUsers(ctx, userSearch{RoleIDs: ids}, func(u *apiUser) error {
		cp := *u
		users = append(users, &cp)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find role holders: %w", err)
	}
	var out []access.RoleHolding
	for _, u := range users {
		acct := access.Account{ID: u.AccountID, Email: u.Email, Name: u.Name}
		err := paged(ctx, func(cursor string) (links, error) {
			q := url.Values{"limit": {"100"}}
			if cursor != "" {
				q = url.Values{"cursor": {cursor}}
			}
			var p roleAssignmentPage
			if _, err := c.do(ctx, call{op: "users.role-assignments", method: http.MethodGet, path: c.v2("/users/%s/role-assignments", escape(u.AccountID)), query: q, out: &p}); err != nil {
				return links{}, err
			}
			for _, d := range p.Data {
				for _, ra := range d.RoleAssignments {
					if !contains(ids, ra.Role) || !contains(ra.Methods, "direct") {
						continue
					}
					h := access.RoleHolding{Account: acct, Role: strings.TrimPrefix(ra.Role, "atlassian/")}
					if ra.Role != orgAdmin {
						h.Resource = d.ResourceID
						// Report it where the Role API revokes it: the site ARI for a site role, the
						// product's ARI (never an "-admin" workspace ID) for a product role.
						if a, ok := parseARI(d.ResourceID); ok && siteRoles[ra.Role] {
							h.Resource = ari{Type: platformType, CloudID: a.CloudID}.String()
						} else if ok {
							h.Resource = ari{Type: a.product(), CloudID: a.CloudID}.String()
						}
					}
					out = append(out, h)
				}
			}
			return p.Links, nil
		})
		if err != nil {
			return nil, fmt.Errorf("read role assignments of %s: %w", u.AccountID, err)
		}
	}
	return out, nil
}

// SameResource reports whether the resource a role is held on (an ARI read back) is the one a
// policy names (a host, URL or ARI), comparing cloud ID and resource type (sameResource).
func (c *Client) SameResource(ctx context.Context, role, policyResource, held string) (bool, error) {
	role = platformRole(role)
	if role == orgAdmin {
		return true, nil
	}
	want, err := c.Resource(ctx, role, policyResource)
	if err != nil {
		return false, err
	}
	return sameResource(role, want, held), nil
}

var _ access.TargetComparer = (*Client)(nil)

// SameTarget reports whether two role targets give the same access: the same role on resources
// that resolve to the same site or product, however they are written.
func (c *Client) SameTarget(ctx context.Context, a, b access.Target) (bool, error) {
	if a.Kind != access.TargetRole || b.Kind != access.TargetRole || platformRole(a.Role) != platformRole(b.Role) {
		return a.Key() == b.Key(), nil
	}
	role := platformRole(a.Role)
	if role == orgAdmin {
		return true, nil
	}
	ra, err := c.Resource(ctx, role, a.Resource)
	if err != nil {
		return false, err
	}
	rb, err := c.Resource(ctx, role, b.Resource)
	if err != nil {
		return false, err
	}
	return sameResource(role, ra, rb), nil
}
