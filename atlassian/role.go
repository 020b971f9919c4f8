package atlassian

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/jitbot/jitbot/access"
)

// platformRole returns the API's role ID for a policy role: "site-admin" → "atlassian/site-admin".
func platformRole(role string) string {
	role = strings.TrimSpace(role)
	if strings.HasPrefix(role, "atlassian/") {
		return role
	}
	return "atlassian/" + role
}

const orgAdmin = "atlassian/org-admin"

type roleAssignmentPage struct {
	Data []struct {
		DirectoryID     *string `json:"directoryId"`
		ResourceID      string  `json:"resourceId"`
		ResourceOwner   string  `json:"resourceOwner"`
		RoleAssignments []struct {
			Role    string   `json:"role"`
			Methods []string `json:"roleAssignmentMethods"`
		} `json:"roleAssignments"`
	} `json:"data"`
	Links links `json:"links"`
}

// hasRole reads the user's role assignments and reports whether role is held directly on
// resource (any resource for org-admin). Resources compare by cloud ID and resource type, not
// as strings (sameResource), so a role is recognised whichever form of the site's ARI the API
// reports. Role changes may take up to 30 s to show.
func (c *Client) hasRole(ctx context.Context, accountID, role, resource string) (bool, error) {
	held := false
	err := paged(ctx, func(cursor string) (links, error) {
		q := url.Values{"limit": {"100"}}
		if cursor != "" {
			q = url.Values{"cursor": {cursor}}
		}
		var p roleAssignmentPage
		if _, err := c.do(ctx, call{op: "users.role-assignments", method: http.MethodGet, path: c.v2("/users/%s/role-assignments", escape(accountID)), query: q, out: &p}); err != nil {
			return links{}, err
		}
		for _, d := range p.Data {
			if role != orgAdmin && !sameResource(role, resource, d.ResourceID) {
				continue
			}
			for _, ra := range d.RoleAssignments {
				if ra.Role == role && contains(ra.Methods, "direct") {
					held = true
				}
			}
		}
		return p.Links, nil
	})
	if httpStatus(err) == http.StatusNotFound {
		return false, access.Errorf(access.ENOTFOUND, "No Atlassian account %s in this organization.", accountID)
	}
	return held, err
}

// roleRequest is RoleApiRequest and OrganizationLevelRoleApiRequest.
type roleRequest struct {
	Role     string `json:"role"`
	Resource string `json:"resource,omitempty"`
}

// setRole assigns (action "assign") or revokes ("revoke") a platform role. org-admin goes
// through the organization-level role-assignments endpoints, every other role through
// roles/assign|revoke with the resource ID. Revoking a role that is not held succeeds.
func (c *Client) setRole(ctx context.Context, action, accountID, role, resource string) error {
	path := c.org("v1", "/users/%s/roles/%s", escape(accountID), action)
	body := roleRequest{Role: role, Resource: resource}
	if role == orgAdmin {
		path = c.org("v1", "/users/%s/role-assignments/%s", escape(accountID), action)
		body = roleRequest{Role: role}
	}
	_, err := c.do(ctx, call{op: "roles." + action, method: http.MethodPost, path: path, body: body})
	if err == nil {
		return nil
	}
	s, _ := asStatus(err)
	switch httpStatus(err) {
	case http.StatusNotFound:
		if action == "revoke" {
			// Not held, or no such user: the read-back tells which.
			held, herr := c.hasRole(ctx, accountID, role, resource)
			if herr != nil {
				return herr
			}
			if !held {
				return nil
			}
		}
		return access.Errorf(access.ENOTFOUND, "Atlassian found no account %s or no resource %s for role %s%s.", accountID, resource, role, suffix(s.detail))
	case http.StatusConflict:
		if isLicenceLimit(s.code, s.detail) {
			return access.Errorf(access.ECONFLICT, "Atlassian refused to %s role %s for account %s: the user limit (licence seats) is reached%s. Free a seat or raise the limit, then retry.", action, role, accountID, suffix(s.detail))
		}
	case http.StatusBadRequest:
		return access.Errorf(access.EINVALID, "Atlassian rejected %s of role %s on %s for account %s%s; check the role and resource in the JITBOT policy file.", action, role, resource, accountID, suffix(s.detail))
	}
	return err
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// roleTarget resolves a role target to the API role ID and resource ID.
func (c *Client) roleTarget(ctx context.Context, t access.Target) (role, resource string, err error) {
	role = platformRole(t.Role)
	if role == "atlassian/" {
		return "", "", access.Errorf(access.EINVALID, "The role target has no role.")
	}
	if role == orgAdmin {
		return role, "", nil
	}
	if strings.TrimSpace(t.Resource) == "" {
		return "", "", access.Errorf(access.EINVALID, "Role %s needs a resource (a site host such as example.atlassian.net or a resource ARI) in the JITBOT policy file.", t.Role)
	}
	resource, err = c.Resource(ctx, role, t.Resource)
	if err != nil {
		return "", "", fmt.Errorf("resolve resource %s: %w", t.Resource, err)
	}
	return role, resource, nil
}
