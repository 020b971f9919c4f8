package atlassian

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jitbot/jitbot/access"
)

// apiUser is a MultiDirectoryUser (users/search) or MultiDirectoryUserDetailsData (GET user).
type apiUser struct {
	AccountID        string `json:"accountId"`
	AccountStatus    string `json:"accountStatus"`
	MembershipStatus string `json:"membershipStatus"`
	Status           string `json:"status"`
	ClaimStatus      string `json:"claimStatus"`
	Email            string `json:"email"`
	Name             string `json:"name"`
	AddedToOrg       string `json:"addedToOrg"`
	Groups           []struct {
		ID   string  `json:"id"`
		Name *string `json:"name"`
	} `json:"groups"`
	ProductAccess []struct {
		Key                 string `json:"key"`
		LastActiveTimestamp string `json:"lastActiveTimestamp"`
	} `json:"productAccess"`
	PlatformRoles []string `json:"platformRoles"`
}

// user converts u to the domain's User.
func (u *apiUser) user() *access.User {
	out := &access.User{
		AccountID: u.AccountID,
		Email:     u.Email,
		Name:      u.Name,
		Managed:   u.ClaimStatus == "managed",
		Status:    u.Status,
	}
	if out.Status == "" {
		out.Status = u.MembershipStatus
	}
	out.AddedToOrg = parseTime(u.AddedToOrg)
	for _, g := range u.Groups {
		out.GroupIDs = append(out.GroupIDs, g.ID)
		if g.Name != nil {
			out.Groups = append(out.Groups, *g.Name)
		}
	}
	for _, p := range u.ProductAccess {
		if t := parseTime(p.LastActiveTimestamp); t.After(out.LastActive) {
			out.LastActive = t
		}
	}
	return out
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// userSearch is the MultiDirectoryUserSearchRequest fields jitbot uses.
type userSearch struct {
	AccountIDs   []string `json:"accountIds,omitempty"`
	Emails       []string `json:"emails,omitempty"`
	GroupIDs     []string `json:"groupIds,omitempty"`
	ClaimStatus  string   `json:"claimStatus,omitempty"`
	EmailDomains []string `json:"emailDomains,omitempty"`
	RoleIDs      []string `json:"roleIds,omitempty"`
	Expand       []string `json:"expand,omitempty"`
	Cursor       string   `json:"cursor,omitempty"`
	Limit        int      `json:"limit,omitempty"`
}

type userPage struct {
	Data  []apiUser `json:"data"`
	Links links     `json:"links"`
}

// expandAll asks users/search for what access.User needs.
var expandAll = []string{"groups", "productAccess"}

// searchUsers calls fn for every user q matches, one page (at most 100 users) at a time,
// following links.next to the end. Only one page is held at once.
func (c *Client) searchUsers(ctx context.Context, q userSearch, fn func(*apiUser) error) error {
	q.Limit = pageSize
	return paged(ctx, func(cursor string) (links, error) {
		q.Cursor = cursor
		var p userPage
		if _, err := c.do(ctx, call{op: "users.search", method: http.MethodPost, path: c.v2("/users/search"), body: q, out: &p}); err != nil {
			return links{}, err
		}
		for i := range p.Data {
			if err := fn(&p.Data[i]); err != nil {
				return links{}, err
			}
		}
		return p.Links, nil
	})
}

// UserByEmail returns the account with the e-mail address, with groups and last-active filled
// in. It returns ENOTFOUND, naming the address, when no account has it.
func (c *Client) UserByEmail(ctx context.Context, email string) (*access.User, error) {
	email = strings.TrimSpace(email)
	if email == "" || !strings.Contains(email, "@") {
		return nil, access.Errorf(access.EINVALID, "%q is not an e-mail address.", email)
	}
	var found *access.User
	err := c.searchUsers(ctx, userSearch{Emails: []string{email}, Expand: expandAll}, func(u *apiUser) error {
		if found == nil && sameAddress(u.Email, email) {
			found = u.user()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find user %s: %w", email, err)
	}
	if found == nil {
		return nil, access.Errorf(access.ENOTFOUND, "No Atlassian account in this organization has the e-mail address %s.", email)
	}
	return found, nil
}

// sameAddress reports whether two e-mail addresses are the same up to ASCII case. Unicode case
// folding is not enough (strings.EqualFold takes the Kelvin sign for k and the long s for s),
// and the search's own matching is not trusted: a look-alike address is someone else's.
func sameAddress(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// User returns the account with groups and last-active filled in, or ENOTFOUND.
func (c *Client) User(ctx context.Context, accountID string) (*access.User, error) {
	var found *access.User
	err := c.searchUsers(ctx, userSearch{AccountIDs: []string{accountID}, Expand: expandAll}, func(u *apiUser) error {
		if u.AccountID == accountID {
			found = u.user()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", accountID, err)
	}
	if found == nil {
		return nil, access.Errorf(access.ENOTFOUND, "No Atlassian account %s in this organization.", accountID)
	}
	return found, nil
}

// UserDetails reads one user back with GET .../users/{accountId}, to verify a change such as a
// suspension. Groups and last-active are not part of this answer.
func (c *Client) UserDetails(ctx context.Context, accountID string) (*access.User, error) {
	var out struct {
		Data apiUser `json:"data"`
	}
	_, err := c.do(ctx, call{op: "users.get", method: http.MethodGet, path: c.v2("/users/%s", escape(accountID)), out: &out})
	if httpStatus(err) == http.StatusNotFound {
		return nil, access.Errorf(access.ENOTFOUND, "No Atlassian account %s in this organization.", accountID)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", accountID, err)
	}
	return out.Data.user(), nil
}

// Users calls fn for every user q selects, page by page, with groups and last-active filled in.
// An empty q is a whole-org snapshot in ceil(N/100) calls.
func (c *Client) Users(ctx context.Context, q access.UserQuery, fn func(*access.User) error) error {
	s := userSearch{Expand: expandAll}
	if q.Unmanaged {
		s.ClaimStatus = "unmanaged"
	}
	if len(q.GroupIDs) <= 10 {
		s.GroupIDs = q.GroupIDs
		err := c.searchUsers(ctx, s, func(u *apiUser) error { return fn(u.user()) })
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		return nil
	}
	// users/search takes at most 10 group IDs: query in chunks and skip users already seen.
	seen := map[string]bool{}
	for chunk := range slices.Chunk(q.GroupIDs, 10) {
		s.GroupIDs = chunk
		err := c.searchUsers(ctx, s, func(u *apiUser) error {
			if seen[u.AccountID] {
				return nil
			}
			seen[u.AccountID] = true
			return fn(u.user())
		})
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
	}
	return nil
}

// Suspend suspends the user's access in the directory. Suspending a suspended user succeeds.
func (c *Client) Suspend(ctx context.Context, accountID string) error {
	return c.lifecycle(ctx, "suspend", accountID)
}

// Restore restores a suspended user's access. Restoring an active user succeeds.
func (c *Client) Restore(ctx context.Context, accountID string) error {
	return c.lifecycle(ctx, "restore", accountID)
}

func (c *Client) lifecycle(ctx context.Context, action, accountID string) error {
	_, err := c.do(ctx, call{op: "users." + action, method: http.MethodPost, path: c.v2("/users/%s/%s", escape(accountID), action)})
	if httpStatus(err) == http.StatusNotFound {
		return fmt.Errorf("%s user %s: %w", action, accountID, access.Errorf(access.ENOTFOUND, "No Atlassian account %s in this organization's directory.", accountID))
	}
	if err != nil {
		return fmt.Errorf("%s user %s: %w", action, accountID, err)
	}
	return nil
}
