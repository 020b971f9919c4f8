package atlassian

import (
	"context"
	"fmt"
	"net/http"

	"github.com/jitbot/jitbot/access"
)

// isMember reads back whether the account is a member of the group, with one users/search
// filtered by account and group.
func (c *Client) isMember(ctx context.Context, accountID, groupID string) (bool, error) {
	member := false
	err := c.searchUsers(ctx, userSearch{AccountIDs: []string{accountID}, GroupIDs: []string{groupID}}, func(u *apiUser) error {
		if u.AccountID == accountID {
			member = true
		}
		return nil
	})
	return member, err
}

// hasGroup reports whether the account is a member of the named group.
func (c *Client) hasGroup(ctx context.Context, accountID, name string) (bool, error) {
	g, err := c.group(ctx, name)
	if err != nil {
		return false, err
	}
	return c.isMember(ctx, accountID, g.ID)
}

// addMember adds the account to the named group. Adding a member who is there succeeds; a
// licence (user limit) conflict does not. Synced and non-modifiable groups are refused before
// any write.
func (c *Client) addMember(ctx context.Context, accountID, name string) error {
	for try := 0; ; try++ {
		g, err := c.group(ctx, name)
		if err != nil {
			return err
		}
		if err := writable(g); err != nil {
			return err
		}
		_, err = c.do(ctx, call{op: "groups.memberships.add", method: http.MethodPost, path: c.v2("/groups/%s/memberships", escape(g.ID)), body: map[string]string{"accountId": accountID}})
		switch httpStatus(err) {
		case 0:
			if err == nil {
				c.addGroupSize(name, 1)
			}
			return err
		case http.StatusConflict:
			// 409 is "already a member" or "user limit exceeded": the read-back tells which.
			member, rerr := c.isMember(ctx, accountID, g.ID)
			if rerr == nil && member {
				return nil
			}
			_, detail := errorInfoOf(err)
			return access.Errorf(access.ECONFLICT, "Atlassian refused to add account %s to group %s: the user limit (licence seats) of an app the group grants is reached%s. Free a seat or raise the limit, then retry.", accountID, name, suffix(detail))
		case http.StatusNotFound:
			c.forgetGroup(name)
			fresh, gerr := c.group(ctx, name)
			if gerr != nil {
				return gerr
			}
			if fresh.ID != g.ID && try == 0 {
				continue
			}
			return access.Errorf(access.ENOTFOUND, "No Atlassian account %s is in the directory of group %s; the user must be invited to the organization first.", accountID, name)
		case http.StatusForbidden:
			c.forgetGroup(name)
			return err
		}
		return err
	}
}

// removeMember removes the account from the named group. Removing one who is gone succeeds.
func (c *Client) removeMember(ctx context.Context, accountID, name string) error {
	g, err := c.group(ctx, name)
	if err != nil {
		return err
	}
	if err := writable(g); err != nil {
		return err
	}
	_, err = c.do(ctx, call{op: "groups.memberships.remove", method: http.MethodDelete, path: c.v2("/groups/%s/memberships/%s", escape(g.ID), escape(accountID))})
	if err == nil {
		c.addGroupSize(name, -1)
	}
	if httpStatus(err) != http.StatusNotFound {
		return err
	}
	// 404: the membership is gone, unless the group itself is (a stale or wrong name).
	c.forgetGroup(name)
	fresh, gerr := c.group(ctx, name)
	if gerr != nil {
		return gerr
	}
	if fresh.ID != g.ID {
		return c.removeMember(ctx, accountID, name)
	}
	return nil
}

// errorInfoOf returns the Atlassian error code and detail behind err.
func errorInfoOf(err error) (code, detail string) {
	if s, ok := asStatus(err); ok {
		return s.code, s.detail
	}
	return "", ""
}

// describe wraps err with a target operation.
func describe(op string, a access.Account, t access.Target, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s for account %s: %w", op, t, a.ID, err)
}
